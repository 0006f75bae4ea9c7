"""
The only publisher to the channel layer.

Services call these functions after their transaction commits, so no reader
ever hears of a message that is not stored.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# Layer event types map to consumer handlers: "chat.message" -> chat_message.
MESSAGE_EVENT = "chat.message"


def room_group_name(slug: str) -> str:
    """Return the channel-layer group of the room ``slug``."""
    return f"room.{slug}"


def message_broadcast(*, room_slug: str, message_id: int, frame: str) -> None:
    """
    Send the already encoded ``frame`` to every socket in the room.

    The frame is encoded once per message; consumers write it as it is.
    """
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        room_group_name(room_slug),
        {"type": MESSAGE_EVENT, "id": message_id, "text": frame},
    )
