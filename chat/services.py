"""
Every change to chat data goes through a function here.

Each one validates, stores in one transaction, then publishes after the
commit. The WebSocket consumer, the HTTP API and the admin all call these.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.validators import clean_name
from chat import events, ratelimit
from chat.exceptions import AuthRequired, BadRequest, RateLimited, TooLarge
from chat.files import inspect_upload, safe_file_name
from chat.models import (
    ROOM_NAME_MAX_LENGTH,
    ROOM_SLUG_MAX_LENGTH,
    Attachment,
    Message,
    Room,
)
from chat.payloads import encoded_message
from chat.selectors import message_queryset

logger = logging.getLogger(__name__)

# Newlines and tabs are kept; other control characters (C0, DEL, C1) have
# no place in a message, PostgreSQL cannot store NUL, and a lone surrogate
# is not text at all.
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _clean_text(text: str, *, allow_blank: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _FORBIDDEN_CHARS.search(text):
        raise BadRequest(_("The text contains control characters."))
    if len(text) > settings.MESSAGE_MAX_LENGTH:
        raise TooLarge(
            _("The text is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(text), "limit": settings.MESSAGE_MAX_LENGTH}
        )
    if not allow_blank and not text.strip():
        raise BadRequest(_("The message is blank."))
    return text.strip("\n")


def _check_author(author: User | None) -> User:
    if author is None or not author.is_authenticated or not author.is_active:
        raise AuthRequired(_("Log in to write."))
    return author


def _check_rate(author: User) -> None:
    retry_after = ratelimit.hit(
        "messages", str(author.pk), ratelimit.parse_rates(settings.RATE_LIMIT_MESSAGES)
    )
    if retry_after is not None:
        raise RateLimited(
            _("Too many messages. Try again in %(seconds)d s.")
            % {"seconds": retry_after},
            retry_after=retry_after,
        )


def _existing(author: User, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return (
        message_queryset()
        .select_related("room")
        .filter(author=author, client_id=client_id)
        .first()
    )


def _store(*, room: Room, author: User, text: str, client_id: str | None) -> Message:
    """Insert the message while holding the room's row lock."""
    # The lock orders commits within a room, so ids grow in commit order.
    locked = Room.objects.select_for_update().get(pk=room.pk)
    now = timezone.now()
    message = Message.objects.create(
        room=locked,
        author=author,
        author_name=author.shown_name,
        text=text,
        created=now,
        client_id=client_id,
    )
    Room.objects.filter(pk=room.pk).update(
        last_message_at=now, last_message_id=message.pk
    )
    # A new message has no attachment yet; say so instead of querying.
    Message.attachment.related.set_cached_value(message, None)
    return message


def _publish(message: Message, client_id: str | None) -> None:
    encoded = encoded_message(message)
    prev_id = message.room.last_message_id or 0  # Read under the room lock.
    transaction.on_commit(
        lambda: events.message_broadcast(
            room_slug=message.room.slug,
            message_id=message.pk,
            prev_id=prev_id,
            message=encoded,
            client_id=client_id,
        ),
        robust=True,
    )


def message_create(
    *, room: Room, author: User | None, text: str, client_id: str | None = None
) -> tuple[Message, bool]:
    """
    Post ``text`` to ``room`` and broadcast it; return (message, created).

    A repeat of a ``client_id`` the author used before returns the stored
    message with ``created`` False and stores and broadcasts nothing.
    """
    author = _check_author(author)
    text = _clean_text(text, allow_blank=False)
    existing = _existing(author, client_id)
    if existing is not None:
        return existing, False
    _check_rate(author)
    try:
        with transaction.atomic():
            message = _store(room=room, author=author, text=text, client_id=client_id)
            _publish(message, client_id)
    except IntegrityError:
        # A concurrent retry with the same client_id won the race.
        existing = _existing(author, client_id)
        if existing is None:
            raise
        return existing, False
    logger.info(
        "message %s in %s by %s: %r", message.pk, room.slug, author.username, text
    )
    return message, True


def attachment_create(
    *,
    room: Room,
    author: User | None,
    upload: UploadedFile,
    text: str = "",
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """Share ``upload`` in ``room`` as a message with optional ``text``."""
    author = _check_author(author)
    text = _clean_text(text, allow_blank=True)
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if upload.size is None or upload.size > limit:
        raise TooLarge(
            _("Files are limited to %(limit)d MiB.") % {"limit": settings.MAX_UPLOAD_MB}
        )
    if upload.size == 0:
        raise BadRequest(_("The file is empty."))
    existing = _existing(author, client_id)
    if existing is not None:
        return existing, False
    _check_rate(author)
    inspected = inspect_upload(upload)
    attachment = Attachment(
        name=safe_file_name(upload.name or ""),
        size=upload.size,
        content_type=inspected.content_type,
    )
    # Files are written before the transaction and removed if it fails, so
    # a stored attachment never points at a missing file.
    attachment.file.save("upload", upload, save=False)
    if inspected.thumbnail is not None:
        attachment.thumbnail.save("thumbnail", inspected.thumbnail, save=False)
    try:
        with transaction.atomic():
            message = _store(room=room, author=author, text=text, client_id=client_id)
            attachment.message = message
            attachment.save()
            _publish(message, client_id)
    except Exception:
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)
        existing = _existing(author, client_id)
        if existing is not None:
            return existing, False
        raise
    logger.info(
        "upload %s in %s by %s: %r (%s, %d bytes)",
        message.pk,
        room.slug,
        author.username,
        attachment.name,
        attachment.content_type,
        attachment.size,
    )
    return message, True


# Room addresses are ASCII (they name channel-layer groups); Cyrillic names
# are transliterated so that "Котики" lives at /rooms/kotiki/.
_CYRILLIC = str.maketrans(
    {
        **dict(
            zip("абвгдезийклмнопрстуфыэіґ", "abvgdeziyklmnoprstufyeig", strict=True)
        ),
        **{"ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh"},
        **{"щ": "shch", "ъ": "", "ь": "", "ю": "yu", "я": "ya", "ї": "yi", "є": "ye"},
    }
)


def _transliterate(name: str) -> str:
    return name.lower().translate(_CYRILLIC)


def _unique_slug(name: str) -> str:
    base = slugify(_transliterate(name))[: ROOM_SLUG_MAX_LENGTH - 8].strip("-")
    base = base or "room"
    slug, number = base, 1
    while Room.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def room_create(*, name: str, created_by: User | None) -> Room:
    """Create a room named ``name`` with a unique ASCII slug."""
    _check_author(created_by)
    try:
        name = clean_name(name, max_length=ROOM_NAME_MAX_LENGTH)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name, slug=_unique_slug(name), created_by=created_by
                )
        except IntegrityError:
            continue  # Another room took the slug meanwhile; pick again.
        logger.info("room %s created by %s: %r", room.slug, created_by, room.name)
        return room
    raise BadRequest(_("Could not find a free address for the room; try another name."))
