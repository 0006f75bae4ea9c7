"""Member changes on the socket: member frames, and removal taking effect at once."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from chat import services
from chat.hub import get_hub
from chat.models import Room
from chat.tests.test_consumers import connected, post, socket
from chat.tests.test_consumers_changes import quiet
from chat.tests.test_consumers_changes import receive as receive_any

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private(user: User, other_user: User) -> Room:
    """A private room of alice's, with bob in it."""
    room = services.room_create(name="Secret", created_by=user, kind=Room.Kind.PRIVATE)
    services.member_add(room=room, actor=user, username="bob")
    return room


async def remove(room: Room, actor: User, username: str) -> None:
    await database_sync_to_async(services.member_remove)(
        room=room, actor=actor, username=username
    )


async def receive(ws: Any) -> dict[str, Any]:
    """Return the next frame about a room (not the user's room list)."""
    while True:
        frame = await receive_any(ws)
        if frame["type"] != "rooms_changed":
            return frame


async def subscribe(ws: Any, slug: str, since: int | None = None) -> dict[str, Any]:
    await ws.send_json_to({"type": "subscribe", "room": slug, "since": since})
    return await receive(ws)


class RemovalTests:
    async def test_a_removed_member_gets_the_removal_then_nothing_of_the_room(
        self, private: Room, room: Room, user: User, other_user: User
    ) -> None:
        async with socket("/ws/", user=other_user) as bob:
            assert (await bob.connect())[0]
            assert (await subscribe(bob, private.slug))["type"] == "history"
            assert (await subscribe(bob, room.slug))["type"] == "history"
            before = await post(private, user, "before")
            await remove(private, user, "bob")
            await post(private, user, "after")
            got = [await receive(bob) for _ in range(3)]
            assert [(f["type"], f["room"]) for f in got] == [
                ("message", private.slug),
                ("member", private.slug),
                ("removed", private.slug),
            ]
            assert got[0]["message"]["id"] == before.pk
            assert (got[1]["action"], got[1]["username"], got[1]["by"]) == (
                "remove",
                "bob",
                "alice",
            )
            assert got[1]["message"]["member"]["action"] == "remove"
            # Their room list changed too; and then nothing more.
            assert await receive_any(bob) == {"type": "rooms_changed"}
            assert await quiet(bob)
            # Its other room goes on; the removed one is refused like a missing one.
            await post(room, user, "elsewhere")
            assert (await receive(bob))["message"]["text"] == "elsewhere"
            refused = await subscribe(bob, private.slug, since=0)
            assert (refused["type"], refused["code"]) == ("error", "not_found")

    async def test_a_room_socket_is_closed_with_4404_after_the_removal(
        self, private: Room, user: User, other_user: User
    ) -> None:
        async with socket(f"/ws/rooms/{private.slug}/", user=other_user) as bob:
            await connected(bob)
            await remove(private, user, "bob")
            assert (await receive(bob))["type"] == "member"
            assert (await receive(bob))["type"] == "removed"
            # Then the close; at most the user's own news that their room
            # list changed may come before it.
            closed = await bob.receive_output(timeout=5)
            if closed.get("text") == '{"type":"rooms_changed"}':
                closed = await bob.receive_output(timeout=5)
            assert closed == {"type": "websocket.close", "code": 4404}

    async def test_leaving_is_a_removal_too_and_other_members_see_it(
        self, private: Room, user: User, other_user: User
    ) -> None:
        async with (
            socket(f"/ws/rooms/{private.slug}/", user=user) as alice,
            socket(f"/ws/rooms/{private.slug}/", user=other_user) as bob,
        ):
            await connected(alice)
            await connected(bob)
            await remove(private, other_user, "bob")
            left = await receive(alice)
            assert (left["type"], left["action"], left["by"]) == (
                "member",
                "leave",
                "bob",
            )
            assert [(await receive(bob))["type"] for _ in range(2)] == [
                "member",
                "removed",
            ]
            await post(private, user, "still here")
            assert (await receive(alice))["message"]["text"] == "still here"
        # The hub let go of the room once both sockets closed.
        assert private.slug not in get_hub().rooms

    async def test_leaving_a_public_room_keeps_the_page_reading(
        self, room: Room, user: User, other_user: User
    ) -> None:
        await database_sync_to_async(services.room_join)(room=room, user=other_user)
        async with socket(f"/ws/rooms/{room.slug}/", user=other_user) as bob:
            await connected(bob)
            await remove(room, other_user, "bob")
            assert (await receive(bob))["action"] == "leave"
            await post(room, user, "public still")
            assert (await receive(bob))["message"]["text"] == "public still"


class CatchUpTests:
    async def test_member_changes_are_replayed_by_since_in_order(
        self, private: Room, user: User, make_user: Any
    ) -> None:
        await database_sync_to_async(make_user)("carol", "Carol")
        seq = (await database_sync_to_async(Room.objects.get)(pk=private.pk)).last_seq
        await database_sync_to_async(services.member_add)(
            room=private, actor=user, username="carol"
        )
        await post(private, user, "welcome")
        async with socket(f"/ws/rooms/{private.slug}/?since={seq}", user=user) as ws:
            history = await connected(ws)
            assert [
                (m["member"] or {}).get("action") or m["text"]
                for m in history["messages"]
            ] == ["add", "welcome"]


class ReadCursorTests:
    async def test_reading_in_one_socket_tells_every_socket_of_the_reader(
        self, room: Room, user: User, other_user: User
    ) -> None:
        await database_sync_to_async(services.room_join)(room=room, user=other_user)
        message = await post(room, user, "hello @bob")
        async with (
            socket("/ws/", user=other_user) as tab1,
            socket(f"/ws/rooms/{room.slug}/", user=other_user) as tab2,
            socket(f"/ws/rooms/{room.slug}/", user=user) as alice,
        ):
            assert (await tab1.connect())[0]
            await connected(tab2)
            await connected(alice)
            assert (await subscribe(tab1, room.slug))["type"] == "history"
            await tab1.send_json_to(
                {"type": "read", "room": room.slug, "id": message.pk}
            )
            for tab in (tab1, tab2):
                assert await receive(tab) == {
                    "type": "read",
                    "room": room.slug,
                    "id": message.pk,
                }
                assert await receive(tab) == {
                    "type": "unread",
                    "room": room.slug,
                    "unread": 0,
                    "mentions": 0,
                    "last_id": message.pk,
                }
            assert await quiet(alice)
            # Reading again changes nothing, and says nothing.
            await tab1.send_json_to(
                {"type": "read", "room": room.slug, "id": message.pk}
            )
            assert await quiet(tab1, tab2)
        # Closed sockets leave nothing behind in the hub.
        assert other_user.pk not in get_hub().users


class RoomListChangeTests:
    async def test_being_added_or_a_conversation_coming_back_is_told_live(
        self, user: User, other_user: User
    ) -> None:
        room = await database_sync_to_async(services.room_create)(
            name="Later", created_by=user, kind=Room.Kind.PRIVATE
        )
        direct, _ = await database_sync_to_async(services.direct_open)(
            actor=user, usernames=["bob"]
        )
        await remove(direct, other_user, "bob")  # Bob hides it.
        async with socket("/ws/", user=other_user) as bob:
            assert (await bob.connect())[0]
            await database_sync_to_async(services.member_add)(
                room=room, actor=user, username="bob"
            )
            assert await receive_any(bob) == {"type": "rooms_changed"}
            await post(direct, user, "are you there?")
            assert await receive_any(bob) == {"type": "rooms_changed"}
            await remove(room, user, "bob")
            assert await receive_any(bob) == {"type": "rooms_changed"}
