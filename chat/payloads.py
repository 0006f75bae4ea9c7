"""
The JSON shapes of the wire contract (docs/protocol.md).

History, the HTTP API and the broadcast all build messages here, so a
message has exactly one shape wherever a client meets it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import nh3

from accounts.models import User
from chat.models import (
    DELETED_AUTHOR_NAME,
    Attachment,
    MemberAction,
    Message,
    Room,
    Webhook,
)
from chat.protocol import encode

if TYPE_CHECKING:
    from chat.search import Results
    from chat.selectors import RoomEntry


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": attachment.get_absolute_url(),
        "thumbnail_url": attachment.get_thumbnail_url(),
    }


def message_payload(
    message: Message, *, room_slug: str | None = None
) -> dict[str, Any]:
    """
    Return the contract's Message object.

    Expects ``author``, ``attachment``, ``reply_to`` and the reactions to be
    loaded already (see ``selectors.message_queryset``) so that a page of
    messages costs two queries.
    """
    attachment = message.attachment_or_none()
    member = message.member if message.member_action else None
    return {
        "id": message.pk,
        "room": room_slug or message.room.slug,
        "author": message.author_name or _shown_name(message),
        # Display names may look alike; the username says who wrote.
        "username": message.author.username if message.author else None,
        "bot": message.author.is_bot if message.author else False,
        "text": message.text,
        "html": message.html,
        "mentions": message.mentions,
        "notifies_room": message.notifies_room,
        "created": message.created.isoformat(),
        "attachment": attachment_payload(attachment) if attachment else None,
        "seq": message.seq,
        "edited": message.edited.isoformat() if message.edited else None,
        "deleted": message.deleted,
        "reply_to": _quote(message.reply_to) if message.reply_to else None,
        "reactions": _reactions(message),
        "member": (
            {
                "action": message.member_action,
                "username": member.username if member else None,
                "name": member.shown_name if member else DELETED_AUTHOR_NAME,
            }
            if message.member_action
            else None
        ),
    }


# A reply quotes the start of its original's text, on one line.
EXCERPT_LENGTH = 100


# Where rendered blocks and lines end: a quote reads them as spaces.
_BREAKS = re.compile(r"<(?:br|/p|/li|/pre|/blockquote)\b[^>]*>")


def _quote(original: Message) -> dict[str, Any]:
    # The words as the original shows them, without its Markdown.
    words = html.unescape(nh3.clean(_BREAKS.sub(" ", original.html), tags=set()))
    text = " ".join(words.split())
    if len(text) > EXCERPT_LENGTH:
        text = text[: EXCERPT_LENGTH - 1] + "…"
    return {
        "id": original.pk,
        "author": original.author_name or DELETED_AUTHOR_NAME,
        "excerpt": text,
        "deleted": original.deleted,
    }


def _reactions(message: Message) -> list[dict[str, Any]]:
    """Group reactions by emoji, in the order each emoji first came."""
    grouped: dict[str, list[str]] = {}
    for reaction in message.reaction_list():
        grouped.setdefault(reaction.emoji, []).append(reaction.user.username)
    return [
        {"emoji": emoji, "count": len(users), "users": users}
        for emoji, users in grouped.items()
    ]


def _shown_name(message: Message) -> str:
    # No author: they deleted their account (their messages stay).
    author = message.author
    return author.shown_name if author is not None else DELETED_AUTHOR_NAME


def encoded_message(message: Message, *, room_slug: str | None = None) -> str:
    """Return the Message object as JSON text: the one serialization per send."""
    return encode(message_payload(message, room_slug=room_slug))


class MemberChange(NamedTuple):
    """A member line's change, as the ``member`` frame tells it."""

    action: str
    # Whom it is about (None once their account is gone), and who did it.
    user_id: int | None
    username: str | None
    by: str | None

    def ends_reading(self, room: Room) -> bool:
        """Whether the member can no longer read ``room`` after this change."""
        return self.action in (MemberAction.LEAVE, MemberAction.REMOVE) and (
            room.kind != Room.Kind.PUBLIC
        )


def member_change(message: Message) -> MemberChange | None:
    """Return the member change a member line records (None for a message)."""
    if not message.member_action:
        return None
    member, by = message.member, message.author
    return MemberChange(
        message.member_action,
        message.member_id,
        member.username if member else None,
        by.username if by else None,
    )


class Encoded(NamedTuple):
    """A message encoded once, with what routing it needs."""

    id: int
    seq: int
    message: str
    client_id: str | None
    member: MemberChange | None = None


def encoded_messages(messages: Iterable[Message], *, room_slug: str) -> list[Encoded]:
    """Return each of ``messages`` encoded, with its id, seq and client_id."""
    return [
        Encoded(
            m.pk,
            m.seq,
            encoded_message(m, room_slug=room_slug),
            m.client_id,
            member_change(m),
        )
        for m in messages
    ]


def room_payload(entry: RoomEntry) -> dict[str, Any]:
    """Return the contract's Room object, as its reader sees it."""
    room, place = entry.room, entry.place
    return {
        "slug": room.slug,
        "name": entry.title,
        "kind": room.kind,
        "url": room.get_absolute_url(),
        "joined": entry.joined,
        "members": entry.members,
        "last_message_at": (
            room.last_message_at.isoformat() if room.last_message_at else None
        ),
        "seq": room.last_seq,
        # The newest message; the counts below hold none after it.
        "last_message_id": room.last_message_id,
        # The reader's place in a room they joined (else null, 0, 0, false).
        "last_read_id": place.last_read_id if place else None,
        "unread": place.unread if place else 0,
        "mentions": place.mentions if place else 0,
        "muted": place.muted if place else False,
    }


def person_payload(user: User) -> dict[str, str]:
    """Return a user as lists of people show them."""
    return {"username": user.username, "name": user.shown_name}


def search_payload(results: Results) -> dict[str, Any]:
    """Return a page of search results: each message, its room's name, a snippet."""
    return {
        "results": [
            {
                "message": message_payload(hit.message),
                "room_name": hit.room_name,
                "snippet": hit.snippet,
            }
            for hit in results.hits
        ],
        "next": results.next,
    }


def webhook_payload(webhook: Webhook) -> dict[str, Any]:
    """Return an incoming webhook as those who manage its room see it."""
    return {
        "id": webhook.pk,
        "name": webhook.name,
        "room": webhook.room.slug,
        "url": webhook.get_absolute_url(),
        "bot": person_payload(webhook.bot),
        "created_by": webhook.created_by.username if webhook.created_by else None,
        "created": webhook.created.isoformat(),
        "last_used": webhook.last_used.isoformat() if webhook.last_used else None,
    }
