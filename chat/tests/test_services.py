from __future__ import annotations

import asyncio
import datetime
import json
import logging
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from chat import events, services
from chat.exceptions import AuthRequired, BadRequest, TooLarge
from chat.hub import get_hub
from chat.models import Attachment, Message, Room
from chat.tests.listeners import Inbox
from conftest import image_bytes


class MessageCreateTests:
    def test_message_is_stored_with_a_utc_stamp(self, room: Room, user: User) -> None:
        message, created = services.message_create(room=room, author=user, text="hello")
        assert created is True
        stored = Message.objects.get(pk=message.pk)
        assert stored.text == "hello"
        assert stored.author == user
        assert stored.created.utcoffset() == datetime.timedelta(0)
        room.refresh_from_db()
        assert room.last_message_at == stored.created

    def test_ids_grow_within_a_room(self, room: Room, user: User) -> None:
        ids = [
            services.message_create(room=room, author=user, text=str(n))[0].pk
            for n in range(5)
        ]
        assert ids == sorted(ids)
        assert len(set(ids)) == 5

    def test_anonymous_author_is_refused(self, room: Room) -> None:
        from django.contrib.auth.models import AnonymousUser

        with pytest.raises(AuthRequired):
            services.message_create(room=room, author=AnonymousUser(), text="hi")
        assert not Message.objects.exists()

    def test_inactive_author_is_refused(self, room: Room, user: User) -> None:
        user.is_active = False
        with pytest.raises(AuthRequired):
            services.message_create(room=room, author=user, text="hi")

    @pytest.mark.parametrize("text", ["", "   ", "\n\n", "\t \n"])
    def test_blank_text_is_refused(self, room: Room, user: User, text: str) -> None:
        with pytest.raises(BadRequest):
            services.message_create(room=room, author=user, text=text)
        assert not Message.objects.exists()

    def test_text_over_the_limit_is_too_large(self, room: Room, user: User) -> None:
        services.message_create(room=room, author=user, text="x" * 4000)
        with pytest.raises(TooLarge):
            services.message_create(room=room, author=user, text="x" * 4001)
        assert Message.objects.count() == 1

    @pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "\ud800"])
    def test_control_characters_and_lone_surrogates_are_refused(
        self, room: Room, user: User, text: str
    ) -> None:
        with pytest.raises(BadRequest):
            services.message_create(room=room, author=user, text=text)

    def test_newlines_are_kept_and_crlf_normalized(
        self, room: Room, user: User
    ) -> None:
        message, _ = services.message_create(
            room=room, author=user, text="line 1\r\nline 2\n\nline 4"
        )
        assert message.text == "line 1\nline 2\n\nline 4"

    def test_duplicate_client_id_is_stored_once(self, room: Room, user: User) -> None:
        first, created = services.message_create(
            room=room, author=user, text="once", client_id="abc-1"
        )
        again, created_again = services.message_create(
            room=room, author=user, text="once", client_id="abc-1"
        )
        assert (created, created_again) == (True, False)
        assert again.pk == first.pk
        assert Message.objects.count() == 1

    def test_same_client_id_from_two_users_is_two_messages(
        self, room: Room, user: User, other_user: User
    ) -> None:
        services.message_create(room=room, author=user, text="a", client_id="same")
        services.message_create(
            room=room, author=other_user, text="b", client_id="same"
        )
        assert Message.objects.count() == 2


