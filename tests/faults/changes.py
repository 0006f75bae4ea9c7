"""
A room whose messages live: actors post, edit, delete and react; followers
keep the room's state by following its change stream with ``since``.

Both follow docs/protocol.md to the letter. An Actor resends, after any
failure, every action not yet answered, with the same ``client_id``: posts
are stored once by their key, and edits, deletes and reactions change
nothing when repeated, so each action takes effect once. A Follower keeps
id -> message, resumes with the highest ``seq`` it saw, and counts every
change it gets twice or out of order.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.clients import CONNECT_ERRORS, work_logged_in

EMOJI = ["👍", "🎉", "❤️", "😂"]


def state_of(message: dict[str, Any]) -> tuple[Any, ...]:
    """What a reader shows of a message."""
    reactions = tuple(
        (r["emoji"], tuple(sorted(r["users"]))) for r in message["reactions"]
    )
    reply = message["reply_to"]
    quote = (reply["id"], reply["excerpt"], reply["deleted"]) if reply else None
    return (message["text"], message["deleted"], reactions, quote)


@dataclass
class Follower:
    """Follows a room from its first change; resumes with ``since``."""

    url: str
    origin: Origin
    # Seconds on a connection before leaving on its own, and away after
    # any drop: changes keep coming meanwhile, and come back with ``since``.
    stay: float = 2.0
    away: float = 0.7
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    reconnects: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def _take(self, message: dict[str, Any]) -> None:
        seq = message["seq"]
        if seq <= self.seq:
            held = self.messages.get(message["id"])
            if held is not None and held["seq"] == seq:
                self.duplicates += 1
            else:
                self.out_of_order += 1
            return
        self.seq = seq
        self.messages[message["id"]] = message

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                async with connect(
                    f"{self.url}?since={self.seq}", origin=self.origin
                ) as socket:
                    await self._read(socket)
            except CONNECT_ERRORS:
                pass
            if not self.stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(self.away)

    async def _read(self, socket: Any) -> None:
        leave_at = asyncio.get_running_loop().time() + self.stay
        while not self.stop.is_set() and (
            asyncio.get_running_loop().time() < leave_at or not self.connected.is_set()
        ):
            try:
                raw = await asyncio.wait_for(socket.recv(), 0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if frame["type"] == "history":
                for message in frame["messages"]:
                    self._take(message)
                self.connected.set()
            elif frame["type"] in ("message", "update"):
                self._take(frame["message"])


@dataclass
class Actor:
    """A logged-in user doing ``count`` actions, each of them exactly once."""

    url: str
    origin: Origin
    cookie: str
    name: str
    count: int
    seed: int
    window: int = 5
    # client_id -> the frame of an action, in the order they were made.
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    errors: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    own: list[int] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)
    seen: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def _next_action(self, n: int) -> dict[str, Any]:
        """Pick the n-th action from what this actor has seen so far."""
        key = f"{self.name}-{n}"
        live = [i for i in self.own if i not in self.deleted]
        roll = self.random.random()
        if live and roll < 0.15:
            return {
                "type": "edit",
                "id": self.random.choice(live),
                "text": f"{key} edited",
            }
        if live and roll < 0.22:
            target = self.random.choice(live)
            self.deleted.add(target)  # No later action of ours names it.
            return {"type": "delete", "id": target}
        if self.seen and roll < 0.45:
            return {
                "type": "react",
                "id": self.random.choice(self.seen[-30:]),
                "emoji": self.random.choice(EMOJI),
                "on": self.random.random() < 0.7,
            }
        frame: dict[str, Any] = {"type": "message", "text": f"{key} says hi"}
        if live and roll < 0.6:
            frame["reply_to"] = self.random.choice(live)
        return frame

    async def run(self) -> None:
        self.reconnects += await work_logged_in(
            self.url,
            self.origin,
            self.cookie,
            done=lambda: len(self.done) >= self.count,
            work=self._act,
        )

    async def _act(self, socket: Any) -> None:
        history = json.loads(await socket.recv())
        assert history["type"] == "history"
        self.seen.extend(m["id"] for m in history["messages"] if not m["deleted"])
        # After a failure: everything not yet answered goes again, as it was.
        in_flight = [key for key in self.actions if key not in self.done]
        for key in in_flight:
            await socket.send(json.dumps(self.actions[key]))
        pending = set(in_flight)
        while len(self.done) < self.count:
            while len(pending) < self.window and len(self.actions) < self.count:
                n = len(self.actions)
                key = f"{self.name}-{n}"
                self.actions[key] = {**self._next_action(n), "client_id": key}
                pending.add(key)
                await socket.send(json.dumps(self.actions[key]))
            if not pending:
                return
            frame = json.loads(await socket.recv())
            self._hear(frame, pending)

    def _hear(self, frame: dict[str, Any], pending: set[str]) -> None:
        kind = frame["type"]
        if kind in ("message", "update"):
            message = frame["message"]
            if kind == "message" and not message["deleted"]:
                self.seen.append(message["id"])
            key = frame.get("client_id")
            if key in pending:
                pending.discard(key)
                self.done.add(key)
                if kind == "message" and self.actions[key]["type"] == "message":
                    self.own.append(message["id"])
        elif kind == "error":
            key = frame.get("client_id")
            if key not in pending:
                raise ConnectionClosed(None, None)
            if frame["code"] != "bad_request" or "deleted" not in frame["detail"]:
                # Only a reaction to a message someone deleted meanwhile
                # may be refused.
                self.errors.append(frame)
            pending.discard(key)
            self.done.add(key)


def stored_state(base_url: str, slug: str = "general") -> dict[int, dict[str, Any]]:
    """Return every message of the room in its current state, via the API."""
    messages: dict[int, dict[str, Any]] = {}
    since = 0
    while True:
        url = f"{base_url}/api/rooms/{slug}/messages?since={since}&limit=200"
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())["messages"]
        messages.update((m["id"], m) for m in page)
        if len(page) < 200:
            return messages
        since = page[-1]["seq"]
