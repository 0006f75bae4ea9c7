"""
Chat clients that follow the wire contract to the letter, for fault tests.

A Reader keeps every message it receives and reconnects with ``?after=`` when
its socket drops; a Sender posts numbered messages with client_ids and,
after any failure, resends what was not acknowledged with the same ids.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

RETRY_SECONDS = 0.2
CONNECT_ERRORS = (OSError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError)


@dataclass
class Reader:
    """A reader that must end with every message of the room exactly once."""

    url: str
    origin: Origin
    ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    out_of_order: int = 0
    reconnects: int = 0
    close_codes: list[int | None] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def last_id(self) -> int:
        return self.ids[-1] if self.ids else 0

    def _take(self, message: dict[str, Any]) -> None:
        if message["id"] in self._seen:
            self.duplicates += 1
            return
        if self.ids and message["id"] < self.ids[-1]:
            self.out_of_order += 1
        self._seen.add(message["id"])
        self.ids.append(message["id"])
        sent_at = message["text"].partition(" at ")[2].split(" ", 1)[0]
        if sent_at:
            self.latencies.append(time.time() - float(sent_at))

    async def run(self) -> None:
        self._seen: set[int] = set()
        first = True
        while not self.stop.is_set():
            after = "" if first else f"?after={self.last_id}"
            try:
                async with connect(self.url + after, origin=self.origin) as socket:
                    first = False
                    await self._read(socket)
            except CONNECT_ERRORS as error:
                self.close_codes.append(
                    getattr(getattr(error, "rcvd", None), "code", None)
                )
            if not self.stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(RETRY_SECONDS)

    async def _read(self, socket: Any) -> None:
        while not self.stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), 0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if frame["type"] == "history":
                for message in frame["messages"]:
                    self._take(message)
                self.connected.set()
            elif frame["type"] == "message":
                self._take(frame["message"])


@dataclass
class Sender:
    """A logged-in writer that gets every one of its messages stored once."""

    url: str
    origin: Origin
    cookie: str
    name: str
    count: int
    window: int = 10
    size: int = 0
    acked: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0

    def client_id(self, n: int) -> str:
        return f"{self.name}-{n}"

    def text(self, n: int) -> str:
        padding = "x" * self.size
        return f"{self.name} #{n} at {time.time():.6f} {padding}".strip()

    async def run(self) -> None:
        self.reconnects += await work_logged_in(
            self.url,
            self.origin,
            self.cookie,
            done=lambda: len(self.acked) >= self.count,
            work=self._send_all,
        )

    async def _send_all(self, socket: Any) -> None:
        frame = json.loads(await socket.recv())
        assert frame["type"] == "history"
        pending = [n for n in range(self.count) if self.client_id(n) not in self.acked]
        in_flight: set[str] = set()
        while pending or in_flight:
            while pending and len(in_flight) < self.window:
                n = pending.pop(0)
                in_flight.add(self.client_id(n))
                await socket.send(
                    json.dumps(
                        {
                            "type": "message",
                            "text": self.text(n),
                            "client_id": self.client_id(n),
                        }
                    )
                )
            frame = json.loads(await socket.recv())
            if frame["type"] == "message" and frame["client_id"] in in_flight:
                in_flight.discard(frame["client_id"])
                self.acked[frame["client_id"]] = frame["message"]["id"]
            elif frame["type"] == "error":
                self.errors.append(frame)
                if frame.get("client_id") in in_flight:
                    raise ConnectionClosed(None, None)  # Retry it anew.


async def work_logged_in(
    url: str,
    origin: Origin,
    cookie: str,
    *,
    done: Callable[[], bool],
    work: Callable[[Any], Awaitable[None]],
) -> int:
    """
    Run ``work(socket)`` on a socket logged in with ``cookie`` until
    ``done()``, connecting again after any failure; return how many times.
    """
    reconnects = 0
    while not done():
        try:
            async with connect(
                url, origin=origin, additional_headers={"Cookie": cookie}
            ) as socket:
                await work(socket)
        except CONNECT_ERRORS:
            reconnects += 1
            await asyncio.sleep(RETRY_SECONDS)
    return reconnects


def stored_messages(base_url: str, slug: str = "general") -> list[dict[str, Any]]:
    """Return every stored message of the room, oldest first, via the API."""
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        url = f"{base_url}/api/rooms/{slug}/messages?after={after}&limit=200"
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())["messages"]
        messages.extend(page)
        if len(page) < 200:
            return messages
        after = page[-1]["id"]


async def until(predicate: Any, within: float, step: float = 0.1) -> bool:
    """Wait until ``predicate()`` holds; return whether it did in time."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())
