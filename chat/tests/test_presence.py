"""Who is in a room and who is typing: the view, the hub's batches, the socket."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import User
from chat import services
from chat.hub import get_hub
from chat.models import Room
from chat.presence import Person, Share, View, merge, share_of
from chat.tests.listeners import Inbox
from chat.tests.test_consumers import post, socket
from chat.tests.test_consumers_changes import quiet, receive
from tests.clients import until

ANNA = Person(1, "anna", "Anna", True)
BORIS = Person(2, "boris", "Boris", True)


def entry(person: Person) -> dict[str, str]:
    return person.entry()


class ViewTests:
    def test_a_person_with_several_sockets_is_one_entry_active_if_any_is(
        self,
    ) -> None:
        idle = ANNA._replace(active=False)
        share = share_of([idle, None, ANNA, idle, None])
        assert share == Share({1: ANNA}, guests=2)
        assert share_of([idle]).people[1].active is False

    def test_shares_of_processes_merge_and_guests_add_up(self) -> None:
        here = Share({1: ANNA._replace(active=False)}, guests=1)
        there = Share({1: ANNA, 2: BORIS}, guests=3)
        view = merge([here, there])
        assert view.guests == 4
        assert view.payload()["online"] == [entry(ANNA), entry(BORIS)]

    def test_a_share_survives_its_json_form(self) -> None:
        share = Share({1: ANNA, 2: BORIS._replace(active=False)}, guests=5)
        assert Share.from_json(json.loads(json.dumps(share.to_json()))) == share

    def test_a_diff_names_only_what_changed(self) -> None:
        before = merge([Share({1: ANNA, 2: BORIS}, guests=1)])
        after = merge([Share({1: ANNA._replace(active=False)}, guests=1)])
        assert after.diff_frame("lobby", after) is None
        diff = json.loads(after.diff_frame("lobby", before) or "")
        assert diff == {
            "type": "presence_diff",
            "room": "lobby",
            "online": [{"username": "anna", "name": "Anna", "state": "idle"}],
            "offline": ["boris"],
            "guests": 1,
        }
        guests_only = merge([Share({1: ANNA}, guests=2)])
        assert json.loads(guests_only.diff_frame("lobby", View()) or "")["guests"] == 2


def apply(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what a client that applied ``frames`` in order holds."""
    online: dict[str, str] = {}
    guests = 0
    for frame in frames:
        if frame["type"] == "presence":
            online = {}
        for one in frame["online"]:
            online[one["username"]] = one["state"]
        for gone in frame.get("offline", []):
            online.pop(gone, None)
        guests = frame["guests"]
    return {"online": online, "guests": guests}


@pytest.mark.django_db(transaction=True)
class HubPresenceTests:
    async def test_joins_state_changes_and_leaves_reach_the_room_in_batches(
        self, room: Room
    ) -> None:
        hub = get_hub()
        anna, boris, guest = Inbox(person=ANNA), Inbox(person=BORIS), Inbox()
        for inbox in (anna, boris, guest):
            await hub.join(room, inbox)
        assert await until(lambda: guest.presence, 2)
        # Three joins in one batch: one frame each, not one per join.
        assert len(guest.presence) == 1
        assert apply(guest.presence) == {
            "online": {"anna": "active", "boris": "active"},
            "guests": 1,
        }
        boris.me = BORIS._replace(active=False)
        hub.touch_presence([room.slug])
        assert await until(lambda: len(anna.presence) == 2, 2)
        assert apply(anna.presence)["online"]["boris"] == "idle"
        await hub.leave(room.slug, boris)
        assert await until(lambda: len(anna.presence) == 3, 2)
        assert anna.presence[-1]["offline"] == ["boris"]
        assert apply(guest.presence)["online"] == {"anna": "active"}


