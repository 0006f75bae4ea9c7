"""Every change to an account goes through a function here."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import AccessToken, User, name_taken_error
from accounts.validators import clean_display_name, clean_name
from chat import events
from chat.services import messages_disown

logger = logging.getLogger(__name__)


def _save_names(user: User, **kwargs: Any) -> None:
    """
    Save ``user`` with changed names; a name someone took since it was
    validated (the database's NameClaim key refuses it) is a ValidationError.
    """
    try:
        user.save(**kwargs)
    except IntegrityError as error:
        raise name_taken_error() from error


@transaction.atomic
def user_create(
    *, username: str, password: str, display_name: str = "", email: str = ""
) -> User:
    """Create a user; the display name defaults to the username."""
    user = User(username=username)
    user.display_name = clean_display_name(display_name or username)
    user.email = _normalize_email(email)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    _save_names(user)
    logger.info("user signed up: %s", user.username)
    return user


def user_set_display_name(*, user: User, display_name: str) -> User:
    """Change the name shown on the user's messages, old ones included."""
    previous = user.display_name
    user.display_name = clean_display_name(display_name)
    try:
        user.validate_names(exclude={"username"})
    except ValidationError:
        # The caller's user object (often request.user) keeps its real name.
        user.display_name = previous
        raise
    _save_names(user, update_fields=["display_name"])
    logger.info("display name changed: %s -> %r", user.username, user.display_name)
    return user


def user_rename(
    *, user: User, username: str | None = None, display_name: str | None = None
) -> User:
    """Give ``user`` another username, display name or both (for operators)."""
    old_username = user.username
    if username is not None:
        user.username = username
    if display_name is not None:
        user.display_name = clean_display_name(display_name)
    # Only the names change: an old value elsewhere (an email address from
    # before a validator existed) must not block a rename.
    names = {"username", "display_name"}
    user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in names])
    _save_names(user, update_fields=["username", "display_name"])
    logger.info(
        "user renamed: %s -> %s (%r)", old_username, user.username, user.shown_name
    )
    return user


def _normalize_email(email: str) -> str:
    # The domain is case-insensitive; the local part is the mailbox's own.
    return User.objects.normalize_email(email.strip())


def user_set_email(*, user: User, email: str) -> User:
    """Set the address password resets go to; blank for none."""
    email = _normalize_email(email)
    User._meta.get_field("email").clean(email, user)
    user.email = email
    user.save(update_fields=["email"])
    logger.info("email %s: %s", "set" if email else "removed", user.username)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """
    Give ``user`` a new password; every login of theirs made before ends.

    The caller keeps its own login with ``update_session_auth_hash``.
    """
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    # Their sockets close now, not at the next tick of each hub.
    transaction.on_commit(events.logins_check, robust=True)
    logger.info("password changed: %s", user.username)
    return user


@transaction.atomic
def user_end_other_sessions(*, user: User, password: str) -> None:
    """
    End every login of ``user``; ``password`` is theirs, confirmed by the
    caller (accounts.forms.PasswordConfirmForm asks as a login does).

    The caller keeps its own login with ``update_session_auth_hash``.
    """
    # The same password under a new salt is a new hash, so a new session
    # auth hash: every session made with the old one fails Django's check.
    user.set_password(password)
    user.save(update_fields=["password"])
    transaction.on_commit(events.logins_check, robust=True)
    logger.info("other sessions ended: %s", user.username)


def user_delete(*, user: User) -> None:
    """
    Delete ``user``'s own account, once they confirmed their password.

    Their messages stay, as from a deleted user; their files go; rooms they
    created stay. Every login of theirs ends and its sockets close.
    """
    count = _delete(user)
    logger.info("account deleted: %s (%d message(s) kept)", user.username, count)


def user_delete_by_staff(*, user: User, staff: User | AnonymousUser) -> None:
    """Delete ``user``'s account as user_delete does, on ``staff``'s word."""
    count = _delete(user)
    logger.info(
        "account deleted by %s: %s (%d message(s) kept)",
        staff.username,
        user.username,
        count,
    )


