from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.services import user_set_display_name
from chat.models import DELETED_AUTHOR_NAME, Message, Room
from chat.payloads import message_payload
from chat.services import attachment_create, message_create
from conftest import image_bytes


class MessagePayloadTests:
    def test_a_text_message_has_the_contract_shape(
        self, room: Room, user: User
    ) -> None:
        message, _ = message_create(room=room, author=user, text="hello **you**")
        payload = message_payload(message)
        assert payload == {
            "id": message.pk,
            "room": room.slug,
            "author": "Alice",
            "username": "alice",
            "bot": False,
            "text": "hello **you**",
            "html": "<p>hello <strong>you</strong></p>",
            "mentions": [],
            "notifies_room": False,
            "created": message.created.isoformat(),
            "attachment": None,
            "seq": message.seq,
            "edited": None,
            "deleted": False,
            "reply_to": None,
            "reactions": [],
            "member": None,
        }
        created = datetime.datetime.fromisoformat(payload["created"])
        assert created.utcoffset() == datetime.timedelta(0)

    def test_an_image_attachment_has_urls_and_a_thumbnail(
        self, room: Room, user: User
    ) -> None:
        message, _ = attachment_create(
            room=room, author=user, upload=SimpleUploadedFile("a.png", image_bytes())
        )
        attachment = message_payload(message)["attachment"]
        key = message.attachment.key
        assert attachment == {
            "name": "a.png",
            "size": len(image_bytes()),
            "content_type": "image/png",
            "url": f"/files/{key}/",
            "thumbnail_url": f"/files/{key}/thumbnail/",
        }

    def test_a_plain_file_has_no_thumbnail_url(self, room: Room, user: User) -> None:
        message, _ = attachment_create(
            room=room, author=user, upload=SimpleUploadedFile("a.txt", b"text")
        )
        assert message_payload(message)["attachment"]["thumbnail_url"] is None

    def test_the_author_is_the_display_name_when_posted(
        self, room: Room, user: User
    ) -> None:
        before, _ = message_create(room=room, author=user, text="hello")
        user_set_display_name(user=user, display_name="Alice B.")
        after, _ = message_create(room=room, author=user, text="again")
        before.refresh_from_db()
        assert message_payload(before)["author"] == "Alice"
        assert message_payload(after)["author"] == "Alice B."

    def test_the_username_says_who_wrote_whatever_the_display_name(
        self, room: Room, user: User, make_user: Callable[..., User]
    ) -> None:
        """Two display names that look alike still come with different usernames."""
        lookalike = make_user("mallory", "Аlice")  # Cyrillic А
        real, _ = message_create(room=room, author=user, text="hi")
        fake, _ = message_create(room=room, author=lookalike, text="hi")
        assert message_payload(real)["username"] == "alice"
        assert message_payload(fake)["username"] == "mallory"

    def test_a_deleted_authors_message_has_no_username(
        self, room: Room, user: User
    ) -> None:
        message, _ = message_create(room=room, author=user, text="hi")
        Message.objects.filter(pk=message.pk).update(author=None)
        message.refresh_from_db()
        assert message_payload(message)["username"] is None

    def test_a_message_with_no_author_and_no_stored_name_reads_deleted_user(
        self, room: Room, user: User
    ) -> None:
        message, _ = message_create(room=room, author=user, text="hi")
        Message.objects.filter(pk=message.pk).update(author=None, author_name="")
        message.refresh_from_db()
        assert message_payload(message)["author"] == DELETED_AUTHOR_NAME


class ReplyQuoteTests:
    def test_a_quote_reads_as_the_original_shows_without_markdown(
        self, room: Room, user: User
    ) -> None:
        original, _ = message_create(
            room=room,
            author=user,
            text="Who is in **today**?\n\n> a <b>quote</b>\n\n- one\n- two",
        )
        reply, _ = message_create(
            room=room, author=user, text="me", reply_to=original.pk
        )
        quote = message_payload(reply)["reply_to"]
        assert quote == {
            "id": original.pk,
            "author": "Alice",
            "excerpt": "Who is in today? a <b>quote</b> one two",
            "deleted": False,
        }

    def test_a_long_original_is_cut_to_100_characters(
        self, room: Room, user: User
    ) -> None:
        original, _ = message_create(room=room, author=user, text="word " * 50)
        reply, _ = message_create(
            room=room, author=user, text="me", reply_to=original.pk
        )
        excerpt = message_payload(reply)["reply_to"]["excerpt"]
        assert len(excerpt) == 100
        assert excerpt.endswith("…")
