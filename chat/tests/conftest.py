"""Fixtures the chat's unit tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chat import events

# Every change broadcast after a commit, with its message decoded.
Broadcasts = list[dict[str, Any]]


@pytest.fixture
def broadcasts(monkeypatch: pytest.MonkeyPatch) -> Broadcasts:
    """Record every change broadcast instead of sending it."""
    sent: Broadcasts = []

    def record(**event: Any) -> None:
        sent.append({**event, "message": json.loads(event["message"])})

    monkeypatch.setattr(events, "change_broadcast", record)
    return sent


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[], Any]:
    """Run what a service does after its commit, on leaving the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
