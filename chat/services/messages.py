"""
Posting, editing and deleting messages.

Each function validates, stores in one transaction through the room's
change stream (``stream.room_changes``), and publishes after the commit.
The WebSocket consumer, the HTTP API, the pages and the admin all call these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat import access
from chat.exceptions import BadRequest, ChatError, Forbidden, TooLarge
from chat.files import inspect_upload, safe_file_name
from chat.formatting import ROOM_MENTION, mentioned_names, render
from chat.models import (
    DELETED_AUTHOR_NAME,
    Attachment,
    Message,
    Parts,
    Reaction,
    Revision,
    Room,
)
from chat.search.text import document
from chat.selectors import message_get, message_queryset, post_queryset
from chat.services.common import (
    Actor,
    check_author,
    check_rate,
    clean_text,
    delete_files,
    mark_bare,
    users_named,
)
from chat.services.stream import (
    LogLine,
    NewMessage,
    RoomChanges,
    post_together,
    room_changes,
    rooms_changes,
)

logger = logging.getLogger("chat.services")

# A person notifies a room ("@room") at most once in this long.
ROOM_NOTICE_INTERVAL = timedelta(minutes=10)


def _new_message(
    room: Room,
    author: User,
    text: str,
    client_id: str | None,
    users: dict[str, str],
    reply_to: Message | None,
    notice: bool,
    file_name: str = "",
) -> Message:
    formatted = render(text, users=users, everyone=notice)
    message = Message(
        room=room,
        author=author,
        author_name=author.shown_name,
        text=text,
        html=formatted.html,
        mentions=formatted.mentions,
        notifies_room=formatted.everyone,
        search_text=document(text, file_name),
        created=timezone.now(),
        client_id=client_id,
        reply_to=reply_to,
    )
    mark_bare(message)
    return message


def _existing(author: User, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return messages_repeated([(author, [client_id])]).get((author.pk, client_id))


def _room_notice(author: User, room: Room, text: str, noticed: bool) -> bool:
    """
    Return whether ``text`` notifies everyone in ``room`` ("@room" outside
    code); raise if its author may not (``noticed``: they just did).
    """
    if (
        ROOM_MENTION not in mentioned_names(text)
        or not render(text, everyone=True).everyone
    ):
        return False
    if not access.can_notify_room(author, room):
        raise Forbidden(
            _("Only staff may notify everyone in a room of more than %(count)d.")
            % {"count": access.ROOM_NOTICE_MAX_MEMBERS}
        )
    last = (
        Message.objects.filter(room=room, author=author, notifies_room=True)
        .order_by("-created")
        .values_list("created", flat=True)
        .first()
    )
    now = timezone.now()
    if noticed or (last is not None and now - last < ROOM_NOTICE_INTERVAL):
        # Refused as this message alone (not rate_limited, which holds back
        # everything a client sends): without "@room" it goes through.
        left = ROOM_NOTICE_INTERVAL - (now - last) if last else ROOM_NOTICE_INTERVAL
        raise Forbidden(
            _(
                "You notified everyone in this room less than %(interval)d "
                "minutes ago. Send it without @room, or in %(minutes)d min."
            )
            % {
                "interval": ROOM_NOTICE_INTERVAL.total_seconds() // 60,
                "minutes": -(-int(left.total_seconds()) // 60),
            }
        )
    return True


def _reply_target(room: Room, reply_to: int | None) -> Message | None:
    if reply_to is None:
        return None
    target = message_get(room=room, message_id=reply_to)
    if target.deleted:
        raise BadRequest(_("That message was deleted; it takes no replies."))
    return target


@dataclass(frozen=True)
class Post:
    """One message to post: its text, the sender's idempotency key, and the
    id of the message it replies to."""

    text: str
    client_id: str | None = None
    reply_to: int | None = None


PostResult = tuple[Message, bool] | ChatError


@dataclass
class _Fresh:
    """A checked post, to be stored."""

    index: int
    text: str
    client_id: str | None
    reply_to: Message | None
    notice: bool


@dataclass
class Posting:
    """One author's posts to one room, checked (``messages_check``) and not
    yet stored (``messages_store``); ``results`` holds one per post once
    stored."""

    room: Room
    author: User
    posts: list[Post]
    results: list[PostResult | None]
    fresh: list[_Fresh]
    # The index of the post that first used each client_id of this batch.
    first_of: dict[str, int]
    users: dict[str, str]


def messages_create(
    *, room: Room, author: Actor, posts: list[Post], stop_at_answer: bool = False
) -> list[PostResult]:
    """
    Post ``posts`` of one author to ``room`` in order; one result per post.

    With ``stop_at_answer``, posting stops at the first post answered other
    than by its broadcast (refused, or a repeat of a stored ``client_id``),
    or before a repeat of a ``client_id`` of this batch: the results are
    those of the posts before it and of it, and the caller posts the rest
    again once that answer is out. A socket's answers then reach it in the
    order of its frames, between the broadcasts of the posts around them.

    A result is (message, created) or the ChatError that refused the post.
    Posts stored together share one transaction (one commit for a burst),
    and each is broadcast after it. A repeat of a ``client_id`` the author
    used before returns the stored message with ``created`` False.
    """
    posting = messages_check(
        room=room, author=author, posts=posts, stop_at_answer=stop_at_answer
    )
    messages_store([posting])
    return posting.results  # type: ignore[return-value]


# The stored messages of client_ids sent again: by (author id, client_id).
Repeats = dict[tuple[int, str], Message]


def messages_repeated(keys: list[tuple[User, list[str]]]) -> Repeats:
    """Return the stored messages of these authors' ``keys`` (client_ids),
    for many authors with one query."""
    authors = {author.pk for author, _keys in keys}
    wanted = {(author.pk, key) for author, own in keys for key in own}
    if not wanted:
        return {}
    # Retries are rare: a plain lookup of the keys first, and the whole
    # messages only for those found.
    stored = Message.objects.filter(
        author_id__in=authors, client_id__in={key for _a, key in wanted}
    ).order_by()  # No ORDER BY: nothing here needs one.
    found = [
        pk
        for pk, author_id, key in stored.values_list("pk", "author_id", "client_id")
        if (author_id, key) in wanted
    ]
    if not found:
        return {}
    return {
        (message.author_id, message.client_id): message  # type: ignore[misc]
        for message in message_queryset().select_related("room").filter(pk__in=found)
    }


def messages_check(
    *,
    room: Room,
    author: Actor,
    posts: list[Post],
    stop_at_answer: bool = False,
    repeats: Repeats | None = None,
) -> Posting:
    """
    Check ``posts`` of one author to ``room`` (see ``messages_create``):
    answer the refused ones and the repeats, and keep the rest for
    ``messages_store``. Raise the ChatError that refuses them all.
    ``repeats`` is what ``messages_repeated`` found for them, when the
    caller looked up several authors' posts at once.
    """
    author = check_author(author)
    access.check_readable(author, room)
    if repeats is None:
        keys = [post.client_id for post in posts if post.client_id is not None]
        repeats = messages_repeated([(author, keys)])
    known = {
        key: message
        for (author_id, key), message in repeats.items()
        if author_id == author.pk
    }
    posting = Posting(room, author, posts, [None] * len(posts), [], {}, {})
    results = posting.results
    noticed = False
    for index, post in enumerate(posts):
        try:
            text = clean_text(post.text, allow_blank=False)
            if post.client_id in known:
                results[index] = (known[post.client_id], False)
                if stop_at_answer:
                    del results[index + 1 :]
                    break
                continue
            if post.client_id in posting.first_of:
                if stop_at_answer:
                    del results[index:]
                    break
                continue  # A repeat within this batch: settled once stored.
            target = _reply_target(room, post.reply_to)
            check_rate(author)
            notice = _room_notice(author, room, text, noticed)
        except ChatError as error:
            results[index] = error
            if stop_at_answer:
                del results[index + 1 :]
                break
            continue
        noticed = noticed or notice
        if post.client_id is not None:
            posting.first_of[post.client_id] = index
        posting.fresh.append(_Fresh(index, text, post.client_id, target, notice))
    # Looked up before the rooms are locked: the locks are held for storing.
    posting.users = users_named([fresh.text for fresh in posting.fresh])
    return posting


def messages_store(postings: list[Posting]) -> None:
    """
    Store the checked posts of ``postings`` in one transaction, with one
    lock of their rooms and one INSERT, and fill in their results; each
    post is broadcast after the commit.
    """
    storing = [posting for posting in postings if posting.fresh]
    if storing:
        try:
            with rooms_changes([posting.room for posting in storing]) as changes:
                new: list[NewMessage] = []
                for posting in storing:
                    stream = changes[posting.room.pk]
                    for fresh in posting.fresh:
                        message = _new_message(
                            stream.room,
                            posting.author,
                            fresh.text,
                            fresh.client_id,
                            posting.users,
                            fresh.reply_to,
                            fresh.notice,
                        )
                        new.append(
                            (stream, message, fresh.client_id, _log_line(message))
                        )
                        posting.results[fresh.index] = (message, True)
                post_together(new)
        except IntegrityError:
            # A concurrent retry of one of these client_ids won the race:
            # each post again on its own.
            if sum(len(posting.fresh) for posting in storing) == 1:
                [posting] = storing
                existing = _existing(posting.author, posting.fresh[0].client_id)
                if existing is None:
                    raise
                posting.results[posting.fresh[0].index] = (existing, False)
            else:
                for posting in storing:
                    for fresh in posting.fresh:
                        reply_to = fresh.reply_to.pk if fresh.reply_to else None
                        post = Post(fresh.text, fresh.client_id, reply_to)
                        posting.results[fresh.index] = messages_create(
                            room=posting.room, author=posting.author, posts=[post]
                        )[0]
    for posting in postings:
        for index, result in enumerate(posting.results):
            if result is None:  # A repeat of a client_id of its batch.
                key = posting.posts[index].client_id
                first = posting.results[posting.first_of[key]]  # type: ignore[index]
                posting.results[index] = (
                    (first[0], False) if isinstance(first, tuple) else first
                )


def _log_line(message: Message) -> LogLine:
    def line() -> tuple[object, ...]:
        author = message.author.username if message.author else None
        return (
            "message %s in %s by %s: %r",
            *(message.pk, message.room.slug, author, message.text),
        )

    return line


def message_create(
    *,
    room: Room,
    author: Actor,
    text: str,
    client_id: str | None = None,
    reply_to: int | None = None,
) -> tuple[Message, bool]:
    """
    Post ``text`` to ``room`` and broadcast it; return (message, created).

    A repeat of a ``client_id`` the author used before returns the stored
    message with ``created`` False and stores and broadcasts nothing.
    """
    [result] = messages_create(
        room=room, author=author, posts=[Post(text, client_id, reply_to)]
    )
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
    reply_to: int | None = None,
) -> tuple[Message, bool]:
    """Share ``upload`` in ``room`` as a message with optional ``text``."""
    author = check_author(author)
    access.check_readable(author, room)
    text = clean_text(text, allow_blank=True)
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
    target = _reply_target(room, reply_to)
    check_rate(author)
    notice = _room_notice(author, room, text, noticed=False)
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
    users = users_named([text])  # Before the lock, as for messages.
    try:
        with room_changes(room) as changes:
            message = _new_message(
                changes.room,
                author,
                text,
                client_id,
                users,
                target,
                notice,
                file_name=attachment.name,
            )
            changes.add(
                message,
                client_id=client_id,
                log=lambda: (
                    "upload %s in %s by %s: %r (%s, %d bytes)",
                    *(message.pk, room.slug, author.username, attachment.name),
                    *(attachment.content_type, attachment.size),
                ),
            )
            attachment.message = message
            attachment.save()
            message.parts = Parts(attachment=attachment, reactions=[])
    except Exception:
        delete_files([attachment])
        existing = _existing(author, client_id)
        if existing is not None:
            return existing, False
        raise
    return message, True


def _editable(user: User, message: Message) -> None:
    """Raise the ChatError that forbids ``user`` to edit ``message``, if any."""
    if message.deleted:
        raise BadRequest(_("That message was deleted."))
    if not access.can_edit(user, message):
        raise Forbidden(_("You can only edit your own messages."))
    window = settings.EDIT_WINDOW_MINUTES
    if window is not None and timezone.now() - message.created > timedelta(
        minutes=window
    ):
        raise Forbidden(
            _("Messages can be edited for %(minutes)s minutes after posting.")
            % {"minutes": f"{window:g}"}
        )


def message_edit(
    *,
    room: Room,
    editor: Actor,
    message_id: int,
    text: str,
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """
    Replace the text of the author's message ``message_id``; return the
    message and whether it changed.

    The earlier text is kept as a Revision; the message's replies change
    too (their quote follows the original). Text equal to the current one
    stores and broadcasts nothing.
    """
    user = check_author(editor)
    access.check_readable(user, room)
    text = clean_text(text, allow_blank=True)
    users = users_named([text])  # Looked up before the room is locked.
    with room_changes(room) as changes:
        # Read under the lock: what a concurrent edit or delete left.
        message = message_get(room=changes.room, message_id=message_id)
        _editable(user, message)
        attachment = message.attachment_or_none()
        if not text.strip() and attachment is None:
            raise BadRequest(_("The message is blank."))
        if text == message.text:
            return message, False
        check_rate(user)
        now = timezone.now()
        Revision.objects.create(
            message=message,
            text=message.text,
            written=message.edited or message.created,
            replaced=now,
        )
        # An edit keeps the message's "@room" (or its absence): it notifies
        # nobody anew.
        formatted = render(text, users=users, everyone=message.notifies_room)
        message.text, message.html = text, formatted.html
        message.mentions, message.edited = formatted.mentions, now
        message.search_text = document(text, attachment.name if attachment else "")
        changes.add(
            message,
            fields=("text", "html", "mentions", "edited", "search_text"),
            client_id=client_id,
            log=lambda: (
                "edit %s in %s by %s: %r",
                *(message_id, room.slug, user.username, text),
            ),
        )
        _requote(changes, message)
    return message, True


def _requote(changes: RoomChanges, message: Message) -> None:
    """Give ``message``'s replies a change of their own: their quote changed."""
    replies = post_queryset().filter(reply_to=message)
    if not replies.exists():
        return  # Most messages have none: a cheap query, not the payload's.
    for reply in replies.order_by("id"):
        reply.reply_to = message
        changes.add(reply)


