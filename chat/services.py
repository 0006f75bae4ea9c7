"""
Every change to chat data goes through a function here.

Each one validates, stores in one transaction, then publishes after the
commit. The WebSocket consumer, the HTTP API and the admin all call these.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.validators import clean_name
from chat import events, ratelimit
from chat.exceptions import AuthRequired, BadRequest, ChatError, TooLarge
from chat.files import inspect_upload, safe_file_name
from chat.formatting import mentioned_names, render
from chat.models import (
    DELETED_AUTHOR_NAME,
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


# Who is acting, as views and consumers know it: a guest is an AnonymousUser.
Actor = User | AnonymousUser | None


def _check_author(author: Actor) -> User:
    if not isinstance(author, User) or not author.is_active:
        raise AuthRequired(_("Log in to write."))
    return author


def _check_rate(author: User) -> None:
    ratelimit.enforce(
        "messages",
        str(author.pk),
        settings.RATE_LIMIT_MESSAGES,
        _("Too many messages. Try again in %(seconds)d s."),
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


def _lock(room: Room) -> Room:
    """Lock the room's row until the transaction ends."""
    # The lock orders commits within a room, so ids grow in commit order.
    return Room.objects.select_for_update().get(pk=room.pk)


def _users_named(texts: list[str]) -> dict[str, str]:
    """Return the users ``texts`` may mention: folded name -> username."""
    names = set().union(*(mentioned_names(text) for text in texts))
    if not names:
        return {}
    return dict(
        User.objects.filter(username_key__in=names).values_list(
            "username_key", "username"
        )
    )


def _insert(
    locked: Room,
    author: User,
    text: str,
    client_id: str | None,
    users: dict[str, str],
) -> tuple[Message, int]:
    """Insert a message into the locked room; return it and the id before it."""
    prev_id = locked.last_message_id or 0
    formatted = render(text, users=users)
    message = Message.objects.create(
        room=locked,
        author=author,
        author_name=author.shown_name,
        text=text,
        html=formatted.html,
        mentions=formatted.mentions,
        created=timezone.now(),
        client_id=client_id,
    )
    # A new message has no attachment yet; say so instead of querying.
    Message.attachment.related.set_cached_value(message, None)
    locked.last_message_id = message.pk
    locked.last_message_at = message.created
    return message, prev_id


def _release(locked: Room) -> None:
    Room.objects.filter(pk=locked.pk).update(
        last_message_at=locked.last_message_at, last_message_id=locked.last_message_id
    )


def _publish(
    message: Message, client_id: str | None, prev_id: int, log: tuple[Any, ...]
) -> None:
    """
    After the commit, log the message (``log`` is the logger's arguments),
    then broadcast it: the log's order is the chat's, and a line is written
    before anyone can have seen its message.
    """
    encoded = encoded_message(message)

    def log_and_broadcast() -> None:
        logger.info(*log)
        events.message_broadcast(
            room_slug=message.room.slug,
            message_id=message.pk,
            prev_id=prev_id,
            message=encoded,
            client_id=client_id,
        )

    transaction.on_commit(log_and_broadcast, robust=True)


@dataclass(frozen=True)
class Post:
    """One message to post: its text and the sender's idempotency key."""

    text: str
    client_id: str | None = None


PostResult = tuple[Message, bool] | ChatError


