"""The HTTP contract of rooms, members, direct conversations and blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from chat.models import Room
from chat.services import message_create, room_create
from conftest import ROOM_KEYS

pytestmark = pytest.mark.django_db


def client_of(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def listed_rooms(client: Client) -> list[dict[str, Any]]:
    """Return the rooms ``client`` lists, but the one every database starts with."""
    rooms = client.get("/api/rooms").json()["rooms"]
    return [room for room in rooms if room["slug"] != "general"]


class RoomListApiTests:
    def test_joined_rooms_come_first_then_those_to_browse(
        self, user: User, other_user: User
    ) -> None:
        mine = room_create(name="Mine", created_by=user)
        theirs = room_create(name="Theirs", created_by=other_user)
        message_create(room=theirs, author=other_user, text="busy")
        rooms = listed_rooms(client_of(user))
        assert [(r["slug"], r["joined"]) for r in rooms] == [
            (mine.slug, True),
            (theirs.slug, False),
        ]
        assert set(rooms[0]) == ROOM_KEYS
        assert rooms[0]["members"] == 1

    def test_a_guest_browses_the_public_rooms(self, user: User) -> None:
        public = room_create(name="Open", created_by=user)
        room_create(name="Closed", created_by=user, kind=Room.Kind.PRIVATE)
        rooms = listed_rooms(client_of(None))
        assert [(r["slug"], r["joined"]) for r in rooms] == [(public.slug, False)]

    def test_creating_a_private_room_answers_with_the_whole_room(
        self, user: User
    ) -> None:
        response = post_json(
            client_of(user), "/api/rooms", {"name": "Plans", "kind": "private"}
        )
        assert response.status_code == 201
        room = response.json()["room"]
        assert (room["kind"], room["joined"], room["members"]) == ("private", True, 1)
        bad = post_json(client_of(user), "/api/rooms", {"name": "X", "kind": "direct"})
        assert bad.status_code == 400


class MembershipApiTests:
    def test_join_add_list_and_remove(
        self, user: User, other_user: User, make_user: Callable[..., User]
    ) -> None:
        carol = make_user("carol", "Carol")
        public = room_create(name="Open", created_by=user)
        join = client_of(other_user).post(f"/api/rooms/{public.slug}/join")
        assert (join.status_code, join.json()["room"]["joined"]) == (201, True)
        assert (
            client_of(other_user).post(f"/api/rooms/{public.slug}/join").status_code
            == 200
        )

        private = room_create(name="Closed", created_by=user, kind=Room.Kind.PRIVATE)
        url = f"/api/rooms/{private.slug}/members"
        added = post_json(client_of(user), url, {"username": "carol"})
        assert added.status_code == 201
        assert added.json() == {"member": {"username": "carol", "name": "Carol"}}
        assert post_json(client_of(user), url, {"username": "carol"}).status_code == 200
        listed = client_of(carol).get(url).json()["members"]
        assert [m["username"] for m in listed] == ["alice", "carol"]
        # Carol may not add (the room does not allow it), nor remove others.
        refused = post_json(client_of(carol), url, {"username": "bob"})
        assert refused.status_code == 403
        assert client_of(carol).delete(f"{url}/alice").status_code == 403
        assert client_of(user).delete(f"{url}/carol").status_code == 204
        assert client_of(carol).get(url).status_code == 404
        assert client_of(user).delete(f"{url}/carol").status_code == 404

    def test_bad_input_gets_a_clear_error(self, user: User) -> None:
        private = room_create(name="Closed", created_by=user, kind=Room.Kind.PRIVATE)
        url = f"/api/rooms/{private.slug}/members"
        for body, status in [
            ({}, 400),
            ({"username": 5}, 400),
            ({"username": "x"}, 404),
        ]:
            response = post_json(client_of(user), url, body)
            assert response.status_code == status, body
            assert response.json()["type"] == "error"
        # A guest is not told the private room exists.
        assert client_of(None).post(url, {}).status_code == 404


class DirectApiTests:
    def test_opening_a_conversation_twice_gives_the_same_room(
        self, user: User, other_user: User
    ) -> None:
        first = post_json(client_of(user), "/api/direct", {"usernames": ["bob"]})
        assert first.status_code == 201
        room = first.json()["room"]
        assert (room["kind"], room["name"], room["members"]) == ("direct", "Bob", 2)
        again = post_json(
            client_of(other_user), "/api/direct", {"usernames": ["alice"]}
        )
        assert again.status_code == 200
        assert again.json()["room"]["slug"] == room["slug"]
        assert again.json()["room"]["name"] == "Alice"

    def test_a_blocked_user_gets_a_403_and_bad_input_a_400(
        self, user: User, other_user: User
    ) -> None:
        assert (
            post_json(
                client_of(other_user), "/api/blocks", {"username": "alice"}
            ).status_code
            == 201
        )
        blocks = client_of(other_user).get("/api/blocks").json()["blocks"]
        assert blocks == [{"username": "alice", "name": "Alice"}]
        refused = post_json(client_of(user), "/api/direct", {"usernames": ["bob"]})
        assert refused.status_code == 403
        for body in [{}, {"usernames": "bob"}, {"usernames": [1]}, {"usernames": []}]:
            assert post_json(client_of(user), "/api/direct", body).status_code == 400
        assert client_of(other_user).delete("/api/blocks/alice").status_code == 204
        assert (
            post_json(
                client_of(user), "/api/direct", {"usernames": ["bob"]}
            ).status_code
            == 201
        )


class ReadingApiTests:
    def test_read_unread_mute_and_read_all(self, user: User, other_user: User) -> None:
        room = room_create(name="Open", created_by=user)
        bob = client_of(other_user)
        assert bob.post(f"/api/rooms/{room.slug}/join").status_code == 201
        message_create(room=room, author=user, text="one @bob")
        second, _ = message_create(room=room, author=user, text="two")
        [listed] = listed_rooms(bob)
        # Joined while the room was empty: the cursor is at 0.
        assert (listed["unread"], listed["mentions"], listed["last_read_id"]) == (
            2,
            1,
            0,
        )
        assert listed["last_message_id"] == second.pk
        read = post_json(bob, f"/api/rooms/{room.slug}/read", {"id": second.pk})
        assert read.status_code == 200
        assert (read.json()["room"]["unread"], read.json()["room"]["last_read_id"]) == (
            0,
            second.pk,
        )
        back = post_json(
            bob, f"/api/rooms/{room.slug}/read", {"id": second.pk, "unread": True}
        )
        assert back.json()["room"]["unread"] == 1
        muted = bob.put(f"/api/rooms/{room.slug}/mute")
        assert muted.json()["room"]["muted"] is True
        assert (
            bob.delete(f"/api/rooms/{room.slug}/mute").json()["room"]["muted"] is False
        )
        assert post_json(bob, "/api/read-all", {}).json() == {"rooms": 1}
        assert listed_rooms(bob)[0]["unread"] == 0
        for body in [{}, {"id": "1"}, {"id": True}, {"id": 1, "unread": "yes"}]:
            response = post_json(bob, f"/api/rooms/{room.slug}/read", body)
            assert response.status_code == 400, body
        # A guest keeps their place in the browser, not here.
        assert (
            client_of(None).get("/api/rooms").json()["rooms"][0]["last_read_id"] is None
        )
