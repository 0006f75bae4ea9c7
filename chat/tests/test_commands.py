from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from chat import protocol, services
from chat.commands import Request, execute_together
from chat.models import Message, Room
from chat.tests.conftest import Broadcasts


def session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    assert key is not None
    return key


def post(room: Room, user: User, text: str) -> Message:
    message, _ = services.message_create(room=room, author=user, text=text)
    return message


def post_with_key(room: Room, user: User, text: str, client_id: str) -> Message:
    message, _ = services.message_create(
        room=room, author=user, text=text, client_id=client_id
    )
    return message


def send(text: str, client_id: str | None = None) -> protocol.SendMessage:
    return protocol.SendMessage(room=None, text=text, client_id=client_id)


def edit(message: Message, text: str, client_id: str = "e-1") -> protocol.Edit:
    return protocol.Edit(room=None, id=message.pk, text=text, client_id=client_id)


def delete(message_id: int, client_id: str = "d-1") -> protocol.Delete:
    return protocol.Delete(room=None, id=message_id, client_id=client_id)


def react(
    message: Message, emoji: str = "👍", on: bool = True, client_id: str = "r-1"
) -> protocol.React:
    return protocol.React(
        room=None, id=message.pk, emoji=emoji, on=on, client_id=client_id
    )


def run(
    room: Room, key: str | None, *commands: protocol.RoomCommand, language: str = "en"
) -> list[dict[str, Any] | None]:
    return run_all([(room, command) for command in commands], key, language)


def run_all(
    rest: list[tuple[Room, protocol.RoomCommand]], key: str | None, language: str = "en"
) -> list[dict[str, Any] | None]:
    """Carry out commands as a socket does: each call does a first part,
    and the rest go again."""
    replies: list[str | None] = []
    while rest:
        [done] = execute_together([(rest, key, language)])
        assert isinstance(done, list) and done, "a turn carries out at least one"
        replies.extend(done)
        rest = rest[len(done) :]
    return [None if reply is None else json.loads(reply) for reply in replies]


@pytest.fixture
def key(user: User) -> str:
    return session_key(user)


