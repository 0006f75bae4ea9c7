"""Every read of chat data goes through a function here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.models import User
from chat import access
from chat.access import Viewer
from chat.exceptions import BadRequest, Forbidden, NotFound
from chat.models import Block, Membership, Message, Parts, Reaction, Room, Webhook

# Reactions with their users, oldest first.
_REACTION_ROWS = Reaction.objects.select_related("user").order_by("id")
# A message's reactions: one query a page.
REACTIONS = Prefetch("reactions", queryset=_REACTION_ROWS)
# What a message's payload shows besides its reactions, loaded with it.
PARTS = ("author", "attachment", "reply_to")


# Unread counts stop here: a room shows "99+" beyond.
UNREAD_CAP = 100


@dataclass(frozen=True)
class Place:
    """Where a member stands in a room: their cursor, counts and mute."""

    last_read_id: int
    unread: int = 0
    mentions: int = 0
    muted: bool = False


@dataclass(frozen=True)
class RoomEntry:
    """A room as one reader's room list shows it."""

    room: Room
    # The name they see: a direct conversation is named by its other people.
    title: str
    members: int
    # Their place in it, if they joined it.
    place: Place | None = None

    @property
    def kind(self) -> str:
        return self.room.kind

    @property
    def joined(self) -> bool:
        return self.place is not None


def room_list(viewer: Viewer) -> list[RoomEntry]:
    """
    Return the rooms ``viewer`` may read: those they joined, with their
    place in each, then the public ones they may browse; the most recently
    active first within each. A direct conversation they left is not
    listed until a new message comes.
    """
    user = access.user_of(viewer)
    mine = {
        m.room_id: m
        for m in (Membership.objects.filter(user=user) if user is not None else ())
    }
    rooms: list[Room] = [
        room
        for room in access.readable_rooms(viewer)
        .annotate(members=Count("memberships"))
        .order_by(F("last_message_at").desc(nulls_last=True), "name")
        if room.pk not in mine or not mine[room.pk].hidden
    ]
    titles = room_titles(rooms, viewer)
    entries = [
        RoomEntry(
            room,
            titles[room.pk],
            room.members,  # type: ignore[attr-defined]
            _place(user, room, mine[room.pk]) if user and room.pk in mine else None,
        )
        for room in rooms
    ]
    return sorted(entries, key=lambda entry: not entry.joined)


def room_entry(room: Room, viewer: Viewer) -> RoomEntry:
    """Return ``room`` as ``viewer``'s room list shows it."""
    user = access.user_of(viewer)
    membership = (
        Membership.objects.filter(room=room, user=user).first() if user else None
    )
    return RoomEntry(
        room,
        room_titles([room], viewer)[room.pk],
        room.memberships.count(),
        _place(user, room, membership) if user and membership else None,
    )


def _place(user: User, room: Room, membership: Membership) -> Place:
    cursor, newest = membership.last_read_id, room.last_message_id or 0
    if newest <= cursor:
        return Place(cursor, muted=membership.muted)  # Nothing new: no query.
    unread, mentions = unread_count(user, room, cursor, newest)
    return Place(cursor, unread, mentions, membership.muted)


def mentioning(messages: QuerySet[Message], user: User) -> QuerySet[Message]:
    """Narrow ``messages`` to those that mention ``user`` (or "@room")."""
    return messages.annotate(listed=Cast("mentions", TextField())).filter(
        # Usernames need no escaping in JSON: the list's text has it quoted.
        Q(listed__contains=f'"{user.username}"') | Q(notifies_room=True)
    )


def unread_count(user: User, room: Room, cursor: int, newest: int) -> tuple[int, int]:
    """
    Return how many messages of ``room`` after ``cursor`` and up to
    ``newest`` ``user`` has not read, and how many of those mention them;
    each up to UNREAD_CAP. Their own messages, deleted ones and member lines
    do not count. Bounded by ``newest`` (the room's last message as read
    with its ``last_seq``), a count never holds a message its reader may
    yet receive as new.
    """
    unread = (
        _posts()
        .filter(room=room, id__gt=cursor, id__lte=newest)
        .filter(deleted=False)
        .exclude(author=user)
    )
    return (
        unread.values("id")[:UNREAD_CAP].count(),
        mentioning(unread, user).values("id")[:UNREAD_CAP].count(),
    )


def room_titles(rooms: list[Room], viewer: Viewer) -> dict[int, str]:
    """Name each room; a direct conversation by its people other than ``viewer``."""
    direct = [room.pk for room in rooms if room.kind == Room.Kind.DIRECT]
    me = viewer.pk if viewer is not None else None
    others: dict[int, list[str]] = {}
    if direct:
        memberships = Membership.objects.filter(room__in=direct).select_related("user")
        for membership in memberships.order_by("user__username_key"):
            if membership.user_id != me:
                others.setdefault(membership.room_id, []).append(
                    membership.user.shown_name
                )
    return {
        room.pk: ", ".join(others.get(room.pk, ())) or room.name
        if room.kind == Room.Kind.DIRECT
        else room.name
        for room in rooms
    }


def room_members(room: Room) -> list[User]:
    """Return the members of ``room``, by name."""
    return [
        membership.user
        for membership in room.memberships.select_related("user").order_by(
            "user__username_key"
        )
    ]


