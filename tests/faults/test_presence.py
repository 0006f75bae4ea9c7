"""Presence and typing across two processes on Redis, and a process that dies."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.server import ChatServer

pytestmark = pytest.mark.timeout(150)

# The lease of a process's share (PRESENCE_TTL_SECONDS' default) and the
# tick of these servers (HEARTBEAT_SECONDS=1): a dead process's people are
# gone within both, and always within the 70 s users are promised.
GONE_WITHIN = 45 + 1 + 5


class Presence:
    """What a socket that asked for presence knows of one room."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.online: dict[str, str] = {}
        self.guests = 0
        self.typing: list[str] = []

    async def take(self, within: float) -> None:
        """Take the frames that come within ``within`` seconds."""
        frame: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.socket.recv(), within)
        )
        if frame["type"] == "presence":
            self.online = {}
        if frame["type"] in ("presence", "presence_diff"):
            for one in frame["online"]:
                self.online[one["username"]] = one["state"]
            for gone in frame.get("offline", []):
                self.online.pop(gone, None)
            self.guests = frame["guests"]
        elif frame["type"] == "typing":
            self.typing.append(frame["username"])

    async def until(self, check: Any, within: float) -> float:
        """Take frames until ``check()`` holds; return how long it took."""
        began = time.monotonic()
        while not check():
            left = began + within - time.monotonic()
            assert left > 0, f"not within {within} s: {self.online}, {self.typing}"
            try:
                await self.take(left)
            except TimeoutError:
                continue
        return time.monotonic() - began


def presence_api(server: ChatServer) -> dict[str, Any]:
    with urllib.request.urlopen(
        server.url + "/api/rooms/general/presence", timeout=10
    ) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


async def room_socket(server: ChatServer, cookie: str | None) -> ClientConnection:
    headers = {"Cookie": cookie} if cookie else {}
    return await connect(
        server.ws_url + "/ws/rooms/general/?presence=1",
        origin=server.origin,
        additional_headers=headers,
    )


async def anna_and_boris(
    first: ChatServer, second: ChatServer
) -> tuple[ClientConnection, ClientConnection]:
    """Anna on the first process's general room, Boris on the second's."""
    for name in ("anna", "boris"):
        first.create_user(name)
    return (
        await room_socket(first, first.login("anna")),
        await room_socket(second, second.login("boris")),
    )


class PresenceAcrossProcessesTests:
    async def test_people_on_one_process_are_seen_on_the_other_and_typing_too(
        self, two_servers: list[ChatServer]
    ) -> None:
        first, second = two_servers
        anna_socket, boris_socket = await anna_and_boris(first, second)
        guest_socket = await room_socket(second, None)
        try:
            anna = Presence(anna_socket)
            took = await anna.until(
                lambda: set(anna.online) == {"anna", "boris"} and anna.guests == 1, 10
            )
            assert took < 3, f"presence took {took:.1f} s across processes"
            body = await asyncio.to_thread(presence_api, first)
            assert {e["username"] for e in body["online"]} == {"anna", "boris"}
            assert body["guests"] == 1
            # Typing on the second process shows on the first.
            await boris_socket.send(json.dumps({"type": "typing", "room": "general"}))
            await anna.until(lambda: "boris" in anna.typing, 5)
            # Idle there is idle here.
            await boris_socket.send(json.dumps({"type": "activity", "state": "idle"}))
            await anna.until(lambda: anna.online.get("boris") == "idle", 5)
        finally:
            for socket in (boris_socket, guest_socket):
                await socket.close()
        await anna.until(lambda: set(anna.online) == {"anna"} and not anna.guests, 5)
        await anna_socket.close()

    async def test_the_people_of_a_killed_process_go_offline_on_the_other(
        self, two_servers: list[ChatServer]
    ) -> None:
        first, second = two_servers
        anna_socket, boris_socket = await anna_and_boris(first, second)
        try:
            anna = Presence(anna_socket)
            await anna.until(lambda: "boris" in anna.online, 10)
            await asyncio.to_thread(second.stop, signal.SIGKILL)
            took = await anna.until(lambda: "boris" not in anna.online, GONE_WITHIN)
            assert set(anna.online) == {"anna"}
            body = await asyncio.to_thread(presence_api, first)
            assert [e["username"] for e in body["online"]] == ["anna"]
        finally:
            await anna_socket.close()
            await boris_socket.close()
        print(f"offline {took:.0f} s after kill -9")
