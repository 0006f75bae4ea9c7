"""A room's change stream (chat/services/stream.py): changes of a held room."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from chat import services
from chat.models import Message, Room
from chat.services.stream import room_changes, rooms_changes
from chat.tests.conftest import Broadcasts


class HeldRoomTests:
    def test_changes_undone_in_a_held_room_give_their_seqs_back(
        self,
        room: Room,
        user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        start = room.last_seq
        with committed(), room_changes(room):
            services.message_create(room=room, author=user, text="one")
            with pytest.raises(RuntimeError), room_changes(room):
                services.message_create(room=room, author=user, text="undone")
                raise RuntimeError("undone")
            services.message_create(room=room, author=user, text="two")
        # Readers get an unbroken stream: each change names the one before.
        assert [
            (b["message"]["text"], b["seq"], b["prev_seq"]) for b in broadcasts
        ] == [("one", start + 1, start), ("two", start + 2, start + 1)]
        assert list(Message.objects.values_list("text", "seq")) == [
            ("one", start + 1),
            ("two", start + 2),
        ]
        room.refresh_from_db()
        assert room.last_seq == start + 2

    def test_a_room_held_with_others_not_held_is_refused(
        self, room: Room, user: User
    ) -> None:
        other = services.room_create(name="Other", created_by=user)
        # A second RoomChanges of the held room would number its changes
        # from the room's row as it was before this transaction's.
        with (
            room_changes(room),
            pytest.raises(RuntimeError),
            rooms_changes([room, other]),
        ):
            pass
