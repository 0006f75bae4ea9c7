"""
The real server's WebSocket handshake, as another site or a prober meets it.

A socket opens only for the site's own origin, scheme, host and port alike;
a path no route matches is refused with one short log line at most, and
counts against the per-address connect limit like a real socket.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.server import ChatServer, free_port, running

pytestmark = pytest.mark.timeout(180)

ROOM = "/ws/rooms/general/"
# Generous: a loaded CI machine may be slow to answer, never this slow.
TIMEOUT = 20.0
# A log line the chat writes is a date, a level, a logger and a sentence.
SHORT_LINE = 300


def handshake_status(error: InvalidStatus) -> int:
    return error.response.status_code


async def try_to_post(server: ChatServer, origin: str, cookie: str, text: str) -> int:
    """
    Open a room socket as a page at ``origin`` with the user's cookie, and
    post ``text`` if it opens; return the handshake's HTTP status.
    """
    try:
        async with connect(
            server.ws_url + ROOM,
            origin=Origin(origin),
            additional_headers={"Cookie": cookie},
            open_timeout=TIMEOUT,
        ) as socket:
            history = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            assert history["type"] == "history"
            await socket.send(json.dumps({"type": "message", "text": text}))
            await asyncio.wait_for(socket.recv(), TIMEOUT)
            return 101
    except InvalidStatus as refused:
        return handshake_status(refused)


async def try_path(server: ChatServer, path: str) -> int:
    """Open a socket on ``path`` from the site's own origin; return the status."""
    try:
        async with connect(
            server.ws_url + path, origin=server.origin, open_timeout=TIMEOUT
        ):
            return 101
    except InvalidStatus as refused:
        return handshake_status(refused)


def posted_texts(server: ChatServer) -> list[str]:
    with urllib.request.urlopen(
        server.url + "/api/rooms/general/messages?limit=200", timeout=TIMEOUT
    ) as response:
        return [message["text"] for message in json.load(response)["messages"]]


class LogTail:
    """What the server writes to its log file and its console from now on."""

    def __init__(self, server: ChatServer) -> None:
        self.files = [server.log_file, server.output]
        self.offsets = [self._size(path) for path in self.files]

    @staticmethod
    def _size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    def new(self) -> list[str]:
        """
        Return the text each file gained, and move on past it, once the
        files stop growing for a moment: the server writes its log lines
        from a thread of their own.
        """
        sizes: list[int] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = [self._size(path) for path in self.files]
            if now == sizes:
                break
            sizes = now
            time.sleep(0.25)
        texts = []
        for n, path in enumerate(self.files):
            data = path.read_bytes() if path.exists() else b""
            texts.append(data[self.offsets[n] :].decode("utf-8", "replace"))
            self.offsets[n] = len(data)
        return texts


@pytest.fixture(scope="module")
def victim(chat_server: ChatServer) -> str:
    """The Cookie header of a logged-in user."""
    chat_server.create_user("victim")
    return chat_server.login("victim")


class OriginHandshakeTests:
    @pytest.mark.parametrize(
        "origin",
        ["other port", "https", "no port"],
    )
    async def test_a_page_on_another_origin_cannot_post_with_the_users_cookie(
        self, chat_server: ChatServer, victim: str, origin: str
    ) -> None:
        page = {
            "other port": f"http://127.0.0.1:{free_port()}",
            "https": f"https://127.0.0.1:{chat_server.port}",
            "no port": "http://127.0.0.1",
        }[origin]
        text = f"posted from {page}"
        status = await try_to_post(chat_server, page, victim, text)
        assert status == 403
        assert text not in posted_texts(chat_server)

    async def test_the_sites_own_pages_open_sockets_and_post(
        self, chat_server: ChatServer, victim: str
    ) -> None:
        text = "posted from the site itself"
        status = await try_to_post(chat_server, chat_server.url, victim, text)
        assert status == 101
        assert text in posted_texts(chat_server)