def blocked_users(viewer: Viewer) -> list[User]:
    """Return whom ``viewer`` blocked."""
    user = access.user_of(viewer)
    if user is None:
        return []
    return [
        block.blocked
        for block in Block.objects.filter(user=user)
        .select_related("blocked")
        .order_by("blocked__username_key")
    ]


def message_get(*, room: Room, message_id: int) -> Message:
    """
    Return the message ``message_id`` of ``room`` or raise NotFound; member
    lines are not messages one acts on.
    """
    # No ORDER BY for one row: Django's ordering costs more to build than
    # the query takes to run.
    found = list(
        _posts().filter(room=room, pk=message_id).select_related(*PARTS).order_by()[:1]
    )
    if not found:
        raise NotFound(
            _("There is no message %(id)d in this room.") % {"id": message_id}
        )
    message = found[0]
    # Its reactions by a plain query, said in its parts: for one message,
    # Django's prefetch cost as much again as the message's own query.
    message.parts = Parts(
        message.attachment_or_none(),
        list(_REACTION_ROWS.filter(message=message)),
    )
    return message


def message_queryset() -> QuerySet[Message]:
    """Return messages with what their payload needs, loaded in one query."""
    return _with_parts(Message.objects.select_related("member"))


def post_queryset() -> QuerySet[Message]:
    """
    Return the messages that are posts (no member lines), with what their
    payload needs: without the member's join, a third of the query's cost
    in Django.
    """
    return _with_parts(_posts())


def _posts() -> QuerySet[Message]:
    """Return the messages that are posts: no member lines."""
    return Message.objects.filter(member_action="")


def _with_parts(queryset: QuerySet[Message]) -> QuerySet[Message]:
    return queryset.select_related(*PARTS).prefetch_related(REACTIONS)


def message_list(
    *,
    room: Room,
    before: int | None = None,
    after: int | None = None,
    up_to: int | None = None,
    limit: int | None = None,
) -> list[Message]:
    """
    Return up to ``limit`` messages of ``room``, oldest first.

    With ``after``, the first messages newer than that id; otherwise the
    latest ones, older than ``before`` when it is given. Without ``limit``
    and with ``after``, every newer message: a reader catching up needs all.
    ``up_to`` leaves out messages newer than that id.
    """
    queryset = message_queryset().filter(room=room)
    if up_to is not None:
        queryset = queryset.filter(id__lte=up_to)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    if after is not None:
        queryset = queryset.filter(id__gt=after).order_by("id")
        return list(queryset[:limit] if limit else queryset)
    page = list(queryset.order_by("-id")[: limit or settings.HISTORY_PAGE_SIZE])
    page.reverse()
    return page


def message_changes(
    *, room: Room, since: int, up_to: int | None = None, limit: int | None = None
) -> list[Message]:
    """
    Return the messages of ``room`` whose last change is after ``since``
    (and at most ``up_to``), in change order: what a reader who saw the
    room up to change ``since`` needs to hold its current state.
    """
    queryset = message_queryset().filter(room=room, seq__gt=since)
    if up_to is not None:
        queryset = queryset.filter(seq__lte=up_to)
    queryset = queryset.order_by("seq")
    return list(queryset[:limit] if limit else queryset)


def message_around(*, room: Room, message_id: int, limit: int) -> list[Message]:
    """
    Return up to ``limit`` messages of ``room`` around ``message_id``, oldest
    first: the message, about half as many before it and the rest after.
    """
    queryset = message_queryset().filter(room=room)
    older = list(queryset.filter(id__lt=message_id).order_by("-id")[: limit // 2])
    older.reverse()
    newer = list(queryset.filter(id__gte=message_id)[: limit - len(older)])
    return older + newer


def message_page(
    *,
    room: Room,
    limit: int,
    since: int | None = None,
    around: int | None = None,
    before: int | None = None,
    after: int | None = None,
) -> list[Message]:
    """
    Return a page of ``room``'s messages: oldest first (``before``/``after``
    an id, or ``around`` one), or in change order after the ``since`` seq.
    """
    if sum(value is not None for value in (since, around, before or after)) > 1:
        raise BadRequest(_("Give one of since, around, or before/after."))
    if since is not None:
        return message_changes(room=room, since=since, limit=limit)
    if around is not None:
        return message_around(room=room, message_id=around, limit=limit)
    return message_list(room=room, before=before, after=after, limit=limit)


def message_revisions(message: Message) -> list[tuple[str, datetime]]:
    """Return each text ``message`` had, with when it was written, oldest first."""
    revisions = [(r.text, r.written) for r in message.revisions.order_by("id")]
    return [*revisions, (message.text, message.edited or message.created)]


def message_revisions_for(
    viewer: Viewer, *, room: Room, message_id: int
) -> list[tuple[str, datetime]]:
    """Return a message's texts for ``viewer`` (its author and staff only)."""
    message = message_get(room=room, message_id=message_id)
    if message.deleted:
        raise NotFound(_("That message was deleted."))
    user = access.user_of(viewer)
    if user is None or not access.can_see_revisions(user, message):
        raise Forbidden(_("Only the author and staff see a message's history."))
    return message_revisions(message)


def room_webhooks(room: Room) -> QuerySet[Webhook]:
    """Return ``room``'s incoming webhooks, newest first, with their bots."""
    return Webhook.objects.filter(room=room).select_related("bot", "created_by")
