"""
Writing a prepared frame straight to a socket's transport.

Uvicorn serves WebSockets with the websockets library's protocol objects;
the ASGI ``send`` a consumer gets is a method of that object. For a message
that goes to many sockets, the wire bytes of the frame are the same for all
(server frames are not masked, and compression is off), so the hub builds
them once and each socket writes them without a task switch or an await.
The write buffer is checked instead of awaited: a socket that lets it grow
past the limit is too slow and is cut off.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.legacy.protocol import WebSocketCommonProtocol
from websockets.protocol import State


def wire_frame(text: str) -> bytes:
    """Return the bytes of an unmasked, uncompressed text frame of ``text``."""
    return Frame(Opcode.TEXT, text.encode(), fin=True).serialize(
        mask=False, extensions=[]
    )


SEND_KEY = "chat.server_send"


class ServerSend:
    """
    ASGI middleware that keeps the server's own ``send`` in the scope.

    Channels' session middleware wraps ``send``; the consumer finds the
    connection behind the unwrapped one (see DirectWriter.behind).
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope = {**scope, SEND_KEY: send}
        await self.app(scope, receive, send)


class Written(enum.Enum):
    SENT = "sent"
    SLOW = "slow"
    CLOSED = "closed"


class DirectWriter:
    """Writes wire frames to one WebSocket connection's transport."""

    def __init__(self, protocol: WebSocketCommonProtocol, limit: int) -> None:
        self.protocol = protocol
        self.limit = limit

    @classmethod
    def behind(cls, send: Callable[..., Any] | None, limit: int) -> DirectWriter | None:
        """Return a writer for the connection behind ASGI ``send``, if possible."""
        protocol = getattr(send, "__self__", None)
        if isinstance(protocol, WebSocketCommonProtocol) and not protocol.extensions:
            return cls(protocol, limit)
        return None

    def write(self, wire: bytes) -> Written:
        protocol = self.protocol
        transport = protocol.transport
        if protocol.state is not State.OPEN or transport is None:
            return Written.CLOSED
        if transport.get_write_buffer_size() > self.limit:
            return Written.SLOW
        transport.write(wire)
        return Written.SENT