@pytest.mark.django_db(transaction=True)
class SocketPresenceTests:
    async def test_a_socket_that_asks_gets_a_snapshot_then_changes(
        self, room: Room, user: User, other_user: User
    ) -> None:
        path = f"/ws/rooms/{room.slug}/?presence=1"
        async with socket(path, user=user) as alice:
            assert (await alice.connect())[0]
            assert (await receive(alice))["type"] == "history"
            first = await receive(alice)
            assert first["type"] == "presence" and first["room"] == room.slug
            # Alice herself shows up in the next batch.
            seen = [first, await receive(alice)]
            assert apply(seen) == {"online": {"alice": "active"}, "guests": 0}
            async with socket(path, user=other_user) as bob:
                assert (await bob.connect())[0]
                assert (await receive(bob))["type"] == "history"
                snapshot = await receive(bob)
                assert snapshot["type"] == "presence"
                assert [e["username"] for e in snapshot["online"]] == ["alice"]
                seen.append(await receive(alice))
                assert apply(seen)["online"] == {"alice": "active", "bob": "active"}
                await bob.send_json_to({"type": "activity", "state": "idle"})
                seen.append(await receive(alice))
                assert apply(seen)["online"]["bob"] == "idle"
            seen.append(await receive(alice))
            assert apply(seen)["online"] == {"alice": "active"}

    async def test_a_socket_that_does_not_ask_hears_no_presence(
        self, room: Room, user: User, other_user: User
    ) -> None:
        async with (
            socket(f"/ws/rooms/{room.slug}/", user=user) as plain,
            socket(f"/ws/rooms/{room.slug}/?presence=1", user=other_user) as bob,
        ):
            assert (await plain.connect())[0]
            assert (await receive(plain))["type"] == "history"
            assert (await bob.connect())[0]
            assert (await receive(bob))["type"] == "history"
            assert (await receive(bob))["type"] == "presence"
            assert (await receive(bob))["type"] == "presence_diff"
            assert await plain.receive_nothing(timeout=1.0)
            newer = await post(room, user, "still here")
            assert (await receive(plain))["message"]["id"] == newer.pk

    async def test_on_the_multi_room_socket_each_subscription_chooses(
        self, room: Room, user: User
    ) -> None:
        other = await database_sync_to_async(services.room_create)(
            name="Other", created_by=user
        )
        async with socket("/ws/", user=user) as alice:
            assert (await alice.connect())[0]
            await alice.send_json_to(
                {"type": "subscribe", "room": room.slug, "presence": True}
            )
            await alice.send_json_to({"type": "subscribe", "room": other.slug})
            got = [await receive(alice) for _ in range(4)]
            kinds = [(frame["type"], frame["room"]) for frame in got]
            assert kinds == [
                ("history", room.slug),
                ("presence", room.slug),
                ("history", other.slug),
                ("presence_diff", room.slug),
            ]
            # She is counted in both rooms, but hears of the first alone.
            assert [e["username"] for e in got[3]["online"]] == ["alice"]
            assert await alice.receive_nothing(timeout=1.0)
            await alice.send_json_to(
                {"type": "subscribe", "room": other.slug, "presence": "yes"}
            )
            error = await receive(alice)
            assert (error["type"], error["code"]) == ("error", "bad_request")

    async def test_a_bad_presence_parameter_is_refused(self, room: Room) -> None:
        async with socket(f"/ws/rooms/{room.slug}/?presence=yes") as guest:
            assert (await guest.connect())[0]
            error = await receive(guest)
            assert (error["type"], error["code"]) == ("error", "bad_request")
            assert "presence" in error["detail"]

    async def test_a_bad_activity_state_gets_an_error(
        self, room: Room, user: User
    ) -> None:
        async with socket(f"/ws/rooms/{room.slug}/", user=user) as alice:
            assert (await alice.connect())[0]
            assert (await receive(alice))["type"] == "history"
            await alice.send_json_to({"type": "activity", "state": "away"})
            error = await receive(alice)
            assert (error["type"], error["code"]) == ("error", "bad_request")


