from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from chat import events, services
from chat.models import Attachment, Message, Room
from conftest import MESSAGE_KEYS, image_bytes


def message_url(message: Message) -> str:
    return f"/api/rooms/{message.room.slug}/messages/{message.pk}"


def reaction_url(message: Message, emoji: str) -> str:
    return f"{message_url(message)}/reactions/{quote(emoji)}"


def list_url(room: Room) -> str:
    return f"/api/rooms/{room.slug}/messages"


def post(room: Room, user: User, text: str, **kwargs: Any) -> Message:
    message, _ = services.message_create(room=room, author=user, text=text, **kwargs)
    return message


def patch(client: Client, url: str, body: Any, **kwargs: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.patch(url, data, content_type="application/json", **kwargs)


def logged_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.fixture
def message(room: Room, user: User) -> Message:
    return post(room, user, "**first** draft")


@pytest.fixture
def bob_client(other_user: User) -> Client:
    return logged_in(other_user)


@pytest.fixture
def broadcasts(
    monkeypatch: pytest.MonkeyPatch,
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "change_broadcast", lambda **e: sent.append(e))
    return sent


class MessageEditApiTests:
    def test_the_author_edits_and_gets_the_new_message(
        self,
        user_client: Client,
        message: Message,
        broadcasts: list[dict[str, Any]],
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = patch(user_client, message_url(message), {"text": "_final_"})
        assert response.status_code == 200
        shown = response.json()["message"]
        assert set(shown) == MESSAGE_KEYS
        assert (shown["text"], shown["html"]) == ("_final_", "<p><em>final</em></p>")
        assert shown["edited"] is not None
        assert shown["seq"] > message.seq
        [sent] = broadcasts
        assert (sent["message_id"], sent["seq"]) == (message.pk, shown["seq"])
        assert json.loads(sent["message"]) == shown

    def test_the_same_text_answers_the_message_as_it_is(
        self,
        user_client: Client,
        message: Message,
        broadcasts: list[dict[str, Any]],
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = patch(
                user_client, message_url(message), {"text": "**first** draft"}
            )
        assert response.status_code == 200
        assert response.json()["message"]["edited"] is None
        assert response.json()["message"]["seq"] == message.seq
        assert broadcasts == []

    def test_a_guest_must_log_in(self, client: Client, message: Message) -> None:
        response = patch(client, message_url(message), {"text": "guest"})
        assert error_of(response) == (403, "auth_required")
        assert Message.objects.get(pk=message.pk).text == "**first** draft"

    def test_someone_elses_message_is_forbidden(
        self, bob_client: Client, message: Message
    ) -> None:
        response = patch(bob_client, message_url(message), {"text": "mine now"})
        assert error_of(response) == (403, "forbidden")
        assert response.json()["detail"]
        assert Message.objects.get(pk=message.pk).text == "**first** draft"

    def test_an_unknown_message_or_one_of_another_room_is_404(
        self, user_client: Client, user: User, message: Message
    ) -> None:
        other = services.room_create(name="Other", created_by=user)
        response = patch(
            user_client, f"/api/rooms/{other.slug}/messages/{message.pk}", {"text": "x"}
        )
        assert error_of(response) == (404, "not_found")
        response = patch(
            user_client,
            f"/api/rooms/{message.room.slug}/messages/999999",
            {"text": "x"},
        )
        assert error_of(response) == (404, "not_found")
        response = patch(
            user_client, f"/api/rooms/nowhere/messages/{message.pk}", {"text": "x"}
        )
        assert error_of(response) == (404, "not_found")

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ("{not json", (400, "bad_request")),
            ("[1, 2]", (400, "bad_request")),
            ({"text": 42}, (400, "bad_request")),
            ({}, (400, "bad_request")),
            ({"text": "   "}, (400, "bad_request")),
            ({"text": "x" * 4001}, (413, "too_large")),
        ],
        ids=["bad json", "not an object", "number", "no text", "blank", "too long"],
    )
    def test_a_bad_body_is_refused_and_nothing_changes(
        self,
        user_client: Client,
        message: Message,
        body: Any,
        expected: tuple[int, str],
    ) -> None:
        response = patch(user_client, message_url(message), body)
        assert error_of(response) == expected
        assert Message.objects.get(pk=message.pk).text == "**first** draft"

    def test_an_edit_needs_a_csrf_token(self, user: User, message: Message) -> None:
        client = logged_in(user, csrf=True)
        response = patch(client, message_url(message), {"text": "sneaky"})
        assert error_of(response) == (403, "csrf_failed")
        assert Message.objects.get(pk=message.pk).text == "**first** draft"
        client.get(f"/rooms/{message.room.slug}/")
        token = client.cookies["csrftoken"].value
        response = patch(
            client,
            message_url(message),
            {"text": "honest"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 200
        assert Message.objects.get(pk=message.pk).text == "honest"

    def test_only_patch_and_delete_are_allowed(
        self, user_client: Client, message: Message
    ) -> None:
        assert user_client.get(message_url(message)).status_code == 405
        assert user_client.post(message_url(message)).status_code == 405


class MessageDeleteApiTests:
    def test_the_author_deletes_and_gets_the_tombstone(
        self, user_client: Client, message: Message
    ) -> None:
        response = user_client.delete(message_url(message))
        assert response.status_code == 200
        shown = response.json()["message"]
        assert shown["deleted"] is True
        assert (shown["id"], shown["text"], shown["html"]) == (message.pk, "", "")
        assert Message.objects.filter(pk=message.pk, deleted=True).exists()
        listed = user_client.get(list_url(message.room)).json()["messages"]
        assert listed == [shown]

    def test_deleting_again_answers_the_tombstone(
        self, user_client: Client, message: Message
    ) -> None:
        first = user_client.delete(message_url(message)).json()["message"]
        again = user_client.delete(message_url(message))
        assert again.status_code == 200
        assert again.json()["message"] == first

    def test_staff_delete_anyones_message(
        self, message: Message, other_user: User
    ) -> None:
        User.objects.filter(pk=other_user.pk).update(is_staff=True)
        response = logged_in(other_user).delete(message_url(message))
        assert response.status_code == 200
        assert response.json()["message"]["deleted"] is True

    def test_others_and_guests_may_not_delete(
        self, client: Client, bob_client: Client, message: Message
    ) -> None:
        assert error_of(bob_client.delete(message_url(message))) == (403, "forbidden")
        assert error_of(client.delete(message_url(message))) == (
            403,
            "auth_required",
        )
        assert Message.objects.get(pk=message.pk).deleted is False

    def test_an_unknown_message_is_404(self, user_client: Client, room: Room) -> None:
        response = user_client.delete(f"/api/rooms/{room.slug}/messages/424242")
        assert error_of(response) == (404, "not_found")

    def test_a_delete_needs_a_csrf_token(self, user: User, message: Message) -> None:
        response = logged_in(user, csrf=True).delete(message_url(message))
        assert error_of(response) == (403, "csrf_failed")
        assert Message.objects.get(pk=message.pk).deleted is False

    def test_a_deleted_messages_file_answers_404(
        self, user_client: Client, room: Room, user: User
    ) -> None:
        shared, _ = services.attachment_create(
            room=room, author=user, upload=SimpleUploadedFile("a.png", image_bytes())
        )
        url = Attachment.objects.get(message=shared).get_absolute_url()
        assert user_client.get(url).status_code == 200
        user_client.delete(message_url(shared))
        assert user_client.get(url).status_code == 404


class ReactionApiTests:
    def test_put_puts_a_reaction_on_and_delete_takes_it_off(
        self, bob_client: Client, message: Message
    ) -> None:
        response = bob_client.put(reaction_url(message, "👍"))
        assert response.status_code == 200
        assert response.json()["message"]["reactions"] == [
            {"emoji": "👍", "count": 1, "users": ["bob"]}
        ]
        again = bob_client.put(reaction_url(message, "👍"))
        assert again.status_code == 200
        assert again.json()["message"]["reactions"] == [
            {"emoji": "👍", "count": 1, "users": ["bob"]}
        ]
        response = bob_client.delete(reaction_url(message, "👍"))
        assert response.status_code == 200
        assert response.json()["message"]["reactions"] == []

    @pytest.mark.parametrize(
        "emoji",
        ["👍🏽", "🇫🇷", "👩\u200d👩\u200d👧\u200d👦"],
        ids=["tone", "flag", "zwj"],
    )
    def test_an_emoji_of_several_code_points_travels_percent_encoded(
        self, bob_client: Client, message: Message, emoji: str
    ) -> None:
        response = bob_client.put(reaction_url(message, emoji))
        assert response.status_code == 200
        assert response.json()["message"]["reactions"][0]["emoji"] == emoji

    @pytest.mark.parametrize("emoji", ["ok", "👍👍", "x" * 40])
    def test_anything_but_one_emoji_is_a_bad_request(
        self, bob_client: Client, message: Message, emoji: str
    ) -> None:
        response = bob_client.put(reaction_url(message, emoji))
        assert error_of(response) == (400, "bad_request")

    def test_guests_may_not_react(self, client: Client, message: Message) -> None:
        response = client.put(reaction_url(message, "👍"))
        assert error_of(response) == (403, "auth_required")

    def test_a_deleted_or_unknown_message_takes_no_reaction(
        self, user_client: Client, message: Message
    ) -> None:
        missing = (
            f"/api/rooms/{message.room.slug}/messages/999999/reactions/%F0%9F%91%8D"
        )
        assert error_of(user_client.put(missing)) == (404, "not_found")
        user_client.delete(message_url(message))
        assert error_of(user_client.put(reaction_url(message, "👍"))) == (
            400,
            "bad_request",
        )

    def test_a_reaction_needs_a_csrf_token(
        self, other_user: User, message: Message
    ) -> None:
        response = logged_in(other_user, csrf=True).put(reaction_url(message, "👍"))
        assert error_of(response) == (403, "csrf_failed")
        assert not message.reactions.exists()


class RevisionListApiTests:
    def test_the_author_reads_every_text_oldest_first(
        self, user_client: Client, message: Message
    ) -> None:
        patch(user_client, message_url(message), {"text": "second draft"})
        patch(user_client, message_url(message), {"text": "final"})
        response = user_client.get(f"{message_url(message)}/revisions")
        assert response.status_code == 200
        revisions = response.json()["revisions"]
        assert [r["text"] for r in revisions] == [
            "**first** draft",
            "second draft",
            "final",
        ]
        written = [datetime.datetime.fromisoformat(r["written"]) for r in revisions]
        assert written == sorted(written)
        assert written[0] == Message.objects.get(pk=message.pk).created
        assert written[-1] == Message.objects.get(pk=message.pk).edited

    def test_an_unedited_message_has_its_one_text(
        self, user_client: Client, message: Message
    ) -> None:
        revisions = user_client.get(f"{message_url(message)}/revisions").json()
        assert [r["text"] for r in revisions["revisions"]] == ["**first** draft"]

    def test_staff_read_them_too(self, message: Message, other_user: User) -> None:
        User.objects.filter(pk=other_user.pk).update(is_staff=True)
        response = logged_in(other_user).get(f"{message_url(message)}/revisions")
        assert response.status_code == 200

    def test_others_are_forbidden_and_guests_must_log_in(
        self, client: Client, bob_client: Client, message: Message
    ) -> None:
        url = f"{message_url(message)}/revisions"
        assert error_of(bob_client.get(url)) == (403, "forbidden")
        assert error_of(client.get(url)) == (403, "auth_required")

    def test_a_deleted_or_unknown_message_has_none(
        self, user_client: Client, message: Message
    ) -> None:
        missing = f"/api/rooms/{message.room.slug}/messages/999999/revisions"
        assert error_of(user_client.get(missing)) == (404, "not_found")
        user_client.delete(message_url(message))
        url = f"{message_url(message)}/revisions"
        assert error_of(user_client.get(url)) == (404, "not_found")


class MessageSinceApiTests:
    def test_since_brings_every_later_change_in_seq_order(
        self, client: Client, user_client: Client, room: Room, user: User
    ) -> None:
        first, second, third = (post(room, user, t) for t in ("one", "two", "three"))
        since = Room.objects.get(pk=room.pk).last_seq
        fourth = post(room, user, "four")
        patch(user_client, message_url(first), {"text": "one, edited"})
        user_client.delete(message_url(third))
        user_client.put(reaction_url(second, "👍"))
        messages = client.get(list_url(room), {"since": since}).json()["messages"]
        assert [m["id"] for m in messages] == [fourth.pk, first.pk, third.pk, second.pk]
        seqs = [m["seq"] for m in messages]
        assert seqs == sorted(seqs) and seqs[0] == since + 1
        assert seqs[-1] == Room.objects.get(pk=room.pk).last_seq
        by_id = {m["id"]: m for m in messages}
        assert by_id[first.pk]["text"] == "one, edited"
        assert by_id[third.pk]["deleted"] is True
        assert by_id[second.pk]["reactions"][0]["emoji"] == "👍"

    def test_since_pages_on_with_the_last_seq(
        self, client: Client, room: Room, user: User
    ) -> None:
        ids = [post(room, user, f"m{n}").pk for n in range(7)]
        seen: list[int] = []
        since = 0
        while True:
            page = client.get(list_url(room), {"since": since, "limit": 3}).json()
            if not page["messages"]:
                break
            assert len(page["messages"]) <= 3
            seen += [m["id"] for m in page["messages"]]
            since = page["messages"][-1]["seq"]
        assert seen == ids

    def test_since_the_newest_change_is_empty(
        self, client: Client, room: Room, user: User
    ) -> None:
        post(room, user, "hi")
        since = Room.objects.get(pk=room.pk).last_seq
        assert client.get(list_url(room), {"since": since}).json() == {"messages": []}

    @pytest.mark.parametrize(
        "query",
        [
            {"since": "x"},
            {"since": "-1"},
            {"since": "1", "after": "1"},
            {"since": "1", "around": "1"},
            {"around": "1", "before": "5"},
        ],
    )
    def test_bad_or_mixed_parameters_are_a_bad_request(
        self, client: Client, room: Room, query: dict[str, str]
    ) -> None:
        response = client.get(list_url(room), query)
        assert error_of(response) == (400, "bad_request")


class MessageAroundApiTests:
    def test_around_brings_the_message_amid_its_neighbours(
        self, client: Client, room: Room, user: User
    ) -> None:
        ids = [post(room, user, f"m{n}").pk for n in range(20)]
        page = client.get(list_url(room), {"around": ids[10], "limit": 5}).json()
        assert [m["id"] for m in page["messages"]] == ids[8:13]

    def test_around_an_early_message_fills_up_with_later_ones(
        self, client: Client, room: Room, user: User
    ) -> None:
        ids = [post(room, user, f"m{n}").pk for n in range(20)]
        page = client.get(list_url(room), {"around": ids[1], "limit": 6}).json()
        assert [m["id"] for m in page["messages"]] == ids[0:6]

    def test_around_a_late_message_ends_with_the_newest(
        self, client: Client, room: Room, user: User
    ) -> None:
        ids = [post(room, user, f"m{n}").pk for n in range(20)]
        page = client.get(list_url(room), {"around": ids[-1], "limit": 5}).json()
        assert [m["id"] for m in page["messages"]][-1] == ids[-1]
        assert ids[-1] in [m["id"] for m in page["messages"]]

    def test_around_includes_the_replied_to_message_in_its_current_state(
        self, client: Client, user_client: Client, room: Room, user: User
    ) -> None:
        original = post(room, user, "the question")
        for n in range(60):
            post(room, user, f"chatter {n}")
        reply = post(room, user, "the answer", reply_to=original.pk)
        quoted = client.get(list_url(room)).json()["messages"][-1]
        assert (quoted["id"], quoted["reply_to"]["id"]) == (reply.pk, original.pk)
        patch(user_client, message_url(original), {"text": "the real question"})
        page = client.get(list_url(room), {"around": original.pk, "limit": 3})
        [shown] = [m for m in page.json()["messages"] if m["id"] == original.pk]
        assert shown["text"] == "the real question"
