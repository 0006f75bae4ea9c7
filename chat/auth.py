"""
Who is behind a WebSocket: a personal access token, the session cookie's
user, or a guest.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl

from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http.cookie import parse_cookie

from accounts import tokens
from accounts.models import AccessToken
from accounts.sessions import token_key
from chat.handshake import client_host

logger = logging.getLogger(__name__)

# Where a socket's token is kept in its scope.
TOKEN_KEY = "chat.token"


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", ()) if key == name]
    return values[0].decode("latin-1") if len(values) == 1 else None


def query_has_token(query_string: str) -> bool:
    """Return whether a query string carries anything shaped like a token."""
    return "chat" in query_string and any(
        tokens.contains_token(value) for _name, value in parse_qsl(query_string)
    )


# A guest's user: the same one for every guest socket.
ANONYMOUS = AnonymousUser()


class SocketAuth:
    """
    ASGI middleware: who is behind a WebSocket handshake, found once.

    A handshake with ``Authorization: Bearer <token>`` acts as the token's
    user, within its scopes. One with the session cookie acts as the
    session's user, checked as Django checks it (channels.auth.get_user: the
    session's user, and its password hash, so a password change ends it).
    Any other is a guest, found without a database round trip: most sockets
    are anonymous readers. The scope gets ``user``, ``session`` (None for a
    guest or a token) and the token (TOKEN_KEY), in one copy: Channels'
    cookie, session and auth middleware made three, and a task's worth of
    objects per socket besides.

    A token that is not live (unknown, revoked, expired, its user
    deactivated), or any token in the query string (it would reach logs),
    refuses the handshake with HTTP 403 before anything else runs.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        if query_has_token(scope.get("query_string", b"").decode("latin-1")):
            logger.warning(
                "WebSocket refused: token in the query string from %s",
                client_host(scope),
            )
            await self._refuse(receive, send)
            return
        token: AccessToken | None = None
        session: SessionBase | None = None
        user: Any = ANONYMOUS
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            value = tokens.bearer(authorization) or ""
            token = await database_sync_to_async(AccessToken.objects.find)(value)
            if token is None:
                await self._refuse(receive, send)
                return
            user = token.user
        elif key := _session_key(scope):
            session = session_store()(key)
            user = await get_user({"session": session})
        scope = {**scope, "user": user, "session": session, TOKEN_KEY: token}
        await self.app(scope, receive, send)

    async def _refuse(self, receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close"})


def session_store() -> type[SessionBase]:
    """Return the session engine's store class."""
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def _session_key(scope: dict[str, Any]) -> str | None:
    """Return the session cookie's value, as Channels' cookie middleware reads it."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(
                settings.SESSION_COOKIE_NAME
            )
    return None


def login_key(scope: dict[str, Any]) -> str | None:
    """Return the key of the login behind a socket (session or token), if any."""
    token = scope.get(TOKEN_KEY)
    if token is not None:
        return token_key(token)
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None
    session = scope.get("session")
    return None if session is None else session.session_key


def can_write(scope: dict[str, Any]) -> bool:
    """Return whether a socket's login may change anything (a read token may not)."""
    token = scope.get(TOKEN_KEY)
    return token is None or bool(token.can_write)
