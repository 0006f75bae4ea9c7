"""
Per-process fan-out of a room's messages to the sockets connected here.

Each process holds one hub. The hub, not each socket, subscribes to the
channel layer: one layer message per process and room, then a local loop
that hands the already encoded frame to every socket of the room. The hub
delivers each room's messages in id order, exactly once: every broadcast
names the id of the message before it in the room (``prev_id``), so the hub
notices a missing link and fetches what it lacks from the database. A
periodic tick renews the layer subscriptions (a restarted Redis forgets
them), catches up on anything stored but never heard of, sends heartbeats,
and closes sockets whose login has ended. Events for every hub (check the
logins now, read a room's latest page again) come through one group that
all hubs join.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from accounts.sessions import ended_sessions
from chat import events, protocol, selectors
from chat.models import Room
from chat.payloads import encoded_messages
from chat.transport import wire_frame

logger = logging.getLogger(__name__)

# How long an out-of-order broadcast waits for the one before it to arrive
# before the hub fetches the missing messages from the database.
GAP_WAIT_SECONDS = 0.5
REPAIR_BATCH = 500


class Listener(Protocol):
    """A socket as the hub sees it."""

    def deliver(self, message_id: int | None, frame: str, wire: bytes) -> None:
        """Send ``frame`` (``wire``: its bytes on the wire) without waiting."""

    def deliver_many(self, messages: list[tuple[int, str, bytes]], wire: bytes) -> None:
        """Send ``messages`` in order (``wire``: all their bytes) without waiting."""

    def session_key(self) -> str | None:
        """Return the session that logged the socket in, if any."""

    def end_session(self) -> None:
        """Close the socket: its login ended."""


@dataclass(eq=False)
class RoomState:
    room: Room
    listeners: set[Listener] = field(default_factory=set)
    # Highest message id handed to the listeners; everything up to it, in
    # this room, has been delivered.
    delivered: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Messages delivered but not yet written: (id, frame, wire bytes).
    outgoing: list[tuple[int, str, bytes]] = field(default_factory=list)
    # Broadcasts that arrived before the message they follow, by prev_id.
    waiting: dict[int, dict[str, Any]] = field(default_factory=dict)
    repair: asyncio.Task[None] | None = None
    # The latest encoded messages, oldest first: the history a new socket
    # gets, served without a query.
    recent: deque[tuple[int, str]] = field(
        default_factory=lambda: deque(maxlen=settings.HISTORY_PAGE_SIZE)
    )
    history: str | None = None

    @property
    def slug(self) -> str:
        return self.room.slug

    @property
    def room_id(self) -> int:
        return self.room.pk

    def history_frame(self) -> str:
        if self.history is None:
            self.history = protocol.history_frame(m for _, m in self.recent)
        return self.history


Encoded = tuple[int, str, str | None]  # id, encoded message, client_id


def _missing(room: Room, after: int) -> list[Encoded]:
    """Return the stored messages after ``after``, encoded, oldest first."""
    page = selectors.message_list(room=room, after=after, limit=REPAIR_BATCH)
    return encoded_messages(page, room_slug=room.slug)


def _opening(room: Room) -> tuple[int, list[Encoded]]:
    """Return the room's last id and its latest page of messages, encoded."""
    last = _last_ids([room.pk]).get(room.pk, 0)
    return last, _page(room, last)


def _page(room: Room, up_to: int) -> list[Encoded]:
    """Return the room's latest page of messages up to ``up_to``, encoded."""
    page = selectors.message_list(room=room, up_to=up_to)
    return encoded_messages(page, room_slug=room.slug)


def _last_ids(room_ids: list[int]) -> dict[int, int]:
    rows = Room.objects.filter(pk__in=room_ids).values_list("pk", "last_message_id")
    return {pk: last or 0 for pk, last in rows}


