"""
Where each member stopped reading: the read cursor, and muting a room.

A member's cursor is the id of the last message of the room they read. It
only moves forward, unless they mark a message unread. Whenever it moves,
every socket of theirs, in every process, hears the new cursor and the
room's counts (``read`` and ``unread`` frames), so reading in one tab clears
the others.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from chat import access, events, protocol, selectors
from chat.exceptions import BadRequest
from chat.models import Membership, Room
from chat.services.common import Actor, check_author

logger = logging.getLogger("chat.services")


def _membership(user: User, room: Room) -> Membership:
    access.check_readable(user, room)
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is None:
        raise BadRequest(_("Join the room to keep your place in it."))
    return membership


def read_set(*, user: Actor, room: Room, message_id: int, unread: bool = False) -> int:
    """
    Move ``user``'s cursor in ``room`` forward to ``message_id`` (not past
    the newest message); with ``unread``, back to just before it. Return
    the cursor.
    """
    user = check_author(user)
    membership = _membership(user, room)
    newest = Room.objects.filter(pk=room.pk).values_list("last_message_id", flat=True)
    last_id = newest.first() or 0
    if unread:
        cursor = max(0, min(message_id, last_id + 1) - 1)
        moved = Membership.objects.filter(pk=membership.pk).exclude(last_read_id=cursor)
    else:
        cursor = min(message_id, last_id)
        # Forward only, also against a concurrent read of another tab.
        moved = Membership.objects.filter(pk=membership.pk, last_read_id__lt=cursor)
    if moved.update(last_read_id=cursor):
        _tell(user, [(room, cursor, last_id)])
        return cursor
    return Membership.objects.get(pk=membership.pk).last_read_id


def read_all(*, user: Actor) -> int:
    """Mark every room of ``user``'s as read; return how many moved."""
    user = check_author(user)
    behind = Membership.objects.filter(
        user=user, room__last_message_id__gt=F("last_read_id")
    ).select_related("room")
    moved: list[tuple[Room, int, int]] = []
    with transaction.atomic():
        for membership in behind:
            # Up to what the room held when asked (a message that comes
            # meanwhile stays unread), forward only as in read_set.
            newest = membership.room.last_message_id or 0
            if Membership.objects.filter(
                pk=membership.pk, last_read_id__lt=newest
            ).update(last_read_id=newest):
                moved.append((membership.room, newest, newest))
    _tell(user, moved)
    return len(moved)


def mute_set(*, user: Actor, room: Room, on: bool) -> bool:
    """Mute (``on``) or unmute ``room`` for ``user``; return whether it changed."""
    user = check_author(user)
    membership = _membership(user, room)
    return bool(
        Membership.objects.filter(pk=membership.pk).exclude(muted=on).update(muted=on)
    )


def _tell(user: User, moved: list[tuple[Room, int, int]]) -> None:
    """
    After the commit, tell every socket of ``user`` where they now stand in
    each (room, cursor, newest message id read with the cursor's bound).
    """
    if not moved:
        return
    frames: list[str] = []
    for room, cursor, newest in moved:
        unread, mentions = selectors.unread_count(user, room, cursor, newest)
        frames.append(protocol.read_frame(room.slug, cursor))
        frames.append(protocol.unread_frame(room.slug, unread, mentions, newest))
    transaction.on_commit(lambda: events.user_notify(user.pk, frames), robust=True)
