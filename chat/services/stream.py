"""
A room's change stream: the one place where changes get their ``seq``.

Every stored change of a room's messages (posted, edited, deleted, reacted
to, and the member lines of people joining and leaving) goes through a
``RoomChanges``: it locks the room's row for the rest of
the transaction, so changes commit in the order they are numbered; it gives
each change the room's next ``seq``; and after the commit it logs and
broadcasts each change, in that order, encoded once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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


@dataclass
class _Change:
    message: Message
    client_id: str | None
    log: LogLine | None


class RoomChanges:
    """The changes of one locked room within one transaction."""

    def __init__(self, room: Room) -> None:
        # The lock orders commits within a room: ids and seqs grow in
        # commit order.
        self.room = Room.objects.select_for_update().get(pk=room.pk)
        self.first_seq = self.room.last_seq
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
        self.room.last_seq += 1
        message.seq = self.room.last_seq
        if message.pk is None:
            message.save(force_insert=True)
            self.posted = True
            self.room.last_message_id = message.pk
            self.room.last_message_at = message.created
        else:
            message.save(update_fields=[*fields, "seq"])
        self.changes.append(_Change(message, client_id, log))

    def _close(self) -> None:
        if not self.changes:
            return
        Room.objects.filter(pk=self.room.pk).update(
            last_seq=self.room.last_seq,
            last_message_id=self.room.last_message_id,
            last_message_at=self.room.last_message_at,
        )
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


@contextmanager
def room_changes(room: Room) -> Iterator[RoomChanges]:
    """Open a transaction that changes ``room``'s messages, in order."""
    with transaction.atomic():
        changes = RoomChanges(room)
        yield changes
        changes._close()
