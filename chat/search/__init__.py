"""
Search: the one place that answers "which messages match, for whom".

``search`` applies the rules every engine shares (the rooms the viewer may
read, the filters, newest first, the cursor) and leaves only the matching
of text to the engine of the database in use (chat.search.engines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from chat import access, ratelimit, selectors
from chat.access import Viewer
from chat.exceptions import BadRequest
from chat.models import Message
from chat.search.engines import page
from chat.search.query import Query, parse
from chat.search.text import snippet

__all__ = ["PAGE_MAX", "PAGE_SIZE", "Hit", "Results", "search", "throttle"]

PAGE_SIZE = 20
PAGE_MAX = 50
# Terms of 1 or 2 characters (no trigram index can find them) are looked
# for in this many of the newest messages in scope, never in all.
RECENT = 1000


@dataclass(frozen=True)
class Hit:
    """
    A message found, the name of its room as the viewer's room list shows
    it, and HTML of its text around the match (only <mark>).
    """

    message: Message
    room_name: str
    snippet: str


@dataclass(frozen=True)
class Results:
    """A page of hits, newest first; ``next``: the cursor of the next page."""

    hits: list[Hit]
    next: int | None


def search(
    viewer: Viewer,
    text: str,
    *,
    room: str | None = None,
    limit: int = PAGE_SIZE,
    before: int | None = None,
) -> Results:
    """
    Return what ``viewer`` finds with ``text`` (in room ``room`` if given,
    or the room of an ``in:`` filter), newest first, up to ``limit``
    messages older than message ``before``. Raise BadRequest for a search
    that says nothing or cannot be read, NotFound for a room one may not read.
    """
    query = parse(text)
    if query.empty:
        raise BadRequest(_("Type a word to search for."))
    slug = query.room or room
    rooms = (
        [access.readable_room(viewer, slug)] if slug else access.readable_rooms(viewer)
    )
    messages = Message.objects.filter(
        room__in=rooms, deleted=False, member_action=""
    ).exclude(author__in=selectors.blocked_users(viewer))
    messages = _filtered(messages, query, viewer)
    if query.short and not query.needles:
        messages = _recent(messages)
    for term in query.short:
        messages = messages.filter(search_text__contains=term)
    if before is not None:
        messages = messages.filter(id__lt=before)
    if query.needles:
        ids = page(messages, query.needles, limit + 1, below=before)
    else:
        ids = list(messages.order_by("-id").values_list("id", flat=True)[: limit + 1])
    found = selectors.message_queryset().select_related("room").in_bulk(ids[:limit])
    shown = [found[pk] for pk in ids[:limit] if pk in found]
    names = selectors.room_titles(list({m.room for m in shown}), viewer)
    hits = [Hit(m, names[m.room_id], snippet(m.text, query.highlights)) for m in shown]
    return Results(hits, ids[limit - 1] if len(ids) > limit else None)


def throttle(viewer: Viewer, address: str) -> None:
    """
    Count one search by ``viewer`` from ``address``; raise RateLimited past
    RATE_LIMIT_SEARCH (per user) or RATE_LIMIT_SEARCH_IP (per address).
    """
    detail = _("Too many searches. Try again in %(seconds)d s.")
    user = access.user_of(viewer)
    if user is not None:
        ratelimit.enforce("search", str(user.pk), settings.RATE_LIMIT_SEARCH, detail)
    ratelimit.enforce("search-ip", address, settings.RATE_LIMIT_SEARCH_IP, detail)


def _filtered(
    messages: QuerySet[Message], query: Query, viewer: Viewer
) -> QuerySet[Message]:
    if query.author:
        messages = messages.filter(author__username__iexact=query.author)
    if "file" in query.has:
        messages = messages.filter(attachment__isnull=False)
    if "image" in query.has:
        messages = messages.filter(attachment__content_type__startswith="image/")
    # Dates are UTC days: "after:" the day's end, "before:" its start.
    if query.after:
        messages = messages.filter(created__gte=_day_start(query.after, 1))
    if query.before:
        messages = messages.filter(created__lt=_day_start(query.before))
    if query.mention:
        user = access.user_of(viewer)
        if user is None:
            return messages.none()
        messages = selectors.mentioning(messages, user)
    return messages


def _day_start(day: date, later: int = 0) -> datetime:
    try:
        return datetime.combine(day + timedelta(days=later), time(), tzinfo=UTC)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _recent(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Narrow ``messages`` to the RECENT newest of them."""
    floor = messages.order_by("-id").values_list("id", flat=True)[RECENT - 1 : RECENT]
    return messages.filter(id__gte=floor[0]) if floor else messages
