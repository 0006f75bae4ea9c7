"""
The WebSocket protocol the server runs for each socket.

Uvicorn parses the HTTP request and hands an upgrade to the protocol class
named by its ``ws`` setting; this is that class. It speaks WebSocket through
the websockets library's sans-I/O ``ServerProtocol`` (handshake, framing,
pings, the closing handshake) and ASGI to the application, as uvicorn's own
``websockets-sansio`` protocol does, with what the chat needs besides:

- ``write_wire`` writes a frame encoded once for many sockets straight to
  the transport, without an await (the hub's broadcasts, chat/transport.py);
- an idle socket stays small: one object with slots, no queue, event or
  task of its own beside the application's (a waiting ``receive`` makes a
  future when it must wait; keep-alive pings are timers);
- ``when_lost`` callbacks run when the connection ends (the per-address
  share of chat/connections.py).

Compression is not offered: a broadcast frame is the same bytes for all.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote

from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

logger = logging.getLogger(__name__)

# How long a closing handshake we began may wait for the peer's answer.
CLOSE_TIMEOUT = 10.0
# The application gets no more than this many frames ahead of it before
# the socket stops reading (and the peer's sends wait in TCP).
INBOX_LIMIT = 16


class Written(enum.Enum):
    SENT = "sent"
    SLOW = "slow"
    CLOSED = "closed"


class SocketClosed(OSError):
    """A frame was sent on a socket that is closed (ASGI: an ``OSError``)."""


def _address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


class WebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection: uvicorn's ``ws`` protocol class."""

    __slots__ = (
        *("config", "server_state", "app_state", "loop", "conn", "transport"),
        *("scope", "response", "accepted", "close_sent", "lost", "inbox"),
        *("waiter", "writable", "read_paused", "fragments", "text", "timer"),
        *("ping_payload", "lost_callbacks", "disconnect_queued"),
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_running_loop()
        # Its own log lines (each open and close, at INFO) go to websockets'
        # logger, which the chat's logging leaves at WARNING.
        self.conn = ServerProtocol(max_size=config.ws_max_size)
        self.transport: asyncio.Transport | None = None
        self.scope: dict[str, Any] | None = None
        self.response: Response | None = None
        # The handshake is over (answered 101, or refused).
        self.accepted = False
        self.close_sent = False
        self.lost = False
        self.disconnect_queued = False
        # ASGI events the application has not taken yet (a list: there are
        # few, and an empty deque is ten times the size), and its wait.
        self.inbox: list[dict[str, Any]] = []
        self.waiter: asyncio.Future[None] | None = None
        # Set while the transport's buffer is over its high-water mark.
        self.writable: asyncio.Future[None] | None = None
        self.read_paused = False
        # A fragmented message's parts so far, and whether it is text.
        self.fragments: list[bytes] | None = None
        self.text = False
        # The one timer: the next ping, a ping's deadline or the close's.
        self.timer: asyncio.TimerHandle | None = None
        self.ping_payload: bytes | None = None
        self.lost_callbacks: list[Callable[[], None]] | None = None

    # --- asyncio.Protocol -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)
        self.server_state.connections.add(self)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        for event in conn.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif isinstance(event, Frame):
                self._frame(event)
        if conn.parser_exc is not None and not self.close_sent:
            # A broken or oversized frame: the protocol has queued its close.
            close = conn.close_sent
            self._end(close.code if close is not None else 1002)
            return
        self._flush()

    def pause_writing(self) -> None:
        if self.writable is None:
            self.writable = self.loop.create_future()

    def resume_writing(self) -> None:
        writable, self.writable = self.writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._cancel_timer()
        self._disconnected(1005 if self.accepted else 1006)
        self.resume_writing()
        self.server_state.connections.discard(self)
        callbacks, self.lost_callbacks = self.lost_callbacks, None
        for callback in callbacks or ():
            callback()

    # --- what uvicorn and the chat call ---------------------------------------

    def shutdown(self) -> None:
        """The server is stopping: close with 1012 (service restart)."""
        self._cancel_timer()
        if self.lost:
            return
        if self.accepted and not self.close_sent:
            self._disconnected(1012)
            self._send_close(1012, "")
        elif not self.accepted and self.response is not None:
            self._refuse(500)
        self._close_transport()

    def when_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the connection has ended."""
        if self.lost:
            callback()
            return
        if self.lost_callbacks is None:
            self.lost_callbacks = []
        self.lost_callbacks.append(callback)

    def write_wire(self, wire: bytes, limit: int) -> Written:
        """
        Write an encoded frame now, unless the socket is closed, or its
        unsent bytes are over ``limit`` (the peer reads too slowly).
        """
        transport = self.transport
        if (
            self.close_sent
            or self.lost
            or transport is None
            or self.conn.state is not State.OPEN
        ):
            return Written.CLOSED
        if transport.get_write_buffer_size() > limit:
            return Written.SLOW
        transport.write(wire)
        return Written.SENT

    # --- ASGI -------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        while not self.inbox:
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        message = self.inbox.pop(0)
        if self.read_paused and len(self.inbox) < INBOX_LIMIT // 2:
            self.read_paused = False
            if self.transport is not None and not self.lost:
                self.transport.resume_reading()
        return message

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if not self.accepted:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._disconnected(1006)
                self._refuse(403)
                self._close_transport()
            else:
                raise RuntimeError(
                    f"Expected 'websocket.accept' or 'websocket.close', got {kind!r}"
                )
            return
        if kind not in ("websocket.send", "websocket.close"):
            raise RuntimeError(
                f"Expected 'websocket.send' or 'websocket.close', got {kind!r}"
            )
        if self.writable is not None:
            await asyncio.shield(self.writable)
        if self.lost or self.close_sent:
            if kind == "websocket.close":
                return
            raise SocketClosed("the socket is closed")
        if kind == "websocket.close":
            self._disconnected(message.get("code") or 1000)
            self._send_close(message.get("code") or 1000, message.get("reason") or "")
            return
        text = message.get("text")
        try:
            if text is not None:
                self.conn.send_text(text.encode())
            else:
                self.conn.send_binary(message.get("bytes") or b"")
        except InvalidState as error:
            raise SocketClosed("the socket is closing") from error
        self._flush()

    async def _run(self) -> None:
        assert self.scope is not None
        app = self.config.loaded_app
        try:
            await app(self.scope, self.receive, self.send)
        except SocketClosed:
            pass
        except Exception:
            logger.exception("Exception in the WebSocket application")
            self._refuse(500)
        else:
            if not self.accepted:
                logger.error("The WebSocket application ended without an answer")
                self._refuse(500)
        if not self.close_sent or self.timer is None:
            self._close_transport()

    # --- handshake and frames -----------------------------------------------------

    def _handshake(self, request: Request) -> None:
        response = self.conn.accept(request)
        if response.status_code != 101:
            self.accepted = True
            self.close_sent = True
            self.conn.send_response(response)
            self._flush()
            self._close_transport()
            return
        self.response = response
        transport = self.transport
        assert transport is not None
        raw_path, _, query = request.path.partition("?")
        root = self.config.root_path
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if transport.get_extra_info("sslcontext") else "ws",
            "server": _address(transport.get_extra_info("sockname")),
            "client": _address(transport.get_extra_info("peername")),
            "root_path": root,
            "path": root + unquote(raw_path),
            "raw_path": (root + raw_path).encode("ascii"),
            "query_string": query.encode("ascii"),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.raw_items()
            ],
            "subprotocols": [
                token.strip()
                for header in request.headers.get_all("Sec-WebSocket-Protocol")
                for token in header.split(",")
            ],
            "state": self.app_state.copy(),
        }
        self._put({"type": "websocket.connect"})
        task = self.loop.create_task(self._run())
        tasks = self.server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _accept(self, message: dict[str, Any]) -> None:
        response, self.response = self.response, None
        assert response is not None
        if self.lost or self.transport is None or self.transport.is_closing():
            self.accepted = True
            return
        del response.headers["Date"]
        for name, value in (
            *self.server_state.default_headers,
            *message.get("headers", ()),
        ):
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        if message.get("subprotocol"):
            response.headers["Sec-WebSocket-Protocol"] = message["subprotocol"]
        self.accepted = True
        self.conn.send_response(response)
        self._flush()
        self._schedule_ping()

    def _refuse(self, status: int) -> None:
        if self.close_sent or self.conn.state is not State.CONNECTING:
            return
        self.accepted = True
        self.close_sent = True
        self.response = None
        response = self.conn.reject(status, "")
        self.conn.send_response(response)
        self._flush()

    def _frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            self.text = opcode is Opcode.TEXT
            if frame.fin:
                self._message(bytes(frame.data))
            else:
                self.fragments = [bytes(frame.data)]
        elif opcode is Opcode.CONT:
            if self.fragments is not None:
                self.fragments.append(bytes(frame.data))
                if frame.fin:
                    data, self.fragments = b"".join(self.fragments), None
                    self._message(data)
        elif opcode is Opcode.PONG:
            payload = self.ping_payload
            if payload is not None and bytes(frame.data) == payload:
                self.ping_payload = None
                self._schedule_ping()
        elif opcode is Opcode.CLOSE:
            # The protocol queued the answer to the peer's close, if owed;
            # a close we began was told to the application then.
            close = self.conn.close_rcvd
            self._end(close.code if close is not None else 1005)
        # A ping's pong is queued by the protocol and goes out with the flush.

    def _message(self, data: bytes) -> None:
        if self.close_sent:
            return
        if not self.text:
            self._put({"type": "websocket.receive", "bytes": data})
            return
        try:
            text = data.decode()
        except UnicodeDecodeError:
            self.conn.fail(1007, "invalid UTF-8")
            self._end(1007)
            return
        self._put({"type": "websocket.receive", "text": text})

    # --- helpers ------------------------------------------------------------------

    def _put(self, message: dict[str, Any]) -> None:
        self.inbox.append(message)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if (
            len(self.inbox) >= INBOX_LIMIT
            and not self.read_paused
            and not self.lost
            and self.transport is not None
        ):
            self.read_paused = True
            self.transport.pause_reading()

    def _disconnected(self, code: int) -> None:
        if not self.disconnect_queued and self.scope is not None:
            self.disconnect_queued = True
            self._put({"type": "websocket.disconnect", "code": code})

    def _end(self, code: int) -> None:
        """
        The connection ends now: the application hears ``code`` (unless it
        heard of the end already), the protocol's last bytes (its close
        frame) go out, and the transport closes.
        """
        self.close_sent = True
        self._disconnected(code)
        self._flush()
        self._close_transport()

    def _send_close(self, code: int, reason: str) -> None:
        self.close_sent = True
        self._cancel_timer()
        try:
            self.conn.send_close(code, reason)
        except InvalidState:
            self._close_transport()
            return
        self._flush()
        # Read on, for the peer's answer, for a while.
        if self.read_paused and self.transport is not None:
            self.read_paused = False
            self.transport.resume_reading()
        self.timer = self.loop.call_later(CLOSE_TIMEOUT, self._close_transport)

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.lost:
            self.transport.write(b"".join(data))

    def _close_transport(self) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _schedule_ping(self) -> None:
        if self.close_sent or self.lost:
            return
        self._cancel_timer()
        interval = self.config.ws_ping_interval
        if interval:
            self.timer = self.loop.call_later(interval, self._ping)

    def _ping(self) -> None:
        self.timer = None
        if self.close_sent or self.lost:
            return
        self.ping_payload = os.urandom(4)
        self.conn.send_ping(self.ping_payload)
        self._flush()
        timeout = self.config.ws_ping_timeout
        if timeout:
            self.timer = self.loop.call_later(timeout, self._ping_timed_out)
        else:
            self._schedule_ping()

    def _ping_timed_out(self) -> None:
        self.timer = None
        if self.close_sent or self.lost:
            return
        self.conn.fail(1011, "keepalive ping timeout")
        self._end(1011)
