"""
Removal from a private room while messages pour in: on one process and on
two (Redis + PostgreSQL), not one frame of the room reaches a removed member
after the change that removed them, and the room is refused to them at once.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.clients import Sender, until
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(300)

ROOM = "vault"
MEMBERS = 6
MESSAGES = 600

SETUP = f"""
from accounts.models import User
from chat.services import member_add, room_create
owner = User.objects.get(username="owner")
room = room_create(name="Vault", created_by=owner, kind="private")
assert room.slug == {ROOM!r}
for n in range({MEMBERS}):
    member_add(room=room, actor=owner, username=f"member{{n}}")
"""


@dataclass
class Watcher:
    """A member following the room on a multi-room socket, keeping every frame."""

    server: ChatServer
    name: str
    cookie: str
    frames: list[dict[str, Any]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async with connect(
            self.server.ws_url + "/ws/",
            origin=self.server.origin,
            additional_headers={"Cookie": self.cookie},
        ) as socket:
            await socket.send(json.dumps({"type": "subscribe", "room": ROOM}))
            while not self.stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), 0.2)
                except TimeoutError:
                    continue
                frame = json.loads(raw)
                if frame.get("room") == ROOM:  # Not the user's own frames.
                    self.frames.append(frame)
                if frame["type"] == "history":
                    self.ready.set()

    @property
    def removed(self) -> bool:
        return any(frame["type"] == "removed" for frame in self.frames)

    def seqs(self) -> list[int]:
        """Every change of the room this member got, live, in order."""
        return [
            frame["seq"]
            for frame in self.frames
            if frame["type"] in ("message", "update", "member")
        ]


def api(
    server: ChatServer, cookie: str, method: str, path: str, body: Any = None
) -> int:
    """Make a logged-in API request (CSRF and all); return its status."""
    token = SimpleCookie(cookie)["csrftoken"].value
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Cookie": cookie,
            "X-CSRFToken": token,
            "Origin": server.url,
            "Referer": server.url + "/",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


async def remove_while_posting(servers: list[ChatServer]) -> dict[str, Any]:
    first = servers[0]
    first.create_user("owner")
    for n in range(MEMBERS):
        first.create_user(f"member{n}")
    first.manage("shell", "-c", SETUP)
    owner = {server.url: server.login("owner") for server in servers}
    watchers = [
        Watcher(server, name, server.login(name))
        for n in range(MEMBERS)
        for server in [servers[n % len(servers)]]
        for name in [f"member{n}"]
    ]
    tasks = [asyncio.create_task(w.run()) for w in watchers]
    await asyncio.wait_for(asyncio.gather(*(w.ready.wait() for w in watchers)), 30)
    sender = Sender(
        url=first.ws_url + f"/ws/rooms/{ROOM}/",
        origin=first.origin,
        cookie=owner[first.url],
        name="owner",
        count=MESSAGES,
        window=4,
    )
    posting = asyncio.create_task(sender.run())
    # All but the last member are removed one by one while messages pour
    # in, each by a request to a process in turn.
    removed = watchers[:-1]
    for n, watcher in enumerate(removed):
        share = (n + 1) * MESSAGES // (len(removed) + 2)
        assert await until(lambda: len(sender.acked) >= share, 60)  # noqa: B023
        server = servers[n % len(servers)]
        path = f"/api/rooms/{ROOM}/members/{watcher.name}"
        status = await asyncio.to_thread(api, server, owner[server.url], "DELETE", path)
        assert status == 204
    await asyncio.wait_for(posting, 120)
    stayer = watchers[-1]
    last = max(sender.acked.values())
    assert await until(lambda: bool(stayer.seqs()) and max(stayer.seqs()) >= last, 30)
    assert await until(lambda: all(w.removed for w in removed), 10)
    await asyncio.sleep(0.5)  # Anything that still came would be counted.
    for watcher in watchers:
        watcher.stop.set()
    await asyncio.gather(*tasks)

    for watcher in removed:
        kinds = [frame["type"] for frame in watcher.frames]
        # The removal, then "removed", then nothing more of the room.
        assert kinds[-2:] == ["member", "removed"], kinds[-5:]
        removal = watcher.frames[-2]
        assert (removal["action"], removal["username"]) == ("remove", watcher.name)
        assert max(watcher.seqs()) == removal["seq"]
        assert watcher.seqs() == sorted(set(watcher.seqs()))
        # And the room is refused to them from now on.
        for server in servers:
            history = f"/api/rooms/{ROOM}/messages?since=0"
            assert (
                await asyncio.to_thread(api, server, watcher.cookie, "GET", history)
                == 404
            )
    # The one who stayed got every change, once and in order.
    seqs = stayer.seqs()
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    assert len(sender.acked) == MESSAGES and sender.errors == []
    return {
        "messages": MESSAGES,
        "removed": len(removed),
        "last_seq": seqs[-1],
        "sender_reconnects": sender.reconnects,
    }


class RemovalTests:
    async def test_a_removed_member_gets_nothing_after_the_removal(
        self, server: ChatServer, report: dict[str, Any]
    ) -> None:
        figures = await remove_while_posting([server])
        report.update(
            test="removal while posting, one process",
            database=server.env.get("DATABASE_URL", "sqlite")[:8],
            **figures,
        )

    async def test_a_removal_takes_effect_on_every_process(
        self, two_servers: list[ChatServer], report: dict[str, Any]
    ) -> None:
        figures = await remove_while_posting(two_servers)
        report.update(test="removal while posting, 2 processes", **figures)
