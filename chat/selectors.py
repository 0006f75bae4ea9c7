"""Every read of chat data goes through a function here."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from chat import access
from chat.access import Viewer
from chat.exceptions import NotFound
from chat.models import Message, Reaction, Room

# A message's reactions with their users, oldest first: one query a page.
REACTIONS = Prefetch(
    "reactions", queryset=Reaction.objects.select_related("user").order_by("id")
)


def room_list(viewer: Viewer) -> QuerySet[Room]:
    """Return the rooms ``viewer`` may read, the most recently active first."""
    return access.readable_rooms(viewer).order_by("-last_message_at", "name")


def message_get(*, room: Room, message_id: int) -> Message:
    """Return the message ``message_id`` of ``room`` or raise NotFound."""
    message = message_queryset().filter(room=room, pk=message_id).first()
    if message is None:
        raise NotFound(
            _("There is no message %(id)d in this room.") % {"id": message_id}
        )
    return message


def message_queryset() -> QuerySet[Message]:
    """Return messages with what their payload needs, loaded in one query."""
    return Message.objects.select_related(
        "author", "attachment", "reply_to"
    ).prefetch_related(REACTIONS)


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


def message_revisions(message: Message) -> list[tuple[str, datetime]]:
    """Return each text ``message`` had, with when it was written, oldest first."""
    revisions = [(r.text, r.written) for r in message.revisions.order_by("id")]
    return [*revisions, (message.text, message.edited or message.created)]
