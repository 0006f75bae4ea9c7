from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from chat import selectors, services
from chat.exceptions import (
    AuthRequired,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    TooLarge,
)
from chat.models import DELETED_AUTHOR_NAME, Attachment, Message, Reaction, Room
from chat.payloads import message_payload
from chat.tests.conftest import Broadcasts
from conftest import image_bytes


def post(room: Room, author: User, text: str, **kwargs: Any) -> Message:
    message, _created = services.message_create(
        room=room, author=author, text=text, **kwargs
    )
    return message


def fresh(message: Message) -> Message:
    return selectors.message_get(room=message.room, message_id=message.pk)


def payload(message: Message) -> dict[str, Any]:
    return message_payload(fresh(message))


def last_seq(room: Room) -> int:
    return Room.objects.get(pk=room.pk).last_seq


@pytest.fixture
def other_room(user: User) -> Room:
    return services.room_create(name="Elsewhere", created_by=user)


class MessageEditTests:
    def test_the_new_text_is_stored_and_the_earlier_one_kept(
        self, room: Room, user: User
    ) -> None:
        original = post(room, user, "first")
        edited, changed = services.message_edit(
            room=room, editor=user, message_id=original.pk, text="second"
        )
        assert changed is True
        stored = fresh(original)
        assert stored.text == "second"
        assert stored.edited is not None and stored.edited > stored.created
        assert edited.edited == stored.edited
        assert selectors.message_revisions(stored) == [
            ("first", stored.created),
            ("second", stored.edited),
        ]

    def test_every_earlier_text_is_kept_with_when_it_was_written(
        self, room: Room, user: User
    ) -> None:
        message = post(room, user, "one")
        services.message_edit(room=room, editor=user, message_id=message.pk, text="two")
        first_edit = fresh(message).edited
        services.message_edit(
            room=room, editor=user, message_id=message.pk, text="three"
        )
        stored = fresh(message)
        assert selectors.message_revisions(stored) == [
            ("one", stored.created),
            ("two", first_edit),
            ("three", stored.edited),
        ]

    def test_html_and_mentions_follow_the_new_text(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message = post(room, user, "plain")
        services.message_edit(
            room=room, editor=user, message_id=message.pk, text="**hey** @bob"
        )
        stored = fresh(message)
        assert stored.mentions == ["bob"]
        assert "<strong>hey</strong>" in stored.html
        assert 'data-mention="bob"' in stored.html
        services.message_edit(
            room=room, editor=user, message_id=message.pk, text="never mind"
        )
        stored = fresh(message)
        assert stored.mentions == []
        assert stored.html == "<p>never mind</p>"

    def test_an_edit_takes_the_rooms_next_seq_and_is_broadcast(
        self,
        room: Room,
        user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        message = post(room, user, "typo")
        before = last_seq(room)
        with committed():
            edited, _ = services.message_edit(
                room=room,
                editor=user,
                message_id=message.pk,
                text="fixed",
                client_id="e-1",
            )
        assert edited.seq == before + 1 == last_seq(room)
        assert fresh(message).seq == edited.seq
        [sent] = broadcasts
        assert (sent["seq"], sent["prev_seq"]) == (before + 1, before)
        assert (sent["message_id"], sent["client_id"]) == (message.pk, "e-1")
        assert sent["message"]["text"] == "fixed"
        assert sent["message"]["edited"] is not None
        assert sent["message"]["seq"] == edited.seq

    def test_replies_get_a_change_of_their_own_with_the_new_quote(
        self,
        room: Room,
        user: User,
        other_user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        original = post(room, user, "Who is in today?")
        reply = post(room, other_user, "me", reply_to=original.pk)
        assert payload(reply)["reply_to"]["excerpt"] == "Who is in today?"
        reply_seq = fresh(reply).seq
        with committed():
            services.message_edit(
                room=room,
                editor=user,
                message_id=original.pk,
                text="Who is in tomorrow?",
                client_id="e-1",
            )
        quoted = payload(reply)
        assert quoted["reply_to"] == {
            "id": original.pk,
            "author": "Alice",
            "excerpt": "Who is in tomorrow?",
            "deleted": False,
        }
        assert quoted["seq"] > fresh(original).seq > reply_seq
        assert quoted["seq"] == last_seq(room)
        assert [(b["message_id"], b["client_id"]) for b in broadcasts] == [
            (original.pk, "e-1"),
            (reply.pk, None),
        ]
        assert broadcasts[1]["prev_seq"] == broadcasts[0]["seq"]
        assert broadcasts[1]["message"]["reply_to"]["excerpt"] == (
            "Who is in tomorrow?"
        )

    @pytest.mark.parametrize("text", ["same", "same\n", "same\r\n"])
    def test_the_same_text_changes_nothing(
        self,
        room: Room,
        user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
        text: str,
    ) -> None:
        message = post(room, user, "same")
        seq = fresh(message).seq
        with committed():
            result, changed = services.message_edit(
                room=room, editor=user, message_id=message.pk, text=text
            )
        assert changed is False
        assert result.pk == message.pk
        stored = fresh(message)
        assert (stored.seq, stored.edited) == (seq, None)
        assert not stored.revisions.exists()
        assert broadcasts == []

    def test_someone_elses_message_is_forbidden(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message = post(room, other_user, "mine")
        with pytest.raises(Forbidden):
            services.message_edit(
                room=room, editor=user, message_id=message.pk, text="yours now"
            )
        assert fresh(message).text == "mine"

    def test_staff_do_not_edit_others_messages_either(
        self, room: Room, user: User, other_user: User
    ) -> None:
        User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        user.refresh_from_db()
        message = post(room, other_user, "mine")
        with pytest.raises(Forbidden):
            services.message_edit(
                room=room, editor=user, message_id=message.pk, text="moderated"
            )

    def test_a_guest_cannot_edit(self, room: Room, user: User) -> None:
        message = post(room, user, "mine")
        with pytest.raises(AuthRequired):
            services.message_edit(
                room=room, editor=AnonymousUser(), message_id=message.pk, text="x"
            )

    def test_an_unknown_message_or_one_of_another_room_is_not_found(
        self, room: Room, other_room: Room, user: User
    ) -> None:
        elsewhere = post(other_room, user, "over there")
        for message_id in (elsewhere.pk, 10**9):
            with pytest.raises(NotFound):
                services.message_edit(
                    room=room, editor=user, message_id=message_id, text="x"
                )
        assert fresh(elsewhere).text == "over there"

    def test_a_deleted_message_cannot_be_edited(self, room: Room, user: User) -> None:
        message = post(room, user, "going")
        services.message_delete(room=room, actor=user, message_id=message.pk)
        with pytest.raises(BadRequest):
            services.message_edit(
                room=room, editor=user, message_id=message.pk, text="back"
            )
        assert fresh(message).text == ""

    def test_the_edit_window_closes_edits(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.EDIT_WINDOW_MINUTES = 5
        recent = post(room, user, "just now")
        old = post(room, user, "a while ago")
        Message.objects.filter(pk=old.pk).update(
            created=timezone.now() - datetime.timedelta(minutes=6)
        )
        _, changed = services.message_edit(
            room=room, editor=user, message_id=recent.pk, text="just now!"
        )
        assert changed is True
        with pytest.raises(Forbidden):
            services.message_edit(
                room=room, editor=user, message_id=old.pk, text="rewritten"
            )
        assert fresh(old).text == "a while ago"

    def test_without_an_edit_window_old_messages_can_be_edited(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.EDIT_WINDOW_MINUTES = None
        old = post(room, user, "last year")
        Message.objects.filter(pk=old.pk).update(
            created=timezone.now() - datetime.timedelta(days=365)
        )
        _, changed = services.message_edit(
            room=room, editor=user, message_id=old.pk, text="still me"
        )
        assert changed is True

    @pytest.mark.parametrize(
        ("text", "error"),
        [
            ("", BadRequest),
            ("  \n ", BadRequest),
            ("a\x00b", BadRequest),
            ("x" * 4001, TooLarge),
        ],
    )
    def test_the_new_text_is_validated_like_a_new_message(
        self, room: Room, user: User, text: str, error: type[Exception]
    ) -> None:
        message = post(room, user, "valid")
        with pytest.raises(error):
            services.message_edit(
                room=room, editor=user, message_id=message.pk, text=text
            )
        assert fresh(message).text == "valid"

    def test_a_message_with_a_file_may_lose_its_text(
        self, room: Room, user: User
    ) -> None:
        message, _ = services.attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
            text="my cat",
        )
        _, changed = services.message_edit(
            room=room, editor=user, message_id=message.pk, text=""
        )
        assert changed is True
        shown = payload(message)
        assert (shown["text"], shown["html"]) == ("", "")
        assert shown["attachment"]["name"] == "cat.png"

    def test_edits_count_against_the_message_rate_limit(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "2/60"
        message = post(room, user, "one")
        services.message_edit(room=room, editor=user, message_id=message.pk, text="2")
        with pytest.raises(RateLimited):
            services.message_edit(
                room=room, editor=user, message_id=message.pk, text="3"
            )
        assert fresh(message).text == "2"


class MessageDeleteTests:
    def test_a_deleted_message_stays_as_a_tombstone(
        self,
        room: Room,
        user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        message = post(room, user, "**oops** @alice")
        before = last_seq(room)
        with committed():
            deleted, changed = services.message_delete(
                room=room, actor=user, message_id=message.pk, client_id="d-1"
            )
        assert changed is True
        shown = payload(message)
        assert shown["deleted"] is True
        assert (shown["text"], shown["html"], shown["mentions"]) == ("", "", [])
        assert (shown["attachment"], shown["reactions"]) == (None, [])
        assert shown["id"] == message.pk
        assert shown["seq"] == deleted.seq == before + 1 == last_seq(room)
        [sent] = broadcasts
        assert (sent["message_id"], sent["client_id"]) == (message.pk, "d-1")
        assert sent["message"] == shown

    def test_revisions_and_reactions_go_with_the_text(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message = post(room, user, "before")
        services.message_edit(
            room=room, editor=user, message_id=message.pk, text="after"
        )
        services.reaction_set(
            room=room, user=other_user, message_id=message.pk, emoji="👍", on=True
        )
        services.message_delete(room=room, actor=user, message_id=message.pk)
        assert not fresh(message).revisions.exists()
        assert not Reaction.objects.filter(message_id=message.pk).exists()

    def test_the_attachment_goes_and_its_files_after_the_commit(
        self,
        room: Room,
        user: User,
        media_root: Path,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        message, _ = services.attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
        )
        attachment = Attachment.objects.get(message=message)
        files = [
            Path(attachment.file.path),
            Path(attachment.thumbnail.path),
        ]
        assert all(path.is_file() for path in files)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.message_delete(room=room, actor=user, message_id=message.pk)
            assert not Attachment.objects.filter(pk=attachment.pk).exists()
            # Still there until the row's removal is committed.
            assert all(path.is_file() for path in files)
        assert callbacks
        assert not any(path.exists() for path in files)
        assert not any(p.is_file() for p in Path(media_root).rglob("*"))
        assert payload(message)["attachment"] is None

    def test_staff_may_delete_anyones_message(
        self, room: Room, user: User, other_user: User
    ) -> None:
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.refresh_from_db()
        message = post(room, other_user, "rude")
        _, changed = services.message_delete(
            room=room, actor=user, message_id=message.pk
        )
        assert changed is True
        assert fresh(message).deleted is True

    def test_others_may_not_delete_ones_message(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message = post(room, user, "mine")
        with pytest.raises(Forbidden):
            services.message_delete(room=room, actor=other_user, message_id=message.pk)
        with pytest.raises(AuthRequired):
            services.message_delete(
                room=room, actor=AnonymousUser(), message_id=message.pk
            )
        assert fresh(message).deleted is False

    def test_an_unknown_message_is_not_found(self, room: Room, user: User) -> None:
        with pytest.raises(NotFound):
            services.message_delete(room=room, actor=user, message_id=10**9)

    def test_deleting_again_changes_nothing(
        self,
        room: Room,
        user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        message = post(room, user, "once")
        services.message_delete(room=room, actor=user, message_id=message.pk)
        seq = fresh(message).seq
        with committed():
            again, changed = services.message_delete(
                room=room, actor=user, message_id=message.pk
            )
        assert changed is False
        assert again.deleted is True
        assert fresh(message).seq == seq == last_seq(room)
        assert broadcasts == []

    def test_replies_keep_their_anchor_and_show_it_deleted(
        self,
        room: Room,
        user: User,
        other_user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        original = post(room, user, "regrettable")
        reply = post(room, other_user, "indeed", reply_to=original.pk)
        with committed():
            services.message_delete(room=room, actor=user, message_id=original.pk)
        quoted = payload(reply)
        assert quoted["reply_to"] == {
            "id": original.pk,
            "author": "Alice",
            "excerpt": "",
            "deleted": True,
        }
        assert quoted["text"] == "indeed"
        assert quoted["seq"] == last_seq(room) > fresh(original).seq
        assert [b["message_id"] for b in broadcasts] == [original.pk, reply.pk]


class ReplyTests:
    def test_a_reply_quotes_the_start_of_its_original_on_one_line(
        self, room: Room, user: User, other_user: User
    ) -> None:
        original = post(room, user, "line one\nline two " + "x" * 200)
        reply = post(room, other_user, "answer", reply_to=original.pk)
        quote = payload(reply)["reply_to"]
        assert quote["id"] == original.pk
        assert quote["author"] == "Alice"
        assert quote["deleted"] is False
        assert "\n" not in quote["excerpt"]
        assert quote["excerpt"].startswith("line one line two x")
        assert len(quote["excerpt"]) <= 100

    def test_a_reply_to_a_deleted_message_is_refused(
        self, room: Room, user: User
    ) -> None:
        original = post(room, user, "gone")
        services.message_delete(room=room, actor=user, message_id=original.pk)
        with pytest.raises(BadRequest):
            post(room, user, "to the void", reply_to=original.pk)
        assert not Message.objects.filter(text="to the void").exists()

    def test_a_reply_to_an_unknown_message_is_refused(
        self, room: Room, user: User
    ) -> None:
        with pytest.raises(NotFound):
            post(room, user, "to nothing", reply_to=10**9)
        assert not Message.objects.exists()

    def test_a_reply_to_another_rooms_message_is_refused(
        self, room: Room, other_room: Room, user: User
    ) -> None:
        elsewhere = post(other_room, user, "over there")
        with pytest.raises(NotFound):
            post(room, user, "across rooms", reply_to=elsewhere.pk)
        assert not Message.objects.filter(room=room).exists()

    def test_a_file_may_reply_to_a_message(self, room: Room, user: User) -> None:
        original = post(room, user, "send me the photo")
        message, _ = services.attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
            reply_to=original.pk,
        )
        assert payload(message)["reply_to"]["id"] == original.pk


class MessagesDisownTests:
    def test_the_authors_messages_stay_as_a_deleted_users_with_new_seqs(
        self,
        room: Room,
        other_room: Room,
        user: User,
        other_user: User,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        mine = post(room, user, "mine")
        elsewhere = post(other_room, user, "mine too")
        theirs = post(room, other_user, "theirs")
        reply = post(room, other_user, "answer", reply_to=mine.pk)
        services.reaction_set(
            room=room, user=user, message_id=theirs.pk, emoji="👍", on=True
        )
        before = {r: last_seq(r) for r in (room, other_room)}
        with committed():
            count = services.messages_disown(author=user)
        assert count == 2
        for message in (mine, elsewhere):
            shown = payload(message)
            assert (shown["author"], shown["username"]) == (DELETED_AUTHOR_NAME, None)
        # Their reaction went; the reply quotes a deleted user.
        assert payload(theirs)["reactions"] == []
        assert payload(reply)["reply_to"]["author"] == DELETED_AUTHOR_NAME
        # Each changed message is a change of its room, numbered in order.
        changed_here = [mine.pk, theirs.pk, reply.pk]
        assert [Message.objects.get(pk=pk).seq for pk in changed_here] == [
            before[room] + 1,
            before[room] + 2,
            before[room] + 3,
        ]
        assert last_seq(room) == before[room] + 3
        assert fresh(elsewhere).seq == last_seq(other_room) == before[other_room] + 1
        by_room: dict[str, list[tuple[int, int]]] = {}
        for sent in broadcasts:
            by_room.setdefault(sent["room_slug"], []).append(
                (sent["prev_seq"], sent["seq"])
            )
        assert by_room == {
            room.slug: [
                (before[room], before[room] + 1),
                (before[room] + 1, before[room] + 2),
                (before[room] + 2, before[room] + 3),
            ],
            other_room.slug: [(before[other_room], before[other_room] + 1)],
        }

    def test_the_authors_files_go_after_the_commit(
        self,
        room: Room,
        user: User,
        media_root: Path,
        committed: Callable[[], Any],
    ) -> None:
        message, _ = services.attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
        )
        with committed():
            services.messages_disown(author=user)
        assert not Attachment.objects.exists()
        assert not any(p.is_file() for p in Path(media_root).rglob("*"))
        assert payload(message)["attachment"] is None


@pytest.mark.django_db
class RoomNoticeTests:
    """'@room' mentions everyone in the room, within its size and rate rules."""

    def test_it_counts_as_a_mention_for_every_member(
        self, room: Room, user: User, other_user: User
    ) -> None:
        services.room_join(room=room, user=other_user)
        message = post(room, user, "@room lunch is here")
        assert message.notifies_room is True
        assert 'data-mention="@room"' in message.html
        assert payload(message)["notifies_room"] is True
        place = selectors.room_entry(Room.objects.get(pk=room.pk), other_user).place
        assert (place.unread, place.mentions) == (1, 1)

    def test_in_code_or_inside_a_word_it_is_plain_text(
        self, room: Room, user: User
    ) -> None:
        for text in ("`@room`", "mail@room.org", "@roomy"):
            message = post(room, user, text)
            assert message.notifies_room is False, text
            assert "data-mention" not in message.html

    def test_in_a_large_room_only_staff_may(
        self, room: Room, user: User, make_user: Callable[..., User]
    ) -> None:
        for number in range(15):
            services.room_join(room=room, user=make_user(f"member{number}"))
        assert room.memberships.count() == 16  # Its creator too.
        with pytest.raises(Forbidden):
            post(room, user, "@room hello all")
        assert not Message.objects.filter(text="@room hello all").exists()
        user.is_staff = True
        user.save()
        assert post(room, user, "@room hello all").notifies_room is True

    def test_at_most_once_in_ten_minutes_per_person_and_room(
        self, room: Room, user: User, other_user: User
    ) -> None:
        post(room, user, "@room first")
        with pytest.raises(Forbidden) as refused:
            post(room, user, "@room again")
        assert "in 10 min" in refused.value.detail
        # The same person's other messages go through meanwhile.
        assert post(room, user, "no notice").notifies_room is False
        # Others may; and a batch holds one at most.
        assert post(room, other_user, "@room me too").notifies_room is True
        other = services.room_create(name="Other", created_by=user)
        results = services.messages_create(
            room=other,
            author=user,
            posts=[services.Post("@room one"), services.Post("@room two")],
        )
        assert isinstance(results[0], tuple) and results[0][0].notifies_room
        assert isinstance(results[1], Forbidden)
        # Ten minutes later, again.
        Message.objects.filter(notifies_room=True).update(
            created=timezone.now() - datetime.timedelta(minutes=11)
        )
        assert post(room, user, "@room later").notifies_room is True

    def test_an_edit_neither_adds_nor_takes_away_the_notice(
        self, room: Room, user: User
    ) -> None:
        plain = post(room, user, "hello")
        edited, _ = services.message_edit(
            room=room, editor=user, message_id=plain.pk, text="hello @room"
        )
        assert edited.notifies_room is False
        assert "data-mention" not in edited.html
        notice = post(room, user, "@room hi")
        edited, _ = services.message_edit(
            room=room, editor=user, message_id=notice.pk, text="@room hi, fixed"
        )
        assert edited.notifies_room is True
        assert 'data-mention="@room"' in edited.html
