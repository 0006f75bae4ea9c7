"""Incoming webhooks: making, revoking, and posting through one."""

from __future__ import annotations

import logging
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import User
from accounts.validators import clean_name
from chat import access
from chat.exceptions import BadRequest, Forbidden, NotFound
from chat.models import MemberAction, Message, Room, Webhook
from chat.services.common import Actor, check_author
from chat.services.members import membership_add
from chat.services.messages import message_create
from chat.services.rooms import transliterate

logger = logging.getLogger("chat.services")

# Webhooks one room may have.
WEBHOOKS_MAX = 20
WEBHOOK_NAME_MAX_LENGTH = 80


def webhooks_check_manager(*, actor: Actor, room: Room) -> User:
    """Return ``actor`` if they manage ``room``'s webhooks; else raise Forbidden."""
    user = check_author(actor)
    if not access.can_manage(user, room):
        raise Forbidden(_("Only the room's creator and staff manage its webhooks."))
    return user


def _bot_for(owner: User, name: str) -> User:
    """Make the webhook's bot, named after the webhook (``ci-hook``, ``ci-hook-2``)."""
    # Here, not at the top: accounts.services imports chat.services.
    from accounts.services import bot_create

    base = slugify(transliterate(name))[:30].strip("-") or "webhook"
    for attempt in range(1, 21):
        username = f"{base}-hook" if attempt == 1 else f"{base}-hook-{attempt}"
        if User.objects.filter(username=username).exists():
            continue
        try:
            with transaction.atomic():
                return bot_create(owner=owner, username=username, limited=False)
        except ValidationError:
            continue  # Taken meanwhile, or alike another's name: the next one.
    return bot_create(owner=owner, username=f"{base}-hook-{uuid.uuid4().hex[:8]}")


def webhook_create(*, room: Room, actor: Actor, name: str) -> tuple[Webhook, str]:
    """
    Make an incoming webhook for ``room``; return it and its secret, which
    is shown this once. Its bot joins a private room (a member line says so).
    """
    user = webhooks_check_manager(actor=actor, room=room)
    try:
        name = clean_name(str(name), max_length=WEBHOOK_NAME_MAX_LENGTH)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from None
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).first()
        if Webhook.objects.filter(room=room).count() >= WEBHOOKS_MAX:
            raise BadRequest(
                _("A room has at most %(max)d webhooks.") % {"max": WEBHOOKS_MAX}
            )
        bot = _bot_for(user, name)
        secret = tokens.generate(tokens.WEBHOOK_PREFIX)
        webhook = Webhook.objects.create(
            room=room,
            bot=bot,
            name=name,
            secret_hash=tokens.digest(secret),
            created_by=user,
        )
        if room.kind != Room.Kind.PUBLIC:
            membership_add(room, user, bot, MemberAction.ADD)
    logger.info("webhook made: %r in %s by %s", name, room.slug, user.username)
    return webhook, secret


def webhook_delete(*, room: Room, actor: Actor, webhook_id: int) -> None:
    """Revoke a webhook: its URL stops working; its bot's messages stay."""
    user = webhooks_check_manager(actor=actor, room=room)
    with transaction.atomic():
        webhook = Webhook.objects.filter(room=room, pk=webhook_id).first()
        if webhook is None:
            raise NotFound(_("There is no such webhook."))
        bot = webhook.bot
        webhook.delete()
        # Kept, inactive, so that its messages keep their author's name.
        bot.is_active = False
        bot.save(update_fields=["is_active"])
    logger.info(
        "webhook revoked: %r in %s by %s", webhook.name, room.slug, user.username
    )


def webhook_post(
    *, key: str, secret: str, text: object, client_id: str | None
) -> tuple[Message, bool]:
    """
    Post ``text`` through the webhook ``key`` as its bot; return (message,
    created). A wrong key or secret is NotFound alike, so that neither can
    be told apart from outside.
    """
    try:
        webhook_key = uuid.UUID(key)
    except ValueError:
        raise _no_webhook() from None
    webhook = (
        Webhook.objects.select_related("bot", "room").filter(key=webhook_key).first()
    )
    if webhook is None or not secrets.compare_digest(
        webhook.secret_hash, tokens.digest(secret)
    ):
        raise _no_webhook()
    if not isinstance(text, str):
        raise BadRequest(_('Send {"text": "..."}.'))
    message, created = message_create(
        room=webhook.room, author=webhook.bot, text=text, client_id=client_id
    )
    now = timezone.now()
    if webhook.last_used is None or now - webhook.last_used >= tokens.LAST_USED_STEP:
        Webhook.objects.filter(pk=webhook.pk).update(last_used=now)
    return message, created


def _no_webhook() -> NotFound:
    return NotFound(_("There is no such webhook."))