def message_delete(
    *,
    room: Room,
    actor: Actor,
    message_id: int,
    client_id: str | None = None,
    from_admin: bool = False,
) -> tuple[Message, bool]:
    """
    Make ``message_id`` a tombstone; return it and whether it changed.

    Authors delete their own messages, staff anyone's. The text, revisions,
    reactions and attachment go in the transaction (the files after the
    commit); the message stays, deleted, so that replies keep their anchor.
    In the chat one deletes only in rooms one can read; staff in the admin
    (``from_admin``) anywhere.
    """
    user = check_author(actor)
    if not from_admin:
        access.check_readable(user, room)
    with room_changes(room) as changes:
        message = message_get(room=changes.room, message_id=message_id)
        if not access.can_delete(user, message):
            raise Forbidden(_("You can only delete your own messages."))
        if message.deleted:
            return message, False
        _tombstone(
            changes,
            message,
            client_id=client_id,
            log=lambda: (
                "delete %s in %s by %s",
                *(message_id, room.slug, user.username),
            ),
        )
    return message, True


def _tombstone(
    changes: RoomChanges,
    message: Message,
    *,
    log: LogLine | None,
    client_id: str | None = None,
) -> None:
    attachments = list(Attachment.objects.filter(message=message))
    Attachment.objects.filter(message=message).delete()
    Revision.objects.filter(message=message).delete()
    Reaction.objects.filter(message=message).delete()
    message.text = message.html = message.search_text = ""
    message.mentions = []
    message.deleted = True
    mark_bare(message)
    changes.add(
        message,
        fields=("text", "html", "mentions", "deleted", "search_text"),
        client_id=client_id,
        log=log,
    )
    _requote(changes, message)
    if attachments:
        transaction.on_commit(lambda: delete_files(attachments), robust=True)


