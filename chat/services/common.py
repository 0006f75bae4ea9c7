"""What every service checks the same way: the actor, the text, the rate."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from accounts.models import User
from chat import ratelimit
from chat.exceptions import AuthRequired, BadRequest, TooLarge
from chat.formatting import mentioned_names
from chat.models import Attachment, Message, Parts

logger = logging.getLogger("chat.services")

# Who is acting, as views and consumers know it: a guest is an AnonymousUser.
Actor = User | AnonymousUser | None

# Newlines and tabs are kept; other control characters (C0, DEL, C1) have
# no place in a message, PostgreSQL cannot store NUL, and a lone surrogate
# is not text at all.
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str, *, allow_blank: bool) -> str:
    """Return ``text`` as stored, or raise the ChatError that refuses it."""
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


def check_author(author: Actor) -> User:
    """Return ``author`` as a user who may write, or raise AuthRequired."""
    if not isinstance(author, User) or not author.is_active:
        raise AuthRequired(_("Log in to write."))
    return author


def check_rate(author: User) -> None:
    """Count one change by ``author``: posts, edits and reactions share a budget."""
    ratelimit.enforce(
        "messages",
        str(author.pk),
        settings.RATE_LIMIT_MESSAGES,
        _("Too many messages. Try again in %(seconds)d s."),
    )


def users_named(texts: list[str]) -> dict[str, str]:
    """Return the users ``texts`` may mention: folded name -> username."""
    names = set().union(*(mentioned_names(text) for text in texts))
    if not names:
        return {}
    return dict(
        User.objects.filter(username_key__in=names).values_list(
            "username_key", "username"
        )
    )


def mark_bare(message: Message) -> None:
    """
    Say that ``message`` has no attachment or reactions (it is new, or they
    are gone), so that its payload does not query for them.
    """
    message.parts = Parts(attachment=None, reactions=[])


def delete_files(attachments: list[Attachment]) -> None:
    """Remove the stored files of ``attachments`` (their rows are gone)."""
    for attachment in attachments:
        for field in (attachment.file, attachment.thumbnail):
            if not field:
                continue
            try:
                field.delete(save=False)
            except OSError:
                # The row is gone, so the file is unreachable; say so and go on.
                logger.exception("could not delete %s", field.name)
