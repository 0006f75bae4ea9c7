"""
Who is in a room, and who is typing: told to the room's sockets, never stored.

Each process knows the sockets it holds. Its *share* of a room's presence
(the logged-in people with a socket on the room, each active or idle, and a
guest count) is sent to the other processes following the room through the
channel layer whenever it changes, and kept in the presence store with a
lease that each tick renews (chat/presence_store.py). A process that dies
stops renewing: its share lapses after ``PRESENCE_TTL_SECONDS`` everywhere.
A room's sockets get the merged view as a ``presence`` frame after the
room's history, then ``presence_diff`` frames: one per room and batch
(``PRESENCE_BATCH_SECONDS``), encoded once for all its sockets.

A typing notice is relayed through the same group, at most once per
``TYPING_INTERVAL_SECONDS`` per person and room, and not in rooms with more
than ``TYPING_MAX_ONLINE`` people online.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _

from chat import events, presence_store, protocol
from chat.exceptions import AuthRequired
from chat.sequencing import Event
from chat.transport import wire_frame

if TYPE_CHECKING:
    from chat.hub import Hub, RoomState

logger = logging.getLogger(__name__)

ACTIVE = "active"
IDLE = "idle"


class Person(NamedTuple):
    """A logged-in person with a socket on a room."""

    user_id: int
    username: str
    name: str
    active: bool

    def entry(self) -> dict[str, str]:
        state = ACTIVE if self.active else IDLE
        return {"username": self.username, "name": self.name, "state": state}


@dataclass(frozen=True)
class Share:
    """The part of a room's presence that one process holds."""

    people: dict[int, Person] = field(default_factory=dict)
    guests: int = 0

    def __bool__(self) -> bool:
        return bool(self.people) or self.guests > 0

    def to_json(self) -> dict[str, Any]:
        people = [list(person) for person in self.people.values()]
        return {"people": people, "guests": self.guests}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Share:
        people = (
            Person(int(u), str(n), str(d), bool(a)) for u, n, d, a in data["people"]
        )
        return cls({p.user_id: p for p in people}, int(data["guests"]))


EMPTY = Share()


@dataclass(frozen=True)
class View:
    """Who is in a room, over every process: entries by username."""

    online: dict[str, dict[str, str]] = field(default_factory=dict)
    guests: int = 0

    def payload(self) -> dict[str, Any]:
        online = sorted(self.online.values(), key=lambda e: e["name"].casefold())
        return {"online": online, "guests": self.guests}

    def frame(self, room: str) -> str:
        payload = self.payload()
        return protocol.presence_frame(room, payload["online"], payload["guests"])

    def diff_frame(self, room: str, before: View) -> str | None:
        """Return the frame that takes a client from ``before`` to this view."""
        changed = [
            entry
            for username, entry in self.online.items()
            if before.online.get(username) != entry
        ]
        gone = sorted(set(before.online) - set(self.online))
        if not changed and not gone and self.guests == before.guests:
            return None
        changed.sort(key=lambda e: e["name"].casefold())
        return protocol.presence_diff_frame(room, changed, gone, self.guests)


def merge(shares: Iterable[Share]) -> View:
    """Return the view of shares: a person active anywhere is active."""
    people: dict[int, Person] = {}
    guests = 0
    for share in shares:
        guests += share.guests
        for person in share.people.values():
            known = people.get(person.user_id)
            if known is None or (person.active and not known.active):
                people[person.user_id] = person
    return View({p.username: p.entry() for p in people.values()}, guests)


def room_view(slug: str) -> View:
    """Return who is in room ``slug`` now (from any thread)."""
    if presence_store.shared():
        return merge(Share.from_json(data) for data in presence_store.read(slug))
    from chat.hub import live_hubs

    # One process: its hub holds every share there is.
    shares = []
    for hub in live_hubs():
        state = hub.rooms.get(slug)
        if state is not None:
            shares.append(state.presence.local)
    return merge(shares)


def share_of(people: Iterable[Person | None]) -> Share:
    """Return the share of a process whose sockets on a room are ``people``
    (None for a guest's)."""
    found: dict[int, Person] = {}
    guests = 0
    for person in people:
        if person is None:
            guests += 1
        elif person.user_id not in found or person.active:
            found[person.user_id] = person
    return Share(found, guests)


@dataclass(eq=False)
class RoomPresence:
    """A hub's knowledge of one room's presence."""

    # This process's share as last published.
    local: Share = EMPTY
    # The other processes' shares, with the time each lapses, and the
    # processes heard from since the room opened here (whose stored share
    # is older than what was heard).
    remote: dict[str, tuple[Share, float]] = field(default_factory=dict)
    heard: set[str] = field(default_factory=set)
    # The view the room's sockets were last told, and its frame for a
    # socket that joins (made once per view, not per socket).
    shown: View = field(default_factory=View)
    snapshot: tuple[str, bytes] | None = None
    flush: asyncio.TimerHandle | None = None
    # When each person here last had a typing notice relayed.
    typed: dict[int, float] = field(default_factory=dict)

    def view(self) -> View:
        return merge([self.local, *(share for share, _ in self.remote.values())])


