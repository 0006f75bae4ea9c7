"""
The only publisher of chat events.

Services call these functions after their transaction commits, so no reader
ever hears of a message that is not stored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

if TYPE_CHECKING:
    from chat.payloads import MemberChange

logger = logging.getLogger(__name__)

# Layer event types map to handlers: "chat.change" -> Hub.accept.
CHANGE_EVENT = "chat.change"
# An event for every hub of every process, through one group they all join:
# check the logins behind the sockets now (Hub.check_logins).
LOGINS_EVENT = "chat.logins"
# Frames for every socket of one user, in every process (Hub.tell_user).
USER_EVENT = "chat.user"
# A process's share of who is in a room (Presence.take_share), and a typing
# notice (Presence.relay), never stored.
PRESENCE_EVENT = "chat.presence"
TYPING_EVENT = "chat.typing"
# Several events in one layer message, in the order sent, and the hub
# channel that sent them (which drops them: it took them already).
BUNDLE_EVENT = "chat.bundle"
# The one group every hub of every process joins: every event goes to all
# of them, and each keeps what concerns its own sockets (a change of a room
# no socket there follows costs it a dictionary lookup). One layer message
# per send, whatever the number of rooms: a hub's channel is read one
# message per Redis round trip, so a message per room and process, read
# back by every process including the sender, was what fell behind.
HUBS_GROUP = "hubs"


def bundle(batch: list[dict[str, Any]], *, origin: str | None) -> dict[str, Any]:
    """Return one layer message for ``batch``, in order, sent by ``origin``."""
    return {"type": BUNDLE_EVENT, "origin": origin, "events": batch}


def change_broadcast(
    *,
    room_slug: str,
    seq: int,
    prev_seq: int,
    message_id: int,
    message: str,
    client_id: str | None,
    member: MemberChange | None = None,
) -> None:
    """
    Send a change of a message (``message``: its new state, encoded) to
    every socket in the room; ``member`` for a member line.

    This process's sockets get it at once; other processes through the
    channel layer. ``prev_seq`` is the room's change before this one, which
    lets a receiver notice a broadcast it never got.
    """
    event = {
        "type": CHANGE_EVENT,
        "room": room_slug,
        "seq": seq,
        "prev_seq": prev_seq,
        "id": message_id,
        "message": message,
        "client_id": client_id,
        "member": list(member) if member is not None else None,
    }
    _send(event, what=f"broadcast of change {seq} in {room_slug}")


def logins_check() -> None:
    """
    Make every hub check the logins behind its sockets now.

    Sent after logins ended in bulk (a password change, "log out other
    sessions", a deleted account), so that their sockets close within a
    moment rather than at the next tick.
    """
    _send({"type": LOGINS_EVENT}, what="login check")


def user_notify(user_id: int, frames: list[str]) -> None:
    """
    Send ``frames`` to every socket of user ``user_id``, in every process:
    what concerns them alone (their read cursor and counts).
    """
    _send({"type": USER_EVENT, "user": user_id, "frames": frames}, what="user frames")


def rooms_changed(user_ids: list[int]) -> None:
    """Tell every socket of these users that their room list changed."""
    from chat.protocol import ROOMS_CHANGED_FRAME

    for user_id in user_ids:
        user_notify(user_id, [ROOMS_CHANGED_FRAME])


def presence_share(
    room_slug: str, process: str, share: dict[str, Any] | None, until: float
) -> None:
    """
    Tell the other processes the share of ``room_slug``'s presence that
    ``process`` holds (None: none any more), good until ``until``.
    """
    event = {
        "type": PRESENCE_EVENT,
        "room": room_slug,
        "process": process,
        "share": share,
        "until": until,
    }
    _send(event, what=f"presence in {room_slug}")


def typing_notice(room_slug: str, frame: str) -> None:
    """Relay a typing notice (``frame``, encoded) to everyone in the room."""
    _send({"type": TYPING_EVENT, "room": room_slug, "frame": frame}, what="typing")


def _send(event: dict[str, Any], *, what: str) -> None:
    from chat.hub import publish

    if publish(event):
        return  # A hub of this process takes it and forwards it.
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return  # One process and no socket in it: nobody to tell.
    try:
        async_to_sync(layer.group_send)(HUBS_GROUP, event)
    except Exception:
        # Stored is stored: other processes catch up on their tick, which
        # also checks logins.
        logger.exception("%s failed", what)
