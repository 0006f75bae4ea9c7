"""
What one connection may cost the server: time to deliver a request, and a
share of the sockets.

Uvicorn keeps a connection open for as long as its client likes until a
request has arrived whole: a silent socket, headers that never end and a
body shorter than its Content-Length each hold a descriptor for good.
GuardedHttpProtocol, uvicorn's httptools protocol with two additions, drops
such connections (REQUEST_TIMEOUT) and caps the sockets one client address
may hold at once (CONNECTIONS_PER_ADDRESS).

The address is the peer's, unless the peer is a trusted proxy
(FORWARDED_ALLOW_IPS): then it is the client the proxy names in
X-Forwarded-For, read as uvicorn's ProxyHeadersMiddleware reads it, so the
count falls on the address the application sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from chat.exceptions import RateLimited
from chat.protocol import error_response
from chat.wsprotocol import WebSocketProtocol

logger = logging.getLogger(__name__)

# A body still arriving at the deadline must have come at this many bytes a
# second or more: an upload over a slow uplink takes longer than any fixed
# deadline (10 MiB at 2 Mbit/s is 42 s), one that trickles or stalls does
# not get to keep its socket.
BODY_MIN_RATE = 1024
# What a client refused for holding too many connections is told to wait.
RETRY_AFTER = 10

# Connections held per client address, in this process.
_held: dict[str, int] = {}
# Addresses refused since they last held nothing: logged once per episode,
# so that a flood does not become a flood of log lines.
_full: set[str] = set()


def _take(address: str, limit: int) -> bool:
    """Count one more connection of ``address``; return False if over ``limit``."""
    count = _held.get(address, 0)
    if count >= limit:
        if address not in _full:
            _full.add(address)
            logger.warning(
                "%s holds %d connections, the most one address may: refusing more",
                address,
                count,
            )
        return False
    _held[address] = count + 1
    return True


def _give_back(address: str) -> None:
    count = _held[address] - 1
    if count:
        _held[address] = count
    else:
        del _held[address]
        _full.discard(address)


def forwarded_client(
    trusted: Any, headers: Iterable[tuple[bytes, bytes]], peer: str
) -> str:
    """
    Return the client address a trusted proxy at ``peer`` names in
    ``headers``, as uvicorn's ProxyHeadersMiddleware puts it in the scope.
    """
    values = [value for name, value in headers if name == b"x-forwarded-for"]
    if values:
        host, _port = trusted.get_trusted_client_address(
            b", ".join(values).decode("latin1")
        )
        if host:
            return str(host)
    return peer


def _refusal() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Return the status, headers and body that refuse a request over the cap."""
    detail = gettext("Too many connections. Try again in %(seconds)d s.")
    return error_response(
        RateLimited(detail % {"seconds": RETRY_AFTER}, retry_after=RETRY_AFTER)
    )


