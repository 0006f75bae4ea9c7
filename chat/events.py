"""
The only publisher of chat events.

Services call these functions after their transaction commits, so no reader
ever hears of a message that is not stored.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# Layer event types map to handlers: "chat.message" -> Hub.accept.
MESSAGE_EVENT = "chat.message"


def room_group_name(slug: str) -> str:
    """Return the channel-layer group of the room ``slug``."""
    return f"room.{slug}"


def message_broadcast(
    *,
    room_slug: str,
    message_id: int,
    prev_id: int,
    message: str,
    client_id: str | None,
) -> None:
    """
    Send the encoded ``message`` to every socket in the room.

    This process's sockets get it at once; other processes through the
    channel layer, one layer message per process. ``prev_id`` is the room's
    message before this one, which lets a receiver notice a broadcast it
    never got.
    """
    from chat.hub import publish

    event = {
        "type": MESSAGE_EVENT,
        "room": room_slug,
        "id": message_id,
        "prev_id": prev_id,
        "message": message,
        "client_id": client_id,
    }
    if publish(event):
        return  # A hub of this process delivers it and forwards it.
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return  # One process and no socket in it: nobody to tell.
    try:
        async_to_sync(layer.group_send)(room_group_name(room_slug), event)
    except Exception:
        # Stored is stored: other processes catch up from the database.
        logger.exception("broadcast of message %s failed", message_id)
