from __future__ import annotations

import asyncio

import pytest

from chat import protocol
from chat.hub import get_hub
from chat.models import Room
from chat.subscriptions import Following
from chat.transport import Output

pytestmark = pytest.mark.django_db(transaction=True)


class Socket:
    """A socket as a subscription sees it, keeping what it is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.output = Output(self._send, lambda: None, 100)

    async def _send(self, frame: str) -> None:
        self.sent.append(frame)

    def login_key(self) -> str | None:
        return None

    def end_session(self) -> None:
        pass

    def who(self) -> str:
        return "tester"

    def viewer(self) -> None:
        return None  # A guest.

    def removed(self, slug: str) -> None:
        raise AssertionError("a guest is never removed")

    def person(self) -> None:
        return None  # A guest.

    def wants_presence(self) -> bool:
        return False


class FollowingTests:
    async def test_a_socket_that_leaves_while_joining_leaves_nothing_behind(
        self, room: Room
    ) -> None:
        """The hub forgets a room whose only socket closed during its join."""
        socket = Socket()
        following = Following(socket, lambda: None, fixed=None)
        joining = asyncio.create_task(following.follow(room, since=None))
        await asyncio.sleep(0)  # The join is under way, reading the room.
        await following.leave_all("closed")
        await joining
        assert room.slug not in get_hub().rooms
        assert socket.sent == []

    async def test_following_sends_the_history_then_frees_the_room(
        self, room: Room
    ) -> None:
        socket = Socket()
        following = Following(socket, lambda: None, fixed=None)
        await following.follow(room, since=None)
        assert [protocol.HISTORY in frame for frame in socket.sent] == [True]
        assert following.room_of(room.slug) == room
        await following.unfollow(room.slug)
        assert room.slug not in get_hub().rooms
