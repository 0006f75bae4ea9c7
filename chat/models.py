from __future__ import annotations

import uuid
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

ROOM_NAME_MAX_LENGTH = 80
ROOM_SLUG_MAX_LENGTH = 50
CLIENT_ID_MAX_LENGTH = 64
# Stored as the author's name of messages whose author deleted their account;
# pages show it translated (the Message's username is then null).
DELETED_AUTHOR_NAME = "deleted user"


class Room(models.Model):
    """
    A place to talk. Anyone reads a public room and signed-up users write in
    it; a private room or a direct conversation is for its members only
    (chat/access.py).
    """

    class Kind(models.TextChoices):
        PUBLIC = "public", _("public")
        PRIVATE = "private", _("private")
        DIRECT = "direct", _("direct")

    name = models.CharField(_("name"), max_length=ROOM_NAME_MAX_LENGTH)
    # ASCII only: the slug is the room's address in URLs.
    slug = models.SlugField(_("slug"), max_length=ROOM_SLUG_MAX_LENGTH, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=Kind.choices, default=Kind.PUBLIC
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # The newest message's id; it only grows (see Message).
    last_message_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # The room's change sequence: every stored change of one of its messages
    # (posted, edited, deleted, reacted to) takes the next number, under the
    # room's row lock, so numbers grow in commit order (see services.stream).
    last_seq = models.BigIntegerField(default=0, editable=False)
    # Whether any member of a private room may add people (its creator and
    # staff always may).
    members_can_add = models.BooleanField(_("members can add people"), default=False)
    # A direct conversation's people, as their sorted ids: the same people
    # always get the same conversation.
    direct_key = models.CharField(
        max_length=200, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:room_detail", kwargs={"slug": self.slug})


class MemberAction(models.TextChoices):
    """What a room's member line says happened."""

    JOIN = "join", _("joined")
    LEAVE = "leave", _("left")
    ADD = "add", _("added")
    REMOVE = "remove", _("removed")


class Parts(NamedTuple):
    """What a message carries besides its text, as a service knows it."""

    attachment: Attachment | None
    reactions: list[Reaction]


class Message(models.Model):
    """
    A stamped, stored message.

    Ids grow within a room in commit order (posting locks the room row), so a
    reader that saw id N has seen every earlier message of the room. ``seq``
    is the room's change number of the message's last change: a reader that
    saw seq N has the current state of every message whose seq is up to N.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # NULL once the author deleted their account: the conversation keeps
    # their words, under DELETED_AUTHOR_NAME (see services.messages_disown).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    # The author's display name when the message was posted: a message reads
    # the same wherever and whenever it is served.
    author_name = models.CharField(_("author's name"), max_length=50, blank=True)
    text = models.TextField(_("text"), blank=True)
    # The text rendered (chat.formatting), once when it is stored: every
    # reader gets the same sanitized HTML, and none pays for rendering it.
    html = models.TextField(_("HTML"), blank=True, editable=False)
    # The usernames the text mentions (outside code), as when it was stored.
    mentions = models.JSONField(_("mentions"), default=list, blank=True, editable=False)
    # Whether it mentions everyone in the room ("@room").
    notifies_room = models.BooleanField(
        _("mentions the room"), default=False, editable=False
    )
    # What search looks in: the text (and file name) as chat.search.text
    # normalises it, set with the text, empty once deleted. Indexed by each
    # engine's own trigram index (migration 0013).
    search_text = models.TextField(
        _("search text"), blank=True, default="", editable=False
    )
    created = models.DateTimeField(_("created"), db_index=True)
    seq = models.BigIntegerField(_("change number"), default=0, editable=False)
    edited = models.DateTimeField(_("edited"), null=True, blank=True, editable=False)
    # A deleted message stays as a tombstone, so that replies keep their
    # anchor; its text, revisions, reactions and attachment are gone.
    deleted = models.BooleanField(_("deleted"), default=False, editable=False)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    # A member line (someone joined, left, was added or removed) has an
    # action and its ``member``; its author is who did it. It has no text,
    # and nobody edits, deletes, reacts to or replies to it.
    member_action = models.CharField(
        _("member change"), max_length=10, blank=True, choices=MemberAction.choices
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member"),
    )
    # The sender's idempotency key: a retry with the same key is stored once.
    # NULL, not "", for "no key": NULLs never collide in the unique constraint.
    client_id = models.CharField(  # noqa: DJ001
        max_length=CLIENT_ID_MAX_LENGTH, null=True, blank=True
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["room", "id"], name="chat_message_room_id"),
            models.Index(fields=["room", "seq"], name="chat_message_room_seq"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"], name="chat_message_unique_client_id"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}: {self.text[:40]}"

    # Set by a service that knows what the message carries (a new message:
    # nothing), so that its payload asks the database for neither.
    parts: Parts | None = None

    def attachment_or_none(self) -> Attachment | None:
        """Return the file the message carries, if any (no query once loaded)."""
        if self.parts is not None:
            return self.parts.attachment
        try:
            return self.attachment
        except Attachment.DoesNotExist:
            return None

    def reaction_list(self) -> list[Reaction]:
        """Return the message's reactions, oldest first (no query once loaded)."""
        if self.parts is not None:
            return self.parts.reactions
        return list(self.reactions.all())


class Revision(models.Model):
    """An earlier text of an edited message, as it read until ``replaced``."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="revisions"
    )
    text = models.TextField(_("text"), blank=True)
    # When this text was written: the message's creation or an earlier edit.
    written = models.DateTimeField(_("written"))
    replaced = models.DateTimeField(_("replaced"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")

    def __str__(self) -> str:
        return f"#{self.message_id} until {self.replaced:%Y-%m-%d %H:%M}"


EMOJI_MAX_LENGTH = 32


class Reaction(models.Model):
    """One user's emoji on a message; one of each emoji per user."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(_("emoji"), max_length=EMOJI_MAX_LENGTH)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="chat_reaction_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on #{self.message_id}"


class Membership(models.Model):
    """
    A user's place in a room: who reads a private room or a direct one, and
    which rooms are in one's sidebar.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    created = models.DateTimeField(_("joined"), auto_now_add=True)
    # A direct conversation one left: out of the sidebar until a new message.
    hidden = models.BooleanField(_("hidden"), default=False)
    # The read cursor: the id of the last message read. Ids grow in commit
    # order within a room and an edit keeps its id, so "unread" is every
    # message above it (not one's own, not deleted, not a member line).
    last_read_id = models.BigIntegerField(_("last read"), default=0)
    # No notifications from this room; its counts show muted.
    muted = models.BooleanField(_("muted"), default=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user"], name="chat_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Block(models.Model):
    """``user`` blocked ``blocked``: no direct conversation, messages folded."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(_("blocked"), auto_now_add=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "blocked"], name="chat_block_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} blocks {self.blocked_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Store under a random name; the original name lives in the database."""
    return f"attachments/{instance.key.hex[:2]}/{instance.key.hex}"


def thumbnail_path(instance: Attachment, filename: str) -> str:
    return f"thumbnails/{instance.key.hex[:2]}/{instance.key.hex}.webp"


class Attachment(models.Model):
    """A file shared in a message; its bytes are for logged-in users only."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="attachment"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    thumbnail = models.ImageField(
        upload_to=thumbnail_path, max_length=200, null=True, blank=True
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:attachment_download", kwargs={"key": self.key})

    def get_thumbnail_url(self) -> str | None:
        if not self.thumbnail:
            return None
        return reverse("chat:attachment_thumbnail", kwargs={"key": self.key})


class Webhook(models.Model):
    """
    An incoming webhook: a program posts to one room, as the webhook's bot,
    with ``POST /hooks/<key>`` and the secret in a header. Only the
    secret's SHA-256 is stored.
    """

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="webhooks")
    bot = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook",
        verbose_name=_("bot"),
    )
    name = models.CharField(_("name"), max_length=80)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming webhook")
        verbose_name_plural = _("incoming webhooks")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} → {self.room.slug}"

    def get_absolute_url(self) -> str:
        return reverse("chat:webhook_post", kwargs={"key": self.key})
