"""
Who reaches a private room, and how, everywhere it can be reached.

A table: each kind of visitor against each way in. A visitor who may not
read the room gets exactly what they get for a room, message or file that
does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from chat.models import Attachment, Message, Room
from chat.services import attachment_create, message_create, room_create
from chat.tests.test_consumers import socket
from conftest import image_bytes

VISITORS = ["guest", "member", "outsider", "staff outsider"]
# Who may read the private room.
READERS = {"member"}


@pytest.fixture
def world(make_user: Callable[..., User]) -> dict[str, Any]:
    """A private room with a member's message and image, and a public room."""
    member = make_user("mira", "Mira")
    outsider = make_user("otto", "Otto")
    staff = make_user("stan", "Stan")
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    staff.refresh_from_db()
    private = room_create(name="Secret", created_by=member, kind=Room.Kind.PRIVATE)
    public = room_create(name="Lobby", created_by=member)
    message, _ = message_create(room=private, author=member, text="for members")
    shared, _ = attachment_create(
        room=private,
        author=member,
        upload=SimpleUploadedFile("p.png", image_bytes(), content_type="image/png"),
    )
    return {
        "room": private,
        "public": public,
        "message": message,
        "attachment": Attachment.objects.get(message=shared),
        "users": {"member": member, "outsider": outsider, "staff outsider": staff},
    }


def client_for(world: dict[str, Any], visitor: str) -> Client:
    client = Client()
    if visitor != "guest":
        client.force_login(world["users"][visitor])
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
        "around a message": lambda c: c.get(f"{base}?around={message_id}"),
        "edit": lambda c: c.patch(
            f"{base}/{message_id}", {"text": "x"}, content_type="application/json"
        ),
        "delete": lambda c: c.delete(f"{base}/{message_id}"),
        "react": lambda c: c.put(f"{base}/{message_id}/reactions/{quote('👍')}"),
        "revisions": lambda c: c.get(f"{base}/{message_id}/revisions"),
        "file": lambda c: c.get(f"/files/{key}/"),
        "thumbnail": lambda c: c.get(f"/files/{key}/thumbnail/"),
    }


WAYS = list(_ways_in("x", 1, "k"))


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("way", WAYS)
def test_a_private_room_is_reached_only_by_its_members(
    world: dict[str, Any], visitor: str, way: str
) -> None:
    room, message = world["room"], world["message"]
    key = str(world["attachment"].key)
    client = client_for(world, visitor)
    got = answer(_ways_in(room.slug, message.pk, key)[way](client), room.slug)
    if visitor in READERS:
        assert got[0] in (200, 201), got
        return
    # Exactly what the same visitor gets for things that do not exist.
    nowhere = _ways_in("no-such-room", 10**9, "00000000-0000-0000-0000-000000000000")
    missing = answer(nowhere[way](client_for(world, visitor)), "no-such-room")
    assert got == missing
    assert got[0] in (403, 404)  # 403: a guest, for files and writes alike.
    stored = Message.objects.get(pk=message.pk)
    assert (stored.text, stored.deleted) == ("for members", False)
    assert not stored.reactions.exists()


@pytest.mark.parametrize("visitor", VISITORS)
def test_the_room_list_shows_a_private_room_to_its_members_only(
    world: dict[str, Any], visitor: str
) -> None:
    page = client_for(world, visitor).get("/").content.decode()
    assert ("Secret" in page) is (visitor in READERS)
    lobby = world["public"].get_absolute_url()
    sidebar = client_for(world, visitor).get(lobby).content.decode()
    assert ("Secret" in sidebar) is (visitor in READERS)


@pytest.mark.django_db(transaction=True)
class SocketAccessTests:
    @pytest.mark.parametrize("visitor", VISITORS)
    async def test_a_room_socket_to_a_private_room_is_refused_like_a_missing_one(
        self, world: dict[str, Any], visitor: str
    ) -> None:
        user = world["users"].get(visitor)
        async with socket(f"/ws/rooms/{world['room'].slug}/", user=user) as ws:
            ok, code = await ws.connect()
            if visitor in READERS:
                assert ok
                history = await ws.receive_json_from()
                assert history["messages"][0]["text"] == "for members"
                return
        async with socket("/ws/rooms/no-such-room/", user=user) as missing:
            assert (ok, code) == await missing.connect() == (False, 4404)

    @pytest.mark.parametrize("visitor", VISITORS)
    async def test_subscribing_to_a_private_room_answers_like_a_missing_one(
        self, world: dict[str, Any], visitor: str
    ) -> None:
        user = world["users"].get(visitor)
        slug = world["room"].slug
        async with socket("/ws/", user=user) as ws:
            ok, _ = await ws.connect()
            assert ok
            await ws.send_json_to({"type": "subscribe", "room": slug, "since": None})
            got = await ws.receive_json_from()
            if visitor in READERS:
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
            lobby = world["public"].slug
            await ws.send_json_to({"type": "subscribe", "room": lobby})
            assert (await ws.receive_json_from())["type"] == "history"
