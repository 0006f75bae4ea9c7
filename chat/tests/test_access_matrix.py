"""
Who reaches a private room, and how, everywhere it can be reached.

A table: each kind of room (private, direct) and each kind of visitor
against each way in. A visitor who may not read the room gets exactly what
they get for a room, message or file that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from chat.exceptions import NotFound
from chat.models import Attachment, Message, Room
from chat.services import (
    Post,
    attachment_create,
    direct_open,
    member_add,
    member_remove,
    message_create,
    messages_create,
    room_create,
)
from chat.tests.test_consumers import socket
from conftest import image_bytes

VISITORS = ["guest", "member", "former member", "outsider", "staff outsider"]
KINDS = [Room.Kind.PRIVATE, Room.Kind.DIRECT]
# Who may read the room: a former member of a direct conversation only hid
# it (its people never change).
READERS = {
    Room.Kind.PRIVATE: {"member"},
    Room.Kind.DIRECT: {"member", "former member"},
}


@pytest.fixture(params=KINDS)
def world(request: pytest.FixtureRequest, make_user: Callable[..., User]) -> World:
    """
    A private room or a direct conversation, with a member's message and
    image, a former member, and a public room.
    """
    member = make_user("mira", "Mira")
    former = make_user("fred", "Fred")
    outsider = make_user("otto", "Otto")
    staff = make_user("stan", "Stan")
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    staff.refresh_from_db()
    if request.param == Room.Kind.PRIVATE:
        room = room_create(name="Secret", created_by=member, kind=Room.Kind.PRIVATE)
        member_add(room=room, actor=member, username="fred")
    else:
        room, _ = direct_open(actor=member, usernames=["fred"])
    public = room_create(name="Lobby", created_by=member)
    message, _ = message_create(room=room, author=member, text="for members")
    shared, _ = attachment_create(
        room=room,
        author=member,
        upload=SimpleUploadedFile("p.png", image_bytes(), content_type="image/png"),
    )
    member_remove(room=room, actor=former, username="fred")
    return World(
        room=room,
        public=public,
        message=message,
        attachment=Attachment.objects.get(message=shared),
        users={
            "member": member,
            "former member": former,
            "outsider": outsider,
            "staff outsider": staff,
        },
        readers=READERS[Room.Kind(request.param)],
    )


@dataclass
class World:
    room: Room
    public: Room
    message: Message
    attachment: Attachment
    users: dict[str, User]
    readers: set[str]


def client_for(world: World, visitor: str) -> Client:
    client = Client()
    if visitor != "guest":
        client.force_login(world.users[visitor])
    return client


def answer(response: Any, slug: str) -> tuple[int, Any]:
    """What a visitor sees of an answer: its status and JSON body (with the
    room's name as asked for, which differs between two asks, left out)."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.content.decode().replace(slug, "?")
        return response.status_code, json.loads(body)
    return response.status_code, None


def _ways_in(
    room_slug: str, message_id: int, key: str
) -> dict[str, Callable[..., Any]]:
    base = f"/api/rooms/{room_slug}/messages"
    return {
        "room page": lambda c: c.get(f"/rooms/{room_slug}/"),
        "history API": lambda c: c.get(base),
        "since catch-up": lambda c: c.get(f"{base}?since=0"),
        "after catch-up": lambda c: c.get(f"{base}?after=0"),
        "around a message": lambda c: c.get(f"{base}?around={message_id}"),
        "edit": lambda c: c.patch(
            f"{base}/{message_id}", {"text": "x"}, content_type="application/json"
        ),
        "delete": lambda c: c.delete(f"{base}/{message_id}"),
        "react": lambda c: c.put(f"{base}/{message_id}/reactions/{quote('👍')}"),
        "revisions": lambda c: c.get(f"{base}/{message_id}/revisions"),
        "file": lambda c: c.get(f"/files/{key}/"),
        "thumbnail": lambda c: c.get(f"/files/{key}/thumbnail/"),
        "join": lambda c: c.post(f"/api/rooms/{room_slug}/join"),
        "member list": lambda c: c.get(f"/api/rooms/{room_slug}/members"),
    }


WAYS = list(_ways_in("x", 1, "k"))


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("way", WAYS)
def test_a_closed_room_is_reached_only_by_its_readers(
    world: World, visitor: str, way: str
) -> None:
    room, message = world.room, world.message
    key = str(world.attachment.key)
    client = client_for(world, visitor)
    got = answer(_ways_in(room.slug, message.pk, key)[way](client), room.slug)
    if visitor in world.readers or (
        # Staff manage a private room's members without reading it.
        (visitor, way, room.kind) == ("staff outsider", "member list", "private")
    ):
        # A reader edits, deletes and sees the history of their own messages.
        theirs = visitor == "member" or way not in ("edit", "delete", "revisions")
        assert got[0] in ((200, 201) if theirs else (403,)), got
        return
    # Exactly what the same visitor gets for things that do not exist.
    nowhere = _ways_in("no-such-room", 10**9, "00000000-0000-0000-0000-000000000000")
    missing = answer(nowhere[way](client_for(world, visitor)), "no-such-room")
    assert got == missing
    assert got[0] in (403, 404)  # 403: a guest, for files and writes alike.
    stored = Message.objects.get(pk=message.pk)
    assert room.memberships.count() == (1 if room.kind == Room.Kind.PRIVATE else 2)
    assert (stored.text, stored.deleted) == ("for members", False)
    assert not stored.reactions.exists()


@pytest.mark.parametrize("visitor", VISITORS)
def test_the_room_list_shows_a_closed_room_to_its_readers_only(
    world: World, visitor: str
) -> None:
    room = world.room
    # A direct conversation its member hid is out of their list too.
    listed = visitor == "member"
    page = client_for(world, visitor).get("/").content.decode()
    assert (room.slug in page) is listed
    sidebar = client_for(world, visitor).get(world.public.get_absolute_url())
    assert (room.slug in sidebar.content.decode()) is listed
    rooms = client_for(world, visitor).get("/api/rooms").json()["rooms"]
    assert (room.slug in [r["slug"] for r in rooms]) is listed


def test_a_reply_cannot_name_a_message_of_a_closed_room(world: World) -> None:
    """Replying from a public room to a message of a closed one quotes nothing."""
    outsider = world.users["outsider"]
    [closed, missing] = messages_create(
        room=world.public,
        author=outsider,
        posts=[Post("peek", reply_to=world.message.pk), Post("peek", reply_to=10**9)],
    )
    assert isinstance(closed, NotFound) and isinstance(missing, NotFound)
    assert closed.detail.replace(str(world.message.pk), "?") == missing.detail.replace(
        str(10**9), "?"
    )


@pytest.mark.django_db(transaction=True)
class SocketAccessTests:
    @pytest.mark.parametrize("visitor", VISITORS)
    async def test_a_room_socket_to_a_private_room_is_refused_like_a_missing_one(
        self, world: World, visitor: str
    ) -> None:
        user = world.users.get(visitor)
        async with socket(f"/ws/rooms/{world.room.slug}/", user=user) as ws:
            ok, code = await ws.connect()
            if visitor in world.readers:
                assert ok
                history = await ws.receive_json_from()
                assert "for members" in [m["text"] for m in history["messages"]]
                return
        async with socket("/ws/rooms/no-such-room/", user=user) as missing:
            assert (ok, code) == await missing.connect() == (False, 4404)

    @pytest.mark.parametrize("visitor", VISITORS)
    async def test_subscribing_to_a_private_room_answers_like_a_missing_one(
        self, world: World, visitor: str
    ) -> None:
        user = world.users.get(visitor)
        slug = world.room.slug
        async with socket("/ws/", user=user) as ws:
            ok, _ = await ws.connect()
            assert ok
            await ws.send_json_to({"type": "subscribe", "room": slug, "since": None})
            got = await ws.receive_json_from()
            if visitor in world.readers:
                assert got["type"] == "history"
                return
            await ws.send_json_to(
                {"type": "subscribe", "room": "no-such-room", "since": None}
            )
            missing = await ws.receive_json_from()
            assert {**got, "room": "?", "detail": "?"} == {
                **missing,
                "room": "?",
                "detail": "?",
            }
            assert got["code"] == "not_found"
            # The socket stays open for its other rooms.
            lobby = world.public.slug
            await ws.send_json_to({"type": "subscribe", "room": lobby})
            assert (await ws.receive_json_from())["type"] == "history"
