"""What tests need from the machine: present, or skipped, or under CI a failure."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str) -> NoReturn:
    """Skip for want of a service or tool, except under CI, which must have it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must provide it)")
    pytest.skip(what)
