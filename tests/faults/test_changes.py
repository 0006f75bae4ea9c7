"""
Edits, deletes and reactions under crashes: every follower ends with the
room's stored state, having got each change once and in order.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from tests.clients import until
from tests.faults.changes import Actor, Follower, state_of, stored_state
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(420)

ACTIONS = 300


class LivingRoom:
    """3 actors doing ACTIONS each, 5 followers, spread over ``servers``."""

    def __init__(self, servers: list[ChatServer]) -> None:
        self.servers = servers
        self.actors = []
        for n in range(3):
            server = servers[n % len(servers)]
            name = f"actor{n}"
            server.create_user(name)
            self.actors.append(
                Actor(
                    url=server.ws_url + "/ws/rooms/general/",
                    origin=server.origin,
                    cookie=server.login(name),
                    name=name,
                    count=ACTIONS,
                    seed=n,
                )
            )
        self.followers = [
            Follower(
                url=servers[n % len(servers)].ws_url + "/ws/rooms/general/",
                origin=servers[n % len(servers)].origin,
            )
            for n in range(5)
        ]
        self.tasks: list[asyncio.Task[None]] = []
        self.actor_tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(f.run()) for f in self.followers]
        await asyncio.wait_for(
            asyncio.gather(*(f.connected.wait() for f in self.followers)), 30
        )
        self.actor_tasks = [asyncio.create_task(a.run()) for a in self.actors]

    @property
    def done(self) -> int:
        return sum(len(actor.done) for actor in self.actors)

    async def finish(self) -> dict[str, Any]:
        """Wait for every action and every follower; compare with the API."""
        await asyncio.wait_for(asyncio.gather(*self.actor_tasks), 240)
        stored = await asyncio.to_thread(stored_state, self.servers[0].url)
        last = max((m["seq"] for m in stored.values()), default=0)
        await until(lambda: all(f.seq >= last for f in self.followers), 60)
        for follower in self.followers:
            follower.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 30)
        expected = {i: state_of(m) for i, m in stored.items()}
        kinds = [a["type"] for actor in self.actors for a in actor.actions.values()]
        for follower in self.followers:
            held = {i: state_of(m) for i, m in follower.messages.items()}
            assert held == expected
            assert (follower.duplicates, follower.out_of_order) == (0, 0)
        assert [e for actor in self.actors for e in actor.errors] == []
        assert any(m["deleted"] for m in stored.values())
        assert any(m["edited"] for m in stored.values())
        assert any(m["reactions"] for m in stored.values())
        assert any(m["reply_to"] for m in stored.values())
        return {
            "actions": len(kinds),
            **{kind: kinds.count(kind) for kind in sorted(set(kinds))},
            "messages": len(stored),
            "last_seq": last,
            "follower_reconnects": sum(f.reconnects for f in self.followers),
            "actor_reconnects": sum(a.reconnects for a in self.actors),
        }


class ChangeStreamCrashTests:
    async def test_kill_9_twice_leaves_every_follower_with_the_stored_state(
        self, server: ChatServer, report: dict[str, Any]
    ) -> None:
        """Posts, edits, deletes and reactions; the server dies twice by SIGKILL."""
        room = LivingRoom([server])
        await room.start()
        for share in (1, 2):
            assert await until(lambda: room.done >= share * ACTIONS, 120)  # noqa: B023
            await asyncio.to_thread(server.stop, signal.SIGKILL)
            await asyncio.to_thread(server.start)
        figures = await room.finish()
        report.update(
            test="kill -9 twice, edits/deletes/reactions",
            database=server.env.get("DATABASE_URL", "sqlite")[:8],
            **figures,
        )

    async def test_two_processes_converge_on_the_stored_state(
        self, two_servers: list[ChatServer], report: dict[str, Any]
    ) -> None:
        """Actors and followers on both processes; one process is killed."""
        room = LivingRoom(two_servers)
        await room.start()
        assert await until(lambda: room.done >= ACTIONS, 120)
        await asyncio.to_thread(two_servers[1].stop, signal.SIGKILL)
        await asyncio.to_thread(two_servers[1].start)
        figures = await room.finish()
        report.update(test="2 processes, edits/deletes/reactions", **figures)
