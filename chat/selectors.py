"""Every read of chat data goes through a function here."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from chat.exceptions import NotFound
from chat.models import Message, Room


def room_list() -> QuerySet[Room]:
    """Return rooms, the most recently active first."""
    return Room.objects.order_by("-last_message_at", "name")


def room_get(*, slug: str) -> Room:
    """Return the room ``slug`` or raise NotFound."""
    try:
        return Room.objects.get(slug=slug)
    except Room.DoesNotExist:
        raise NotFound(_("There is no room %(slug)r.") % {"slug": slug[:60]}) from None


def message_queryset() -> QuerySet[Message]:
    """Return messages with what their payload needs, loaded in one query."""
    return Message.objects.select_related("author", "attachment")


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
