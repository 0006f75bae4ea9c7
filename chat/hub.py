"""
Per-process fan-out of a room's changes to the sockets connected here.

Each process holds one hub. The hub, not each socket, reads the channel
layer: every hub of every process joins one group, and each process's
changes reach the others in one layer message per send, whatever the rooms;
a local loop hands the already encoded frame to every socket here of the
room it concerns. The hub
delivers each room's changes in ``seq`` order, exactly once (see
chat/sequencing.py), and fetches a missing link from the database. A change
of a message the hub has not handed out before is a ``message`` frame, any
other an ``update``; a member line is a ``member`` frame, and one that
takes a private room from someone takes that room's sockets of theirs out
of the fan-out at that point of the stream. A periodic tick renews the
group membership (a restarted Redis forgets it), catches up on anything
stored but never heard of, sends heartbeats, and closes sockets whose login
has ended. "Check the logins now", and a user's own frames (their read
cursor), come to every hub the same way. Who is in each room, and who
is typing, is chat/presence.py's part of the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from accounts.sessions import ended_logins, recent_logins
from chat import events, protocol, selectors
from chat.loops import PerLoop
from chat.models import Room
from chat.payloads import Encoded, MemberChange, encoded_messages
from chat.presence import Person, Presence, RoomPresence
from chat.recent import RecentPage
from chat.sequencing import Event, Repair, Sequencer
from chat.transport import wire_frame

logger = logging.getLogger(__name__)

# How long an out-of-order broadcast waits for the one before it to arrive
# before the hub fetches the missing changes from the database.
GAP_WAIT_SECONDS = 0.5
# A typing notice waits this long for the room's next changes, to go out to
# each socket in the same write (a busy room's notices cost no writes of
# their own); with none, it goes out alone.
NOTICE_WAIT_SECONDS = 0.1
# At most this many events in one layer message of the forwarder.
FORWARD_BATCH = 200
REPAIR_BATCH = 500


# A frame on its way to a room's sockets: the seq of its change (None: a
# notice in no change's order), the frame, its bytes on the wire.
Outgoing = tuple[int | None, str, bytes]


class Listener(Protocol):
    """A socket's following of one room, as the hub sees it."""

    def deliver(self, seq: int | None, frame: str, wire: bytes) -> None:
        """Send ``frame`` (``wire``: its bytes on the wire) without waiting."""

    def deliver_many(self, frames: list[Outgoing], wire: bytes) -> None:
        """Send ``frames`` in order (``wire``: all their bytes) without waiting."""

    def login_key(self) -> str | None:
        """Return the key of the login (session or token) behind the socket."""

    def end_session(self) -> None:
        """Close the socket: its login ended."""

    def user_id(self) -> int | None:
        """Return the id of the socket's user (None for a guest)."""

    def removed(self) -> None:
        """Its user can no longer read the room: tell them, stop following."""

    def person(self) -> Person | None:
        """Return who the socket is in the room's presence (None: a guest)."""

    def wants_presence(self) -> bool:
        """Return whether the socket asked to hear who is in its rooms."""


class UserSocket(Protocol):
    """A logged-in socket, as the hub sees it for its user's own frames."""

    def tell(self, frame: str, wire: bytes) -> None:
        """Send ``frame`` (``wire``: its bytes) without waiting."""

    def login_key(self) -> str | None:
        """Return the key of the login (session or token) behind the socket."""

    def end_session(self) -> None:
        """Close the socket: its login ended."""


class Joined(NamedTuple):
    """Where a room stood when a listener joined it."""

    seq: int
    last_id: int
    history: str


@dataclass(eq=False)
class RoomState:
    room: Room
    listeners: set[Listener] = field(default_factory=set)
    # Every change up to sequencer.delivered has been handed out.
    sequencer: Sequencer = field(default_factory=Sequencer)
    # The highest message id handed out: a change of a higher id is new.
    max_id: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Frames handed out but not yet written, in order.
    outgoing: list[Outgoing] = field(default_factory=list)
    # Whether a write of ``outgoing`` comes when the loop comes round.
    flushing: bool = False
    repair: asyncio.Task[None] | None = None
    # Reading the room's position and latest page, once, for all joiners.
    opening: asyncio.Task[None] | None = None
    # The latest messages: the history a new socket gets, without a query.
    recent: RecentPage = field(
        default_factory=lambda: RecentPage(settings.HISTORY_PAGE_SIZE)
    )
    presence: RoomPresence = field(default_factory=RoomPresence)

    @property
    def slug(self) -> str:
        return self.room.slug

    @property
    def room_id(self) -> int:
        return self.room.pk

    @property
    def delivered(self) -> int:
        return self.sequencer.delivered

    def joined(self) -> Joined:
        seq = self.delivered
        return Joined(seq, self.max_id, self.recent.history_frame(self.slug, seq))