def messages_disown(*, author: User) -> int:
    """
    Keep ``author``'s messages without them; return how many there are.

    For an account about to be deleted, in the deleting transaction: the
    messages lose their author and read as from DELETED_AUTHOR_NAME, their
    files go, and so do the author's reactions. Each changed message is a
    change of its room's stream, so open pages and caches follow.
    """
    with transaction.atomic():
        authored = Message.objects.filter(author=author)
        touched = set(authored.values_list("pk", flat=True)) | set(
            Reaction.objects.filter(user=author).values_list("message_id", flat=True)
        )
        attachments = list(Attachment.objects.filter(message__author=author))
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        # Their files' names are no longer found.
        unfiled = Message.objects.filter(pk__in=[a.message_id for a in attachments])
        for message in unfiled.only("text"):
            message.search_text = document(message.text)
            message.save(update_fields=["search_text"])
        Reaction.objects.filter(user=author).delete()
        # The client_ids go too: nobody can retry as an author who is gone.
        count = authored.update(
            author=None, author_name=DELETED_AUTHOR_NAME, client_id=None
        )
        # Replies quote their original's author: they change too.
        changed = message_queryset().filter(Q(pk__in=touched) | Q(reply_to__in=touched))
        by_room: dict[int, list[Message]] = {}
        for message in changed.order_by("id"):
            by_room.setdefault(message.room_id, []).append(message)
        for room in Room.objects.filter(pk__in=by_room).order_by("pk"):
            with room_changes(room) as changes:
                for message in by_room[room.pk]:
                    changes.add(message)
        transaction.on_commit(lambda: delete_files(attachments), robust=True)
    return count