class MessagesCreateTests:
    def test_a_burst_is_stored_in_order_with_one_result_per_post(
        self, room: Room, user: User
    ) -> None:
        earlier, _ = services.message_create(
            room=room, author=user, text="earlier", client_id="k0"
        )
        results = services.messages_create(
            room=room,
            author=user,
            posts=[
                services.Post("one", "k1"),
                services.Post("   ", "k2"),
                services.Post("again", "k0"),
                services.Post("two", "k3"),
                services.Post("one, retried", "k1"),
                services.Post("x" * 4001),
            ],
        )
        one, blank, retry, two, repeat, huge = results
        assert isinstance(blank, BadRequest) and isinstance(huge, TooLarge)
        assert retry == (earlier, False)
        assert one[1] is True and two[1] is True
        assert repeat == (one[0], False)
        assert one[0].pk < two[0].pk
        texts = list(Message.objects.order_by("id").values_list("text", flat=True))
        assert texts == ["earlier", "one", "two"]
        room.refresh_from_db()
        assert room.last_message_id == two[0].pk

    def test_a_burst_can_stop_at_the_first_post_not_stored(
        self, room: Room, user: User
    ) -> None:
        def burst(*posts: services.Post) -> list[services.PostResult]:
            return services.messages_create(
                room=room, author=user, posts=list(posts), stop_at_answer=True
            )

        one, blank = burst(
            services.Post("one", "k1"), services.Post("   "), services.Post("no")
        )
        assert one[1] is True and isinstance(blank, BadRequest)
        [retry] = burst(services.Post("one again", "k1"), services.Post("no"))
        assert retry == (one[0], False)
        # A repeat within the burst waits for the next one.
        [two] = burst(services.Post("two", "k2"), services.Post("two again", "k2"))
        assert two[1] is True
        texts = list(Message.objects.order_by("id").values_list("text", flat=True))
        assert texts == ["one", "two"]


@pytest.mark.django_db(transaction=True)
class MessageBroadcastTests:
    async def test_a_new_message_is_broadcast_once_after_commit(
        self, room: Room, user: User
    ) -> None:
        inbox = Inbox()
        await get_hub().join(room, inbox)
        message, _ = await database_sync_to_async(services.message_create)(
            room=room, author=user, text="to all", client_id="c1"
        )
        await asyncio.sleep(0.05)
        assert [seq for seq, _ in inbox.frames] == [message.seq]
        frame = json.loads(inbox.frames[0][1])
        assert frame["message"]["text"] == "to all"
        assert frame["client_id"] == "c1"
        await database_sync_to_async(services.message_create)(
            room=room, author=user, text="to all", client_id="c1"
        )
        await asyncio.sleep(0.05)
        assert len(inbox.frames) == 1


class AttachmentCreateTests:
    def test_an_image_is_stored_with_a_thumbnail(
        self, room: Room, user: User, png_upload: SimpleUploadedFile
    ) -> None:
        message, created = services.attachment_create(
            room=room, author=user, upload=png_upload, text="look"
        )
        attachment = Attachment.objects.get(message=message)
        assert created is True
        assert message.text == "look"
        assert attachment.name == "photo.png"
        assert attachment.content_type == "image/png"
        assert attachment.size == png_upload.size
        assert attachment.thumbnail
        with attachment.file.open("rb") as stored:
            assert stored.read() == image_bytes()
        # Stored under a random name, not the uploaded one.
        assert "photo" not in attachment.file.name

    def test_the_type_comes_from_the_bytes_not_the_name(
        self, room: Room, user: User
    ) -> None:
        fake = SimpleUploadedFile("cat.png", b"just text\n", content_type="image/png")
        message, _ = services.attachment_create(room=room, author=user, upload=fake)
        attachment = Attachment.objects.get(message=message)
        assert attachment.content_type == "text/plain"
        assert not attachment.thumbnail
        real = SimpleUploadedFile("notes.txt", image_bytes(), content_type="text/plain")
        message, _ = services.attachment_create(room=room, author=user, upload=real)
        assert Attachment.objects.get(message=message).content_type == "image/png"

    def test_an_svg_is_never_an_inline_image(self, room: Room, user: User) -> None:
        svg = SimpleUploadedFile(
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            content_type="image/svg+xml",
        )
        message, _ = services.attachment_create(room=room, author=user, upload=svg)
        attachment = Attachment.objects.get(message=message)
        assert not attachment.content_type.startswith("image/")
        assert not attachment.thumbnail

    def test_a_file_over_the_limit_is_refused_and_nothing_kept(
        self, room: Room, user: User, settings: object, media_root: Path
    ) -> None:
        settings.MAX_UPLOAD_MB = 1  # type: ignore[attr-defined]
        big = SimpleUploadedFile("big.bin", b"\x01" * (1024 * 1024 + 1))
        with pytest.raises(TooLarge):
            services.attachment_create(room=room, author=user, upload=big)
        assert not Message.objects.exists()
        assert not any(p.is_file() for p in Path(media_root).rglob("*"))

    def test_an_empty_file_is_refused(self, room: Room, user: User) -> None:
        with pytest.raises(BadRequest):
            services.attachment_create(
                room=room, author=user, upload=SimpleUploadedFile("e.txt", b"")
            )

    def test_the_file_name_is_sanitized(self, room: Room, user: User) -> None:
        upload = SimpleUploadedFile("../../etc/\u202eevil\x00gpj.exe", b"data")
        message, _ = services.attachment_create(room=room, author=user, upload=upload)
        assert Attachment.objects.get(message=message).name == "evilgpj.exe"

    def test_anonymous_upload_is_refused(
        self, room: Room, png_upload: SimpleUploadedFile
    ) -> None:
        with pytest.raises(AuthRequired):
            services.attachment_create(room=room, author=None, upload=png_upload)

    def test_a_repeated_client_id_stores_one_file(
        self, room: Room, user: User, png_upload: SimpleUploadedFile
    ) -> None:
        first, _ = services.attachment_create(
            room=room, author=user, upload=png_upload, client_id="up-1"
        )
        again, created = services.attachment_create(
            room=room, author=user, upload=png_upload, client_id="up-1"
        )
        assert again.pk == first.pk
        assert created is False
        assert Attachment.objects.count() == 1