class Presence:
    """The presence and typing of one hub's rooms."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Names this process among those sharing a room.
        self.process = uuid.uuid4().hex[:16]

    # Sockets coming, going and changing ------------------------------------

    def touch(self, state: RoomState) -> None:
        """Who is in the room may have changed: tell its sockets soon."""
        presence = state.presence
        if presence.flush is None:
            presence.flush = self.hub.loop.call_later(
                settings.PRESENCE_BATCH_SECONDS, self._flush, state
            )

    def snapshot(self, state: RoomState) -> tuple[str, bytes]:
        """Return the presence frame a socket that just joined the room gets:
        the view the room's sockets were last told, which later diffs build on."""
        presence = state.presence
        if presence.snapshot is None:
            frame = presence.shown.frame(state.slug)
            presence.snapshot = frame, wire_frame(frame)
        return presence.snapshot

    def _flush(self, state: RoomState) -> None:
        presence = state.presence
        presence.flush = None
        if self.hub.rooms.get(state.slug) is not state:
            return
        share = share_of(listener.person() for listener in state.listeners)
        if share != presence.local:
            presence.local = share
            self._publish(state.slug, share)
        view = presence.view()
        frame = view.diff_frame(state.slug, presence.shown)
        if frame is not None:
            presence.shown, presence.snapshot = view, None
            wire = wire_frame(frame)
            for listener in tuple(state.listeners):
                if listener.wants_presence():
                    listener.deliver(None, frame, wire)

    def _publish(self, slug: str, share: Share) -> None:
        if not presence_store.shared():
            return  # One process: nobody else to tell.
        until = time.time() + settings.PRESENCE_TTL_SECONDS
        data = share.to_json() if share else None
        self.hub.chore(presence_store.put(slug, self.process, data, until))
        events.presence_share(slug, self.process, data, until)

    # Rooms opening and closing here ----------------------------------------

    async def load(self, state: RoomState) -> None:
        """Take the other processes' shares of a room just opened here."""
        if not presence_store.shared():
            return
        shares = await presence_store.aread_shares(state.slug)
        for process, (data, until) in shares.items():
            if process != self.process and process not in state.presence.heard:
                state.presence.remote[process] = (Share.from_json(data), until)
        self.touch(state)

    def forget(self, state: RoomState) -> None:
        """No socket here follows the room any more: withdraw this share."""
        presence = state.presence
        if presence.flush is not None:
            presence.flush.cancel()
            presence.flush = None
        if presence.local:
            presence.local = EMPTY
            self._publish(state.slug, EMPTY)

    def renew(self, states: Iterable[RoomState]) -> None:
        """Renew this process's shares, and drop the lapsed shares of others."""
        now = time.time()
        for state in states:
            presence = state.presence
            if presence.local:
                self._publish(state.slug, presence.local)
            lapsed = [p for p, (_, until) in presence.remote.items() if until < now]
            for process in lapsed:
                del presence.remote[process]
            if lapsed:
                logger.warning(
                    "room %s: presence of %d process(es) lapsed",
                    state.slug,
                    len(lapsed),
                )
                self.touch(state)

    def take_share(self, event: Event) -> None:
        """Take another process's share of a room's presence."""
        process = event["process"]
        state = self.hub.rooms.get(event["room"])
        if process == self.process or state is None:
            return
        data = event["share"]
        state.presence.heard.add(process)
        if data is None:
            state.presence.remote.pop(process, None)
        else:
            state.presence.remote[process] = (Share.from_json(data), event["until"])
        self.touch(state)

    # Typing -----------------------------------------------------------------

    def typing(self, state: RoomState, person: Person | None) -> None:
        """
        Relay that ``person`` is typing in the room, unless they did within
        the interval or the room is too full for it.
        """
        if person is None:
            raise AuthRequired(_("Log in to write."))
        presence = state.presence
        now = time.monotonic()
        last = presence.typed.get(person.user_id)
        if last is not None and now - last < settings.TYPING_INTERVAL_SECONDS:
            return
        if len(presence.shown.online) > settings.TYPING_MAX_ONLINE:
            return
        presence.typed = {
            user: at
            for user, at in presence.typed.items()
            if now - at < settings.TYPING_INTERVAL_SECONDS
        }
        presence.typed[person.user_id] = now
        frame = protocol.typing_frame(state.slug, person.username, person.name)
        events.typing_notice(state.slug, frame)

    def posted(self, state: RoomState, user_id: int) -> None:
        """``user_id`` posted in the room: their next notice goes at once."""
        state.presence.typed.pop(user_id, None)

    def relay(self, event: Event) -> None:
        """Hand a typing notice to the room's sockets here."""
        state = self.hub.rooms.get(event["room"])
        if state is None or not state.ready.is_set():
            return
        self.hub.notice(state, event["frame"])
