"""
The JSON shapes of the wire contract (docs/protocol.md).

History, the HTTP API and the broadcast all build messages here, so a
message has exactly one shape wherever a client meets it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chat.models import DELETED_AUTHOR_NAME, Attachment, Message, Room
from chat.protocol import encode


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

    Expects ``author`` and ``attachment`` to be loaded already (see
    ``selectors.message_queryset``) so that a page of messages costs one query.
    """
    try:
        attachment = message.attachment
    except Attachment.DoesNotExist:
        attachment = None
    return {
        "id": message.pk,
        "room": room_slug or message.room.slug,
        "author": message.author_name or _shown_name(message),
        # Display names may look alike; the username says who wrote.
        "username": message.author.username if message.author else None,
        "text": message.text,
        "html": message.html,
        "mentions": message.mentions,
        "created": message.created.isoformat(),
        "attachment": attachment_payload(attachment) if attachment else None,
    }


def _shown_name(message: Message) -> str:
    # No author: they deleted their account (their messages stay).
    author = message.author
    return author.shown_name if author is not None else DELETED_AUTHOR_NAME


def encoded_message(message: Message, *, room_slug: str | None = None) -> str:
    """Return the Message object as JSON text: the one serialization per send."""
    return encode(message_payload(message, room_slug=room_slug))


def encoded_messages(
    messages: Iterable[Message], *, room_slug: str
) -> list[tuple[int, str, str | None]]:
    """Return (id, encoded message, client_id) for each of ``messages``."""
    return [
        (m.pk, encoded_message(m, room_slug=room_slug), m.client_id) for m in messages
    ]


def room_payload(room: Room) -> dict[str, Any]:
    return {
        "slug": room.slug,
        "name": room.name,
        "url": room.get_absolute_url(),
        "last_message_at": (
            room.last_message_at.isoformat() if room.last_message_at else None
        ),
    }