class ExecuteChangeTests:
    def test_a_change_is_answered_by_its_broadcast_alone(
        self, room: Room, user: User, key: str
    ) -> None:
        message = post(room, user, "typo")
        assert run(room, key, edit(message, "fixed")) == [None]
        assert run(room, key, react(message)) == [None]
        assert run(room, key, delete(message.pk)) == [None]
        stored = Message.objects.get(pk=message.pk)
        assert stored.deleted is True

    def test_a_sockets_posts_and_changes_in_one_room_update_its_row_once(
        self,
        room: Room,
        user: User,
        key: str,
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        message = post(room, user, "typo")
        start = Room.objects.get(pk=room.pk).last_seq
        commands: list[protocol.RoomCommand] = [
            send("one", "c-1"),
            edit(message, "fixed"),
            send("two", "c-2"),
            react(message),
        ]
        with committed(), CaptureQueriesContext(connection) as queries:
            assert run(room, key, *commands) == [None] * 4
        updates = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].startswith('UPDATE "chat_room"')
        ]
        assert len(updates) == 1, updates
        assert [(b["seq"], b["prev_seq"], b["client_id"]) for b in broadcasts] == [
            (start + 1, start, "c-1"),
            (start + 2, start + 1, "e-1"),
            (start + 3, start + 2, "c-2"),
            (start + 4, start + 3, "r-1"),
        ]
        assert Room.objects.get(pk=room.pk).last_seq == start + 4

    def test_a_change_that_changes_nothing_is_answered_to_the_sender(
        self, room: Room, user: User, key: str
    ) -> None:
        message = post(room, user, "same")
        [reply] = run(room, key, edit(message, "same", client_id="e-9"))
        assert reply is not None
        assert reply["type"] == "update"
        assert (reply["room"], reply["client_id"]) == (room.slug, "e-9")
        assert reply["seq"] == message.seq == reply["message"]["seq"]
        assert reply["message"]["text"] == "same"

    def test_a_reaction_already_on_is_answered_with_the_message_as_it_is(
        self, room: Room, user: User, key: str
    ) -> None:
        message = post(room, user, "nice")
        run(room, key, react(message))
        [reply] = run(room, key, react(message, client_id="r-2"))
        assert reply is not None
        assert (reply["type"], reply["client_id"]) == ("update", "r-2")
        assert reply["message"]["reactions"] == [
            {"emoji": "👍", "count": 1, "users": ["alice"]}
        ]

    def test_deleting_a_deleted_message_is_answered_with_the_tombstone(
        self, room: Room, user: User, key: str
    ) -> None:
        message = post(room, user, "gone")
        run(room, key, delete(message.pk))
        [reply] = run(room, key, delete(message.pk, client_id="d-2"))
        assert reply is not None
        assert (reply["type"], reply["client_id"]) == ("update", "d-2")
        assert reply["message"]["deleted"] is True

    @pytest.mark.parametrize(
        ("command", "code"),
        [
            ("edit others", "forbidden"),
            ("delete others", "forbidden"),
            ("edit unknown", "not_found"),
            ("delete unknown", "not_found"),
            ("react unknown", "not_found"),
            ("react not an emoji", "bad_request"),
            ("edit blank", "bad_request"),
            ("edit too long", "too_large"),
        ],
    )
    def test_a_refused_change_is_answered_with_an_error_naming_it(
        self,
        room: Room,
        user: User,
        other_user: User,
        key: str,
        command: str,
        code: str,
    ) -> None:
        mine = post(room, user, "mine")
        theirs = post(room, other_user, "theirs")
        unknown = Message(pk=10**9)
        commands: dict[str, protocol.RoomCommand] = {
            "edit others": edit(theirs, "hacked", client_id="c-1"),
            "delete others": delete(theirs.pk, client_id="c-1"),
            "edit unknown": edit(unknown, "x", client_id="c-1"),
            "delete unknown": delete(unknown.pk, client_id="c-1"),
            "react unknown": react(unknown, client_id="c-1"),
            "react not an emoji": react(mine, emoji="ok", client_id="c-1"),
            "edit blank": edit(mine, "  ", client_id="c-1"),
            "edit too long": edit(mine, "x" * 4001, client_id="c-1"),
        }
        [reply] = run(room, key, commands[command])
        assert reply is not None
        assert reply["type"] == "error"
        assert (reply["code"], reply["client_id"], reply["room"]) == (
            code,
            "c-1",
            room.slug,
        )
        assert reply["detail"]
        texts = set(Message.objects.values_list("text", flat=True))
        assert texts == {"mine", "theirs"}

    def test_a_change_of_a_deleted_message_is_a_bad_request(
        self, room: Room, user: User, key: str
    ) -> None:
        message = post(room, user, "gone")
        run(room, key, delete(message.pk))
        for command in (edit(message, "back"), react(message)):
            [reply] = run(room, key, command)
            assert reply is not None
            assert (reply["type"], reply["code"]) == ("error", "bad_request")


class ExecuteLoginTests:
    def test_a_guest_gets_auth_required_for_each_command(
        self, room: Room, user: User
    ) -> None:
        message = post(room, user, "hello")
        replies = run(
            room,
            None,
            send("hi", "s-1"),
            send("hi again", "s-2"),
            edit(message, "x", client_id="e-1"),
            react(message, client_id="r-1"),
        )
        assert [(r["code"], r["client_id"], r["room"]) for r in replies] == [
            ("auth_required", "s-1", room.slug),
            ("auth_required", "s-2", room.slug),
            ("auth_required", "e-1", room.slug),
            ("auth_required", "r-1", room.slug),
        ]
        assert Message.objects.count() == 1

    def test_each_refusal_of_a_batch_names_only_its_own_client_id(
        self, room: Room
    ) -> None:
        replies = run(room, None, send("a"), send("b", "s-1"), send("c"))
        assert [r and r.get("client_id") for r in replies] == [None, "s-1", None]

    def test_a_login_that_ended_since_the_socket_opened_is_refused(
        self, room: Room, key: str
    ) -> None:
        Session.objects.filter(session_key=key).delete()
        [reply] = run(room, key, send("still me?", "s-1"))
        assert reply is not None
        assert (reply["code"], reply["client_id"]) == ("auth_required", "s-1")
        assert not Message.objects.exists()

    def test_errors_speak_the_sockets_language(self, room: Room) -> None:
        [english] = run(room, None, send("hi"))
        [russian] = run(room, None, send("hi"), language="ru")
        assert english is not None and russian is not None
        assert russian["code"] == english["code"] == "auth_required"
        assert russian["detail"] != english["detail"]


