"""The read cursor: forward only, explicit unread, and what counts as unread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from chat import selectors
from chat.exceptions import BadRequest, NotFound
from chat.models import Message, Room
from chat.services import (
    message_create,
    message_delete,
    message_edit,
    mute_set,
    read_all,
    read_set,
    room_create,
    room_join,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def joined(room: Room, other_user: User) -> Room:
    """Alice's room, which Bob joined."""
    room_join(room=room, user=other_user)
    return room


def post(room: Room, user: User, text: str = "hi") -> Message:
    return message_create(room=room, author=user, text=text)[0]


def place(user: User, room: Room) -> selectors.Place:
    entry = selectors.room_entry(Room.objects.get(pk=room.pk), user)
    assert entry.place is not None
    return entry.place


class CursorTests:
    def test_the_cursor_only_moves_forward_and_not_past_the_newest(
        self, joined: Room, user: User, other_user: User
    ) -> None:
        first, second = post(joined, user), post(joined, user)
        assert read_set(user=other_user, room=joined, message_id=second.pk) == second.pk
        assert read_set(user=other_user, room=joined, message_id=first.pk) == second.pk
        assert read_set(user=other_user, room=joined, message_id=10**9) == second.pk

    def test_marking_a_message_unread_moves_the_cursor_back_before_it(
        self, joined: Room, user: User, other_user: User
    ) -> None:
        first, second = post(joined, user), post(joined, user)
        read_set(user=other_user, room=joined, message_id=second.pk)
        cursor = read_set(
            user=other_user, room=joined, message_id=first.pk, unread=True
        )
        assert cursor < first.pk
        assert place(other_user, joined).unread == 2

    def test_only_members_keep_a_place(
        self, room: Room, other_user: User, user: User
    ) -> None:
        post(room, user)
        with pytest.raises(BadRequest):
            read_set(user=other_user, room=room, message_id=1)
        private = room_create(name="Closed", created_by=user, kind=Room.Kind.PRIVATE)
        with pytest.raises(NotFound):
            read_set(user=other_user, room=private, message_id=1)


class CountTests:
    def test_own_deleted_member_lines_and_edits_never_count(
        self,
        joined: Room,
        user: User,
        other_user: User,
        make_user: Callable[..., User],
    ) -> None:
        before = post(joined, user, "seen")
        read_set(user=other_user, room=joined, message_id=before.pk)
        post(joined, other_user, "my own")
        room_join(room=joined, user=make_user("carol", "Carol"))  # A member line.
        news = post(joined, user, "news for @bob")
        gone = post(joined, user, "soon gone")
        message_edit(room=joined, editor=user, message_id=before.pk, text="edited")
        assert (
            place(other_user, joined).unread,
            place(other_user, joined).mentions,
        ) == (2, 1)
        message_delete(room=joined, actor=user, message_id=gone.pk)
        message_delete(room=joined, actor=user, message_id=news.pk)
        assert (
            place(other_user, joined).unread,
            place(other_user, joined).mentions,
        ) == (0, 0)

    def test_counts_stop_at_the_cap(
        self, joined: Room, user: User, other_user: User
    ) -> None:
        Message.objects.bulk_create(
            Message(room=joined, author=user, text="x", created=timezone.now())
            for _ in range(selectors.UNREAD_CAP + 5)
        )
        Room.objects.filter(pk=joined.pk).update(
            last_message_id=Message.objects.latest("id").pk
        )
        assert place(other_user, joined).unread == selectors.UNREAD_CAP

    def test_a_count_holds_no_message_after_the_newest_it_was_taken_at(
        self, joined: Room, user: User, other_user: User
    ) -> None:
        # A message stored after the room's newest was read (with its seq)
        # comes to the reader as new: the count must not hold it too.
        first = post(joined, user, "hey @bob")
        later = post(joined, user, "@bob again")
        cursor = first.pk - 1
        assert selectors.unread_count(other_user, joined, cursor, first.pk) == (1, 1)
        assert selectors.unread_count(other_user, joined, cursor, later.pk) == (2, 2)

    def test_reading_everything_and_muting(
        self,
        joined: Room,
        user: User,
        other_user: User,
        make_user: Callable[..., User],
    ) -> None:
        other = room_create(name="Other", created_by=user)
        room_join(room=other, user=other_user)
        post(joined, user)
        post(other, user)
        assert read_all(user=other_user) == 2
        assert place(other_user, joined).unread == place(other_user, other).unread == 0
        assert read_all(user=other_user) == 0
        assert mute_set(user=other_user, room=joined, on=True) is True
        assert mute_set(user=other_user, room=joined, on=True) is False
        assert place(other_user, joined).muted is True

    def test_what_came_before_joining_is_history_not_news(
        self, room: Room, user: User, other_user: User
    ) -> None:
        post(room, user, "before")
        room_join(room=room, user=other_user)
        assert place(other_user, room).unread == 0
        post(room, user, "after")
        assert place(other_user, room).unread == 1


class FramesTests:
    def test_a_move_tells_the_users_sockets_after_the_commit(
        self,
        joined: Room,
        user: User,
        other_user: User,
        monkeypatch: pytest.MonkeyPatch,
        committed: Callable[[], Any],
    ) -> None:
        told: list[tuple[int, list[str]]] = []
        monkeypatch.setattr(
            "chat.events.user_notify",
            lambda user_id, frames: told.append((user_id, frames)),
        )
        message = post(joined, user, "hey @bob")
        with committed():
            read_set(user=other_user, room=joined, message_id=message.pk, unread=True)
        [(user_id, frames)] = told
        assert user_id == other_user.pk
        assert [f for f in frames] == [
            f'{{"type":"read","room":"{joined.slug}","id":{message.pk - 1}}}',
            f'{{"type":"unread","room":"{joined.slug}","unread":1,"mentions":1,'
            f'"last_id":{message.pk}}}',
        ]
