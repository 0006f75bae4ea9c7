"""Two server processes on Redis and PostgreSQL, and Redis restarted under them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.clients import until
from tests.faults.conftest import RedisServer
from tests.faults.scenario import Room
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(300)


class RedisRestartTests:
    async def test_delivery_resumes_with_no_gap_after_redis_restarts(
        self,
        two_servers: list[ChatServer],
        redis_server: RedisServer,
        report: dict[str, Any],
    ) -> None:
        """Senders post through one process; readers listen on both."""
        room = Room(
            send_to=two_servers[0],
            read_from=two_servers,
            senders=2,
            readers=6,
            count=300,
        )
        await room.start_readers()
        room.start_senders()
        assert await until(lambda: room.acked >= 150, 120)
        await asyncio.to_thread(redis_server.stop)
        acked_while_down = room.acked
        await asyncio.sleep(2)
        acked_while_down = room.acked - acked_while_down
        await asyncio.to_thread(redis_server.start)
        stored = await room.finish()
        figures = room.check(stored)
        assert all(server.alive for server in two_servers)
        report.update(
            test="Redis restarted, 2 processes",
            acknowledged_while_redis_down=acked_while_down,
            **figures,
        )

    async def test_a_message_sent_through_one_process_reaches_the_other(
        self, two_servers: list[ChatServer]
    ) -> None:
        room = Room(
            send_to=two_servers[0],
            read_from=two_servers[1:],
            senders=1,
            readers=2,
            count=20,
        )
        await room.start_readers()
        room.start_senders()
        room.check(await room.finish())
