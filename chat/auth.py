"""
Who is behind a WebSocket: a personal access token, or Channels' session
authentication, made cheaper.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser

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


class BearerTokenAuth:
    """
    ASGI middleware: a handshake with ``Authorization: Bearer <token>`` acts
    as the token's user, within its scopes.

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
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            value = tokens.bearer(authorization) or ""
            token = await database_sync_to_async(AccessToken.objects.find)(value)
            if token is None:
                await self._refuse(receive, send)
                return
            scope = {**scope, TOKEN_KEY: token}
        await self.app(scope, receive, send)

    async def _refuse(self, receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close"})


class GuestAwareAuthMiddleware(AuthMiddleware):
    """
    Channels' AuthMiddleware, minus a database round trip for guests, and
    taking a token's user when the handshake brought one.

    Most sockets are anonymous readers with no session at all; they need no
    thread hop to find that out.
    """

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        token = scope.get(TOKEN_KEY)
        if token is not None:
            scope["user"]._wrapped = token.user
            return
        if scope["session"].session_key is None:
            scope["user"]._wrapped = AnonymousUser()
            return
        await super().resolve_scope(scope)


def login_key(scope: dict[str, Any]) -> str | None:
    """Return the key of the login behind a socket (session or token), if any."""
    token = scope.get(TOKEN_KEY)
    if token is not None:
        return token_key(token)
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None
    key: str | None = scope["session"].session_key
    return key


def can_write(scope: dict[str, Any]) -> bool:
    """Return whether a socket's login may change anything (a read token may not)."""
    token = scope.get(TOKEN_KEY)
    return token is None or bool(token.can_write)


def AuthMiddlewareStack(inner: Any) -> BaseMiddleware:
    """A token, or cookies, then the session, then the user."""
    return BearerTokenAuth(
        CookieMiddleware(SessionMiddleware(GuestAwareAuthMiddleware(inner)))
    )