@transaction.atomic
def _delete(user: User) -> int:
    # Lock the account first: no message of theirs can be stored between
    # disowning their messages and deleting them.
    locked = User.objects.select_for_update().get(pk=user.pk)
    count = messages_disown(author=locked)
    locked.delete()
    transaction.on_commit(events.logins_check, robust=True)
    return count


# Tokens one user may hold at once.
TOKENS_MAX = 50
TOKEN_NAME_MAX_LENGTH = 100


# Bots one person may own.
BOTS_MAX = 20


def _tokens_of(actor: User) -> QuerySet[AccessToken]:
    """The tokens ``actor`` manages: their own and their bots'."""
    return AccessToken.objects.filter(Q(user=actor) | Q(user__bot_owner=actor))


@transaction.atomic
def bot_create(*, owner: User, username: str, limited: bool = True) -> User:
    """
    Make a bot account owned by ``owner``; it acts only through tokens (or
    its webhook's secret). ``limited``: counts against BOTS_MAX (a
    webhook's bot counts against its room's webhooks instead).
    """
    if owner.is_bot:
        raise ValidationError(_("A bot cannot make bots."), code="bot_owner")
    User.objects.select_for_update().filter(pk=owner.pk).first()
    if limited and owner.bots.filter(webhook__isnull=True).count() >= BOTS_MAX:
        raise ValidationError(
            _("You have %(max)d bots; delete one first.") % {"max": BOTS_MAX},
            code="too_many",
        )
    bot = User(username=username, is_bot=True, bot_owner=owner)
    bot.display_name = clean_display_name(username)
    bot.set_unusable_password()
    bot.full_clean()
    _save_names(bot)
    logger.info("bot made: %s by %s", bot.username, owner.username)
    return bot


@transaction.atomic
def bot_delete(*, owner: User, bot_id: int) -> bool:
    """Delete one of ``owner``'s bots; its messages stay, as a deleted user's."""
    bot = User.objects.filter(pk=bot_id, bot_owner=owner, is_bot=True).first()
    if bot is None:
        return False
    _delete(bot)
    logger.info("bot deleted: %s by %s", bot.username, owner.username)
    return True


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    scopes: Collection[str],
    expires: datetime | None = None,
    actor: User | None = None,
) -> tuple[AccessToken, str]:
    """
    Make a personal access token for ``user`` (``actor``, if given, must be
    them or their bot's owner); return it stored, and the token itself,
    which is never shown again. ``write`` includes reading.
    """
    if actor is not None and actor.pk != user.pk and user.bot_owner_id != actor.pk:
        raise ValidationError(
            _("You can make tokens for yourself and your bots only."),
            code="not_yours",
        )
    name = clean_name(str(name), max_length=TOKEN_NAME_MAX_LENGTH)
    allowed = set(AccessToken.Scope.values)
    if not scopes or not set(scopes) <= allowed:
        raise ValidationError(_("Scopes are read and write."), code="invalid_scopes")
    if expires is not None and expires <= timezone.now():
        raise ValidationError(_("The expiry is in the past."), code="expired")
    # Locks the user's row: two requests cannot both pass the count.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if AccessToken.objects.filter(user=user).count() >= TOKENS_MAX:
        raise ValidationError(
            _("You have %(max)d tokens; revoke one first.") % {"max": TOKENS_MAX},
            code="too_many",
        )
    value = tokens.generate()
    token = AccessToken.objects.create(
        user=user,
        name=name,
        scopes=[s for s in AccessToken.Scope.values if s in scopes or s == "read"],
        key_hash=tokens.digest(value),
        hint=value[: tokens.HINT_LENGTH],
        expires=expires,
    )
    logger.info("token made: %s %r (%s)", user.username, name, token.hint)
    return token, value


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> bool:
    """
    Revoke one of the tokens ``user`` manages (their own, their bots');
    its sockets close within a moment. Return whether there was one.
    """
    deleted, _rows = _tokens_of(user).filter(pk=token_id).delete()
    if deleted:
        transaction.on_commit(events.logins_check, robust=True)
        logger.info("token revoked: %s #%d", user.username, token_id)
    return bool(deleted)


def tokens_managed(user: User) -> QuerySet[AccessToken]:
    """The tokens ``user`` sees on their profile: their own and their bots'."""
    return _tokens_of(user).select_related("user").order_by("-created")
