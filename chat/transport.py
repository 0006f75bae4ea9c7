"""
Writing a prepared frame straight to a socket's transport.

Uvicorn serves each WebSocket with chat/wsprotocol.py's protocol; the ASGI
``send`` a consumer gets is a method of that object. For a message
that goes to many sockets, the wire bytes of the frame are the same for all
(server frames are not masked, and compression is off), so the hub builds
them once and each socket writes them without a task switch or an await.
The write buffer is checked instead of awaited: a socket that lets it grow
past the limit is too slow and is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.frames import Frame, Opcode

from chat.wsprotocol import WebSocketProtocol, Written


def wire_frame(text: str) -> bytes:
    """Return the bytes of an unmasked, uncompressed text frame of ``text``."""
    return Frame(Opcode.TEXT, text.encode(), fin=True).serialize(
        mask=False, extensions=[]
    )


# How long a socket about to close waits for its last frames to go out.
DRAIN_SECONDS = 5.0


class DirectWriter:
    """Writes wire frames to one WebSocket connection's transport."""

    __slots__ = ("limit", "protocol")

    def __init__(self, protocol: WebSocketProtocol, limit: int) -> None:
        self.protocol = protocol
        self.limit = limit

    @classmethod
    def behind(cls, send: Callable[..., Any] | None, limit: int) -> DirectWriter | None:
        """Return a writer for the connection behind ASGI ``send``, if possible."""
        protocol = getattr(send, "__self__", None)
        if isinstance(protocol, WebSocketProtocol):
            return cls(protocol, limit)
        return None

    def write(self, wire: bytes) -> Written:
        return self.protocol.write_wire(wire, self.limit)


class Output:
    """
    One socket's frames on their way out, in the order they were given.

    A frame is written straight to the connection when nothing waits before
    it (``deliver``: without an await, from the hub's loop turn), else it
    joins one bounded queue that a writer task sends. The queue and its task
    come with the first frame that needs them: most sockets never do, and
    an idle socket stays small. ``too_slow`` is called when the queue or
    the write buffer fills up.
    """

    __slots__ = (
        *("_send", "_too_slow", "_queue_limit", "direct", "queue", "writer"),
        *("sending", "closed"),
    )

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        too_slow: Callable[[], None],
        queue_limit: int,
    ) -> None:
        self._send = send
        self._too_slow = too_slow
        self._queue_limit = queue_limit
        self.direct: DirectWriter | None = None
        self.queue: asyncio.Queue[str] | None = None
        self.writer: asyncio.Task[None] | None = None
        self.sending = False
        self.closed = False

    def start_direct(self, direct: DirectWriter | None) -> None:
        """Let broadcasts be written straight to the connection from now on."""
        self.direct = direct

    def _idle(self) -> bool:
        return not self.sending and (self.queue is None or self.queue.empty())

    async def send(self, frame: str) -> None:
        """Send a frame of this socket's own (history, a reply), in order."""
        if self.closed:
            return
        if self.writer is not None or not self._idle():
            # One send at a time: once there is a writer, it sends them all.
            self._enqueue(frame)
            return
        self.sending = True
        try:
            await self._send(frame)
        finally:
            self.sending = False
        self._start_writer()

    def deliver(self, frame: str, wire: bytes) -> None:
        """Send a broadcast frame (``wire``: its bytes) without waiting."""
        if not self._write_now(wire):
            self._enqueue(frame)

    def deliver_many(self, frames: list[str], wire: bytes) -> None:
        """Send broadcast ``frames`` (``wire``: all their bytes) without waiting."""
        if not self._write_now(wire):
            for frame in frames:
                self._enqueue(frame)

    def _write_now(self, wire: bytes) -> bool:
        if self.direct is None or self.closed or not self._idle():
            return False
        # Written in the hub's loop, without a task switch or an await.
        if self.direct.write(wire) is Written.SLOW:
            self._too_slow()
        return True

    def _enqueue(self, frame: str) -> None:
        if self.closed:
            return
        if self.queue is None:
            self.queue = asyncio.Queue(self._queue_limit)
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._too_slow()
            return
        if not self.sending:
            self._start_writer()

    def _start_writer(self) -> None:
        if self.writer is None and self.queue is not None and not self.queue.empty():
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        assert self.queue is not None
        while True:
            frame = await self.queue.get()
            self.sending = True
            try:
                await self._send(frame)
            finally:
                self.sending = False
                self.queue.task_done()

    async def drain(self) -> None:
        """Wait until every frame given so far is sent, for a few seconds at most."""
        if self.queue is not None and not self.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_SECONDS):
                    await self.queue.join()

    def close(self) -> None:
        """Send nothing more."""
        self.closed = True
        if self.writer is not None:
            self.writer.cancel()