class UnknownPathHandshakeTests:
    @pytest.mark.parametrize(
        "path",
        [
            "/ws/rooms/../general/",
            "/ws/rooms/a.b/",
            "/ws/rooms/%00/",
            "/ws/rooms/general",
            "/ws/nope",
            "/ws/rooms/%ff%fe/",
            "/ws/rooms/general/%0a",
            "/ws/" + "x/" * 3000,
        ],
        ids=[
            "dot-dot",
            "dot",
            "nul",
            "no-slash",
            "unknown",
            "not-utf8",
            "newline",
            "long",
        ],
    )
    async def test_a_path_no_route_matches_is_refused_with_one_short_line_at_most(
        self, chat_server: ChatServer, path: str
    ) -> None:
        log = LogTail(chat_server)
        status = await try_path(chat_server, path)
        assert status in (403, 404)
        for text in log.new():
            assert "Traceback" not in text
            assert "\x00" not in text
            lines = text.splitlines()
            assert len(lines) <= 1, text
            assert all(len(line) < SHORT_LINE for line in lines), text


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[ChatServer]:
    """A server allowing 5 socket handshakes per address a day."""
    # A day-long window: the count cannot start over in mid-test (windows
    # are fixed, and one ends only at midnight UTC).
    with running(tmp_path, RATE_LIMIT_CONNECTS="5/86400") as server:
        yield server


class UnknownPathLimitTests:
    async def test_unknown_paths_count_against_the_connect_limit(
        self, limited_server: ChatServer
    ) -> None:
        log = LogTail(limited_server)
        statuses = [await try_path(limited_server, "/ws/nope") for _ in range(12)]
        assert set(statuses) <= {403, 404}
        # One line for each of the 5 allowed attempts at most; none after.
        for text in log.new():
            assert len(text.splitlines()) <= 5, text
            assert "Traceback" not in text
        async with connect(
            limited_server.ws_url + ROOM,
            origin=limited_server.origin,
            open_timeout=TIMEOUT,
        ) as socket:
            frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            await asyncio.wait_for(socket.wait_closed(), TIMEOUT)
        assert frame["code"] == "rate_limited"
        assert frame["retry_after"] > 0
        assert socket.close_code == 4429


@pytest.fixture(scope="class")
def any_host_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ChatServer]:
    """A server with ALLOWED_HOSTS=*, trusting only its 127.0.0.1 origin."""
    server = ChatServer(tmp_path_factory.mktemp("any-host"), ALLOWED_HOSTS="*")
    server.env["CSRF_TRUSTED_ORIGINS"] = server.url
    server.start()
    yield server
    server.stop()


class AnyHostHandshakeTests:
    def test_serve_warns_that_allowed_hosts_is_a_wildcard(
        self, any_host_server: ChatServer
    ) -> None:
        output = any_host_server.output.read_text()
        assert "chat.W001" in output
        assert "CSRF_TRUSTED_ORIGINS" in output

    async def test_only_trusted_origins_open_sockets(
        self, any_host_server: ChatServer
    ) -> None:
        assert await try_path(any_host_server, ROOM) == 101
        log = LogTail(any_host_server)
        # The same server by another name: its Host header agrees with the
        # page, as a DNS-rebinding page's would.
        other_name = f"http://localhost:{any_host_server.port}"
        try:
            async with connect(
                f"ws://localhost:{any_host_server.port}{ROOM}",
                origin=Origin(other_name),
                open_timeout=TIMEOUT,
            ):
                status = 101
        except InvalidStatus as refused:
            status = handshake_status(refused)
        assert status == 403
        logged = log.new()[0]
        deadline = time.monotonic() + 10
        while "CSRF_TRUSTED_ORIGINS" not in logged and time.monotonic() < deadline:
            logged += log.new()[0]
        assert "ALLOWED_HOSTS" in logged
        assert "CSRF_TRUSTED_ORIGINS" in logged
