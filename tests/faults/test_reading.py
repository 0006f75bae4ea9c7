"""A reader's place follows them across processes: read on one, cleared on the other."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.faults.test_removal import api
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(120)

SETUP = """
from accounts.models import User
from chat.models import Room
from chat.services import message_create, room_join
room = Room.objects.get(slug="general")
room_join(room=room, user=User.objects.get(username="reader"))
message_create(room=room, author=User.objects.get(username="writer"), text="news")
"""


async def next_frame(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] == kind:
            return frame


class ReadAcrossProcessesTests:
    async def test_reading_on_one_process_tells_the_readers_sockets_on_the_other(
        self, two_servers: list[ChatServer]
    ) -> None:
        first, second = two_servers
        first.create_user("writer")
        first.create_user("reader")
        first.manage("shell", "-c", SETUP)
        cookies = [server.login("reader") for server in two_servers]
        async with connect(
            second.ws_url + "/ws/rooms/general/",
            origin=second.origin,
            additional_headers={"Cookie": cookies[1]},
        ) as other_tab:
            history = await next_frame(other_tab, "history")
            newest = history["messages"][-1]["id"]
            path = "/api/rooms/general/read"
            status = await asyncio.to_thread(
                api, first, cookies[0], "POST", path, {"id": newest}
            )
            assert status == 200
            assert await next_frame(other_tab, "read") == {
                "type": "read",
                "room": "general",
                "id": newest,
            }
            unread = await next_frame(other_tab, "unread")
            assert (unread["unread"], unread["mentions"]) == (0, 0)
