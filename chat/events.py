"""
The only publisher of chat events.

Services call these functions after their transaction commits, so no reader
ever hears of a message that is not stored.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

# Layer event types map to handlers: "chat.message" -> Hub.accept.
MESSAGE_EVENT = "chat.message"
# Events for every hub of every process, through one group they all join:
# check the logins behind the sockets now (Hub.check_logins), and read the
# cached latest page of some rooms again (Hub.reload).
LOGINS_EVENT = "chat.logins"
HISTORY_EVENT = "chat.history"
HUBS_GROUP = "hubs"


def room_group_name(slug: str) -> str:
    """Return the channel-layer group of the room ``slug``."""
    return f"room.{slug}"


def event_group(event: dict[str, Any]) -> str:
    """Return the channel-layer group that ``event`` goes to."""
    if event["type"] == MESSAGE_EVENT:
        return room_group_name(event["room"])
    return HUBS_GROUP


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
    event = {
        "type": MESSAGE_EVENT,
        "room": room_slug,
        "id": message_id,
        "prev_id": prev_id,
        "message": message,
        "client_id": client_id,
    }
    _send(event, what=f"broadcast of message {message_id}")


def logins_check() -> None:
    """
    Make every hub check the logins behind its sockets now.

    Sent after logins ended in bulk (a password change, "log out other
    sessions", a deleted account), so that their sockets close within a
    moment rather than at the next tick.
    """
    _send({"type": LOGINS_EVENT}, what="login check")


def history_refresh(*, room_slugs: list[str]) -> None:
    """
    Make every hub read the latest page of ``room_slugs`` again.

    Hubs keep each room's latest messages encoded; after stored messages
    change (their author deleted their account), new sockets must not get
    the old names or attachments from that cache.
    """
    if room_slugs:
        _send({"type": HISTORY_EVENT, "rooms": room_slugs}, what="history refresh")


def _send(event: dict[str, Any], *, what: str) -> None:
    from chat.hub import publish

    if publish(event):
        return  # A hub of this process takes it and forwards it.
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return  # One process and no socket in it: nobody to tell.
    try:
        async_to_sync(layer.group_send)(event_group(event), event)
    except Exception:
        # Stored is stored: other processes catch up on their tick, which
        # also checks logins; a stale history page lasts until its room
        # empties there.
        logger.exception("%s failed", what)