async def refuse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer a request from an address over its share with 429 (ASGI)."""
    status, headers, body = _refusal()
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardedHttpProtocol(HttpToolsProtocol):
    """
    Uvicorn's httptools protocol with a request deadline and a per-address cap.

    The deadline runs from the connection's first moment (for its first
    request) or from a request's first byte (for the next ones on a kept-alive
    connection; uvicorn's keep-alive timeout covers the idle time between
    them) until the request has arrived whole or the connection becomes a
    WebSocket: the headers must be in within REQUEST_TIMEOUT; a body still
    arriving then is checked every REQUEST_TIMEOUT / 2 for BODY_MIN_RATE.
    Requests move the deadline, not the timer: it is set again only when it
    fires early, so a busy kept-alive connection costs one timer every
    REQUEST_TIMEOUT, and a chunk of body costs adding up its length.

    Each connection holds one share of its address's CONNECTIONS_PER_ADDRESS,
    from connect to close (through a trusted proxy, from its request's
    headers on), also after it becomes a WebSocket.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Uvicorn puts its proxy-header middleware around the app only when
        # some proxy is trusted; its list is the one to go by.
        proxy = self.app if isinstance(self.app, ProxyHeadersMiddleware) else None
        self._trusted = proxy.trusted_hosts if proxy is not None else None
        self._proxied = False
        self._timeout = 0.0
        self._limit = 0
        # When the request owed must be in (loop time), if one is owed, and
        # the timer that checks it, which may fire before.
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        # The deadline set after a response, before a next request began.
        self._deadline_idle = False
        self._body_received = 0
        self._body_checked = 0
        self._body_required = 0.0
        # The address whose share this connection holds, if it holds one.
        self._address: str | None = None
        # This request comes from an address over its share.
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timeout = settings.REQUEST_TIMEOUT
        self._limit = settings.CONNECTIONS_PER_ADDRESS if settings.RATE_LIMITS else 0
        peer = self.client[0] if self.client else None
        self._proxied = (
            peer is not None and self._trusted is not None and peer in self._trusted
        )
        if peer is not None and not self._proxied and self._limit > 0:
            if not _take(peer, self._limit):
                # Nothing is read from it, so nothing is owed: an empty close.
                transport.close()
                return
            self._address = peer
        self._arm(self._timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm(for_good=True)
        self._release()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None or self._deadline_idle:
            self._arm(self._timeout)

    def on_headers_complete(self) -> None:
        if not self._proxied or self._limit <= 0:
            super().on_headers_complete()
            return
        # Through a trusted proxy the share is the client's the proxy names,
        # which may change from one request to the next.
        assert self.client is not None  # A proxied connection has a peer.
        address = forwarded_client(self._trusted, self.headers, self.client[0])
        if address != self._address:
            self._release()
            if _take(address, self._limit):
                self._address = address
        self._refused = self._address != address
        if not self._refused:
            super().on_headers_complete()
            return
        # Uvicorn picks the app for a request here (and keeps it with a
        # pipelined one): have it pick the refusal.
        app, self.app = self.app, refuse
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_body(self, body: bytes) -> None:
        self._body_received += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A byte that starts no request (after an upgrade uvicorn does not
        # serve, the parser takes no more requests) stops uvicorn's keep-alive
        # timer without starting a deadline: this one still ends it.
        if (
            self._deadline is None
            and self.cycle.response_complete
            and not self.transport.is_closing()
        ):
            self._arm(self.timeout_keep_alive + self._timeout, idle=True)

    def handle_websocket_upgrade(self) -> None:
        self._disarm(for_good=True)
        if self._refused:
            status, headers, body = _refusal()
            head = [b"HTTP/1.1 %d Too Many Requests\r\n" % status]
            head += [name + b": " + value + b"\r\n" for name, value in headers]
            self.transport.write(b"".join([*head, b"\r\n", body]))
            self.transport.close()
            return
        super().handle_websocket_upgrade()
        # The socket now belongs to the WebSocket protocol, whose end this
        # protocol does not hear of (uvicorn swapped the transport's protocol):
        # the share goes back when that one's connection is lost.
        address, self._address = self._address, None
        if address is not None:
            websocket = self.transport.get_protocol()
            assert isinstance(websocket, WebSocketProtocol)
            websocket.when_lost(lambda: _give_back(address))

    def _release(self) -> None:
        if self._address is not None:
            _give_back(self._address)
            self._address = None

    def _arm(self, delay: float, *, idle: bool = False) -> None:
        if self._timeout <= 0:
            return
        self._deadline = deadline = self.loop.time() + delay
        self._deadline_idle = idle
        self._body_checked = self._body_received
        self._body_required = BODY_MIN_RATE * self._timeout
        if self._timer is not None and self._timer.when() > deadline:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(deadline, self._expire)

    def _disarm(self, *, for_good: bool = False) -> None:
        self._deadline = None
        # Else the timer runs on and finds nothing owed, or the next request's
        # deadline.
        if for_good and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None or self.transport.is_closing():
            return
        now = self.loop.time()
        if now < deadline:
            self._timer = self.loop.call_at(deadline, self._expire)
            return
        progress = self._body_received - self._body_checked
        # Reading paused: the app has not taken what came, the client is not
        # the one to blame.
        if progress >= self._body_required or self.flow.read_paused:
            half = self._timeout / 2
            self._body_checked = self._body_received
            self._body_required = BODY_MIN_RATE * half
            self._deadline = now + half
            self._timer = self.loop.call_at(self._deadline, self._expire)
            return
        # abort, not close: a client that does not read either would keep a
        # close waiting on its write buffer. A request still waiting on its
        # body then receives http.disconnect.
        self.transport.abort()
