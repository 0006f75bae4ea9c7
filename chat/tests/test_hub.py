from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.services import user_delete, user_end_other_sessions
from chat import events, protocol
from chat.hub import Hub, get_hub
from chat.models import DELETED_AUTHOR_NAME, Room
from chat.services import attachment_create, message_create
from conftest import PASSWORD
from tests.clients import until

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


async def logged_in_key(user: User) -> str:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return str(client.session.session_key)


def history_of(frame: str) -> list[dict[str, Any]]:
    return list(json.loads(frame)["messages"])


class HubEventTests:
    async def test_ended_logins_close_at_once_not_at_the_tick(
        self, room: Room, user: User, other_user: User
    ) -> None:
        hub = get_hub()
        ending, staying = (
            Inbox(await logged_in_key(user)),
            Inbox(await logged_in_key(other_user)),
        )
        await hub.join(room, ending)
        await hub.join(room, staying)
        await database_sync_to_async(user_end_other_sessions)(
            user=user, password=PASSWORD
        )
        assert await until(lambda: ending.ended, 3)
        assert not staying.ended

    async def test_a_deleted_authors_messages_leave_the_cached_history(
        self,
        room: Room,
        user: User,
        other_user: User,
        png_upload: SimpleUploadedFile,
    ) -> None:
        hub = get_hub()
        await hub.join(room, Inbox())
        await post(room, user, "mine")
        await database_sync_to_async(attachment_create)(
            room=room, author=user, upload=png_upload
        )
        await post(room, other_user, "theirs")
        await until(lambda: len(hub.rooms[room.slug].recent) == 3, 3)
        _, before = await hub.join(room, Inbox())
        assert [m["author"] for m in history_of(before)] == ["Alice", "Alice", "Bob"]

        await database_sync_to_async(user_delete)(user=user)

        async def history() -> list[dict[str, Any]]:
            return history_of((await hub.join(room, Inbox()))[1])

        assert await until(lambda: hub.rooms[room.slug].history is None, 3)
        after = await history()
        assert [m["author"] for m in after] == [DELETED_AUTHOR_NAME] * 2 + ["Bob"]
        assert [m["attachment"] for m in after] == [None, None, None]
        assert [m["username"] for m in after] == [None, None, "bob"]

    async def test_events_reach_the_hubs_of_other_processes(
        self, room: Room, user: User
    ) -> None:
        """Two hubs on one channel layer stand for two processes."""
        loop = asyncio.get_running_loop()
        here, there = Hub(loop), Hub(loop)
        for hub in (here, there):
            hub.local_only = False
        listener = Inbox(await logged_in_key(user))
        await there.join(room, listener)
        await here.join(room, Inbox())
        await database_sync_to_async(user_end_other_sessions)(
            user=user, password=PASSWORD
        )
        # What publish() does in the process that ended the logins:
        here.take_own({"type": events.LOGINS_EVENT}, True)
        assert await until(lambda: listener.ended, 3)
        for hub in (here, there):
            await hub.close()
