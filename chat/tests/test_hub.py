from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import User
from chat import events, protocol
from chat.hub import Hub, get_hub
from chat.models import Room
from chat.services import message_create

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    """A listener that keeps what the hub hands it."""

    def __init__(self, key: str | None = None) -> None:
        self.frames: list[tuple[int | None, str]] = []
        self.key = key
        self.ended = False

    def deliver(self, message_id: int | None, frame: str, wire: bytes) -> None:
        self.frames.append((message_id, frame))

    def deliver_many(self, messages: list[tuple[int, str, bytes]], wire: bytes) -> None:
        for message_id, frame, one in messages:
            self.deliver(message_id, frame, one)

    def session_key(self) -> str | None:
        return self.key

    def end_session(self) -> None:
        self.ended = True

    @property
    def ids(self) -> list[int | None]:
        return [message_id for message_id, _ in self.frames if message_id]


def event(room: Room, message_id: int, prev_id: int) -> dict[str, object]:
    return {
        "type": events.MESSAGE_EVENT,
        "room": room.slug,
        "id": message_id,
        "prev_id": prev_id,
        "message": protocol.encode({"id": message_id}),
        "client_id": None,
    }


async def post(room: Room, user: User, text: str) -> int:
    message, _ = await database_sync_to_async(message_create)(
        room=room, author=user, text=text
    )
    return message.pk


class HubOrderTests:
    async def test_broadcasts_arriving_out_of_order_are_delivered_in_order(
        self, room: Room
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        start, _history = await hub.join(room, inbox)
        hub.accept(event(room, start + 3, start + 2))
        hub.accept(event(room, start + 2, start + 1))
        assert inbox.ids == []
        hub.accept(event(room, start + 1, start))
        await asyncio.sleep(0)  # Written together when the loop comes round.
        assert inbox.ids == [start + 1, start + 2, start + 3]
        await hub.close()

    async def test_a_broadcast_heard_twice_is_delivered_once(self, room: Room) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        start, _history = await hub.join(room, inbox)
        for _ in range(3):
            hub.accept(event(room, start + 1, start))
        await asyncio.sleep(0)
        assert inbox.ids == [start + 1]
        await hub.close()

    async def test_a_lost_broadcast_is_fetched_from_the_database(
        self, room: Room, user: User
    ) -> None:
        # A hub of its own hears nothing of what this process posts, as a
        # process hears nothing while Redis is down.
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        await hub.join(room, inbox)
        lost = [await post(room, user, f"lost {n}") for n in range(3)]
        await hub.tick(heartbeat=False)
        await asyncio.sleep(0.2)
        assert inbox.ids == lost
        texts = [json.loads(frame)["message"]["text"] for _, frame in inbox.frames]
        assert texts == ["lost 0", "lost 1", "lost 2"]
        await hub.close()

    async def test_a_gap_that_does_not_close_is_repaired(
        self, room: Room, user: User
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        await hub.join(room, inbox)
        first = await post(room, user, "one")
        second = await post(room, user, "two")
        hub.accept(event(room, second + 1, second))  # Its link never came.
        assert inbox.ids == []
        await asyncio.sleep(0.8)
        assert inbox.ids == [first, second, second + 1]
        await hub.close()


class HubTickTests:
    async def test_the_tick_sends_a_heartbeat_with_the_latest_id(
        self, room: Room, user: User
    ) -> None:
        hub = get_hub()
        inbox = Inbox()
        await hub.join(room, inbox)
        last = await post(room, user, "hi")
        await asyncio.sleep(0.05)
        await hub.tick()
        assert json.loads(inbox.frames[-1][1]) == {"type": "heartbeat", "last_id": last}

    async def test_the_tick_ends_sockets_whose_login_ended(
        self, room: Room, user: User
    ) -> None:
        client = Client()
        await database_sync_to_async(client.force_login)(user)
        key = client.session.session_key
        hub = get_hub()
        staying, leaving = Inbox(key), Inbox(key)
        await hub.join(room, staying)
        await hub.tick()
        assert not staying.ended
        await database_sync_to_async(client.logout)()
        await hub.join(room, leaving)
        await hub.tick()
        assert staying.ended and leaving.ended
