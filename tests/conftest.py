from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import ChatServer, running


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """A real chat server process on the embedded defaults (SQLite, in-memory)."""
    with running(Path(tmp_path_factory.mktemp("chat-server"))) as server:
        yield server
