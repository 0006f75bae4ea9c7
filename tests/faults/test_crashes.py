"""
Crashes and restarts of the server process with a room under load.

Each test starts the server as `make run` does, in its own data directory.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest

from tests.clients import until
from tests.faults.scenario import Room
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(420)


class KillTests:
    async def test_kill_9_mid_stream_loses_and_doubles_nothing(
        self, server: ChatServer, report: dict[str, Any]
    ) -> None:
        """3 senders post 300 each, 5 read; the server dies by SIGKILL mid-way."""
        room = Room(send_to=server, read_from=[server], senders=3, readers=5, count=300)
        await room.start_readers()
        room.start_senders()
        assert await until(lambda: room.acked >= 300, 120)
        await asyncio.to_thread(server.stop, signal.SIGKILL)
        acked_at_kill = room.acked
        await asyncio.to_thread(server.start)
        stored = await room.finish()
        figures = room.check(stored)
        report.update(
            test="kill -9",
            database=server.env.get("DATABASE_URL", "sqlite")[:8],
            acked_at_kill=acked_at_kill,
            **figures,
        )


class ShutdownTests:
    async def test_sigterm_closes_sockets_with_1012_and_keeps_every_write(
        self, server: ChatServer, report: dict[str, Any]
    ) -> None:
        room = Room(send_to=server, read_from=[server], senders=2, readers=3, count=200)
        await room.start_readers()
        room.start_senders()
        assert await until(lambda: room.acked >= 100, 120)
        process = server.process
        began = time.monotonic()
        await asyncio.to_thread(server.stop, signal.SIGTERM)
        # Uvicorn re-raises the signal once it has shut down gracefully.
        assert process is not None and process.returncode == -signal.SIGTERM
        assert time.monotonic() - began < 12, "shutdown needed a SIGKILL"
        assert await until(lambda: all(1012 in r.close_codes for r in room.readers), 10)
        await asyncio.to_thread(server.start)
        stored = await room.finish()
        figures = room.check(stored)
        report.update(test="SIGTERM", **figures)


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
class ConcurrencyTests:
    async def test_twenty_senders_on_sqlite_never_see_a_locked_database(
        self, server: ChatServer, report: dict[str, Any]
    ) -> None:
        room = Room(send_to=server, read_from=[server], senders=20, readers=2, count=40)
        await room.start_readers()
        room.start_senders()
        stored = await room.finish()
        figures = room.check(stored)
        assert figures["sender_errors"] == 0
        assert figures["sender_reconnects"] == 0
        assert "locked" not in server.output.read_text()
        report.update(test="20 senders on SQLite", **figures)
