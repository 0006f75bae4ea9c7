"""Idempotency keys for commands (the contract's ``client_id``)."""

from __future__ import annotations

import uuid

# 1-64 printable ASCII characters without spaces, says the contract.
CLIENT_ID_PREFIX = "py-"


def new_client_id() -> str:
    """Return a fresh client_id, unique across clients and restarts."""
    return CLIENT_ID_PREFIX + uuid.uuid4().hex
