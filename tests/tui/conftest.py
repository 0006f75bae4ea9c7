from __future__ import annotations

import pytest

from tests.server import ChatServer


@pytest.fixture(scope="module")
def tokens(server: ChatServer) -> dict[str, str]:
    """Tokens of alice and bob on the module's ``server``."""
    return {name: server.create_token(name) for name in ("alice", "bob")}
