"""
Who is in a room: joining, adding, leaving, removing, direct conversations
and blocks.

A change of a room's members is a member line on the room's change stream
(``stream.room_changes``): readers see it in order with the messages, a
``since`` catch-up replays it, and the hubs take a room from a removed
member's sockets at that point of the stream.
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.validators import fold
from chat import access, events
from chat.exceptions import BadRequest, Forbidden, NotFound
from chat.models import (
    ROOM_NAME_MAX_LENGTH,
    Block,
    MemberAction,
    Membership,
    Message,
    Room,
)
from chat.services.common import Actor, check_author, mark_bare
from chat.services.stream import room_changes

logger = logging.getLogger("chat.services")

DIRECT_MAX_PEOPLE = 8


def user_named(username: object) -> User:
    """Return the active user ``username`` or raise NotFound."""
    if not isinstance(username, str) or not username.strip():
        raise BadRequest(_('Send {"username": "..."}.'))
    user = User.objects.filter(username_key=fold(username), is_active=True).first()
    if user is None:
        raise NotFound(_("There is no user %(name)r.") % {"name": username[:60]})
    return user


def _member_line(room: Room, actor: User, action: str, member: User) -> None:
    """Store the membership change already made as the room's next change."""
    with room_changes(room) as changes:
        line = Message(
            room=changes.room,
            author=actor,
            author_name=actor.shown_name,
            member_action=action,
            member=member,
            created=timezone.now(),
        )
        mark_bare(line)
        changes.add(
            line,
            log=lambda: (
                "%s %s in %s by %s",
                *(action, member.username, room.slug, actor.username),
            ),
        )


def _rooms_changed(*users: User) -> None:
    """After the commit, tell ``users``' sockets that their room list changed."""
    ids = [user.pk for user in users]
    transaction.on_commit(lambda: events.rooms_changed(ids), robust=True)


def membership_add(room: Room, actor: User, member: User, action: str) -> bool:
    """Make ``member`` a member of ``room``; return whether they were not."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                # What came before they joined is history, not news.
                newest = Room.objects.filter(pk=room.pk).values("last_message_id")
                Membership.objects.create(
                    room=room,
                    user=member,
                    last_read_id=Coalesce(Subquery(newest), 0),
                )
        except IntegrityError:
            return False  # A member already.
        _member_line(room, actor, action, member)
        _rooms_changed(member)
    return True


def room_join(*, room: Room, user: Actor) -> bool:
    """
    Join the public room ``room`` (it goes to one's sidebar); return whether
    one was not a member. Private rooms are joined by being added.
    """
    user = check_author(user)
    access.check_readable(user, room)
    if room.kind != Room.Kind.PUBLIC:
        return False  # Readable, so a member already.
    return membership_add(room, user, user, MemberAction.JOIN)


def member_add(*, room: Room, actor: Actor, username: object) -> tuple[User, bool]:
    """
    Add ``username`` to ``room``; return them and whether they were not a
    member. Staff adding themselves join, as anyone does.
    """
    actor = check_author(actor)
    if room.kind == Room.Kind.DIRECT:
        raise BadRequest(
            _("The people of a direct conversation stay the same; open a new one.")
        )
    if not access.can_add(actor, room):
        raise Forbidden(_("Only the room's creator and staff add people here."))
    member = user_named(username)
    action = MemberAction.JOIN if member.pk == actor.pk else MemberAction.ADD
    return member, membership_add(room, actor, member, action)


def member_remove(*, room: Room, actor: Actor, username: object) -> None:
    """
    Take ``username`` out of ``room``: oneself (leaving), or someone else
    (the creator and staff). Leaving a direct conversation hides it until
    a new message comes.
    """
    actor = check_author(actor)
    member = user_named(username)
    if not access.can_remove(actor, room, member):
        raise Forbidden(_("Only the room's creator and staff remove people."))
    with transaction.atomic():
        if room.kind == Room.Kind.DIRECT:
            hidden = Membership.objects.filter(room=room, user=member).update(
                hidden=True
            )
            if not hidden:
                raise _not_a_member(member)
            _rooms_changed(member)
            return
        deleted, _kinds = Membership.objects.filter(room=room, user=member).delete()
        if not deleted:
            raise _not_a_member(member)
        action = MemberAction.LEAVE if member.pk == actor.pk else MemberAction.REMOVE
        _member_line(room, actor, action, member)
        _rooms_changed(member)


def _not_a_member(user: User) -> NotFound:
    return NotFound(
        _("%(name)s is not a member of this room.") % {"name": user.username}
    )


def direct_open(*, actor: Actor, usernames: object) -> tuple[Room, bool]:
    """
    Return the direct conversation of ``actor`` and ``usernames`` (2 to 8
    people in all), opening it if there is none; and whether it is new.
    """
    actor = check_author(actor)
    if not isinstance(usernames, list) or not all(
        isinstance(name, str) for name in usernames
    ):
        raise BadRequest(_('Send {"usernames": ["...", ...]}.'))
    if len(usernames) > DIRECT_MAX_PEOPLE:
        raise BadRequest(_("A direct conversation has at most 8 people."))
    people = {actor.pk: actor}
    for name in usernames:
        user = user_named(name)
        people[user.pk] = user
    if len(people) < 2:
        raise BadRequest(_("Name someone to talk to."))
    if len(people) > DIRECT_MAX_PEOPLE:
        raise BadRequest(_("A direct conversation has at most 8 people."))
    blocking = Block.objects.filter(user__in=list(people), blocked=actor).first()
    if blocking is not None:
        raise Forbidden(
            _("%(name)s does not take direct messages from you.")
            % {"name": people[blocking.user_id].username}
        )
    key = "-".join(str(pk) for pk in sorted(people))
    existing = Room.objects.filter(direct_key=key).first()
    if existing is not None:
        Membership.objects.filter(room=existing, user=actor).update(hidden=False)
        return existing, False
    names = ", ".join(sorted(user.shown_name for user in people.values()))
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=names[:ROOM_NAME_MAX_LENGTH],
                slug=f"dm-{uuid.uuid4().hex[:12]}",
                kind=Room.Kind.DIRECT,
                direct_key=key,
                created_by=actor,
            )
            Membership.objects.bulk_create(
                [Membership(room=room, user=user) for user in people.values()]
            )
            _rooms_changed(*people.values())
    except IntegrityError:
        # The same people opened it at the same moment.
        return Room.objects.get(direct_key=key), False
    logger.info("direct room %s opened by %s", room.slug, actor.username)
    return room, True


def block_set(*, user: Actor, username: object, on: bool) -> tuple[User, bool]:
    """Block (``on``) or unblock ``username``; return them and whether it changed."""
    user = check_author(user)
    other = user_named(username)
    if other.pk == user.pk:
        raise BadRequest(_("You cannot block yourself."))
    if not on:
        deleted, _kinds = Block.objects.filter(user=user, blocked=other).delete()
        return other, bool(deleted)
    _block, created = Block.objects.get_or_create(user=user, blocked=other)
    return other, created
