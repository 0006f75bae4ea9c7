"""WebSocket routes: the chat sockets, and a refusal for every other path."""

from __future__ import annotations

import logging
from typing import Any

from django.urls import re_path

from chat import ratelimit
from chat.consumers import ChatConsumer
from chat.exceptions import RateLimited
from chat.handshake import client_host

logger = logging.getLogger(__name__)

# Enough of a refused path to recognise it in the log, too little to fill it.
LOGGED_PATH_MAX = 80


async def refuse_unknown_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """
    Refuse the handshake for a path no route matches (HTTP 403).

    Channels' router would raise instead: a 500 and a traceback in the log
    for every such request. The refusal counts as a connect, so odd paths
    cannot be tried, nor logged, faster than rooms can be opened.
    """
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    try:
        await ratelimit.aenforce_connect(scope)
    except RateLimited:
        pass
    else:
        logger.info(
            "no WebSocket route for %r from %s",
            scope.get("path", "")[:LOGGED_PATH_MAX],
            client_host(scope),
        )
    await send({"type": "websocket.close"})


websocket_urlpatterns = [
    # One socket for many rooms, by subscribe frames.
    re_path(r"^ws/$", ChatConsumer.as_asgi()),
    # A socket that follows one room.
    re_path(r"^ws/rooms/(?P<slug>[-a-zA-Z0-9_]+)/$", ChatConsumer.as_asgi()),
    # Matches any path, so it must stay last.
    re_path(r"", refuse_unknown_path),  # type: ignore[arg-type]  # An ASGI app.
]