def messages_create(
    *, room: Room, author: Actor, posts: list[Post]
) -> list[PostResult]:
    """
    Post ``posts`` of one author to ``room`` in order; one result per post.

    A result is (message, created) or the ChatError that refused the post.
    Posts stored together share one transaction (one commit for a burst),
    and each is broadcast after it. A repeat of a ``client_id`` the author
    used before returns the stored message with ``created`` False.
    """
    author = _check_author(author)
    keys = [post.client_id for post in posts if post.client_id is not None]
    known = {
        message.client_id: message
        for message in message_queryset()
        .select_related("room")
        .filter(author=author, client_id__in=keys)
    }
    results: list[PostResult | None] = [None] * len(posts)
    first_of: dict[str, int] = {}
    fresh: list[tuple[int, str, str | None]] = []
    for index, post in enumerate(posts):
        try:
            text = _clean_text(post.text, allow_blank=False)
            if post.client_id in known:
                results[index] = (known[post.client_id], False)
                continue
            if post.client_id in first_of:
                continue  # A repeat within this batch: settled below.
            _check_rate(author)
        except ChatError as error:
            results[index] = error
            continue
        if post.client_id is not None:
            first_of[post.client_id] = index
        fresh.append((index, text, post.client_id))
    if fresh:
        # Looked up before the room is locked: the lock is held for storing.
        users = _users_named([text for _index, text, _client_id in fresh])
        try:
            with transaction.atomic():
                locked = _lock(room)
                for index, text, client_id in fresh:
                    message, prev_id = _insert(locked, author, text, client_id, users)
                    line = (message.pk, room.slug, author.username, text)
                    _publish(
                        message,
                        client_id,
                        prev_id,
                        ("message %s in %s by %s: %r", *line),
                    )
                    results[index] = (message, True)
                _release(locked)
        except IntegrityError:
            # A concurrent retry of one of these client_ids won the race.
            if len(fresh) > 1:
                for index, text, client_id in fresh:
                    results[index] = messages_create(
                        room=room, author=author, posts=[Post(text, client_id)]
                    )[0]
            else:
                existing = _existing(author, fresh[0][2])
                if existing is None:
                    raise
                results[fresh[0][0]] = (existing, False)
    for index, post in enumerate(posts):
        if results[index] is None:
            first = results[first_of[post.client_id]]  # type: ignore[index]
            results[index] = (first[0], False) if isinstance(first, tuple) else first
    return results  # type: ignore[return-value]


def message_create(
    *, room: Room, author: Actor, text: str, client_id: str | None = None
) -> tuple[Message, bool]:
    """
    Post ``text`` to ``room`` and broadcast it; return (message, created).

    A repeat of a ``client_id`` the author used before returns the stored
    message with ``created`` False and stores and broadcasts nothing.
    """
    [result] = messages_create(room=room, author=author, posts=[Post(text, client_id)])
    if isinstance(result, ChatError):
        raise result
    return result


def attachment_create(
    *,
    room: Room,
    author: Actor,
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
    users = _users_named([text])  # Before the lock, as for messages.
    try:
        with transaction.atomic():
            locked = _lock(room)
            message, prev_id = _insert(locked, author, text, client_id, users)
            attachment.message = message
            attachment.save()
            _release(locked)
            _publish(
                message,
                client_id,
                prev_id,
                (
                    "upload %s in %s by %s: %r (%s, %d bytes)",
                    *(message.pk, room.slug, author.username, attachment.name),
                    *(attachment.content_type, attachment.size),
                ),
            )
    except Exception:
        _delete_files([attachment])
        existing = _existing(author, client_id)
        if existing is not None:
            return existing, False
        raise
    return message, True


def messages_disown(*, author: User) -> int:
    """
    Keep ``author``'s messages without them; return how many there are.

    For an account about to be deleted, in the deleting transaction: the
    messages lose their author and read as from DELETED_AUTHOR_NAME, their
    files go. After the commit the files leave the storage, and every hub
    reads the affected rooms' latest pages again.
    """
    with transaction.atomic():
        messages = Message.objects.filter(author=author)
        rooms = sorted(set(messages.values_list("room__slug", flat=True)))
        attachments = list(Attachment.objects.filter(message__author=author))
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        # The client_ids go too: nobody can retry as an author who is gone.
        count = messages.update(
            author=None, author_name=DELETED_AUTHOR_NAME, client_id=None
        )
        transaction.on_commit(lambda: _delete_files(attachments), robust=True)
        transaction.on_commit(
            lambda: events.history_refresh(room_slugs=rooms), robust=True
        )
    return count


def _delete_files(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        for field in (attachment.file, attachment.thumbnail):
            if not field:
                continue
            try:
                field.delete(save=False)
            except OSError:
                # The row is gone, so the file is unreachable; say so and go on.
                logger.exception("could not delete %s", field.name)


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


def room_create(*, name: str, created_by: Actor) -> Room:
    """Create a room named ``name`` with a unique ASCII slug."""
    creator = _check_author(created_by)
    try:
        name = clean_name(name, max_length=ROOM_NAME_MAX_LENGTH)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name, slug=_unique_slug(name), created_by=creator
                )
        except IntegrityError:
            continue  # Another room took the slug meanwhile; pick again.
        logger.info("room %s created by %s: %r", room.slug, creator, room.name)
        return room
    raise BadRequest(_("Could not find a free address for the room; try another name."))
