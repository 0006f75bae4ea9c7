"""
The WebSocket ``Origin`` check: sockets open only for the site's own pages.

A browser sends the user's session cookie with every WebSocket handshake,
whichever page opened the socket; only the ``Origin`` header tells the site
from another one. A handshake is let through when its ``Origin`` is the site
itself (the scheme, host and port the request came to, the host passing
ALLOWED_HOSTS) or is listed in CSRF_TRUSTED_ORIGINS, the rule Django's CSRF
``Origin`` check applies to forms. A handshake with no ``Origin`` and no
cookie is a program, not a browser (chat/auth.py: a guest, or a token's
user), and is let through too. Anything else is refused before the socket
opens, with HTTP 403.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import Any, NamedTuple

from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*")

# Under ALLOWED_HOSTS=* the reason for a refusal is logged at most this
# often: the hint is always the same, and a line per refusal would let
# anyone fill the log.
ANY_HOST_HINT_SECONDS = 60.0
_any_host_hinted_at: float | None = None


class Origin(NamedTuple):
    """A web origin, with the default port filled in when it is known."""

    scheme: str
    host: str
    port: int | None


def parse_origin(value: str) -> Origin | None:
    """
    Parse a serialized origin (``scheme://host[:port]``); return None for
    anything else.

    Browsers send exactly this form, so a path, user info (``a@b``), a query
    or an unbracketed IPv6 address means the header was not made by one.
    """
    scheme, separator, authority = value.partition("://")
    scheme = scheme.lower()
    if not separator or not _SCHEME_RE.fullmatch(scheme):
        return None
    return _origin(scheme, authority)


def _origin(scheme: str, authority: str) -> Origin | None:
    # Django's own Host syntax: a name or a bracketed IPv6 address, then an
    # optional port; lowercased, a trailing dot dropped.
    host, port = split_domain_port(authority)
    if not host:
        return None
    if not port:
        return Origin(scheme, host, DEFAULT_PORTS.get(scheme))
    number = int(port)
    if number > 65535:
        return None
    return Origin(scheme, host, number)


def _values(scope: dict[str, Any], name: bytes) -> list[str]:
    return [
        value.decode("latin-1")
        for key, value in scope.get("headers", ())
        if key == name
    ]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    """Return the one value of header ``name``; None if absent or repeated."""
    values = _values(scope, name)
    return values[0] if len(values) == 1 else None


def _allowed_hosts() -> list[str]:
    # As Django's HttpRequest.get_host(): with DEBUG, an empty list means
    # the local names.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return list(settings.ALLOWED_HOSTS)


def accepts_any_host(allowed_hosts: list[str]) -> bool:
    """Return whether ``allowed_hosts`` lets any Host header through."""
    return "*" in allowed_hosts


def site_origin(scope: dict[str, Any]) -> Origin | None:
    """
    Return the origin the handshake came to, or None if it cannot be told.

    That is the Host header (X-Forwarded-Host with USE_X_FORWARDED_HOST),
    with ``https`` when the socket is ``wss`` (TLS, or a trusted proxy's
    X-Forwarded-Proto) and ``http`` for ``ws``. The host must pass
    ALLOWED_HOSTS; under ``*`` anyone can name any host (a DNS-rebinding
    page names its own), so the Host proves nothing and there is no site
    origin. A handshake without a Host header (HTTP/1.1 and RFC 6455
    require one) has none either.
    """
    allowed_hosts = _allowed_hosts()
    if accepts_any_host(allowed_hosts):
        return None
    hosts = []
    if settings.USE_X_FORWARDED_HOST:
        hosts = _values(scope, b"x-forwarded-host")
    hosts = hosts or _values(scope, b"host")
    if len(hosts) != 1:
        return None
    scheme = "https" if scope.get("scheme", "ws") == "wss" else "http"
    origin = _origin(scheme, hosts[0])
    if origin is None or not validate_host(origin.host, allowed_hosts):
        return None
    return origin


@functools.lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[frozenset[Origin], tuple[Origin, ...]]:
    """
    Split CSRF_TRUSTED_ORIGINS into exact origins and ``*.`` wildcards (the
    latter with the domain below the star as host).
    """
    exact = set()
    wildcards = []
    for entry in entries:
        scheme, separator, authority = entry.partition("://")
        if separator and authority.startswith("*."):
            wildcard = parse_origin(f"{scheme}://{authority[2:]}")
            if wildcard is not None:
                wildcards.append(wildcard)
        elif "*" not in entry:
            origin = parse_origin(entry)
            if origin is not None:
                exact.add(origin)
    return frozenset(exact), tuple(wildcards)


def is_trusted(origin: Origin) -> bool:
    """Return whether CSRF_TRUSTED_ORIGINS lists ``origin``."""
    exact, wildcards = _trusted(tuple(settings.CSRF_TRUSTED_ORIGINS))
    return origin in exact or any(
        origin.scheme == wildcard.scheme
        and origin.port == wildcard.port
        and (origin.host == wildcard.host or origin.host.endswith("." + wildcard.host))
        for wildcard in wildcards
    )


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Return whether the handshake in ``scope`` may open a socket."""
    if not _values(scope, b"origin") and not _values(scope, b"cookie"):
        # A client that is not a browser: with no cookie it brings no
        # credentials a browser would add for another site, so it reads
        # public rooms as a guest, or acts by its own token.
        return True
    value = _header(scope, b"origin")
    if value is None or value == "null":
        # A cookie with no origin to check, or a page whose origin is
        # opaque: the cookie could be a visitor's, sent for another site.
        return False
    origin = parse_origin(value)
    if origin is None:
        return False
    return origin == site_origin(scope) or is_trusted(origin)


def _hint_any_host(scope: dict[str, Any]) -> None:
    """Log, at most once a minute, why a socket was refused under ``*``."""
    global _any_host_hinted_at
    now = time.monotonic()
    if (
        _any_host_hinted_at is not None
        and now - _any_host_hinted_at < ANY_HOST_HINT_SECONDS
    ):
        return
    _any_host_hinted_at = now
    logger.warning(
        "WebSocket from Origin %r refused: with ALLOWED_HOSTS='*' only origins in "
        "CSRF_TRUSTED_ORIGINS may connect; set ALLOWED_HOSTS to the site's host "
        "names or list the origin in CSRF_TRUSTED_ORIGINS",
        (_header(scope, b"origin") or "")[:100],
    )


class OriginCheck:
    """
    ASGI middleware that refuses WebSocket handshakes from other origins.

    The refusal closes before accepting, which the server answers with HTTP
    403, as Channels' WebsocketDenier does; nothing behind this middleware
    (sessions, the router, the consumer) runs.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or origin_allowed(scope):
            await self.app(scope, receive, send)
            return
        if accepts_any_host(_allowed_hosts()):
            _hint_any_host(scope)
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close"})
