"""
A room's change stream: the one place where changes get their ``seq``.

Every stored change of a room's messages (posted, edited, deleted, reacted
to, and the member lines of people joining and leaving) goes through a
``RoomChanges``: its room's row is locked for the rest of the transaction,
so changes commit in the order they are numbered; it gives each change the
room's next ``seq``; and after the commit it logs and broadcasts each
change, in that order, encoded once. Several rooms change in one
transaction through ``rooms_changes`` (their locks taken in the order of
the rooms' ids, as everywhere), and their new messages are stored with one
INSERT (``post_together``). Within an open one, a room's later changes
(the rest of one socket's commands, chat/commands.py) reuse its lock and
its RoomChanges, each in a savepoint of its own: the room is locked and
updated once for them all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from chat import events
from chat.models import Membership, Message, Room
from chat.payloads import encoded_message, member_change

logger = logging.getLogger("chat.services")


# Makes a log line's arguments, once the change is stored.
LogLine = Callable[[], tuple[Any, ...]]

# The fields of a room's row that its changes move on.
_ROOM_FIELDS = ("last_seq", "last_message_id", "last_message_at")

# The RoomChanges open in this thread's transaction, by room id.
_open = threading.local()


@dataclass
class _Change:
    message: Message
    client_id: str | None
    log: LogLine | None


class RoomChanges:
    """The changes of one locked room within one transaction."""

    def __init__(self, room: Room) -> None:
        # Read under the lock: ids and seqs grow in commit order.
        self.room = room
        self.first_seq = room.last_seq
        self.changes: list[_Change] = []
        self.posted = False

    def add(
        self,
        message: Message,
        *,
        fields: tuple[str, ...] = (),
        client_id: str | None = None,
        log: LogLine | None = None,
    ) -> None:
        """
        Store ``message`` as the room's next change: insert it if new, else
        save ``fields``; broadcast it after the commit (``client_id`` tells
        the sender it is theirs; ``log`` makes a log line's arguments).
        """
        self._number(message, client_id, log)
        if message.pk is None:
            message.save(force_insert=True)
            self._posted(message)
        else:
            message.save(update_fields=[*fields, "seq"])

    def _number(
        self, message: Message, client_id: str | None, log: LogLine | None
    ) -> None:
        self.room.last_seq += 1
        message.seq = self.room.last_seq
        self.changes.append(_Change(message, client_id, log))

    def _posted(self, message: Message) -> None:
        self.posted = True
        self.room.last_message_id = message.pk
        self.room.last_message_at = message.created

    def _mark(self) -> tuple[Any, ...]:
        """What ``_rewind`` needs to undo the changes added after this."""
        return (
            len(self.changes),
            self.posted,
            *(getattr(self.room, field) for field in _ROOM_FIELDS),
        )

    def _rewind(self, mark: tuple[Any, ...]) -> None:
        """Forget the changes added since ``mark`` (their savepoint was
        rolled back): the next change takes the seq the first of them had."""
        count, self.posted, *fields = mark
        del self.changes[count:]
        for field, value in zip(_ROOM_FIELDS, fields, strict=True):
            setattr(self.room, field, value)

    def _close(self) -> None:
        """After the room's row is saved: bring a direct conversation back,
        and broadcast the changes after the commit."""
        if self.posted and self.room.kind == Room.Kind.DIRECT:
            # A new message brings a direct conversation back to whoever
            # left it.
            hidden = Membership.objects.filter(room=self.room, hidden=True)
            back = list(hidden.values_list("user_id", flat=True))
            if back:
                hidden.update(hidden=False)
                transaction.on_commit(lambda: events.rooms_changed(back), robust=True)
        slug = self.room.slug
        # Encoded now, in the state each message has at the end of the
        # transaction; sent in seq order after the commit.
        outgoing = [
            (
                change,
                encoded_message(change.message, room_slug=slug),
                change.log() if change.log is not None else None,
                member_change(change.message),
            )
            for change in self.changes
        ]
        prev_seq = self.first_seq

        def publish() -> None:
            seq = prev_seq
            for change, encoded, line, member in outgoing:
                if line is not None:
                    # Logged before anyone can have seen it: the log's order
                    # is the chat's.
                    logger.info(*line)
                events.change_broadcast(
                    room_slug=slug,
                    seq=change.message.seq,
                    prev_seq=seq,
                    message_id=change.message.pk,
                    message=encoded,
                    client_id=change.client_id,
                    member=member,
                )
                seq = change.message.seq

        transaction.on_commit(publish, robust=True)


# A new message to store: its room's changes, the message, the sender's
# client_id and its log line.
NewMessage = tuple[RoomChanges, Message, str | None, LogLine | None]


def post_together(new: list[NewMessage]) -> None:
    """Store ``new`` messages as the next changes of their rooms, in order,
    with one INSERT."""
    for changes, message, client_id, log in new:
        changes._number(message, client_id, log)
    Message.objects.bulk_create([message for _changes, message, *_rest in new])
    for changes, message, *_rest in new:
        changes._posted(message)


@contextmanager
def rooms_changes(rooms: Collection[Room]) -> Iterator[dict[int, RoomChanges]]:
    """
    Open a transaction that changes the messages of ``rooms``, in order;
    yield each one's RoomChanges by its id. Raise Room.DoesNotExist if one
    is gone.
    """
    ids = {room.pk for room in rooms}
    held: dict[int, RoomChanges] = getattr(_open, "rooms", {})
    if ids & held.keys():
        if not ids <= held.keys():
            # A second RoomChanges of a held room would number its changes
            # from the row as it was before this transaction's.
            raise RuntimeError("rooms_changes: some of these rooms are held, not all")
        with _within({pk: held[pk] for pk in ids}) as changes:
            yield changes
        return
    with transaction.atomic():
        # One statement locks them all, in the order of their ids.
        locked = list(
            Room.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        )
        if len(locked) < len(ids):
            raise Room.DoesNotExist("A room was deleted.")
        changes = {room.pk: RoomChanges(room) for room in locked}
        _open.rooms = {**held, **changes}
        try:
            yield changes
        finally:
            _open.rooms = held
        for one in changes.values():
            if one.changes:
                # One statement per room: cheaper than one CASE over several.
                Room.objects.filter(pk=one.room.pk).update(
                    **{field: getattr(one.room, field) for field in _ROOM_FIELDS}
                )
                one._close()


@contextmanager
def _within(held: dict[int, RoomChanges]) -> Iterator[dict[int, RoomChanges]]:
    """More changes of rooms this transaction holds, in a savepoint: undone
    alone, their seqs given back, if they fail."""
    marks = {pk: changes._mark() for pk, changes in held.items()}
    try:
        with transaction.atomic():
            yield held
    except BaseException:
        for pk, changes in held.items():
            changes._rewind(marks[pk])
        raise


@contextmanager
def room_changes(room: Room) -> Iterator[RoomChanges]:
    """Open a transaction that changes ``room``'s messages, in order."""
    with rooms_changes([room]) as changes:
        yield changes[room.pk]