class Hub:
    """The fan-out of one process, bound to the event loop it runs in."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = get_channel_layer()
        # A single process needs no layer: it hears its own broadcasts.
        self.local_only = isinstance(self.layer, InMemoryChannelLayer)
        self.channel: str | None = None
        self.rooms: dict[str, RoomState] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.forwarding: set[asyncio.Task[None]] = set()
        # Login checks and history reloads under way (held against GC).
        self.chores: set[asyncio.Task[None]] = set()
        self.started = False

    # Sockets ----------------------------------------------------------

    def room(self, slug: str) -> Room | None:
        """Return the room ``slug`` if sockets here are in it (no query)."""
        state = self.rooms.get(slug)
        return state.room if state is not None else None

    async def join(self, room: Room, listener: Listener) -> tuple[int, str]:
        """
        Add ``listener`` to ``room``; return the id delivered so far and the
        history frame of the latest messages up to it.

        Every later message of the room reaches the listener through
        ``deliver``.
        """
        await self._start()
        state = self.rooms.get(room.slug)
        if state is None:
            state = RoomState(room=room)
            self.rooms[room.slug] = state
            # Subscribe before reading the last id: a message stored after
            # the read is then sure to be heard.
            await self._subscribe(state.slug)
            state.delivered, page = await database_sync_to_async(_opening)(room)
            state.recent.extend((message_id, m) for message_id, m, _ in page)
            state.ready.set()
            self._drain(state)
        else:
            await state.ready.wait()
        state.listeners.add(listener)
        return state.delivered, state.history_frame()

    async def leave(self, slug: str, listener: Listener) -> None:
        state = self.rooms.get(slug)
        if state is None:
            return
        state.listeners.discard(listener)
        if not state.listeners and state.ready.is_set():
            del self.rooms[slug]
            if state.repair is not None:
                state.repair.cancel()
            if not self.local_only and self.channel is not None:
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(
                        events.room_group_name(slug), self.channel
                    )

    # Incoming broadcasts ----------------------------------------------

    def take_own(self, event: dict[str, Any], forward: bool) -> None:
        """Take an event of this process; ``forward`` it to the others."""
        self.take(event)
        if forward and not self.local_only:
            task = self.loop.create_task(self._forward(event))
            self.forwarding.add(task)
            task.add_done_callback(self.forwarding.discard)

    async def _forward(self, event: dict[str, Any]) -> None:
        try:
            await self.layer.group_send(events.event_group(event), event)
        except Exception:
            # Stored is stored: other processes catch up on their tick.
            logger.warning("forwarding %s failed", event["type"], exc_info=True)

    def take(self, event: dict[str, Any]) -> None:
        """Take an event (from the layer or this process) by its type."""
        kind = event.get("type")
        if kind == events.MESSAGE_EVENT:
            self.accept(event)
        elif kind == events.LOGINS_EVENT:
            self.check_logins()
        elif kind == events.HISTORY_EVENT:
            for slug in event["rooms"]:
                self.reload(slug)

    def check_logins(self) -> None:
        """Close the sockets whose login has ended, now rather than at the tick."""
        states = [state for state in self.rooms.values() if state.ready.is_set()]
        self._chore(self._end_stale_sessions(states))

    def reload(self, slug: str) -> None:
        """Read the latest page of the room ``slug`` again, if sockets are in it."""
        state = self.rooms.get(slug)
        if state is not None:
            self._chore(self._reload(state))

    def _chore(self, work: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(work)
        self.chores.add(task)
        task.add_done_callback(self._chore_done)

    def _chore_done(self, task: asyncio.Task[None]) -> None:
        self.chores.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("hub chore failed", exc_info=error)

    def accept(self, event: dict[str, Any]) -> None:
        """Take a broadcast (from the layer or this process) and fan it out."""
        state = self.rooms.get(event["room"])
        if state is None:
            return
        if not state.ready.is_set() or event["prev_id"] > state.delivered:
            if event["id"] > state.delivered:
                state.waiting[event["prev_id"]] = event
                self._schedule_repair(state, GAP_WAIT_SECONDS)
            return
        self._send(state, event["id"], event["message"], event["client_id"])
        self._drain(state)

    def _send(
        self, state: RoomState, message_id: int, message: str, client_id: str | None
    ) -> None:
        if message_id <= state.delivered:
            return  # Heard twice (from the layer and locally, or repaired).
        state.delivered = message_id
        state.recent.append((message_id, message))
        state.history = None
        # Encoded once here, written as they are to every socket of the room.
        frame = protocol.message_frame(message, client_id)
        state.outgoing.append((message_id, frame, wire_frame(frame)))
        if len(state.outgoing) == 1:
            # Messages that arrive before the loop comes round again go out
            # together: one write per socket for the lot.
            self.loop.call_soon(self._flush, state)

    def _flush(self, state: RoomState) -> None:
        batch, state.outgoing = state.outgoing, []
        if not batch:
            return
        wire = batch[0][2] if len(batch) == 1 else b"".join(m[2] for m in batch)
        for listener in tuple(state.listeners):
            listener.deliver_many(batch, wire)

    def _drain(self, state: RoomState) -> None:
        """Deliver waiting broadcasts that now follow on; drop stale ones."""
        while state.waiting:
            event = state.waiting.pop(state.delivered, None)
            if event is None:
                for prev_id in [p for p in state.waiting if p < state.delivered]:
                    stale = state.waiting.pop(prev_id)
                    if stale["id"] > state.delivered:
                        # It skipped past messages we have: its own link is
                        # what matters, so fetch rather than guess.
                        self._schedule_repair(state, 0)
                return
            self._send(state, event["id"], event["message"], event["client_id"])

    async def _reload(self, state: RoomState) -> None:
        await state.ready.wait()
        # Only what was delivered: a message in the history must never come
        # again as a live one, and one not yet delivered will be.
        up_to = state.delivered
        try:
            page = await database_sync_to_async(_page)(state.room, up_to)
        except Exception:
            logger.exception("room %s: could not reload the history", state.slug)
            return
        newer = [(i, m) for i, m in state.recent if i > up_to]
        state.recent.clear()
        state.recent.extend((message_id, m) for message_id, m, _ in page)
        state.recent.extend(newer)
        state.history = None

    # Repair -------------------------------------------------------------

    def _schedule_repair(self, state: RoomState, delay: float) -> None:
        if state.repair is None or state.repair.done():
            state.repair = self.loop.create_task(self._repair(state, delay))

    async def _repair(self, state: RoomState, delay: float) -> None:
        await state.ready.wait()
        if delay:
            await asyncio.sleep(delay)
            if not state.waiting:
                return  # The missing broadcast arrived meanwhile.
        caught_up = 0
        try:
            while True:
                missing = await database_sync_to_async(_missing)(
                    state.room, state.delivered
                )
                for message_id, message, client_id in missing:
                    self._send(state, message_id, message, client_id)
                caught_up += len(missing)
                if len(missing) < REPAIR_BATCH:
                    break
            if caught_up:
                logger.warning(
                    "room %s: caught up %d message(s) missed by the channel layer",
                    state.slug,
                    caught_up,
                )
            self._drain(state)
        except Exception:
            logger.exception("room %s: could not fetch missed messages", state.slug)
        finally:
            state.repair = None

    # The layer ------------------------------------------------------------

    async def _start(self) -> None:
        if self.started:
            return
        self.started = True
        if not self.local_only:
            self.channel = await self.layer.new_channel("hub.")
            await self._subscribe_group(events.HUBS_GROUP)
            self.tasks.append(self.loop.create_task(self._listen()))
        self.tasks.append(self.loop.create_task(self._tick_forever()))

    async def _subscribe(self, slug: str) -> None:
        await self._subscribe_group(events.room_group_name(slug))

    async def _subscribe_group(self, group: str) -> None:
        if self.local_only or self.channel is None:
            return
        try:
            await self.layer.group_add(group, self.channel)
        except Exception:
            # The tick subscribes again and repairs what was missed.
            logger.warning("%s: channel layer unavailable to subscribe", group)

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
        await self._subscribe_group(events.HUBS_GROUP)
        for state in states:
            await self._subscribe(state.slug)
        last = await database_sync_to_async(_last_ids)([s.room_id for s in states])
        for state in states:
            if last.get(state.room_id, 0) > state.delivered:
                self._schedule_repair(state, 0)
        if heartbeat:
            for state in states:
                self._flush(state)  # No heartbeat overtakes a message.
                frame = protocol.heartbeat_frame(state.delivered)
                wire = wire_frame(frame)
                for listener in tuple(state.listeners):
                    listener.deliver(None, frame, wire)
        await self._end_stale_sessions(states)

    async def _end_stale_sessions(self, states: list[RoomState]) -> None:
        keyed = [
            (key, listener)
            for state in states
            for listener in state.listeners
            if (key := listener.session_key()) is not None
        ]
        if not keyed:
            return
        ended = await database_sync_to_async(ended_sessions)({k for k, _ in keyed})
        for key, listener in keyed:
            if key in ended:
                listener.end_session()

    async def close(self) -> None:
        for task in [*self.tasks, *self.chores]:
            task.cancel()
        for state in self.rooms.values():
            if state.repair is not None:
                state.repair.cancel()
        self.tasks.clear()


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_hubs_lock = threading.Lock()


def get_hub() -> Hub:
    """Return the hub of the running event loop, creating it on first use."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            for stale in [other for other in _hubs if other.is_closed()]:
                del _hubs[stale]
            hub = _hubs[loop] = Hub(loop)
        return hub


def publish(event: dict[str, Any]) -> bool:
    """
    Hand a broadcast to the hubs of this process, from any thread; return
    whether one took it.

    The sender's own process delivers at once, even when the channel layer
    is slow or down, and the first hub sends it on to the other processes
    from its event loop, so the caller (a database thread) never waits on
    Redis.
    """
    with _hubs_lock:
        hubs = [hub for loop, hub in _hubs.items() if not loop.is_closed()]
    taken = False
    for hub in hubs:
        with contextlib.suppress(RuntimeError):  # Its loop stopped meanwhile.
            # A fresh context: the caller's (a database thread's) would make
            # the hub's later database calls think they run in that thread.
            hub.loop.call_soon_threadsafe(
                hub.take_own, event, not taken, context=contextvars.Context()
            )
            taken = True
    return taken
