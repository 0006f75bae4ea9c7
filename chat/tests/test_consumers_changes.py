"""The change stream on the socket: edits, deletes, reactions, resuming, rooms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from chat import services
from chat.hub import get_hub
from chat.models import Message, Room
from chat.tests.test_consumers import connected, socket

pytestmark = pytest.mark.django_db(transaction=True)

# Generous: the machine is small and a catch-up reads hundreds of messages.
WAIT = 5


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
    return frame


async def quiet(*communicators: WebsocketCommunicator) -> bool:
    """Return whether none of ``communicators`` gets another frame soon."""
    for communicator in communicators:
        if not await communicator.receive_nothing(timeout=0.2):
            return False
    return True


async def post(room: Room, user: User, text: str, **kwargs: Any) -> Message:
    message, _ = await database_sync_to_async(services.message_create)(
        room=room, author=user, text=text, **kwargs
    )
    return message


async def post_many(room: Room, user: User, count: int) -> list[Message]:
    """Post ``count`` messages in one burst (one transaction)."""
    results = await database_sync_to_async(services.messages_create)(
        room=room,
        author=user,
        posts=[services.Post(f"m{n}") for n in range(count)],
    )
    return [result[0] for result in results]


async def edit(room: Room, user: User, message: Message, text: str) -> None:
    await database_sync_to_async(services.message_edit)(
        room=room, editor=user, message_id=message.pk, text=text
    )


async def delete(room: Room, user: User, message: Message) -> None:
    await database_sync_to_async(services.message_delete)(
        room=room, actor=user, message_id=message.pk
    )


async def react(room: Room, user: User, message: Message, emoji: str) -> None:
    await database_sync_to_async(services.reaction_set)(
        room=room, user=user, message_id=message.pk, emoji=emoji, on=True
    )


async def last_seq(room: Room) -> int:
    return (await Room.objects.aget(pk=room.pk)).last_seq


async def make_room(user: User, name: str) -> Room:
    return await database_sync_to_async(services.room_create)(
        name=name, created_by=user
    )


@asynccontextmanager
async def two_in_room(
    room: Room, user: User, other: User | None = None
) -> AsyncIterator[tuple[WebsocketCommunicator, WebsocketCommunicator]]:
    """A logged-in writer and a second socket (``other``'s, or a guest's)."""
    async with (
        socket(f"/ws/rooms/{room.slug}/", user=user) as writer,
        socket(f"/ws/rooms/{room.slug}/", user=other) as reader,
    ):
        await connected(writer)
        await connected(reader)
        yield writer, reader


async def open_multi(communicator: WebsocketCommunicator) -> None:
    ok, _ = await communicator.connect()
    assert ok


async def subscribe(
    communicator: WebsocketCommunicator, room: Room, since: int | None = None
) -> dict[str, Any]:
    """Follow ``room`` on a /ws/ socket; return its history frame."""
    await communicator.send_json_to(
        {"type": "subscribe", "room": room.slug, "since": since}
    )
    history = await receive(communicator)
    assert (history["type"], history["room"]) == ("history", room.slug)
    return history


class ChangeBroadcastTests:
    async def test_an_edit_reaches_every_socket_as_an_update(
        self, room: Room, user: User
    ) -> None:
        message = await post(room, user, "typo")
        async with two_in_room(room, user) as (writer, reader):
            await writer.send_json_to(
                {"type": "edit", "id": message.pk, "text": "fixed", "client_id": "e-1"}
            )
            seq = message.seq + 1
            for communicator in (writer, reader):
                frame = await receive(communicator)
                assert frame["type"] == "update"
                assert (frame["room"], frame["seq"]) == (room.slug, seq)
                assert frame["client_id"] == "e-1"
                assert frame["message"]["id"] == message.pk
                assert frame["message"]["text"] == "fixed"
                assert frame["message"]["edited"] is not None
                assert frame["message"]["seq"] == seq
            assert await quiet(writer, reader)
        assert await last_seq(room) == seq

    async def test_an_edit_updates_the_replies_quote_for_everyone(
        self, room: Room, user: User, other_user: User
    ) -> None:
        original = await post(room, user, "Lunch at 12?")
        reply = await post(room, other_user, "yes", reply_to=original.pk)
        async with two_in_room(room, user, other_user) as (writer, reader):
            await writer.send_json_to(
                {"type": "edit", "id": original.pk, "text": "Lunch at 1?"}
            )
            for communicator in (writer, reader):
                first, second = await receive(communicator), await receive(communicator)
                assert (first["type"], first["message"]["id"]) == (
                    "update",
                    original.pk,
                )
                assert (second["type"], second["message"]["id"]) == ("update", reply.pk)
                assert second["seq"] == first["seq"] + 1
                assert second["client_id"] is None
                assert second["message"]["reply_to"]["excerpt"] == "Lunch at 1?"

    async def test_a_delete_reaches_every_socket_as_a_tombstone(
        self, room: Room, user: User
    ) -> None:
        message = await post(room, user, "oops")
        async with two_in_room(room, user) as (writer, reader):
            await writer.send_json_to(
                {"type": "delete", "id": message.pk, "client_id": "d-1"}
            )
            for communicator in (writer, reader):
                frame = await receive(communicator)
                assert (frame["type"], frame["client_id"]) == ("update", "d-1")
                shown = frame["message"]
                assert (shown["id"], shown["deleted"], shown["text"]) == (
                    message.pk,
                    True,
                    "",
                )
        assert (await Message.objects.aget(pk=message.pk)).deleted is True

    async def test_a_reaction_reaches_every_socket_on_and_off(
        self, room: Room, user: User, other_user: User
    ) -> None:
        message = await post(room, other_user, "nice weather")
        async with two_in_room(room, user, other_user) as (writer, reader):
            for on, client_id, expected in (
                (True, "r-1", [{"emoji": "☀️", "count": 1, "users": ["alice"]}]),
                (False, "r-2", []),
            ):
                await writer.send_json_to(
                    {
                        "type": "react",
                        "id": message.pk,
                        "emoji": "☀️",
                        "on": on,
                        "client_id": client_id,
                    }
                )
                for communicator in (writer, reader):
                    frame = await receive(communicator)
                    assert (frame["type"], frame["client_id"]) == ("update", client_id)
                    assert frame["message"]["reactions"] == expected

    @pytest.mark.parametrize("change", ["same text", "reaction again", "delete again"])
    async def test_a_change_that_changes_nothing_is_answered_to_the_sender_only(
        self, room: Room, user: User, change: str
    ) -> None:
        message = await post(room, user, "steady")
        if change == "reaction again":
            await react(room, user, message, "👍")
        if change == "delete again":
            await delete(room, user, message)
        seq = await last_seq(room)
        frames = {
            "same text": {"type": "edit", "id": message.pk, "text": "steady"},
            "reaction again": {
                "type": "react",
                "id": message.pk,
                "emoji": "👍",
                "on": True,
            },
            "delete again": {"type": "delete", "id": message.pk},
        }
        async with two_in_room(room, user) as (writer, reader):
            await writer.send_json_to({**frames[change], "client_id": "noop-1"})
            frame = await receive(writer)
            assert (frame["type"], frame["client_id"]) == ("update", "noop-1")
            assert (frame["room"], frame["seq"]) == (room.slug, seq)
            assert frame["message"]["id"] == message.pk
            assert await quiet(writer, reader)
        assert await last_seq(room) == seq

    async def test_a_reply_sent_over_the_socket_quotes_its_original(
        self, room: Room, user: User
    ) -> None:
        original = await post(room, user, "Who is in?")
        async with two_in_room(room, user) as (writer, reader):
            await writer.send_json_to(
                {
                    "type": "message",
                    "text": "me",
                    "reply_to": original.pk,
                    "client_id": "m-1",
                }
            )
            for communicator in (writer, reader):
                frame = await receive(communicator)
                assert (frame["type"], frame["room"]) == ("message", room.slug)
                assert frame["seq"] == frame["message"]["seq"] == original.seq + 1
                assert frame["message"]["reply_to"] == {
                    "id": original.pk,
                    "author": "Alice",
                    "excerpt": "Who is in?",
                    "deleted": False,
                }

    async def test_a_new_sockets_history_shows_the_changes_made_meanwhile(
        self, room: Room, user: User, other_user: User
    ) -> None:
        """The latest page the hub keeps follows edits, deletes and reactions."""
        messages = [await post(room, user, f"m{n}") for n in range(5)]
        reply = await post(room, other_user, "re m3", reply_to=messages[3].pk)
        async with socket(f"/ws/rooms/{room.slug}/") as first:
            await connected(first)
            await edit(room, user, messages[3], "m3, edited")
            await delete(room, user, messages[1])
            await react(room, other_user, messages[4], "🎉")
            for _ in range(4):  # Three changes and the reply's new quote.
                assert (await receive(first))["type"] == "update"
            async with socket(f"/ws/rooms/{room.slug}/") as second:
                history = await connected(second)
        api = await database_sync_to_async(Client().get)(
            f"/api/rooms/{room.slug}/messages"
        )
        assert history["messages"] == api.json()["messages"]
        assert history["seq"] == await last_seq(room)
        shown = {m["id"]: m for m in history["messages"]}
        assert shown[messages[3].pk]["text"] == "m3, edited"
        assert shown[messages[1].pk]["deleted"] is True
        assert shown[messages[4].pk]["reactions"][0]["emoji"] == "🎉"
        assert shown[reply.pk]["reply_to"]["excerpt"] == "m3, edited"


class ChangeErrorTests:
    @pytest.mark.parametrize(
        ("case", "code"),
        [
            ("edit someone else's", "forbidden"),
            ("delete someone else's", "forbidden"),
            ("edit unknown", "not_found"),
            ("delete unknown", "not_found"),
            ("react unknown", "not_found"),
            ("edit deleted", "bad_request"),
            ("react deleted", "bad_request"),
            ("react not an emoji", "bad_request"),
            ("reply to deleted", "bad_request"),
            ("reply to unknown", "not_found"),
            ("edit too long", "too_large"),
        ],
    )
    async def test_a_refused_change_is_an_error_naming_the_frame_and_room(
        self, room: Room, user: User, other_user: User, case: str, code: str
    ) -> None:
        theirs = await post(room, other_user, "theirs")
        mine = await post(room, user, "mine")
        gone = await post(room, user, "gone")
        await delete(room, user, gone)
        unknown = 10**9
        frames: dict[str, dict[str, Any]] = {
            "edit someone else's": {"type": "edit", "id": theirs.pk, "text": "x"},
            "delete someone else's": {"type": "delete", "id": theirs.pk},
            "edit unknown": {"type": "edit", "id": unknown, "text": "x"},
            "delete unknown": {"type": "delete", "id": unknown},
            "react unknown": {
                "type": "react",
                "id": unknown,
                "emoji": "👍",
                "on": True,
            },
            "edit deleted": {"type": "edit", "id": gone.pk, "text": "back"},
            "react deleted": {
                "type": "react",
                "id": gone.pk,
                "emoji": "👍",
                "on": True,
            },
            "react not an emoji": {
                "type": "react",
                "id": mine.pk,
                "emoji": "ok",
                "on": True,
            },
            "reply to deleted": {"type": "message", "text": "hi", "reply_to": gone.pk},
            "reply to unknown": {"type": "message", "text": "hi", "reply_to": unknown},
            "edit too long": {"type": "edit", "id": mine.pk, "text": "x" * 4001},
        }
        seq = await last_seq(room)
        async with two_in_room(room, user) as (writer, reader):
            await writer.send_json_to({**frames[case], "client_id": "c-1"})
            error = await receive(writer)
            assert error["type"] == "error"
            assert (error["code"], error["client_id"], error["room"]) == (
                code,
                "c-1",
                room.slug,
            )
            assert error["detail"]
            assert await quiet(writer, reader)
            # The socket stays open.
            await writer.send_json_to({"type": "ping"})
            assert await receive(writer) == {"type": "pong"}
        assert await last_seq(room) == seq

    async def test_edits_and_reactions_share_the_message_rate_limit(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "2/60"
        message = await post(room, user, "one")  # The first of the two.
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_json_to(
                {"type": "edit", "id": message.pk, "text": "two", "client_id": "e"}
            )
            assert (await receive(writer))["type"] == "update"
            await writer.send_json_to(
                {
                    "type": "react",
                    "id": message.pk,
                    "emoji": "👍",
                    "on": True,
                    "client_id": "r",
                }
            )
            error = await receive(writer)
            assert (error["code"], error["client_id"], error["room"]) == (
                "rate_limited",
                "r",
                room.slug,
            )
            assert 1 <= error["retry_after"] <= 60

    async def test_a_guest_cannot_change_messages(self, room: Room, user: User) -> None:
        message = await post(room, user, "mine")
        async with socket(f"/ws/rooms/{room.slug}/") as guest:
            await connected(guest)
            for frame in (
                {"type": "edit", "id": message.pk, "text": "x"},
                {"type": "delete", "id": message.pk},
                {"type": "react", "id": message.pk, "emoji": "👍", "on": True},
            ):
                await guest.send_json_to({**frame, "client_id": "g-1"})
                error = await receive(guest)
                assert (error["code"], error["client_id"]) == ("auth_required", "g-1")
        stored = await Message.objects.aget(pk=message.pk)
        assert (stored.text, stored.deleted, stored.seq) == ("mine", False, message.seq)

    @pytest.mark.parametrize(
        "frame",
        [
            {"type": "edit", "id": "seven", "text": "x"},
            {"type": "edit", "id": 1},
            {"type": "edit", "id": True, "text": "x"},
            {"type": "delete", "id": "seven"},
            {"type": "delete"},
            {"type": "react", "id": 1, "emoji": "👍"},
            {"type": "react", "id": 1, "on": True},
            {"type": "message", "text": "hi", "reply_to": "seven"},
        ],
        ids=[
            "edit id text",
            "edit no text",
            "edit id bool",
            "delete id text",
            "delete no id",
            "react no on",
            "react no emoji",
            "reply_to text",
        ],
    )
    async def test_a_malformed_change_is_a_bad_request_naming_its_client_id(
        self, room: Room, user: User, frame: dict[str, Any]
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_json_to({**frame, "client_id": "bad-1"})
            error = await receive(writer)
            assert (error["type"], error["code"]) == ("error", "bad_request")
            assert error.get("client_id") == "bad-1"

    async def test_a_command_for_another_room_is_refused_on_a_room_socket(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        message = await post(other, user, "over there")
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_json_to(
                {"type": "message", "room": other.slug, "text": "hi", "client_id": "x"}
            )
            error = await receive(writer)
            assert (error["code"], error["client_id"]) == ("bad_request", "x")
            await writer.send_json_to(
                {"type": "delete", "room": other.slug, "id": message.pk}
            )
            assert (await receive(writer))["code"] == "bad_request"
            # Naming its own room is fine.
            await writer.send_json_to(
                {"type": "message", "room": room.slug, "text": "here"}
            )
            frame = await receive(writer)
            assert (frame["type"], frame["room"]) == ("message", room.slug)
        assert not (await Message.objects.aget(pk=message.pk)).deleted

    async def test_a_subscribe_frame_on_a_room_socket_is_a_bad_request(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            await connected(reader)
            await reader.send_json_to({"type": "subscribe", "room": other.slug})
            error = await receive(reader)
            assert (error["code"], error["room"]) == ("bad_request", other.slug)
            await post(other, user, "not for this socket")
            assert await quiet(reader)


class ResumeTests:
    async def test_since_brings_exactly_what_changed_while_away(
        self, room: Room, user: User, other_user: User
    ) -> None:
        kept, edited, deleted, reacted, quoted = [
            await post(room, user, text)
            for text in ("kept", "edited", "deleted", "reacted", "quoted")
        ]
        reply = await post(room, other_user, "a reply", reply_to=quoted.pk)
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            seen = (await connected(reader))["seq"]
        assert seen == await last_seq(room)
        # While away:
        new = await post(room, other_user, "new")
        await edit(room, user, edited, "edited once")
        await delete(room, user, deleted)
        await react(room, other_user, reacted, "👍")
        await edit(room, user, edited, "edited twice")
        await edit(room, user, quoted, "quoted, changed")
        async with socket(f"/ws/rooms/{room.slug}/?since={seen}") as reader:
            history = await connected(reader)
            assert await quiet(reader)
        messages = history["messages"]
        assert [m["id"] for m in messages] == [
            new.pk,
            deleted.pk,
            reacted.pk,
            edited.pk,
            quoted.pk,
            reply.pk,
        ]
        seqs = [m["seq"] for m in messages]
        assert seqs == sorted(seqs)
        assert history["seq"] == seqs[-1] == await last_seq(room)
        shown = {m["id"]: m for m in messages}
        assert shown[edited.pk]["text"] == "edited twice"
        assert shown[deleted.pk]["deleted"] is True
        assert shown[reacted.pk]["reactions"][0]["users"] == ["bob"]
        assert shown[reply.pk]["reply_to"]["excerpt"] == "quoted, changed"
        assert kept.pk not in shown

    async def test_since_the_latest_change_brings_nothing_but_live_changes(
        self, room: Room, user: User
    ) -> None:
        message = await post(room, user, "hello")
        seq = await last_seq(room)
        async with socket(f"/ws/rooms/{room.slug}/?since={seq}") as reader:
            history = await connected(reader)
            assert (history["messages"], history["seq"]) == ([], seq)
            await edit(room, user, message, "hello again")
            frame = await receive(reader)
            assert (frame["type"], frame["seq"]) == ("update", seq + 1)

    async def test_a_long_catch_up_goes_on_in_update_frames_before_live_ones(
        self, room: Room, user: User
    ) -> None:
        missed = await post_many(room, user, 250)
        async with socket(f"/ws/rooms/{room.slug}/?since=0") as reader:
            history = await connected(reader)
            messages = history["messages"]
            assert len(messages) == 100
            assert history["seq"] == messages[-1]["seq"]
            live = await post(room, user, "live")
            frames = []
            while True:
                frame = await receive(reader)
                frames.append(frame)
                if frame["message"]["id"] == live.pk:
                    break
            assert await quiet(reader)
        caught_up, last = frames[:-1], frames[-1]
        assert {f["type"] for f in caught_up} == {"update"}
        assert last["type"] == "message"
        assert [m["id"] for m in messages] + [f["message"]["id"] for f in frames] == [
            *(m.pk for m in missed),
            live.pk,
        ]
        seqs = [m["seq"] for m in messages] + [f["seq"] for f in frames]
        assert seqs == list(range(seqs[0], seqs[0] + 251))

    async def test_a_change_during_a_long_catch_up_comes_once_and_in_order(
        self, room: Room, user: User
    ) -> None:
        missed = await post_many(room, user, 150)
        async with socket(f"/ws/rooms/{room.slug}/?since=0") as reader:
            ok, _ = await reader.connect()
            assert ok
            # Stored while the catch-up may still be read.
            await edit(room, user, missed[0], "changed meanwhile")
            final = await last_seq(room)
            frames = [await receive(reader)]
            seen = frames[0]["seq"]
            while seen < final:
                frames.append(await receive(reader))
                seen = frames[-1]["seq"]
            assert await quiet(reader)
        history, rest = frames[0], frames[1:]
        assert history["type"] == "history"
        changes = [(m["id"], m["seq"], m["text"]) for m in history["messages"]] + [
            (f["message"]["id"], f["seq"], f["message"]["text"]) for f in rest
        ]
        seqs = [seq for _id, seq, _text in changes]
        assert seqs == sorted(set(seqs))
        assert seqs[-1] == final
        # Every message ends in its current state.
        latest = {message_id: text for message_id, _seq, text in changes}
        assert latest[missed[0].pk] == "changed meanwhile"
        assert set(latest) == {m.pk for m in missed}

    async def test_a_caught_up_edit_does_not_carry_the_posts_client_id(
        self, room: Room, user: User
    ) -> None:
        """
        An update's client_id is that of the change that made it, or null:
        a catch-up cannot know an edit's, so it must not pass on the post's.
        """
        posted = await post(room, user, "typo", client_id="post-1")
        await post_many(room, user, 120)
        await edit(room, user, posted, "fixed")
        async with socket(f"/ws/rooms/{room.slug}/?since=0") as reader:
            history = await connected(reader)
            assert posted.pk not in [m["id"] for m in history["messages"]]
            frames = [await receive(reader) for _ in range(21)]
            assert await quiet(reader)
        [update] = [f for f in frames if f["message"]["id"] == posted.pk]
        assert update["message"]["text"] == "fixed"
        assert update["client_id"] is None

    async def test_after_still_brings_the_newer_messages(
        self, room: Room, user: User
    ) -> None:
        seen = await post(room, user, "seen")
        newer = [await post(room, user, f"newer {n}") for n in range(3)]
        await edit(room, user, newer[0], "newer 0, edited")
        await edit(room, user, seen, "seen, edited")
        async with socket(f"/ws/rooms/{room.slug}/?after={seen.pk}") as reader:
            history = await connected(reader)
            assert await quiet(reader)
        assert [m["id"] for m in history["messages"]] == [m.pk for m in newer]
        assert history["messages"][0]["text"] == "newer 0, edited"
        assert history["seq"] == await last_seq(room)

    @pytest.mark.parametrize(
        "query", ["since=soon", "since=-1", "since=1&after=1"], ids=str
    )
    async def test_a_bad_resume_point_is_refused(self, room: Room, query: str) -> None:
        async with socket(f"/ws/rooms/{room.slug}/?{query}") as reader:
            ok, _ = await reader.connect()
            assert ok
            error = await receive(reader)
            assert error["code"] == "bad_request"
            assert await reader.receive_output() == {
                "type": "websocket.close",
                "code": 4400,
            }


class MultiRoomTests:
    async def test_a_socket_follows_the_rooms_it_subscribes_to(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        third = await make_room(user, "Third")
        older = await post(room, user, "before")
        async with socket("/ws/") as reader:
            await open_multi(reader)
            assert await quiet(reader)
            first = await subscribe(reader, room)
            assert [m["id"] for m in first["messages"]] == [older.pk]
            assert first["seq"] == await last_seq(room)
            second = await subscribe(reader, other)
            assert (second["messages"], second["seq"]) == ([], 0)
            here = await post(room, user, "here")
            there = await post(other, user, "there")
            await post(third, user, "elsewhere")
            frames = [await receive(reader), await receive(reader)]
            assert await quiet(reader)
        assert [(f["type"], f["room"], f["message"]["id"]) for f in frames] == [
            ("message", room.slug, here.pk),
            ("message", other.slug, there.pk),
        ]

    async def test_commands_name_a_followed_room(self, room: Room, user: User) -> None:
        other = await make_room(user, "Other")
        message = await post(room, user, "typo")
        async with (
            socket("/ws/", user=user) as writer,
            socket(f"/ws/rooms/{room.slug}/") as reader,
        ):
            await open_multi(writer)
            await connected(reader)
            await subscribe(writer, room)
            await subscribe(writer, other)
            await writer.send_json_to(
                {
                    "type": "edit",
                    "room": room.slug,
                    "id": message.pk,
                    "text": "fixed",
                    "client_id": "e-1",
                }
            )
            for communicator in (writer, reader):
                frame = await receive(communicator)
                assert (frame["type"], frame["room"], frame["client_id"]) == (
                    "update",
                    room.slug,
                    "e-1",
                )
            await writer.send_json_to(
                {"type": "message", "room": other.slug, "text": "hi", "client_id": "m"}
            )
            frame = await receive(writer)
            assert (frame["type"], frame["room"], frame["client_id"]) == (
                "message",
                other.slug,
                "m",
            )
            assert await quiet(writer, reader)

    async def test_a_command_without_a_room_is_refused(
        self, room: Room, user: User
    ) -> None:
        async with socket("/ws/", user=user) as writer:
            await open_multi(writer)
            await subscribe(writer, room)
            await writer.send_json_to(
                {"type": "message", "text": "where?", "client_id": "m-1"}
            )
            error = await receive(writer)
            assert (error["code"], error["client_id"]) == ("bad_request", "m-1")
        assert not await Message.objects.filter(text="where?").aexists()

    async def test_a_command_to_an_unfollowed_room_is_refused_naming_it(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        message = await post(other, user, "over there")
        async with socket("/ws/", user=user) as writer:
            await open_multi(writer)
            await subscribe(writer, room)
            for frame in (
                {"type": "message", "text": "hi"},
                {"type": "delete", "id": message.pk},
            ):
                await writer.send_json_to(
                    {**frame, "room": other.slug, "client_id": "c-1"}
                )
                error = await receive(writer)
                assert (error["code"], error["client_id"]) == ("bad_request", "c-1")
                assert error.get("room") == other.slug
        assert not (await Message.objects.aget(pk=message.pk)).deleted
        assert await Message.objects.acount() == 1

    async def test_a_malformed_command_names_the_room_it_named(
        self, room: Room, user: User
    ) -> None:
        async with socket("/ws/", user=user) as writer:
            await open_multi(writer)
            await subscribe(writer, room)
            await writer.send_json_to(
                {"type": "edit", "room": room.slug, "id": 1, "client_id": "c-1"}
            )
            error = await receive(writer)
            assert (error["code"], error["client_id"]) == ("bad_request", "c-1")
            assert error.get("room") == room.slug

    async def test_each_followed_room_gets_its_heartbeat(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        message = await post(room, user, "hi")
        async with socket("/ws/") as reader:
            await open_multi(reader)
            await subscribe(reader, room)
            await subscribe(reader, other)
            await get_hub().tick()
            beats = [await receive(reader), await receive(reader)]
        assert {beat["room"]: beat for beat in beats} == {
            room.slug: {
                "type": "heartbeat",
                "room": room.slug,
                "seq": message.seq,
                "last_id": message.pk,
            },
            other.slug: {
                "type": "heartbeat",
                "room": other.slug,
                "seq": 0,
                "last_id": 0,
            },
        }

    async def test_unsubscribing_stops_the_rooms_frames(
        self, room: Room, user: User
    ) -> None:
        other = await make_room(user, "Other")
        async with socket("/ws/", user=user) as writer:
            await open_multi(writer)
            await subscribe(writer, room)
            await subscribe(writer, other)
            await writer.send_json_to({"type": "unsubscribe", "room": room.slug})
            assert await receive(writer) == {"type": "unsubscribed", "room": room.slug}
            await post(room, user, "unheard")
            there = await post(other, user, "still heard")
            frame = await receive(writer)
            assert (frame["room"], frame["message"]["id"]) == (other.slug, there.pk)
            assert await quiet(writer)
            await writer.send_json_to(
                {"type": "message", "room": room.slug, "text": "x", "client_id": "u"}
            )
            error = await receive(writer)
            assert (error["code"], error["client_id"]) == ("bad_request", "u")

    async def test_subscribing_to_an_unknown_room_is_not_found(
        self, room: Room
    ) -> None:
        async with socket("/ws/") as reader:
            await open_multi(reader)
            await reader.send_json_to({"type": "subscribe", "room": "no-such-room"})
            error = await receive(reader)
            assert (error["type"], error["code"], error["room"]) == (
                "error",
                "not_found",
                "no-such-room",
            )
            # The socket stays open for rooms that exist.
            await subscribe(reader, room)

    async def test_subscribing_with_since_brings_the_changes_after_it(
        self, room: Room, user: User
    ) -> None:
        first = await post(room, user, "first")
        seen = await last_seq(room)
        second = await post(room, user, "second")
        await edit(room, user, first, "first, edited")
        async with socket("/ws/") as reader:
            await open_multi(reader)
            history = await subscribe(reader, room, since=seen)
            assert await quiet(reader)
        assert [m["id"] for m in history["messages"]] == [second.pk, first.pk]
        assert history["messages"][1]["text"] == "first, edited"
        assert history["seq"] == await last_seq(room)

    async def test_subscribing_again_starts_the_room_over(
        self, room: Room, user: User
    ) -> None:
        message = await post(room, user, "hello")
        async with socket("/ws/") as reader:
            await open_multi(reader)
            await subscribe(reader, room)
            again = await subscribe(reader, room)
            assert [m["id"] for m in again["messages"]] == [message.pk]
            live = await post(room, user, "once")
            frame = await receive(reader)
            assert frame["message"]["id"] == live.pk
            assert await quiet(reader)

    async def test_a_socket_follows_a_limited_number_of_rooms(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.SOCKET_MAX_ROOMS = 1
        other = await make_room(user, "Other")
        async with socket("/ws/") as reader:
            await open_multi(reader)
            await subscribe(reader, room)
            await reader.send_json_to({"type": "subscribe", "room": other.slug})
            error = await receive(reader)
            assert (error["code"], error["room"]) == ("bad_request", other.slug)
            # Subscribing again to a followed room is not one more.
            await subscribe(reader, room)

    @pytest.mark.parametrize(
        "frame",
        [
            {"type": "subscribe"},
            {"type": "subscribe", "room": "a b"},
            {"type": "subscribe", "room": "lobby", "since": "x"},
            {"type": "unsubscribe"},
        ],
        ids=["no room", "bad slug", "bad since", "unsubscribe no room"],
    )
    async def test_a_malformed_subscription_frame_is_a_bad_request(
        self, room: Room, frame: dict[str, Any]
    ) -> None:
        async with socket("/ws/") as reader:
            await open_multi(reader)
            await reader.send_json_to(frame)
            error = await receive(reader)
            assert (error["type"], error["code"]) == ("error", "bad_request")
