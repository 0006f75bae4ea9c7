"""
Who may do what: the one place that answers.

A user reads a room if it is public, or if they are a member of it; staff
are no exception in the chat (the admin is the operators' view of stored
data). Whoever cannot read a room gets, everywhere, the same answer as for a
room that does not exist. Logged-in readers write; a message's author edits
it; its author, or staff who can read the room, delete it.

A room's creator and staff manage its members (staff without being members
of it); members add people too where the room allows it; anyone leaves. A
direct conversation's people never change.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from chat.exceptions import NotFound
from chat.models import Attachment, Membership, Message, Room

Viewer = User | AnonymousUser | None


def user_of(viewer: Viewer) -> User | None:
    """Return ``viewer`` as a signed-up, active user, or None for a guest."""
    return viewer if isinstance(viewer, User) and viewer.is_active else None


def is_member(viewer: Viewer, room: Room) -> bool:
    """Whether ``viewer`` is a member of ``room``."""
    user = user_of(viewer)
    return user is not None and Membership.objects.filter(room=room, user=user).exists()


def can_read(viewer: Viewer, room: Room) -> bool:
    """Whether ``viewer`` may read ``room``: public, or they are a member."""
    return room.kind == Room.Kind.PUBLIC or is_member(viewer, room)


def readable_rooms(viewer: Viewer) -> QuerySet[Room]:
    """Return the rooms ``viewer`` may read."""
    user = user_of(viewer)
    public = Q(kind=Room.Kind.PUBLIC)
    if user is None:
        return Room.objects.filter(public)
    joined = Membership.objects.filter(user=user).values("room_id")
    return Room.objects.filter(public | Q(pk__in=joined))


def _no_room(slug: str) -> NotFound:
    return NotFound(_("There is no room %(slug)r.") % {"slug": slug[:60]})


def readable_room(viewer: Viewer, slug: str) -> Room:
    """
    Return the room ``slug`` if ``viewer`` may read it; otherwise raise the
    NotFound of a room that does not exist.
    """
    room = Room.objects.filter(slug=slug).first()
    if room is None or not can_read(viewer, room):
        raise _no_room(slug)
    return room


def managed_room(viewer: Viewer, slug: str) -> Room:
    """
    Return the room ``slug`` if ``viewer`` may read it or is staff (who
    manage members of rooms they cannot read); otherwise raise the NotFound
    of a room that does not exist.
    """
    user = user_of(viewer)
    if user is not None and user.is_staff:
        room = Room.objects.filter(slug=slug).exclude(kind=Room.Kind.DIRECT).first()
        if room is not None:
            return room
    return readable_room(viewer, slug)


def can_manage(user: User, room: Room) -> bool:
    """Its creator and staff manage a room's members (not a direct one's)."""
    return room.kind != Room.Kind.DIRECT and (
        user.is_staff or room.created_by_id == user.pk
    )


def can_add(user: User, room: Room) -> bool:
    """Who may add people: managers, and members where the room allows it."""
    return can_manage(user, room) or (
        room.kind != Room.Kind.DIRECT and room.members_can_add and is_member(user, room)
    )


def can_remove(user: User, room: Room, member: User) -> bool:
    """Anyone leaves; managers remove others."""
    return member.pk == user.pk or can_manage(user, room)


def check_readable(viewer: Viewer, room: Room) -> None:
    """Raise the NotFound of a missing room unless ``viewer`` may read ``room``."""
    if not can_read(viewer, room):
        raise _no_room(room.slug)


def can_fetch(viewer: Viewer, attachment: Attachment) -> bool:
    """Files go to logged-in readers of a message that still carries them."""
    message = attachment.message
    return (
        user_of(viewer) is not None
        and not message.deleted
        and can_read(viewer, message.room)
    )


def can_edit(user: User, message: Message) -> bool:
    """Only the author edits their message's text."""
    return message.author_id == user.pk


def can_delete(user: User, message: Message) -> bool:
    """The author deletes their message; staff delete anyone's."""
    return message.author_id == user.pk or user.is_staff


def can_see_revisions(user: User, message: Message) -> bool:
    """The author and staff read a message's earlier texts."""
    return can_delete(user, message)


# "@room" notifies everyone in a room: staff anywhere, others in rooms of
# at most this many members.
ROOM_NOTICE_MAX_MEMBERS = 15


def can_notify_room(user: User, room: Room) -> bool:
    return user.is_staff or room.memberships.count() <= ROOM_NOTICE_MAX_MEMBERS