@pytest.mark.django_db(transaction=True)
class TypingTests:
    async def test_a_notice_reaches_the_room_once_per_interval(
        self, room: Room, user: User, other_user: User
    ) -> None:
        path = f"/ws/rooms/{room.slug}/"
        async with (
            socket(path, user=user) as alice,
            socket(path, user=other_user) as bob,
            socket(path) as guest,
        ):
            for ws in (alice, bob, guest):
                assert (await ws.connect())[0]
                assert (await receive(ws))["type"] == "history"
            await alice.send_json_to({"type": "typing", "room": room.slug})
            expected = {
                "type": "typing",
                "room": room.slug,
                "username": "alice",
                "name": "Alice",
            }
            assert await receive(bob) == expected
            assert await receive(guest) == expected
            assert await receive(alice) == expected  # Her own comes back too.
            # Again within the interval: not relayed.
            await alice.send_json_to({"type": "typing"})
            assert await quiet(bob, guest)

    async def test_posting_ends_a_bout_the_next_notice_goes_at_once(
        self, room: Room, user: User, other_user: User
    ) -> None:
        path = f"/ws/rooms/{room.slug}/"
        async with socket(path, user=user) as alice, socket(path) as guest:
            for ws in (alice, guest):
                assert (await ws.connect())[0]
                assert (await receive(ws))["type"] == "history"
            await alice.send_json_to({"type": "typing"})
            assert (await receive(guest))["type"] == "typing"
            await alice.send_json_to({"type": "message", "text": "done"})
            assert (await receive(guest))["type"] == "message"
            await alice.send_json_to({"type": "typing"})
            assert (await receive(guest))["type"] == "typing"

    async def test_a_guest_may_not_send_one(self, room: Room, user: User) -> None:
        path = f"/ws/rooms/{room.slug}/"
        async with socket(path) as guest, socket(path, user=user) as alice:
            for ws in (guest, alice):
                assert (await ws.connect())[0]
                assert (await receive(ws))["type"] == "history"
            await guest.send_json_to({"type": "typing", "room": room.slug})
            error = await receive(guest)
            assert (error["type"], error["code"]) == ("error", "auth_required")
            assert await quiet(alice)

    async def test_a_room_not_followed_gets_an_error(
        self, room: Room, user: User
    ) -> None:
        async with socket("/ws/", user=user) as alice:
            assert (await alice.connect())[0]
            await alice.send_json_to({"type": "typing", "room": room.slug})
            error = await receive(alice)
            assert (error["type"], error["room"]) == ("error", room.slug)

    async def test_a_room_with_too_many_online_relays_none(
        self, room: Room, user: User, other_user: User, settings: Any
    ) -> None:
        settings.TYPING_MAX_ONLINE = 1
        path = f"/ws/rooms/{room.slug}/?presence=1"
        async with (
            socket(path, user=user) as alice,
            socket(path, user=other_user) as bob,
        ):
            for ws in (alice, bob):
                assert (await ws.connect())[0]
                assert (await receive(ws))["type"] == "history"
            # Both online, as the room's sockets were told.
            seen = [await receive(bob)]
            while len(apply(seen)["online"]) < 2:
                seen.append(await receive(bob))
            await alice.send_json_to({"type": "typing", "room": room.slug})
            assert await bob.receive_nothing(timeout=1.0)


@pytest.mark.django_db(transaction=True)
class PresenceApiTests:
    async def test_it_lists_who_is_in_the_room_to_those_who_may_read_it(
        self, room: Room, user: User, other_user: User
    ) -> None:
        def listed(slug: str) -> tuple[int, dict[str, Any]]:
            response = Client().get(f"/api/rooms/{slug}/presence")
            return response.status_code, response.json()

        async with (
            socket(f"/ws/rooms/{room.slug}/", user=other_user) as bob,
            socket(f"/ws/rooms/{room.slug}/") as guest,
        ):
            for ws in (bob, guest):
                assert (await ws.connect())[0]
                assert (await receive(ws))["type"] == "history"
            deadline = time.monotonic() + 3
            while True:
                status, body = await database_sync_to_async(listed)(room.slug)
                if body.get("online") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert status == 200
            assert body == {
                "room": room.slug,
                "online": [{"username": "bob", "name": "Bob", "state": "active"}],
                "guests": 1,
            }
        secret = await database_sync_to_async(services.room_create)(
            name="Secret", created_by=user, kind=Room.Kind.PRIVATE
        )
        status, body = await database_sync_to_async(listed)(secret.slug)
        assert (status, body["code"]) == (404, "not_found")