class ExecuteTogetherTests:
    def test_each_socket_gets_its_own_replies(
        self, room: Room, user: User, key: str
    ) -> None:
        other = services.room_create(name="Other", created_by=user)
        both: list[tuple[Room, protocol.RoomCommand]] = [
            (other, send("there")),
            (room, send("here")),
        ]
        mine, guests, many = execute_together(
            [
                ([(room, send("mine"))], key, "en"),
                ([(room, send("hi"))], None, "ru"),
                (both, key, "en"),
            ]
        )
        assert mine == [None] and many == [None, None]
        assert isinstance(guests, list) and guests[0] is not None
        assert json.loads(guests[0])["code"] == "auth_required"
        texts = set(Message.objects.values_list("text", flat=True))
        assert texts == {"mine", "there", "here"}

    def test_an_ended_login_is_refused_in_a_group(self, room: Room, key: str) -> None:
        Session.objects.filter(session_key=key).delete()
        [replies] = execute_together([([(room, send("still me?"))], key, "en")])
        assert isinstance(replies, list) and replies[0] is not None
        assert json.loads(replies[0])["code"] == "auth_required"
        assert not Message.objects.exists()


class ExecutePostsTogetherTests:
    """Sockets that only post, each to its room, are stored together."""

    @pytest.fixture
    def writers(
        self, make_user: Callable[..., User], user: User
    ) -> list[tuple[Room, User, str]]:
        """Four writers, each in a room of its own."""
        rooms = [
            services.room_create(name=f"Room {n}", created_by=user) for n in range(4)
        ]
        people = [make_user(f"writer{n}") for n in range(4)]
        return [
            (room, person, session_key(person))
            for room, person in zip(rooms, people, strict=True)
        ]

    def test_many_sockets_posts_cost_a_few_statements_in_all(
        self,
        writers: list[tuple[Room, User, str]],
        broadcasts: Broadcasts,
        committed: Callable[[], Any],
    ) -> None:
        requests: list[Request] = [
            ([(room, send(f"from {person.username}", f"c-{n}"))], key, "en")
            for n, (room, person, key) in enumerate(writers)
        ]
        with committed(), CaptureQueriesContext(connection) as queries:
            assert execute_together(requests) == [[None]] * 4
        # The logins (sessions, users), the retries, the lock of the four
        # rooms, one INSERT, each room's row, and the transaction's own.
        assert len(queries) <= 2 + 1 + 1 + 1 + 4 + 2, [
            query["sql"] for query in queries.captured_queries
        ]
        assert [(b["room_slug"], b["client_id"]) for b in broadcasts] == [
            (room.slug, f"c-{n}") for n, (room, _person, _key) in enumerate(writers)
        ]
        for room, person, _key in writers:
            [stored] = Message.objects.filter(room=room)
            assert stored.author == person and stored.seq == room.last_seq + 1

    def test_a_refused_socket_leaves_the_others_stored(
        self, writers: list[tuple[Room, User, str]]
    ) -> None:
        (room_a, _a, key_a), (room_b, _b, key_b), (room_c, _c, _key_c) = writers[:3]
        replies = execute_together(
            [
                ([(room_a, send("fine", "a-1"))], key_a, "en"),
                ([(room_b, send("  ", "b-1")), (room_b, send("later"))], key_b, "en"),
                ([(room_c, send("as a guest", "g-1"))], None, "en"),
            ]
        )
        assert replies[0] == [None]
        assert isinstance(replies[1], list) and len(replies[1]) == 1
        assert replies[1][0] is not None
        assert json.loads(replies[1][0])["code"] == "bad_request"
        assert isinstance(replies[2], list) and replies[2][0] is not None
        assert json.loads(replies[2][0])["code"] == "auth_required"
        assert list(Message.objects.values_list("text", flat=True)) == ["fine"]

    def test_a_retry_is_answered_to_its_sender_and_the_rest_are_stored(
        self, writers: list[tuple[Room, User, str]]
    ) -> None:
        (room_a, person_a, key_a), (room_b, _b, key_b) = writers[:2]
        stored = post_with_key(room_a, person_a, "sent before", "a-1")
        mine, theirs = execute_together(
            [
                ([(room_a, send("sent before", "a-1"))], key_a, "en"),
                ([(room_b, send("new", "b-1"))], key_b, "en"),
            ]
        )
        assert theirs == [None]
        assert isinstance(mine, list) and mine[0] is not None
        retry = json.loads(mine[0])
        assert (retry["type"], retry["client_id"]) == ("message", "a-1")
        assert retry["message"]["id"] == stored.pk
        assert Message.objects.filter(room=room_a).count() == 1
        assert Message.objects.filter(room=room_b).count() == 1

    def test_a_retry_that_wins_the_race_is_answered_and_the_rest_are_stored(
        self,
        writers: list[tuple[Room, User, str]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Another process stores a retry of one of the posts between their
        check and their storing: the group's INSERT fails, and each post
        goes again on its own."""
        (room_a, person_a, key_a), (room_b, _b, key_b) = writers[:2]
        store = services.messages_store
        raced: list[Message] = []

        def race(postings: list[services.Posting]) -> None:
            if not raced:
                raced.append(post_with_key(room_a, person_a, "same", "a-1"))
            store(postings)

        monkeypatch.setattr(services, "messages_store", race)
        mine, theirs = execute_together(
            [
                ([(room_a, send("same", "a-1"))], key_a, "en"),
                ([(room_b, send("new", "b-1"))], key_b, "en"),
            ]
        )
        assert theirs == [None]
        assert isinstance(mine, list) and mine[0] is not None
        assert json.loads(mine[0])["message"]["id"] == raced[0].pk
        assert Message.objects.filter(room=room_a).count() == 1
        assert list(
            Message.objects.filter(room=room_b).values_list("text", flat=True)
        ) == ["new"]

    def test_a_room_gone_meanwhile_fails_only_its_socket(
        self,
        writers: list[tuple[Room, User, str]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        (room_a, _a, key_a), (room_b, _b, key_b) = writers[:2]
        store = services.messages_store

        def delete_first(postings: list[services.Posting]) -> None:
            Room.objects.filter(pk=room_a.pk).delete()
            store(postings)

        monkeypatch.setattr(services, "messages_store", delete_first)
        gone, theirs = execute_together(
            [
                ([(room_a, send("into the void", "a-1"))], key_a, "en"),
                ([(room_b, send("new", "b-1"))], key_b, "en"),
            ]
        )
        assert isinstance(gone, Room.DoesNotExist)
        assert theirs == [None]
        assert list(Message.objects.values_list("text", flat=True)) == ["new"]


class ExecuteOrderTests:
    def test_a_call_stops_after_the_first_answer_to_the_sender_alone(
        self, room: Room, user: User, key: str
    ) -> None:
        """Its answer must reach the sender before the next commands' broadcasts."""
        mine = post(room, user, "mine")
        commands: list[protocol.RoomCommand] = [
            send("a"),
            edit(mine, "mine"),
            send("b"),
            send("c"),
        ]
        [first] = execute_together([([(room, c) for c in commands], key, "en")])
        assert isinstance(first, list)
        assert len(first) == 2 and first[0] is None and first[1] is not None
        assert list(Message.objects.values_list("text", flat=True)) == ["mine", "a"]
        rest = [(room, c) for c in commands[2:]]
        assert execute_together([(rest, key, "en")]) == [[None, None]]

    def test_replies_come_in_the_order_of_the_commands(
        self, room: Room, user: User, other_user: User, key: str
    ) -> None:
        mine = post(room, user, "mine")
        theirs = post(room, other_user, "theirs")
        replies = run(
            room,
            key,
            send("first", "s-1"),
            edit(mine, "mine", client_id="e-1"),
            delete(theirs.pk, client_id="d-1"),
            send("second", "s-2"),
            send("   ", "s-3"),
        )
        assert replies[0] is None
        assert replies[1] is not None and replies[1]["type"] == "update"
        assert replies[2] is not None and replies[2]["code"] == "forbidden"
        assert replies[3] is None
        assert replies[4] is not None
        assert (replies[4]["code"], replies[4]["client_id"]) == ("bad_request", "s-3")
        texts = list(Message.objects.order_by("id").values_list("text", flat=True))
        assert texts == ["mine", "theirs", "first", "second"]

    def test_a_repeat_within_a_burst_is_stored_once_and_answered_to_the_sender(
        self, room: Room, key: str
    ) -> None:
        first, repeat = run(room, key, send("once", "k-1"), send("once", "k-1"))
        assert first is None
        assert repeat is not None
        assert (repeat["type"], repeat["client_id"]) == ("message", "k-1")
        assert repeat["message"]["text"] == "once"
        assert Message.objects.count() == 1

    def test_each_reply_names_the_room_of_its_command(
        self, room: Room, user: User, key: str
    ) -> None:
        other = services.room_create(name="Other", created_by=user)
        here = post(room, user, "here")
        there = post(other, user, "there")
        replies = run_all(
            [
                (room, edit(here, "here", client_id="a")),
                (other, edit(there, "there", client_id="b")),
                (other, edit(here, "wrong room", client_id="c")),
            ],
            key,
        )
        decoded = [reply for reply in replies if reply is not None]
        assert [(r["room"], r["type"]) for r in decoded] == [
            (room.slug, "update"),
            (other.slug, "update"),
            (other.slug, "error"),
        ]
        assert decoded[2]["code"] == "not_found"
