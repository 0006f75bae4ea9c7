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
from chat.services import (
    attachment_create,
    message_create,
    message_edit,
    room_create,
)
from chat.tests.listeners import Inbox
from conftest import PASSWORD
from tests.clients import until
from tests.faults import conftest as faults
from tests.faults.conftest import RedisServer

pytestmark = pytest.mark.django_db(transaction=True)

redis_server = faults.redis_server


def event(
    room: Room, seq: int, prev_seq: int, message_id: int | None = None
) -> dict[str, object]:
    message_id = message_id or seq
    return {
        "type": events.CHANGE_EVENT,
        "room": room.slug,
        "seq": seq,
        "prev_seq": prev_seq,
        "id": message_id,
        "message": protocol.encode({"id": message_id}),
        "client_id": None,
    }


async def post(room: Room, user: User, text: str) -> int:
    """Post ``text``; return its seq (the room's change number)."""
    message, _ = await database_sync_to_async(message_create)(
        room=room, author=user, text=text
    )
    return message.seq


def redis_hubs(redis_server: RedisServer, count: int) -> list[Hub]:
    """Return ``count`` hubs on this loop, each a process's over a real Redis."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    hubs = [Hub(asyncio.get_running_loop()) for _ in range(count)]
    for hub in hubs:
        hub.layer = RedisPubSubChannelLayer(hosts=[redis_server.url])
        hub.local_only = False
    return hubs


async def opening(hub: Hub, room: Room) -> None:
    """Let a join that was just started go as far as opening ``room``."""
    for _ in range(100):
        if room.slug in hub.rooms:
            return  # Being read from the database (in a thread).
        await asyncio.sleep(0)
    raise AssertionError(f"{room.slug} was never opened")


class HubOrderTests:
    async def test_broadcasts_arriving_out_of_order_are_delivered_in_order(
        self, room: Room
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        start = (await hub.join(room, inbox)).seq
        hub.accept(event(room, start + 3, start + 2))
        hub.accept(event(room, start + 2, start + 1))
        assert inbox.seqs == []
        hub.accept(event(room, start + 1, start))
        await asyncio.sleep(0)  # Written together when the loop comes round.
        assert inbox.seqs == [start + 1, start + 2, start + 3]
        await hub.close()

    async def test_a_broadcast_heard_twice_is_delivered_once(self, room: Room) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        start = (await hub.join(room, inbox)).seq
        for _ in range(3):
            hub.accept(event(room, start + 1, start))
        await asyncio.sleep(0)
        assert inbox.seqs == [start + 1]
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
        assert inbox.seqs == lost
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
        hub.accept(event(room, second + 1, second, 10**6))  # Its link never came.
        assert inbox.seqs == []
        await asyncio.sleep(0.8)
        assert inbox.seqs == [first, second, second + 1]
        await hub.close()

    async def test_a_held_change_keeps_its_client_id_through_a_repair(
        self, room: Room, user: User
    ) -> None:
        """The sender's acknowledgement survives a hole in front of it."""
        hub = Hub(asyncio.get_running_loop())  # Hears nothing by itself.
        inbox = Inbox()
        await hub.join(room, inbox)
        message, _ = await database_sync_to_async(message_create)(
            room=room, author=user, text="typo"
        )
        other, _ = await database_sync_to_async(message_create)(
            room=room, author=user, text="other"
        )
        edited, _ = await database_sync_to_async(message_edit)(
            room=room, editor=user, message_id=message.pk, text="fixed"
        )
        held = event(room, edited.seq, edited.seq - 1, message.pk)
        held["message"] = protocol.encode({"id": message.pk, "text": "fixed"})
        held["client_id"] = "edit-1"
        hub.accept(held)  # The two posts before it never came.
        assert await until(lambda: len(inbox.frames) == 2, 3)
        frames = [json.loads(frame) for _, frame in inbox.frames]
        # The first post was changed again since: only its newest state
        # comes, after the second post, with the edit's client_id.
        assert [(f["type"], f["seq"], f["client_id"]) for f in frames] == [
            ("message", other.seq, None),
            ("update", edited.seq, "edit-1"),
        ]
        assert frames[1]["message"]["text"] == "fixed"
        await hub.close()


