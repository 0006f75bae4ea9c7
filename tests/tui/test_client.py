"""chat_client against a real server process: history, sends, live, restarts."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from chat_client import (
    Change,
    ChatApiError,
    ChatError,
    Client,
    History,
    Message,
    Status,
    Stream,
    new_client_id,
)
from tests.server import ChatServer
from tests.tui import prepared_server, seed, until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """A server whose general room holds 120 messages of bob's."""
    server = prepared_server(Path(tmp_path_factory.mktemp("client")), ["alice", "bob"])
    seed(server, slug="general", author="bob", count=120)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def guest(server: ChatServer) -> AsyncIterator[Client]:
    async with Client(server.url) as client:
        yield client


@pytest.fixture
async def alice(server: ChatServer, tokens: dict[str, str]) -> AsyncIterator[Client]:
    async with Client(server.url, tokens["alice"]) as client:
        yield client


@pytest.fixture
async def bob(server: ChatServer, tokens: dict[str, str]) -> AsyncIterator[Client]:
    async with Client(server.url, tokens["bob"]) as client:
        yield client


class Collector:
    """Every event of a stream, read in the background."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.events: list[object] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for event in self.stream:
            self.events.append(event)

    @property
    def states(self) -> list[str]:
        return [e.state for e in self.events if isinstance(e, Status)]

    def messages(self, room: str = "general") -> list[Message]:
        """Each message as it was passed on, history and changes alike."""
        seen: list[Message] = []
        for event in self.events:
            if isinstance(event, History) and event.room == room:
                seen.extend(event.messages)
            elif isinstance(event, Change) and event.room == room:
                seen.append(event.message)
        return seen

    def texts(self, room: str = "general") -> list[str]:
        return [m["text"] for m in self.messages(room)]


async def stored(client: Client, room: str = "general") -> list[Message]:
    """Every message of ``room``, oldest first, page by page."""
    messages: list[Message] = []
    after = 0
    while True:
        page = await client.messages(room, after=after, limit=200)
        messages.extend(page)
        if len(page) < 200:
            return messages
        after = page[-1]["id"]


class HistoryTests:
    async def test_latest_page_then_older_pages_oldest_first(
        self, guest: Client
    ) -> None:
        """Guests read a public room: the latest page, then the one before it."""
        latest = await guest.messages("general", limit=50)
        older = await guest.messages("general", before=latest[0]["id"], limit=50)
        ids = [m["id"] for m in older + latest]
        assert ids == sorted(ids) and len(set(ids)) == 100
        assert latest[-1]["text"] == "seed 119"
        assert older[0]["text"] == "seed 20"

    async def test_rooms_and_me(self, alice: Client) -> None:
        rooms = await alice.rooms()
        assert "general" in [room["slug"] for room in rooms]
        assert (await alice.me())["username"] == "alice"

    async def test_errors_carry_status_code_and_detail(self, guest: Client) -> None:
        with pytest.raises(ChatApiError) as missing:
            await guest.messages("no-such-room")
        with pytest.raises(ChatApiError) as anonymous:
            await guest.post_message("general", "hello")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert anonymous.value.status in (401, 403)
        assert anonymous.value.detail


class SendTests:
    async def test_post_repeated_with_its_client_id_is_stored_once(
        self, alice: Client
    ) -> None:
        key = new_client_id()
        first = await alice.post_message("general", "once over HTTP", client_id=key)
        again = await alice.post_message("general", "once over HTTP", client_id=key)
        assert again["id"] == first["id"]
        texts = [m["text"] for m in await alice.messages("general", limit=20)]
        assert texts.count("once over HTTP") == 1

    async def test_socket_send_repeated_with_its_client_id_is_stored_once(
        self, alice: Client
    ) -> None:
        key = new_client_id()
        async with alice.stream(["general"]) as stream:
            first = await asyncio.wait_for(
                stream.send("general", "once over the socket", client_id=key), 30
            )
            again = await asyncio.wait_for(
                stream.send("general", "once over the socket", client_id=key), 30
            )
        assert again["id"] == first["id"]
        texts = [m["text"] for m in await alice.messages("general", limit=20)]
        assert texts.count("once over the socket") == 1

    async def test_edit_react_reply_and_upload(
        self, alice: Client, bob: Client, tmp_path: Path
    ) -> None:
        original = await alice.post_message("general", "to be changed")
        edited = await alice.edit_message("general", original["id"], "changed")
        assert edited["text"] == "changed" and edited["edited"] is not None
        reacted = await bob.react("general", original["id"], "👍")
        assert reacted["reactions"] == [{"emoji": "👍", "count": 1, "users": ["bob"]}]
        unreacted = await bob.react("general", original["id"], "👍", on=False)
        assert unreacted["reactions"] == []
        reply = await bob.post_message("general", "a reply", reply_to=original["id"])
        assert reply["reply_to"] is not None
        assert reply["reply_to"]["id"] == original["id"]
        path = tmp_path / "notes.txt"
        path.write_text("file body")
        shared = await alice.upload("general", path, text="a file")
        assert shared["attachment"] is not None
        assert shared["attachment"]["name"] == "notes.txt"
        deleted = await alice.delete_message("general", original["id"])
        assert deleted["deleted"] is True


class LiveTests:
    async def test_a_message_of_someone_else_arrives_once(
        self, alice: Client, bob: Client
    ) -> None:
        async with alice.stream(["general"]) as stream:
            seen = Collector(stream)
            await until(lambda: any(isinstance(e, History) for e in seen.events))
            first = seen.events[[type(e) for e in seen.events].index(History)]
            assert isinstance(first, History) and not first.resumed
            assert len(first.messages) == 50
            async with bob.stream(["general"]) as bobs:
                await bobs.send("general", "live from bob")
                message = await bob.post_message("general", "over HTTP from bob")
                await bobs.edit("general", message["id"], "edited live")
            await until(lambda: "edited live" in seen.texts())
        texts = seen.texts()
        assert texts.count("live from bob") == 1
        assert texts[-2:] == ["over HTTP from bob", "edited live"]
        changes = [e for e in seen.events if isinstance(e, Change)]
        seqs = [e.seq for e in changes]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    async def test_guest_stream_reads_but_may_not_post(self, guest: Client) -> None:
        async with guest.stream(["general"]) as stream:
            with pytest.raises(ChatError) as refused:
                await asyncio.wait_for(stream.send("general", "hi"), 30)
        assert refused.value.code == "auth_required"


class RestartTests:
    async def test_kill_9_and_restart_lose_and_double_nothing(
        self, tmp_path: Path
    ) -> None:
        """A reader and a writer go on across a kill -9; every message once."""
        server = prepared_server(tmp_path, ["carol"])
        server.start()
        try:
            token = server.create_token("carol")
            async with (
                Client(server.url) as guest,
                Client(server.url, token) as carol,
                guest.stream(["general"]) as reading,
                carol.stream(["general"]) as writing,
            ):
                seen = Collector(reading)
                await until(lambda: "connected" in seen.states)
                sends = [
                    asyncio.create_task(writing.send("general", f"n{n}"))
                    for n in range(40)
                ]
                await until(lambda: len(seen.texts()) >= 10)
                await asyncio.to_thread(server.stop, signal.SIGKILL)
                more = [
                    asyncio.create_task(writing.send("general", f"n{n}"))
                    for n in range(40, 60)
                ]
                await asyncio.to_thread(server.start)
                acked = await asyncio.wait_for(asyncio.gather(*sends, *more), 90)
                await until(lambda: len(seen.texts()) >= 60, 60)
                kept = await stored(carol)
            assert "reconnecting" in seen.states
            assert [m["text"] for m in acked] == [f"n{n}" for n in range(60)]
            assert [m["id"] for m in kept] == [m["id"] for m in acked]
            assert seen.texts() == [f"n{n}" for n in range(60)]
        finally:
            server.stop()
