"""
A socket's following of its rooms: what it has seen, and its catch-up.

``Following`` holds the rooms one socket follows and answers ``subscribe``
and ``unsubscribe``. A Subscription is the hub's Listener for one (socket,
room). It remembers
the room's change the client has reached (``seen``), skips changes at or
below it, and holds the room's live changes while the catch-up is read, so
that the client gets the catch-up first and every change once, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _

from chat import access, protocol, selectors
from chat.exceptions import BadRequest, ChatError, NotFound
from chat.hub import Joined, Outgoing, get_hub
from chat.models import Room
from chat.payloads import Encoded, encoded_messages
from chat.presence import Person
from chat.transport import Output, wire_frame

logger = logging.getLogger("chat.consumers")

# A catch-up longer than this comes as further frames after the history
# frame, so that no frame grows without bound.
HISTORY_FRAME_MAX = 100


class Socket(Protocol):
    """What a subscription needs of its socket."""

    output: Output

    def login_key(self) -> str | None: ...

    def end_session(self) -> None: ...

    def who(self) -> str: ...

    def viewer(self) -> access.Viewer: ...

    def person(self) -> Person | None: ...

    def wants_presence(self) -> bool: ...

    def removed(self, slug: str) -> None:
        """Its user can no longer read room ``slug``; the hub let go of it."""


class Following:
    """
    The rooms one socket follows. A socket on ``/ws/rooms/<slug>/`` follows
    that room (``fixed``) and no other; one on ``/ws/`` those it subscribes to.
    """

    def __init__(
        self, socket: Socket, too_slow: Callable[[], None], fixed: str | None
    ) -> None:
        self.socket = socket
        self.too_slow = too_slow
        self.fixed = fixed
        self.rooms: dict[str, Subscription] = {}

    async def find(self, slug: str) -> Room:
        """
        Return the room ``slug`` if the socket's user may read it; raise the
        NotFound of a missing room otherwise (no query for a public room
        that sockets here follow).
        """
        room = get_hub().room(slug)
        if room is not None and room.kind == Room.Kind.PUBLIC:
            return room
        readable: Room = await database_sync_to_async(access.readable_room)(
            self.socket.viewer(), slug
        )
        return readable

    def room_of(self, slug: str | None) -> Room:
        """Return the followed room a command names (or the fixed one)."""
        slug = slug or self.fixed
        if slug is None:
            raise BadRequest(_('Name the "room" of the command.'))
        if self.fixed is not None and slug != self.fixed:
            raise BadRequest(_("This socket follows one room; use /ws/ for more."))
        subscription = self.rooms.get(slug)
        if subscription is None:
            raise BadRequest(_("Subscribe to the room first."))
        return subscription.room

    async def follow(
        self,
        room: Room,
        *,
        since: int | None,
        after: int | None = None,
        presence: bool | None = None,
    ) -> None:
        """
        Follow ``room``: its history (from ``since`` or ``after``), then
        live, and who is in it if ``presence`` (None: as the socket asked).
        Raise the NotFound of a missing room if the socket's user may not
        read it any more.
        """
        if presence is None:
            presence = self.socket.wants_presence()
        subscription = Subscription(self.socket, room, self.too_slow, presence)
        self.rooms[room.slug] = subscription
        joined = await get_hub().join(room, subscription)
        if self.rooms.get(room.slug) is not subscription:
            # Left (the socket closed) while the room was being joined.
            await get_hub().leave(room.slug, subscription)
            return
        if room.kind != Room.Kind.PUBLIC:
            # Asked again now that the hub tells this socket of every member
            # change: a removal that came before is seen here, any later one
            # reaches the subscription.
            try:
                await database_sync_to_async(access.check_readable)(
                    self.socket.viewer(), room
                )
            except NotFound:
                await self.unfollow(room.slug, "not a member")
                raise
        self._log("join %s by %s", room.slug, self.socket.who())
        await subscription.start(joined, since=since, after=after)

    async def unfollow(self, slug: str, why: object = "unsubscribed") -> None:
        subscription = self.rooms.pop(slug, None)
        if subscription is not None:
            await get_hub().leave(slug, subscription)
            self._log("leave %s by %s (%s)", slug, self.socket.who(), why)

    async def removed(self, slug: str) -> None:
        """Stop following ``slug``, which the hub took from this socket."""
        await self.unfollow(slug, "removed")

    def _log(self, line: str, *args: object) -> None:
        """
        Log a join or leave: a logged-in user's at INFO, a guest's at DEBUG.
        A public room's anonymous readers are page views (the proxy's access
        log has them); a line each came and went cost a sixth of the time
        5,000 guests took to connect.
        """
        guest = self.socket.person() is None
        logger.log(logging.DEBUG if guest else logging.INFO, line, *args)

    async def leave_all(self, why: object) -> None:
        for slug in list(self.rooms):
            await self.unfollow(slug, why)

    async def answer(self, command: protocol.Subscribe | protocol.Unsubscribe) -> None:
        """Carry out a ``subscribe`` or ``unsubscribe`` frame, answering it."""
        output = self.socket.output
        try:
            if self.fixed is not None:
                raise BadRequest(_("This socket follows one room; use /ws/ for more."))
            if isinstance(command, protocol.Unsubscribe):
                await self.unfollow(command.room)
                await output.send(protocol.unsubscribed_frame(command.room))
                return
            if (
                command.room not in self.rooms
                and len(self.rooms) >= settings.SOCKET_MAX_ROOMS
            ):
                raise BadRequest(
                    _("A socket follows at most %(count)d rooms.")
                    % {"count": settings.SOCKET_MAX_ROOMS}
                )
            room = await self.find(command.room)
        except ChatError as error:
            error.room = command.room
            await output.send(protocol.error_frame(error))
            return
        # Subscribing again starts over from the given point.
        await self.unfollow(command.room, "subscribed again")
        try:
            await self.follow(room, since=command.since, presence=command.presence)
        except NotFound as error:
            error.room = command.room
            await output.send(protocol.error_frame(error))


class Subscription:
    """One socket following one room; the hub's Listener."""

    __slots__ = ("held", "presence", "room", "seen", "socket", "too_slow")

    def __init__(
        self,
        socket: Socket,
        room: Room,
        too_slow: Callable[[], None],
        presence: bool = False,
    ) -> None:
        self.socket = socket
        self.room = room
        self.too_slow = too_slow
        # Whether the client hears who is in the room.
        self.presence = presence
        # Changes at or below this seq are known to the client.
        self.seen = 0
        # Live changes that came while the catch-up was being read.
        self.held: list[tuple[int | None, str, bytes]] | None = []

    # What the hub calls ------------------------------------------------

    def deliver(self, seq: int | None, frame: str, wire: bytes) -> None:
        if seq is not None and seq <= self.seen:
            return
        if self.held is not None:
            if len(self.held) >= settings.SOCKET_QUEUE_LIMIT:
                self.too_slow()
                return
            self.held.append((seq, frame, wire))
            return
        self.socket.output.deliver(frame, wire)

    def deliver_many(self, frames: list[Outgoing], wire: bytes) -> None:
        first = next((seq for seq, _frame, _wire in frames if seq is not None), None)
        if self.held is None and (first is None or first > self.seen):
            self.socket.output.deliver_many([frame for _, frame, _ in frames], wire)
            return
        for seq, frame, one in frames:
            self.deliver(seq, frame, one)

    def login_key(self) -> str | None:
        return self.socket.login_key()

    def end_session(self) -> None:
        self.socket.end_session()

    def user_id(self) -> int | None:
        viewer = self.socket.viewer()
        return viewer.pk if viewer is not None else None  # A guest's pk is None.

    def person(self) -> Person | None:
        return self.socket.person()

    def wants_presence(self) -> bool:
        return self.presence

    def removed(self) -> None:
        # After every frame of the room up to the change that removed them.
        frame = protocol.removed_frame(self.room.slug)
        self.deliver(None, frame, wire_frame(frame))
        self.socket.removed(self.room.slug)

    # Starting ----------------------------------------------------------

    async def start(
        self, joined: Joined, *, since: int | None, after: int | None
    ) -> None:
        """
        Send the history (the latest page; the changes after ``since``; or
        the messages after id ``after``), then the changes held meanwhile.
        """
        self.seen = max(joined.seq, since or 0)
        output = self.socket.output
        if since is not None:
            await self._catch_up(_changes, since, joined.seq)
        elif after is not None:
            await self._catch_up(_newer, after, joined.last_id, seq=joined.seq)
        else:
            # The latest page, kept by the hub: no query per socket.
            await output.send(joined.history)
        held, self.held = self.held or [], None
        for seq, frame, wire in held:
            if seq is None or seq > self.seen:
                output.deliver(frame, wire)
        # Who is in the room, as its other sockets were last told: the
        # presence_diff frames that follow build on it.
        if self.presence:
            presence = get_hub().presence_snapshot(self.room.slug)
            if presence is not None:
                output.deliver(*presence)

    async def _catch_up(
        self,
        read: Callable[[Room, int, int], tuple[list[Encoded], int | None]],
        start: int,
        end: int,
        seq: int | None = None,
    ) -> None:
        output = self.socket.output
        slug = self.room.slug
        page, more = await database_sync_to_async(read)(self.room, start, end)
        # The history frame's seq is how far it brings the client: the end,
        # or (when more follows) the last change it holds.
        reached = seq if seq is not None else (page[-1].seq if more else end)
        await output.send(
            protocol.history_frame((m.message for m in page), room=slug, seq=reached)
        )
        kind = protocol.UPDATE if seq is None else protocol.MESSAGE
        while more is not None:
            page, more = await database_sync_to_async(read)(self.room, more, end)
            for change in page:
                await output.send(
                    protocol.change_frame(
                        kind,
                        change.message,
                        room=slug,
                        seq=change.seq,
                        # A stored post keeps its key; a stored edit not.
                        client_id=change.client_id if seq is not None else None,
                        member=change.member,
                    )
                )


def _changes(room: Room, since: int, up_to: int) -> tuple[list[Encoded], int | None]:
    """Return the next changes after ``since`` (up to ``up_to``), and the
    seq to go on from if more may follow."""
    changes = selectors.message_changes(
        room=room, since=since, up_to=up_to, limit=HISTORY_FRAME_MAX
    )
    page = encoded_messages(changes, room_slug=room.slug)
    more = len(page) == HISTORY_FRAME_MAX and page[-1].seq < up_to
    return page, page[-1].seq if more else None


def _newer(room: Room, after: int, up_to: int) -> tuple[list[Encoded], int | None]:
    """Return the next messages after id ``after`` (up to id ``up_to``), and
    the id to go on from if more may follow."""
    messages = selectors.message_list(
        room=room, after=after, up_to=up_to, limit=HISTORY_FRAME_MAX
    )
    page = encoded_messages(messages, room_slug=room.slug)
    more = len(page) == HISTORY_FRAME_MAX and page[-1].id < up_to
    return page, page[-1].id if more else None