class HubNoticeTests:
    async def test_a_typing_notice_goes_out_with_the_next_change_before_it(
        self, room: Room
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        start = (await hub.join(room, inbox)).seq
        notice = protocol.typing_frame(room.slug, "alice", "Alice")
        hub.notice(hub.rooms[room.slug], notice)
        hub.accept(event(room, start + 1, start))
        await asyncio.sleep(0)
        # One write to the socket for both, in the order they came.
        assert len(inbox.writes) == 1
        assert [json.loads(f)["type"] for f in inbox.writes[0]] == ["typing", "message"]
        await hub.close()

    async def test_a_typing_notice_alone_goes_out_within_a_moment(
        self, room: Room
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        inbox = Inbox()
        await hub.join(room, inbox)
        notice = protocol.typing_frame(room.slug, "alice", "Alice")
        hub.notice(hub.rooms[room.slug], notice)
        assert await until(lambda: inbox.writes == [[notice]], 2)
        await hub.close()


class HubJoinTests:
    async def test_a_joiner_that_goes_away_while_the_room_opens_blocks_nobody(
        self, room: Room, user: User
    ) -> None:
        """A page closed during its first join leaves the room usable."""
        hub = Hub(asyncio.get_running_loop())
        gone = asyncio.create_task(hub.join(room, Inbox()))
        await opening(hub, room)
        assert not hub.rooms[room.slug].ready.is_set()
        gone.cancel()
        inbox = Inbox()
        start = (await asyncio.wait_for(hub.join(room, inbox), 5)).seq
        seq = await post(room, user, "still flowing")
        hub.accept(event(room, seq, start))
        await asyncio.sleep(0)
        assert inbox.seqs == [seq]
        await hub.close()

    async def test_a_room_opened_for_nobody_is_dropped_at_the_tick(
        self, room: Room
    ) -> None:
        hub = Hub(asyncio.get_running_loop())
        gone = asyncio.create_task(hub.join(room, Inbox()))
        await opening(hub, room)
        gone.cancel()
        state = hub.rooms[room.slug]
        assert state.opening is not None
        await state.opening  # Opened all the same, with no listener.
        await hub.tick(heartbeat=False)
        assert room.slug not in hub.rooms
        await hub.close()


class HubTickTests:
    async def test_the_tick_sends_a_heartbeat_with_the_latest_id(
        self, room: Room, user: User
    ) -> None:
        hub = get_hub()
        inbox = Inbox()
        await hub.join(room, inbox)
        seq = await post(room, user, "hi")
        last_id = await database_sync_to_async(
            lambda: room.messages.order_by("id").last().pk
        )()
        await asyncio.sleep(0.05)
        await hub.tick()
        assert json.loads(inbox.frames[-1][1]) == {
            "type": "heartbeat",
            "room": room.slug,
            "seq": seq,
            "last_id": last_id,
        }

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
        await until(lambda: len(hub.rooms[room.slug].recent.messages) == 3, 3)
        before = (await hub.join(room, Inbox())).history
        assert [m["author"] for m in history_of(before)] == ["Alice", "Alice", "Bob"]

        await database_sync_to_async(user_delete)(user=user)

        async def authors() -> list[str]:
            joined = await hub.join(room, Inbox())
            return [m["author"] for m in history_of(joined.history)]

        expected = [DELETED_AUTHOR_NAME] * 2 + ["Bob"]
        for _ in range(30):
            if await authors() == expected:
                break
            await asyncio.sleep(0.1)
        after = history_of((await hub.join(room, Inbox())).history)
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

    async def test_one_process_changes_reach_the_others_in_the_order_taken(
        self, room: Room, redis_server: RedisServer
    ) -> None:
        """
        Over a real Redis, a burst of changes taken by one process reaches
        another in the order taken: the other never holds one back for a
        change that overtook it, so it never waits for a repair.
        """
        here, there = redis_hubs(redis_server, 2)
        listener = Inbox()
        start = (await there.join(room, listener)).seq
        await here.join(room, Inbox())
        # A third member of the hubs' group sees the layer messages.
        probe = await here.layer.new_channel("probe.")
        await here.layer.group_add(events.HUBS_GROUP, probe)
        seqs = range(start + 1, start + 201)
        for seq in seqs:
            here.take_own(event(room, seq, seq - 1), True)
        heard: list[int] = []
        while len(heard) < len(seqs):
            message = await asyncio.wait_for(here.layer.receive(probe), 5)
            heard.extend(each["seq"] for each in message["events"])
        assert heard == list(seqs)
        assert await until(lambda: len(listener.frames) == len(seqs), 5)
        assert listener.seqs == list(seqs)
        for hub in (here, there):
            await hub.close()

    async def test_changes_in_many_rooms_reach_the_others_each_in_order(
        self,
        user: User,
        redis_server: RedisServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """
        Over a real Redis, changes in forty rooms at once (a group of
        writers' posts) go on to the other process room by room at the
        same time, and each room's arrive complete and in order, with no
        forward failing for want of a connection.
        """
        rooms = [
            await database_sync_to_async(room_create)(name=f"Room {n}", created_by=user)
            for n in range(40)
        ]
        here, there = redis_hubs(redis_server, 2)
        listeners = {room.slug: Inbox() for room in rooms}
        for room in rooms:
            await there.join(room, listeners[room.slug])
            await here.join(room, Inbox())
        rounds = 10
        for seq in range(1, rounds + 1):
            for room in rooms:
                here.take_own(event(room, seq, seq - 1, 1000 * room.pk + seq), True)
            await asyncio.sleep(0)  # The forwarder sends what gathered.
        assert await until(
            lambda: all(len(inbox.frames) == rounds for inbox in listeners.values()),
            10,
        )
        for inbox in listeners.values():
            assert inbox.seqs == list(range(1, rounds + 1))
        assert "forwarding" not in caplog.text
        for hub in (here, there):
            await hub.close()

    async def test_changes_in_many_rooms_go_on_in_one_layer_message(
        self, user: User, redis_server: RedisServer
    ) -> None:
        """
        Changes in forty rooms taken together reach the other processes in
        one layer message, not one per room: each hub reads its channel one
        message per Redis round trip, and a message per room fell seconds
        behind with two hundred people writing in fifty rooms.
        """
        rooms = [
            await database_sync_to_async(room_create)(name=f"Room {n}", created_by=user)
            for n in range(40)
        ]
        (here,) = redis_hubs(redis_server, 1)
        for room in rooms:
            await here.join(room, Inbox())
        probe = await here.layer.new_channel("probe.")
        await here.layer.group_add(events.HUBS_GROUP, probe)
        for room in rooms:
            here.take_own(event(room, 1, 0, room.pk), True)
        message = await asyncio.wait_for(here.layer.receive(probe), 5)
        assert message["origin"] == here.channel
        assert [each["room"] for each in message["events"]] == [r.slug for r in rooms]
        await here.close()

    async def test_a_hub_hands_out_only_the_rooms_its_sockets_follow(
        self, user: User, redis_server: RedisServer
    ) -> None:
        """
        Every hub hears every process's changes; one hands those of a room
        none of its sockets follows to nobody and does not open the room.
        """
        followed, elsewhere = [
            await database_sync_to_async(room_create)(name=name, created_by=user)
            for name in ("Followed", "Elsewhere")
        ]
        here, there = redis_hubs(redis_server, 2)
        inbox = Inbox()
        await there.join(followed, inbox)
        await here.join(followed, Inbox())
        await here.join(elsewhere, Inbox())
        here.take_own(event(elsewhere, 1, 0, 1), True)
        here.take_own(event(followed, 1, 0, 2), True)
        assert await until(lambda: inbox.seqs == [1], 5)
        rooms = [json.loads(frame)["room"] for seq, frame in inbox.frames if seq]
        assert rooms == [followed.slug]
        assert elsewhere.slug not in there.rooms
        for hub in (here, there):
            await hub.close()
