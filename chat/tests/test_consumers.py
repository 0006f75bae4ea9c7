from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from chat import commands, services
from chat.hub import get_hub
from chat.models import Message, Room
from chat.services import message_create
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
# The host the sockets come to: the Origin check compares it with ORIGIN.
HOST = (b"host", b"127.0.0.1")
Connect = Callable[..., Any]


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@asynccontextmanager
async def socket(
    path: str, *, user: User | None = None, origin: tuple[bytes, bytes] = ORIGIN
) -> AsyncIterator[WebsocketCommunicator]:
    headers = [HOST, origin]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    try:
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def writer_and_reader(
    room: Room, user: User
) -> AsyncIterator[tuple[WebsocketCommunicator, WebsocketCommunicator]]:
    """Connect a logged-in writer and a guest reader, both past their history."""
    async with (
        socket(f"/ws/rooms/{room.slug}/", user=user) as writer,
        socket(f"/ws/rooms/{room.slug}/") as reader,
    ):
        await connected(writer)
        await connected(reader)
        yield writer, reader


async def connected(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """Connect and return the history frame."""
    ok, _ = await communicator.connect()
    assert ok
    history = await communicator.receive_json_from()
    assert history["type"] == "history"
    return history


async def post(room: Room, user: User, text: str) -> Message:
    message, _ = await database_sync_to_async(message_create)(
        room=room, author=user, text=text
    )
    return message


class RoomConsumerReadTests:
    async def test_anonymous_visitor_gets_history_then_live_messages(
        self, room: Room, user: User
    ) -> None:
        older = await post(room, user, "before you came")
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            history = await connected(reader)
            assert [m["id"] for m in history["messages"]] == [older.pk]
            assert history["messages"][0]["author"] == "Alice"
            newer = await post(room, user, "live")
            frame = await reader.receive_json_from()
            assert frame["type"] == "message"
            assert frame["message"]["id"] == newer.pk
            assert frame["message"]["text"] == "live"

    async def test_a_history_kept_by_the_hub_matches_the_database(
        self, room: Room, user: User
    ) -> None:
        await post(room, user, "before anyone came")
        async with socket(f"/ws/rooms/{room.slug}/") as first:
            await connected(first)
            for n in range(55):
                await post(room, user, f"while someone listened {n}")
            async with socket(f"/ws/rooms/{room.slug}/") as second:
                history = await connected(second)
        api = await database_sync_to_async(Client().get)(
            f"/api/rooms/{room.slug}/messages"
        )
        assert history["messages"] == api.json()["messages"]
        assert len(history["messages"]) == 50

    async def test_history_holds_the_last_50_oldest_first(
        self, room: Room, user: User
    ) -> None:
        for n in range(55):
            await post(room, user, f"m{n}")
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            history = await connected(reader)
        texts = [m["text"] for m in history["messages"]]
        assert texts == [f"m{n}" for n in range(5, 55)]

    async def test_after_catches_up_exactly_what_was_missed(
        self, room: Room, user: User
    ) -> None:
        seen = [await post(room, user, f"seen {n}") for n in range(3)]
        missed = [await post(room, user, f"missed {n}") for n in range(60)]
        async with socket(f"/ws/rooms/{room.slug}/?after={seen[-1].pk}") as reader:
            history = await connected(reader)
        assert [m["id"] for m in history["messages"]] == [m.pk for m in missed]

    async def test_a_long_catch_up_goes_on_in_message_frames(
        self, room: Room, user: User
    ) -> None:
        missed = [(await post(room, user, f"m{n}")).pk for n in range(250)]
        async with socket(f"/ws/rooms/{room.slug}/?after=0") as reader:
            history = await connected(reader)
            ids = [m["id"] for m in history["messages"]]
            assert len(ids) == 100
            while len(ids) < len(missed):
                frame = await reader.receive_json_from()
                assert frame["type"] == "message"
                ids.append(frame["message"]["id"])
            assert await reader.receive_nothing(timeout=0.2)
        assert ids == missed

    async def test_a_message_in_history_is_not_repeated_live(
        self, room: Room, user: User
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            await connected(reader)
            await post(room, user, "one")
            first = await reader.receive_json_from()
            assert first["message"]["text"] == "one"
            assert await reader.receive_nothing(timeout=0.2)

    async def test_an_unknown_room_is_refused(self, db: None) -> None:
        async with socket("/ws/rooms/no-such-room/") as reader:
            ok, _ = await reader.connect()
        assert not ok

    async def test_a_bad_after_is_a_bad_request(self, room: Room) -> None:
        async with socket(f"/ws/rooms/{room.slug}/?after=yesterday") as reader:
            ok, _ = await reader.connect()
            assert ok
            frame = await reader.receive_json_from()
            assert frame["code"] == "bad_request"
            assert (await reader.receive_output())["type"] == "websocket.close"

    @pytest.mark.parametrize(
        "origin",
        [
            b"http://evil.example",
            b"http://127.0.0.1.evil.example",
            b"http://127.0.0.1:8080",
            b"https://127.0.0.1",
            None,
        ],
        ids=["foreign", "lookalike", "other port", "other scheme", "missing"],
    )
    async def test_a_cross_site_origin_is_refused(
        self, room: Room, user: User, origin: bytes | None
    ) -> None:
        # The site is http://127.0.0.1; only its own pages may open sockets.
        headers = [
            HOST,
            (b"cookie", await database_sync_to_async(session_cookie)(user)),
        ]
        if origin is not None:
            headers.append((b"origin", origin))
        communicator = WebsocketCommunicator(
            application, f"/ws/rooms/{room.slug}/", headers=headers
        )
        ok, _ = await communicator.connect()
        assert not ok


class RoomConsumerSendTests:
    async def test_a_logged_in_user_sends_to_everyone_in_the_room(
        self, room: Room, user: User
    ) -> None:
        async with writer_and_reader(room, user) as (writer, reader):
            await writer.send_json_to(
                {"type": "message", "text": "hi <b>all</b>", "client_id": "k1"}
            )
            for communicator in (writer, reader):
                frame = await communicator.receive_json_from()
                assert frame["type"] == "message"
                assert frame["client_id"] == "k1"
                assert frame["message"]["text"] == "hi <b>all</b>"
                assert frame["message"]["author"] == "Alice"
                assert frame["message"]["room"] == room.slug
        assert await Message.objects.acount() == 1

    async def test_other_rooms_do_not_hear_it(self, room: Room, user: User) -> None:
        other = await database_sync_to_async(Room.objects.create)(
            name="Other", slug="other"
        )
        async with (
            socket(f"/ws/rooms/{room.slug}/", user=user) as writer,
            socket(f"/ws/rooms/{other.slug}/") as elsewhere,
        ):
            await connected(writer)
            await connected(elsewhere)
            await writer.send_json_to({"type": "message", "text": "here only"})
            await writer.receive_json_from()
            assert await elsewhere.receive_nothing(timeout=0.2)

    async def test_a_repeated_client_id_is_stored_once_and_echoed_to_the_sender(
        self, room: Room, user: User
    ) -> None:
        async with writer_and_reader(room, user) as (writer, reader):
            frame = {"type": "message", "text": "retry me", "client_id": "dup-1"}
            await writer.send_json_to(frame)
            first = await writer.receive_json_from()
            await reader.receive_json_from()
            await writer.send_json_to(frame)
            again = await writer.receive_json_from()
            assert again["message"] == first["message"]
            assert again["client_id"] == "dup-1"
            assert await reader.receive_nothing(timeout=0.2)
        assert await Message.objects.acount() == 1

    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            ("not json", "bad_request"),
            ("[1, 2]", "bad_request"),
            ('{"type": "dance"}', "bad_request"),
            ('{"type": "message"}', "bad_request"),
            ('{"type": "message", "text": 42}', "bad_request"),
            ('{"type": "message", "text": "   "}', "bad_request"),
            (
                '{"type": "message", "text": "ok", "client_id": "has space"}',
                "bad_request",
            ),
            (
                '{"type": "message", "text": "ok", "client_id": "' + "x" * 65 + '"}',
                "bad_request",
            ),
            ('{"type": "message", "text": "' + "x" * 4001 + '"}', "too_large"),
        ],
    )
    async def test_bad_frames_get_an_error_and_the_socket_stays_open(
        self, room: Room, user: User, raw: str, code: str
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_to(text_data=raw)
            error = await writer.receive_json_from()
            assert error["type"] == "error"
            assert error["code"] == code
            assert error["detail"]
            await writer.send_json_to({"type": "message", "text": "still here"})
            frame = await writer.receive_json_from()
            assert frame["message"]["text"] == "still here"
        assert [m.text async for m in Message.objects.all()] == ["still here"]

    async def test_an_error_names_the_message_it_answers(
        self, room: Room, user: User
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_json_to(
                {"type": "message", "text": "x" * 4001, "client_id": "long-1"}
            )
            error = await writer.receive_json_from()
            assert (error["code"], error["client_id"]) == ("too_large", "long-1")

    async def test_a_ping_gets_a_pong(self, room: Room) -> None:
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            await connected(reader)
            await reader.send_json_to({"type": "ping"})
            assert await reader.receive_json_from() == {"type": "pong"}

    async def test_a_ping_is_answered_while_the_database_is_busy(
        self, room: Room
    ) -> None:
        gate = threading.Event()
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            await connected(reader)
            # The one database thread waits on the gate.
            busy = asyncio.ensure_future(database_sync_to_async(gate.wait)(10))
            try:
                await reader.send_json_to({"type": "ping"})
                assert await reader.receive_json_from(timeout=5) == {"type": "pong"}
                assert not busy.done()
            finally:
                gate.set()
                await busy

    async def test_posts_that_come_while_one_is_stored_are_stored_together(
        self, room: Room, user: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        batches: list[int] = []
        store = services.messages_store

        def counted(postings: list[services.Posting]) -> None:
            batches.append(sum(len(posting.fresh) for posting in postings))
            store(postings)

        monkeypatch.setattr(services, "messages_store", counted)
        gate = threading.Event()
        async with writer_and_reader(room, user) as (writer, reader):
            busy = asyncio.ensure_future(database_sync_to_async(gate.wait)(10))
            await writer.send_json_to({"type": "message", "text": "m0"})
            # m0 is on its way to the database (busy) when m1 and m2 come.
            assert await reader.receive_nothing(timeout=0.2)
            for n in (1, 2):
                await writer.send_json_to({"type": "message", "text": f"m{n}"})
            assert await reader.receive_nothing(timeout=0.2)
            gate.set()
            await busy
            texts = [
                (await reader.receive_json_from())["message"]["text"] for _ in range(3)
            ]
        assert texts == ["m0", "m1", "m2"]
        # The first waits alone; the two behind it go in one transaction.
        assert batches == [1, 2]

    async def test_sockets_that_write_meanwhile_are_carried_out_together(
        self, room: Room, user: User, other_user: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        groups: list[int] = []
        execute_together = commands.execute_together

        def counted(requests: list[Any]) -> list[Any]:
            groups.append(len(requests))
            return execute_together(requests)

        monkeypatch.setattr(commands, "execute_together", counted)
        gate = threading.Event()
        async with (
            writer_and_reader(room, user) as (first, reader),
            socket(f"/ws/rooms/{room.slug}/", user=other_user) as second,
            socket(f"/ws/rooms/{room.slug}/", user=user) as third,
        ):
            await connected(second)
            await connected(third)
            busy = asyncio.ensure_future(database_sync_to_async(gate.wait)(10))
            await first.send_json_to({"type": "message", "text": "one"})
            await asyncio.sleep(0.1)
            await second.send_json_to({"type": "message", "text": "two"})
            await asyncio.sleep(0.1)
            await third.send_json_to({"type": "message", "text": "three"})
            assert await reader.receive_nothing(timeout=0.3)
            gate.set()
            await busy
            for ws in (reader, first, second, third):
                frames = [await ws.receive_json_from() for _ in range(3)]
                texts = [frame["message"]["text"] for frame in frames]
                assert texts == ["one", "two", "three"]
        # The first waits alone; the two sockets behind it go in one group.
        assert groups == [1, 2]

    @pytest.mark.parametrize(
        "middle",
        [
            {"type": "message", "text": "a\u0000b"},  # refused by the service
            {"type": "message", "text": "again", "client_id": "once"},  # a repeat
            {"type": "edit", "id": 10**9, "text": "x"},  # no such message
            {"type": "message", "text": "x", "room": "elsewhere"},  # not followed
        ],
    )
    async def test_an_answer_to_the_sender_alone_keeps_its_place_in_a_burst(
        self, room: Room, user: User, middle: dict[str, Any]
    ) -> None:
        gate = threading.Event()
        async with writer_and_reader(room, user) as (writer, reader):
            busy = asyncio.ensure_future(database_sync_to_async(gate.wait)(10))
            burst = [
                {"type": "message", "text": "first", "client_id": "once"},
                middle,
                {"type": "message", "text": "last"},
            ]
            for frame in burst:
                await writer.send_json_to(frame)
            assert await reader.receive_nothing(timeout=0.3)
            gate.set()
            await busy
            answers = [await writer.receive_json_from() for _ in burst]
            assert await writer.receive_nothing(timeout=0.2)
        kinds = [a["type"] for a in answers]
        assert kinds == [
            "message",
            "message" if "client_id" in middle else "error",
            "message",
        ]
        assert answers[0]["message"]["text"] == "first"
        assert answers[2]["message"]["text"] == "last"
        stored = [m.text async for m in Message.objects.order_by("id")]
        assert stored == ["first", "last"]

    async def test_errors_speak_the_browsers_language(
        self, room: Room, user: User
    ) -> None:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/rooms/{room.slug}/",
            headers=[HOST, ORIGIN, (b"accept-language", b"ru-RU,ru;q=0.9,en;q=0.5")],
        )
        await connected(communicator)
        await communicator.send_json_to({"type": "message", "text": "hi"})
        error = await communicator.receive_json_from()
        await communicator.disconnect()
        assert error["code"] == "auth_required"
        assert error["detail"] != "Log in to write."

    async def test_binary_frames_are_a_bad_request(
        self, room: Room, user: User
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            await writer.send_to(bytes_data=b"\x00\x01")
            assert (await writer.receive_json_from())["code"] == "bad_request"

    async def test_an_anonymous_send_needs_auth_and_stores_nothing(
        self, room: Room
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            await connected(reader)
            await reader.send_to(
                text_data=json.dumps({"type": "message", "text": "let me in"})
            )
            error = await reader.receive_json_from()
            assert error["code"] == "auth_required"
            assert await reader.receive_nothing(timeout=0.1)
        assert await Message.objects.acount() == 0


class RoomConsumerLimitTests:
    async def test_sending_too_fast_gets_rate_limited_with_retry_after(
        self, room: Room, user: User, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "2/60"
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as writer:
            await connected(writer)
            for n in range(3):
                await writer.send_json_to(
                    {"type": "message", "text": f"m{n}", "client_id": f"r{n}"}
                )
            replies = [await writer.receive_json_from() for _ in range(3)]
        assert [r["type"] for r in replies] == ["message", "message", "error"]
        assert replies[2]["code"] == "rate_limited"
        assert replies[2]["client_id"] == "r2"
        assert 1 <= replies[2]["retry_after"] <= 60

    async def test_too_many_connects_from_one_address_are_refused(
        self, room: Room, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_CONNECTS = "2/60"
        for _ in range(2):
            async with socket(f"/ws/rooms/{room.slug}/") as reader:
                await connected(reader)
        async with socket(f"/ws/rooms/{room.slug}/") as reader:
            ok, _ = await reader.connect()
            assert ok
            error = await reader.receive_json_from()
            assert error["code"] == "rate_limited"
            assert error["retry_after"] >= 1
            closed = await reader.receive_output()
            assert closed == {"type": "websocket.close", "code": 4429}


class RoomConsumerLoginTests:
    async def _session(self, user: User) -> tuple[Client, bytes]:
        client = Client()
        await database_sync_to_async(client.force_login)(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
        return client, cookie

    async def _assert_cut_off(self, room: Room, cookie: bytes, end: Any) -> None:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/rooms/{room.slug}/",
            headers=[HOST, ORIGIN, (b"cookie", cookie)],
        )
        await connected(communicator)
        await database_sync_to_async(end)()
        await communicator.send_json_to({"type": "message", "text": "still me?"})
        error = await communicator.receive_json_from()
        assert error["code"] == "auth_required"
        await get_hub().tick(heartbeat=False)
        assert await communicator.receive_output() == {
            "type": "websocket.close",
            "code": 4401,
        }
        assert await Message.objects.acount() == 0

    async def test_logging_out_ends_the_sockets_login(
        self, room: Room, user: User
    ) -> None:
        client, cookie = await self._session(user)
        await self._assert_cut_off(room, cookie, client.logout)

    async def test_a_logout_just_after_a_post_ends_the_sockets_login_at_once(
        self, room: Room, user: User
    ) -> None:
        """The check of the login behind a post is reused for a second, but a
        logout in this process is heard at once."""
        client, cookie = await self._session(user)
        communicator = WebsocketCommunicator(
            application,
            f"/ws/rooms/{room.slug}/",
            headers=[HOST, ORIGIN, (b"cookie", cookie)],
        )
        await connected(communicator)
        await communicator.send_json_to({"type": "message", "text": "me"})
        assert (await communicator.receive_json_from())["type"] == "message"
        await database_sync_to_async(client.logout)()
        await communicator.send_json_to({"type": "message", "text": "still me?"})
        error = await communicator.receive_json_from()
        assert error["code"] == "auth_required"
        assert await Message.objects.acount() == 1
        await communicator.disconnect()

    async def test_a_password_change_ends_other_sockets(
        self, room: Room, user: User
    ) -> None:
        _client, cookie = await self._session(user)

        def change_password() -> None:
            user.set_password("a-brand-new-pass-456")
            user.save(update_fields=["password"])

        await self._assert_cut_off(room, cookie, change_password)

    async def test_deactivation_ends_the_sockets_login(
        self, room: Room, user: User
    ) -> None:
        _client, cookie = await self._session(user)

        def deactivate() -> None:
            User.objects.filter(pk=user.pk).update(is_active=False)

        await self._assert_cut_off(room, cookie, deactivate)