def _missing(room: Room, since: int, up_to: int | None) -> list[Encoded]:
    """Return the stored changes after ``since``, encoded, in seq order."""
    changes = selectors.message_changes(
        room=room, since=since, up_to=up_to, limit=REPAIR_BATCH
    )
    return encoded_messages(changes, room_slug=room.slug)


def _opening(room: Room) -> tuple[int, int, list[Encoded]]:
    """Return the room's last seq and id, and its latest page, encoded."""
    seq, last_id = _positions([room.pk]).get(room.pk, (0, 0))
    page = selectors.message_list(room=room, up_to=last_id)
    return seq, last_id, encoded_messages(page, room_slug=room.slug)


def _positions(room_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Return each room's last seq and last message id."""
    rows = Room.objects.filter(pk__in=room_ids).values_list(
        "pk", "last_seq", "last_message_id"
    )
    return {pk: (seq, last or 0) for pk, seq, last in rows}


class Hub:
    """The fan-out of one process, bound to the event loop it runs in."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = get_channel_layer()
        # A single process needs no layer: it hears its own broadcasts.
        self.local_only = isinstance(self.layer, InMemoryChannelLayer)
        self.channel: str | None = None
        self.rooms: dict[str, RoomState] = {}
        # The logged-in sockets here, by user id.
        self.users: dict[int, set[UserSocket]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        # This process's events for the others, in the order taken, and the
        # one task that sends them (see _forward).
        self.outbox: list[Event] = []
        self.forwarder: asyncio.Task[None] | None = None
        # Login checks and presence writes under way (held against GC).
        self.chores: set[asyncio.Task[None]] = set()
        self.starting: asyncio.Task[None] | None = None
        self.presence = Presence(self)

    # Sockets ----------------------------------------------------------

    def room(self, slug: str) -> Room | None:
        """Return the room ``slug`` if sockets here are in it (no query)."""
        state = self.rooms.get(slug)
        return state.room if state is not None else None

    async def join(self, room: Room, listener: Listener) -> Joined:
        """
        Add ``listener`` to ``room``; return the change handed out so far,
        the newest message id, and the history frame of the latest messages.

        Every later change of the room reaches the listener through
        ``deliver``.
        """
        await self._start()
        while True:
            state = self.rooms.get(room.slug)
            if state is None:
                state = RoomState(room=room)
                self.rooms[room.slug] = state
                # The hub's own task: a joiner that goes away meanwhile (its
                # socket closed) does not leave the room half open.
                state.opening = self.loop.create_task(self._open(state))
            if not state.ready.is_set():
                assert state.opening is not None
                await asyncio.shield(state.opening)
            if self.rooms.get(room.slug) is state:
                break
            # Dropped meanwhile (no listener yet): open it anew.
        state.listeners.add(listener)
        self.presence.touch(state)
        return state.joined()

    async def _open(self, state: RoomState) -> None:
        try:
            # The hub joined the hubs' group when it started (see _start): a
            # change stored after this read is sure to be heard.
            seq, state.max_id, page = await database_sync_to_async(_opening)(state.room)
        except BaseException:
            if self.rooms.get(state.slug) is state:
                del self.rooms[state.slug]  # The next joiner tries again.
            raise
        state.sequencer.delivered = seq
        state.recent.fill((m.id, m.message) for m in page)
        state.ready.set()
        self._hand_out(state, *state.sequencer.drain())
        self.chore(self.presence.load(state))

    async def add_user(self, user_id: int, socket: UserSocket) -> None:
        """Let ``socket`` hear the frames of user ``user_id`` from now on."""
        await self._start()
        self.users.setdefault(user_id, set()).add(socket)

    def presence_snapshot(self, slug: str) -> tuple[str, bytes] | None:
        """Return the presence frame for a socket that just joined ``slug``."""
        state = self.rooms.get(slug)
        return self.presence.snapshot(state) if state is not None else None

    def typing(self, slug: str, person: Person | None) -> None:
        """Relay that ``person`` is typing in ``slug`` (see Presence.typing)."""
        state = self.rooms.get(slug)
        if state is not None:
            self.presence.typing(state, person)

    def posted(self, slug: str, user_id: int) -> None:
        """``user_id`` posted in ``slug``: a bout of typing ended."""
        state = self.rooms.get(slug)
        if state is not None:
            self.presence.posted(state, user_id)

    def remove_user(self, user_id: int, socket: UserSocket) -> None:
        sockets = self.users.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.users[user_id]

    def tell_user(self, event: Event) -> None:
        """Hand a user event's frames to that user's sockets here."""
        sockets = self.users.get(event["user"])
        if not sockets:
            return
        for frame in event["frames"]:
            wire = wire_frame(frame)
            for socket in tuple(sockets):
                socket.tell(frame, wire)

    async def leave(self, slug: str, listener: Listener) -> None:
        state = self.rooms.get(slug)
        if state is None:
            return
        state.listeners.discard(listener)
        if not state.listeners and state.ready.is_set():
            await self._drop(state)
        else:
            self.presence.touch(state)

    def touch_presence(self, slugs: list[str]) -> None:
        """A socket in these rooms changed its state (active or idle)."""
        for slug in slugs:
            state = self.rooms.get(slug)
            if state is not None:
                self.presence.touch(state)

    async def _drop(self, state: RoomState) -> None:
        """Forget a room no socket here follows any more."""
        if self.rooms.get(state.slug) is not state:
            return
        del self.rooms[state.slug]
        if state.repair is not None:
            state.repair.cancel()
        self.presence.forget(state)

    # Incoming broadcasts ----------------------------------------------

    def take_own(self, event: Event, forward: bool) -> None:
        """Take an event of this process; ``forward`` it to the others."""
        self.take(event)
        if forward and not self.local_only:
            self.outbox.append(event)
            if self.forwarder is None:
                self.forwarder = self.loop.create_task(self._forward())

    async def _forward(self) -> None:
        """
        Send the outbox on to every other hub, in the order taken, all that
        gathered while the last send went in one layer message: one task, so
        changes leave in order (concurrent sends overtook one another and
        made every other process wait for the gap, then repair it).
        """
        try:
            while self.outbox:
                batch = self.outbox[:FORWARD_BATCH]
                del self.outbox[:FORWARD_BATCH]
                try:
                    await self.layer.group_send(
                        events.HUBS_GROUP, events.bundle(batch, origin=self.channel)
                    )
                except Exception:
                    # Stored is stored: other processes catch up on their tick.
                    logger.warning(
                        "forwarding %d event(s) failed", len(batch), exc_info=True
                    )
        finally:
            self.forwarder = None

    def take(self, event: Event) -> None:
        """Take an event (from the layer or this process) by its type."""
        kind = event.get("type")
        if kind == events.BUNDLE_EVENT:
            if event.get("origin") == self.channel:
                return  # This hub's own: taken when they were published.
            for each in event["events"]:
                self.take(each)
        elif kind == events.CHANGE_EVENT:
            self.accept(event)
        elif kind == events.USER_EVENT:
            self.tell_user(event)
        elif kind == events.PRESENCE_EVENT:
            self.presence.take_share(event)
        elif kind == events.TYPING_EVENT:
            self.presence.relay(event)
        elif kind == events.LOGINS_EVENT:
            self.check_logins()

    def check_logins(self) -> None:
        """Close the sockets whose login has ended, now rather than at the tick."""
        recent_logins.forget()  # Their next command checks anew.
        states = [state for state in self.rooms.values() if state.ready.is_set()]
        self.chore(self._end_stale_sessions(states))

    def chore(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the hub's loop, logging its failure."""
        task = self.loop.create_task(work)
        self.chores.add(task)
        task.add_done_callback(self._chore_done)

    def _chore_done(self, task: asyncio.Task[None]) -> None:
        self.chores.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("hub chore failed", exc_info=error)

    def accept(self, event: Event) -> None:
        """Take a change broadcast (from the layer or this process); fan it out."""
        state = self.rooms.get(event["room"])
        if state is None:
            return
        if not state.ready.is_set():
            state.sequencer.hold(event)  # Sorted out once the room is read.
            return
        self._hand_out(state, *state.sequencer.offer(event))

    def _hand_out(self, state: RoomState, ready: list[Event], repair: Repair) -> None:
        for event in ready:
            member = event.get("member")
            self._send(
                state,
                Encoded(
                    event["id"],
                    event["seq"],
                    event["message"],
                    event["client_id"],
                    MemberChange(*member) if member else None,
                ),
            )
        if repair is Repair.NOW:
            self._schedule_repair(state, 0)
        elif repair is Repair.LATER:
            self._schedule_repair(state, GAP_WAIT_SECONDS)

    def _send(self, state: RoomState, change: Encoded) -> None:
        """Hand out a change the sequencer let through."""
        new = change.id > state.max_id
        state.max_id = max(state.max_id, change.id)
        state.recent.put(change.id, change.message)
        # Encoded once here, written as they are to every socket of the room.
        frame = protocol.change_frame(
            protocol.MESSAGE if new else protocol.UPDATE,
            change.message,
            room=state.slug,
            seq=change.seq,
            client_id=change.client_id,
            member=change.member,
        )
        state.outgoing.append((change.seq, frame, wire_frame(frame)))
        if change.member is not None and change.member.ends_reading(state.room):
            # Up to this change and no further: out now, then the member's
            # sockets leave the room.
            self._flush(state)
            self._remove(state, change.member.user_id)
        elif not state.flushing:
            # Changes that arrive before the loop comes round again go out
            # together: one write per socket for the lot.
            state.flushing = True
            self.loop.call_soon(self._flush, state)

    def notice(self, state: RoomState, frame: str) -> None:
        """Hand out ``frame`` (a typing notice, in no change's order) with the
        room's next changes, or alone within NOTICE_WAIT_SECONDS."""
        state.outgoing.append((None, frame, wire_frame(frame)))
        if len(state.outgoing) == 1:
            self.loop.call_later(NOTICE_WAIT_SECONDS, self._flush, state)

    def _remove(self, state: RoomState, user_id: int | None) -> None:
        for listener in tuple(state.listeners):
            if user_id is not None and listener.user_id() == user_id:
                state.listeners.discard(listener)
                listener.removed()
                self.presence.touch(state)

    def _flush(self, state: RoomState) -> None:
        batch, state.outgoing = state.outgoing, []
        state.flushing = False
        if not batch:
            return
        wire = batch[0][2] if len(batch) == 1 else b"".join(m[2] for m in batch)
        for listener in tuple(state.listeners):
            listener.deliver_many(batch, wire)

    # Repair -------------------------------------------------------------

    def _schedule_repair(self, state: RoomState, delay: float) -> None:
        if state.repair is None or state.repair.done():
            state.repair = self.loop.create_task(self._repair(state, delay))

    async def _repair(self, state: RoomState, delay: float) -> None:
        """
        Fetch the stored changes the hub lacks: those before the first held
        change (which then go out with their own client_id), or, with none
        held, all that are newer than what was handed out.
        """
        await state.ready.wait()
        if delay:
            await asyncio.sleep(delay)
            if not state.sequencer.waiting:
                return  # The missing broadcast arrived meanwhile.
        caught_up = 0
        try:
            while True:
                lowest = state.sequencer.lowest_held()
                up_to = None if lowest is None else lowest - 1
                missing = await database_sync_to_async(_missing)(
                    state.room, state.delivered, up_to
                )
                for change in missing:
                    if state.sequencer.take({"seq": change.seq}):
                        if change.id <= state.max_id:
                            # Only a new message brings the key it was sent
                            # with; the key of a stored edit is not kept.
                            change = change._replace(client_id=None)
                        self._send(state, change)
                caught_up += len(missing)
                if len(missing) == REPAIR_BATCH:
                    continue
                if up_to is None:
                    break
                state.sequencer.reach(up_to)
                ready, _rest = state.sequencer.drain()
                self._hand_out(state, ready, Repair.NONE)
                if not state.sequencer.waiting:
                    break
            if caught_up:
                logger.warning(
                    "room %s: caught up %d change(s) missed by the channel layer",
                    state.slug,
                    caught_up,
                )
        except Exception:
            logger.exception("room %s: could not fetch missed changes", state.slug)
        finally:
            state.repair = None

    # The layer ------------------------------------------------------------

    async def _start(self) -> None:
        """Join the hubs' group and start the tasks, once; every caller waits."""
        if self.starting is None:
            self.starting = self.loop.create_task(self._begin())
        if not self.starting.done():
            await asyncio.shield(self.starting)

    async def _begin(self) -> None:
        if not self.local_only:
            self.channel = await self.layer.new_channel("hub.")
            await self._join_hubs()
            self.tasks.append(self.loop.create_task(self._listen()))
        self.tasks.append(self.loop.create_task(self._tick_forever()))

    async def _join_hubs(self) -> None:
        if self.local_only or self.channel is None:
            return
        try:
            await self.layer.group_add(events.HUBS_GROUP, self.channel)
        except Exception:
            # The tick joins again and repairs what was missed.
            logger.warning("channel layer unavailable to join the hubs' group")

    async def _listen(self) -> None:
        assert self.channel is not None
        failures = 0
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                if failures == 1:
                    logger.warning("channel layer receive failed: %r", error)
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                continue
            if failures:
                logger.warning("channel layer back after %d failure(s)", failures)
                failures = 0
                self.loop.create_task(self.tick(heartbeat=False))
            if isinstance(event, dict):
                try:
                    self.take(event)
                except Exception:
                    # A malformed event (say, from a process of another
                    # version) must not end the listener; the tick catches up.
                    logger.exception("could not take a layer event")

    # The tick ---------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.HEARTBEAT_SECONDS)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub tick failed")

    async def tick(self, *, heartbeat: bool = True) -> None:
        """Renew subscriptions, catch up, send heartbeats, end stale logins."""
        states = [state for state in self.rooms.values() if state.ready.is_set()]
        for idle in [state for state in states if not state.listeners]:
            # Opened for a socket that closed while it was being opened.
            await self._drop(idle)
            states.remove(idle)
        await self._join_hubs()
        self.presence.renew(states)
        stored = await database_sync_to_async(_positions)([s.room_id for s in states])
        for state in states:
            if stored.get(state.room_id, (0, 0))[0] > state.delivered:
                self._schedule_repair(state, 0)
        if heartbeat:
            for state in states:
                self._flush(state)  # No heartbeat overtakes a change.
                frame = protocol.heartbeat_frame(
                    state.slug, state.delivered, state.max_id
                )
                wire = wire_frame(frame)
                for listener in tuple(state.listeners):
                    listener.deliver(None, frame, wire)
        await self._end_stale_sessions(states)

    async def _end_stale_sessions(self, states: list[RoomState]) -> None:
        # A logged-in socket counts among its user's sockets, whether or
        # not it follows a room yet.
        sockets: list[Listener | UserSocket] = [
            listener for state in states for listener in state.listeners
        ]
        sockets.extend(socket for group in self.users.values() for socket in group)
        keyed = [
            (key, socket)
            for socket in sockets
            if (key := socket.login_key()) is not None
        ]
        if not keyed:
            return
        ended = await database_sync_to_async(ended_logins)({k for k, _ in keyed})
        for key, socket in keyed:
            if key in ended:
                socket.end_session()

    async def close(self) -> None:
        for task in [*self.tasks, *self.chores]:
            task.cancel()
        for state in self.rooms.values():
            for work in (state.repair, state.opening):
                if work is not None:
                    work.cancel()
        self.tasks.clear()


_hubs: PerLoop[Hub] = PerLoop(Hub)


def get_hub() -> Hub:
    """Return the hub of the running event loop, creating it on first use."""
    return _hubs.get()


def live_hubs() -> list[Hub]:
    """Return the hubs of this process whose loops still run."""
    return _hubs.live()


def publish(event: dict[str, Any]) -> bool:
    """
    Hand a broadcast to the hubs of this process, from any thread; return
    whether one took it.

    The sender's own process delivers at once, even when the channel layer
    is slow or down, and the first hub sends it on to the other processes
    from its event loop, so the caller (a database thread) never waits on
    Redis.
    """
    taken = False
    for hub in live_hubs():
        with contextlib.suppress(RuntimeError):  # Its loop stopped meanwhile.
            # A fresh context: the caller's (a database thread's) would make
            # the hub's later database calls think they run in that thread.
            hub.loop.call_soon_threadsafe(
                hub.take_own, event, not taken, context=contextvars.Context()
            )
            taken = True
    return taken
