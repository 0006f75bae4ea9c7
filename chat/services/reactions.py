"""Reacting to messages with emoji."""

from __future__ import annotations

import emoji as emoji_data
from django.utils.translation import gettext as _

from chat import access
from chat.exceptions import BadRequest
from chat.models import EMOJI_MAX_LENGTH, Message, Parts, Reaction, Room
from chat.selectors import message_get
from chat.services.common import Actor, check_author, check_rate
from chat.services.stream import room_changes


def clean_emoji(value: object) -> str:
    """Return ``value`` if it is one emoji, or raise BadRequest."""
    # The emoji package knows every emoji of current Unicode, with skin
    # tones, flags and joined sequences; a second one or any text fails.
    if (
        not isinstance(value, str)
        or len(value) > EMOJI_MAX_LENGTH
        or not emoji_data.is_emoji(value)
    ):
        raise BadRequest(_("A reaction is one emoji."))
    return value


def reaction_set(
    *,
    room: Room,
    user: Actor,
    message_id: int,
    emoji: str,
    on: bool,
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """
    Put ``user``'s ``emoji`` on message ``message_id`` (``on``) or take it
    off; return the message and whether it changed.

    Idempotent: putting on a reaction that is there, or taking off one that
    is not, stores and broadcasts nothing.
    """
    reactor = check_author(user)
    access.check_readable(reactor, room)
    emoji = clean_emoji(emoji)
    with room_changes(room) as changes:
        # Read under the room lock: reactions to the room's messages are
        # made one at a time, so what is read here is what is stored.
        message = message_get(room=changes.room, message_id=message_id)
        if message.deleted:
            raise BadRequest(_("That message was deleted."))
        if _has(message, reactor.pk, emoji) == on:
            return message, False
        check_rate(reactor)
        # Read under the lock, so the payload's reactions are those read
        # with this one put on or taken off: no need to read them again.
        reactions = message.reaction_list()
        if on:
            reaction = Reaction.objects.create(
                message=message, user=reactor, emoji=emoji
            )
            reactions = [*reactions, reaction]
        else:
            Reaction.objects.filter(message=message, user=reactor, emoji=emoji).delete()
            reactions = [
                r
                for r in reactions
                if not (r.user_id == reactor.pk and r.emoji == emoji)
            ]
        message.parts = Parts(message.attachment_or_none(), reactions)
        changes.add(message, client_id=client_id)
    return message, True


def _has(message: Message, user_id: int, emoji: str) -> bool:
    return any(
        reaction.user_id == user_id and reaction.emoji == emoji
        for reaction in message.reaction_list()
    )
