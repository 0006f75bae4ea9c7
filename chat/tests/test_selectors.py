from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from chat import selectors
from chat.models import Room
from chat.payloads import message_payload
from chat.services import attachment_create, message_create, room_create


class MessageListTests:
    def test_the_latest_page_comes_oldest_first(self, room: Room, user: User) -> None:
        ids = [
            message_create(room=room, author=user, text=str(n))[0].pk for n in range(7)
        ]
        assert [m.pk for m in selectors.message_list(room=room, limit=3)] == ids[4:]

    def test_after_without_limit_returns_everything_newer(
        self, room: Room, user: User
    ) -> None:
        ids = [
            message_create(room=room, author=user, text=str(n))[0].pk for n in range(70)
        ]
        newer = selectors.message_list(room=room, after=ids[2])
        assert [m.pk for m in newer] == ids[3:]

    def test_other_rooms_are_not_mixed_in(self, room: Room, user: User) -> None:
        other = room_create(name="Elsewhere", created_by=user)
        message_create(room=other, author=user, text="not here")
        mine, _ = message_create(room=room, author=user, text="here")
        assert [m.pk for m in selectors.message_list(room=room)] == [mine.pk]

    def test_a_page_with_attachments_and_reactions_costs_two_queries(
        self, room: Room, user: User
    ) -> None:
        for n in range(5):
            message_create(room=room, author=user, text=str(n))
            attachment_create(
                room=room, author=user, upload=SimpleUploadedFile(f"{n}.txt", b"x")
            )
        with CaptureQueriesContext(connection) as queries:
            payloads = [
                message_payload(m, room_slug=room.slug)
                for m in selectors.message_list(room=room)
            ]
        assert len(payloads) == 10
        # The messages with authors, files and quoted originals; the reactions.
        assert len(queries) == 2


class RoomListTests:
    def test_rooms_are_listed_most_recently_active_first(self, user: User) -> None:
        quiet = room_create(name="Quiet", created_by=user)
        busy = room_create(name="Busy", created_by=user)
        message_create(room=busy, author=user, text="hi")
        slugs = [entry.room.slug for entry in selectors.room_list(user)]
        assert slugs.index(busy.slug) < slugs.index(quiet.slug)
