"""
The live stream: one WebSocket to ``/ws/`` following many rooms.

The stream keeps, per room, the highest change number (``seq``) it has
passed on. After a dropped connection or a server restart it connects
again with backoff and subscribes to each room ``since`` that number, so
its reader sees every change exactly once and in order: a frame whose
``seq`` was already seen is dropped, and a gap in the numbers makes it
subscribe again from the last one seen.

Commands (post, edit, delete, react) carry a ``client_id``; the stream
sends each unanswered command again on every new connection until the
server answers, which stores it once whatever happened in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, cast

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from chat_client.errors import ChatError, StreamClosed
from chat_client.ids import new_client_id
from chat_client.types import Frame, Message

# Reconnection waits grow from the first to the last, with jitter.
BACKOFF_FIRST = 0.2
BACKOFF_LAST = 10.0
# A room whose heartbeat names a change not seen this long after is
# subscribed to again.
HEARTBEAT_GRACE = 3.0
# Close codes after which connecting again cannot help.
FATAL_CLOSE_CODES = {1009: "frame too large", 4400: "bad request", 4401: "logged out"}
# The server restarts: connect again at once.
RESTART_CLOSE_CODE = 1012

State = Literal["connecting", "connected", "reconnecting", "closed"]


@dataclass(frozen=True)
class Status:
    """The connection changed state; ``attempt`` counts failed tries."""

    state: State
    attempt: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class History:
    """
    A room's history on (re)subscribing.

    ``resumed`` False: the room's latest page (``messages``) and its
    current ``seq``. ``resumed`` True: only the messages that changed after
    the last ``seq`` passed on, in their current state.
    """

    room: str
    seq: int
    messages: list[Message]
    resumed: bool


@dataclass(frozen=True)
class Change:
    """A new message (``message``), a changed one (``update``) or a member line."""

    room: str
    seq: int
    kind: Literal["message", "update", "member"]
    message: Message
    client_id: str | None
    frame: Frame = field(repr=False)


@dataclass(frozen=True)
class Notice:
    """Any other frame: read, unread, rooms_changed, typing, presence, error..."""

    type: str
    room: str | None
    frame: Frame = field(repr=False)


Event = Status | History | Change | Notice


@dataclass
class _Pending:
    frame: Frame
    future: asyncio.Future[Message]


class Stream:
    """
    The live frames of some rooms over one socket, as events.

    Use it as ``async with client.stream(["general"]) as stream`` and read
    ``async for event in stream``.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        since: Mapping[str, int | None],
        heartbeat_timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.headers = dict(headers)
        self.heartbeat_timeout = heartbeat_timeout
        self.state: State = "connecting"
        # Per room: the highest seq passed on (None: nothing yet).
        self._seqs: dict[str, int | None] = dict(since)
        # Rooms subscribed to whose history has not come yet.
        self._syncing: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._socket: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._checks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._error: StreamClosed | None = None

    async def __aenter__(self) -> Stream:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        """Connect in the background (``async with`` does it)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chat-stream")

    async def close(self) -> None:
        """Close the socket and end the events."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for check in list(self._checks):
            check.cancel()
        self._end(StreamClosed("closed"))

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Event:
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # Later readers end too.
            if self._error is not None and self._error.reason != "closed":
                raise self._error
            raise StopAsyncIteration
        return event

    @property
    def rooms(self) -> list[str]:
        """Return the rooms followed."""
        return list(self._seqs)

    def seq(self, room: str) -> int | None:
        """Return the highest seq of ``room`` passed on (None: none yet)."""
        return self._seqs.get(room)

    async def subscribe(self, room: str, since: int | None = None) -> None:
        """
        Follow ``room``: from its latest page, or (``since``) from the
        changes after that seq. A followed room starts over.
        """
        self._seqs[room] = since
        await self._subscribe(room)

    async def unsubscribe(self, room: str) -> None:
        self._seqs.pop(room, None)
        self._syncing.discard(room)
        await self.send_frame({"type": "unsubscribe", "room": room})

    async def send_frame(self, frame: Frame) -> bool:
        """
        Send ``frame`` as it is if connected (a read cursor, a typing notice);
        return whether it went out. Nothing is retried.
        """
        socket = self._socket
        if socket is None:
            return False
        try:
            await socket.send(json.dumps(frame))
        except ConnectionClosed:
            return False
        return True

    async def send(
        self,
        room: str,
        text: str,
        *,
        reply_to: int | None = None,
        client_id: str | None = None,
    ) -> Message:
        """Post ``text`` to ``room``; return the message once it is stored."""
        frame: Frame = {"type": "message", "room": room, "text": text}
        if reply_to is not None:
            frame["reply_to"] = reply_to
        return await self.command(frame, client_id=client_id)

    async def edit(self, room: str, message_id: int, text: str) -> Message:
        frame = {"type": "edit", "room": room, "id": message_id, "text": text}
        return await self.command(frame)

    async def delete(self, room: str, message_id: int) -> Message:
        return await self.command({"type": "delete", "room": room, "id": message_id})

    async def react(
        self, room: str, message_id: int, emoji: str, *, on: bool = True
    ) -> Message:
        frame = {"type": "react", "room": room, "id": message_id, "emoji": emoji}
        return await self.command({**frame, "on": on})

    async def command(self, frame: Frame, *, client_id: str | None = None) -> Message:
        """
        Send a command frame with a ``client_id`` until the server answers;
        return the message in the answer, or raise the ChatError it names.
        """
        if self._error is not None:
            raise self._error
        room = frame.get("room")
        if isinstance(room, str) and room not in self._seqs:
            await self.subscribe(room)
        key = client_id or new_client_id()
        frame = {**frame, "client_id": key}
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[key] = _Pending(frame, future)
        try:
            await self.send_frame(frame)
            # Sent again on each new connection until answered.
            return await future
        finally:
            self._pending.pop(key, None)

    # The connection.

    async def _run(self) -> None:
        attempt = 0
        reason: str | None = None
        self._status("connecting")
        while not self._closing:
            code: int | None = None
            try:
                async with connect(
                    self.url,
                    additional_headers=self.headers,
                    open_timeout=10,
                    ping_interval=15,
                    ping_timeout=15,
                    close_timeout=2,
                    max_size=2**23,
                ) as socket:
                    self._socket = socket
                    attempt = 0
                    self._status("connected")
                    await self._opened()
                    await self._read(socket)
            except ConnectionClosed as error:
                code = error.rcvd.code if error.rcvd is not None else None
                reason = f"connection closed ({code})" if code else "connection lost"
            except InvalidStatus as error:
                code = error.response.status_code
                reason = f"refused with HTTP {code}"
            except (OSError, InvalidHandshake, TimeoutError) as error:
                reason = str(error) or type(error).__name__
            finally:
                self._socket = None
            if code in FATAL_CLOSE_CODES:
                self._end(StreamClosed(FATAL_CLOSE_CODES[code], code))
                return
            if self._closing:
                break
            attempt += 1
            self._status("reconnecting", attempt, reason)
            if not (code == RESTART_CLOSE_CODE and attempt == 1):
                await asyncio.sleep(_backoff(attempt))
        self._end(StreamClosed("closed"))

    async def _opened(self) -> None:
        for room in list(self._seqs):
            await self._subscribe(room)
        for pending in list(self._pending.values()):
            await self.send_frame(pending.frame)

    async def _subscribe(self, room: str) -> None:
        self._syncing.add(room)
        await self.send_frame(
            {"type": "subscribe", "room": room, "since": self._seqs.get(room)}
        )

    async def _read(self, socket: ClientConnection) -> None:
        while True:
            # Every followed room has a heartbeat every 15 s: silence this
            # long means a dead connection (a laptop that slept, a lost
            # route) the TCP stack has not noticed.
            timeout = self.heartbeat_timeout if self._seqs else None
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout)
            except TimeoutError:
                with contextlib.suppress(Exception):
                    socket.transport.abort()
                raise ConnectionClosed(None, None) from None
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if isinstance(frame, dict):
                self._take(frame)

    # Frames.

    def _take(self, frame: Frame) -> None:
        kind = frame.get("type")
        room = frame.get("room")
        if kind in ("message", "update", "member"):
            self._answered(frame)
            if isinstance(room, str):
                self._change(room, frame)
        elif kind == "history" and isinstance(room, str):
            self._history(room, frame)
        elif kind == "heartbeat" and isinstance(room, str):
            self._heartbeat(room, frame)
        elif kind == "pong":
            pass
        else:
            if kind == "error":
                self._refused(frame)
            elif kind == "removed" and isinstance(room, str):
                self._seqs.pop(room, None)
                self._syncing.discard(room)
            self._emit(
                Notice(str(kind), room if isinstance(room, str) else None, frame)
            )

    def _answered(self, frame: Frame) -> None:
        pending = self._pending.get(frame.get("client_id") or "")
        message = frame.get("message")
        if pending is not None and not pending.future.done() and message:
            pending.future.set_result(cast(Message, message))

    def _refused(self, frame: Frame) -> None:
        pending = self._pending.get(frame.get("client_id") or "")
        error = ChatError(str(frame.get("code")), str(frame.get("detail", "")))
        if pending is not None and not pending.future.done():
            pending.future.set_exception(error)
        room = frame.get("room")
        if (
            frame.get("code") == "not_found"
            and pending is None
            and isinstance(room, str)
            and room in self._syncing
        ):
            # The subscription was refused: no such room, or not readable.
            self._seqs.pop(room, None)
            self._syncing.discard(room)

    def _history(self, room: str, frame: Frame) -> None:
        if room not in self._seqs:
            return
        seq = int(frame["seq"])
        messages = cast(list[Message], frame.get("messages", []))
        last = self._seqs[room]
        self._syncing.discard(room)
        if last is None:
            self._seqs[room] = seq
            self._emit(History(room, seq, messages, resumed=False))
            return
        fresh = [m for m in messages if m["seq"] > last]
        self._seqs[room] = max(last, seq)
        self._emit(History(room, max(last, seq), fresh, resumed=True))

    def _change(self, room: str, frame: Frame) -> None:
        if room not in self._seqs or room in self._syncing:
            # Unfollowed, or the history on its way brings it.
            return
        seq = int(frame["seq"])
        last = self._seqs[room]
        if last is not None and seq <= last:
            return  # Seen already.
        if last is not None and seq > last + 1:
            # A change was missed: the changes since the last one seen
            # bring it, this one included.
            self._spawn(self._subscribe(room))
            return
        self._seqs[room] = seq
        kind = cast(Literal["message", "update", "member"], frame["type"])
        message = cast(Message, frame["message"])
        self._emit(Change(room, seq, kind, message, frame.get("client_id"), frame))

    def _heartbeat(self, room: str, frame: Frame) -> None:
        seq = frame.get("seq")
        last = self._seqs.get(room)
        if not isinstance(seq, int) or last is None or seq <= last:
            return
        self._spawn(self._behind(room, seq))

    async def _behind(self, room: str, seq: int) -> None:
        await asyncio.sleep(HEARTBEAT_GRACE)
        last = self._seqs.get(room)
        if room in self._seqs and room not in self._syncing and (last or 0) < seq:
            await self._subscribe(room)

    # Plumbing.

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    def _status(
        self, state: State, attempt: int = 0, reason: str | None = None
    ) -> None:
        self.state = state
        self._emit(Status(state, attempt, reason))

    def _emit(self, event: Event) -> None:
        self._events.put_nowait(event)

    def _end(self, error: StreamClosed) -> None:
        if self._error is not None:
            return
        self._error = error
        self.state = "closed"
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._emit(Status("closed", reason=error.reason))
        self._events.put_nowait(None)


def _backoff(attempt: int) -> float:
    delay = min(BACKOFF_LAST, BACKOFF_FIRST * 2 ** (attempt - 1))
    return float(delay * random.uniform(0.5, 1.0))