class RoomCreateTests:
    def test_a_room_gets_a_unique_slug(self, user: User) -> None:
        first = services.room_create(name="Book Club", created_by=user)
        second = services.room_create(name="Book club!", created_by=user)
        assert first.slug == "book-club"
        assert second.slug == "book-club-2"

    def test_a_cyrillic_name_gets_a_transliterated_slug(self, user: User) -> None:
        room = services.room_create(name="Котики и ёжики", created_by=user)
        assert room.name == "Котики и ёжики"
        assert room.slug == "kotiki-i-ezhiki"

    def test_a_name_without_letters_still_gets_a_slug(self, user: User) -> None:
        assert services.room_create(name="!!!", created_by=user).slug == "room"
        assert services.room_create(name="???", created_by=user).slug == "room-2"

    @pytest.mark.parametrize("name", ["", "   ", "x" * 81, "evil\u202ename"])
    def test_a_bad_name_is_refused(self, user: User, name: str) -> None:
        with pytest.raises(BadRequest):
            services.room_create(name=name, created_by=user)
        assert not Room.objects.filter(created_by=user).exists()

    def test_anonymous_cannot_create_a_room(self, db: None) -> None:
        with pytest.raises(AuthRequired):
            services.room_create(name="Nope", created_by=None)


@pytest.mark.django_db(transaction=True)
class MessageLogTests:
    def test_a_message_is_logged_before_anyone_hears_of_it(
        self, room: Room, user: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order: list[str] = []
        monkeypatch.setattr(
            events,
            "change_broadcast",
            lambda **event: order.append(f"broadcast {event['message_id']}"),
        )

        class Recorder(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                order.append(f"log {record.args[0]}")

        handler = Recorder()
        logging.getLogger("chat.services").addHandler(handler)
        try:
            first, _ = services.message_create(room=room, author=user, text="a")
            second, _ = services.message_create(room=room, author=user, text="b")
        finally:
            logging.getLogger("chat.services").removeHandler(handler)
        assert order == [
            f"log {first.pk}",
            f"broadcast {first.pk}",
            f"log {second.pk}",
            f"broadcast {second.pk}",
        ]


class MessageMentionTests:
    def test_mentions_of_users_are_stored_with_the_message(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message, _ = services.message_create(
            room=room, author=user, text="@BOB look, and `@alice` is code, @ghost"
        )
        message.refresh_from_db()
        assert message.mentions == ["bob"]
        assert '<span class="mention" data-mention="bob">@bob</span>' in message.html
        assert "@ghost" in message.html
