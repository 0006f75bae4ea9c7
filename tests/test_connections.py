"""
What a connection may cost the real server: a deadline for each request, a
cap on the sockets of one address, and forwarded addresses only from a
trusted proxy (chat/connections.py, manage.py serve).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import resource
import select
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chat.connections import forwarded_client
from tests.server import ChatServer, running

pytestmark = pytest.mark.timeout(120)

ROOM = "/ws/rooms/general/"
# REQUEST_TIMEOUT of the deadline servers: short, to keep the tests short.
DEADLINE = 2.0
# Generous: a loaded machine may be late to close, never this late.
SLACK = 5.0
CAP = 20
# uvicorn's keep-alive timeout, as manage.py serve sets it.
KEEP_ALIVE = 5.0


def start(
    tmp_path_factory: pytest.TempPathFactory, **env: str
) -> contextlib.AbstractContextManager[ChatServer]:
    """A server of its own with ``env``, in a fresh directory."""
    return running(Path(tmp_path_factory.mktemp("server")), **env)


# 20 connections per address; silent ones live long enough to count.
CAPPED = {
    "CONNECTIONS_PER_ADDRESS": str(CAP),
    "RATE_LIMIT_CONNECTS": "10000/10",
    "REQUEST_TIMEOUT": "60",
}


@pytest.fixture(scope="module")
def deadline_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ChatServer]:
    with start(tmp_path_factory, REQUEST_TIMEOUT=str(DEADLINE)) as server:
        yield server


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    with start(tmp_path_factory, **CAPPED) as server:
        yield server


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """As capped_server, behind a proxy at 127.0.0.1 (as the tests pose)."""
    with start(tmp_path_factory, FORWARDED_ALLOW_IPS="127.0.0.1", **CAPPED) as server:
        yield server


# Raw sockets -----------------------------------------------------------------


def dial(server: ChatServer, source: str = "127.0.0.1") -> socket.socket:
    """A TCP connection to ``server`` from ``source`` that says nothing yet."""
    peer = socket.socket()
    peer.bind((source, 0))
    peer.settimeout(SLACK)
    peer.connect(("127.0.0.1", server.port))
    return peer


def lifetime(peer: socket.socket, since: float, within: float) -> float | None:
    """
    Seconds from ``since`` until the server closed ``peer`` (reading what it
    sends meanwhile), or None if it is still open ``within`` seconds from now.
    """
    deadline = time.monotonic() + within
    with contextlib.suppress(ConnectionResetError):
        while (left := deadline - time.monotonic()) > 0:
            peer.settimeout(left)
            try:
                if not peer.recv(65536):
                    break
            except TimeoutError:
                return None
        else:
            return None
    return time.monotonic() - since


def closed(peers: list[socket.socket], wait: float = 0.5) -> list[socket.socket]:
    """Those of ``peers`` the server has closed (readable: EOF or reset)."""
    return select.select(peers, [], [], wait)[0]


def request(peer: socket.socket, path: str = "/", **headers: str) -> bytes:
    """Send a GET that closes the connection; return the whole response."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    peer.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    response = b""
    with contextlib.suppress(ConnectionResetError):
        while data := peer.recv(65536):
            response += data
    return response


def server_descriptors(server: ChatServer) -> int:
    assert server.process is not None
    return len(list(Path(f"/proc/{server.process.pid}/fd").iterdir()))


# WebSockets ------------------------------------------------------------------


async def open_room(server: ChatServer, **options: Any) -> ClientConnection:
    """A socket on `general` that got its history; ``options`` go to connect()."""
    room = await connect(
        server.ws_url + ROOM, origin=server.origin, open_timeout=SLACK, **options
    )
    frame = json.loads(await asyncio.wait_for(room.recv(), SLACK))
    assert frame["type"] == "history", frame
    return room


async def refused_room(server: ChatServer, **options: Any) -> int:
    """
    Try to open a socket that must be refused; return the handshake's HTTP
    status, or 0 when the server closed the connection without an answer.
    """
    try:
        room = await connect(
            server.ws_url + ROOM, origin=server.origin, open_timeout=SLACK, **options
        )
    except InvalidStatus as refused:
        return refused.response.status_code
    except (InvalidHandshake, OSError, EOFError):
        return 0
    await room.close()
    raise AssertionError("the socket opened")


def forwarded(address: str) -> dict[str, Any]:
    return {"additional_headers": {"X-Forwarded-For": address}}


def drop(sockets: list[ClientConnection]) -> None:
    """Cut the connections off without a closing handshake (RST)."""
    for room in sockets:
        room.transport.abort()


def log_size(server: ChatServer) -> tuple[int, int]:
    return server.log_file.stat().st_size, server.output.stat().st_size


def log_since(server: ChatServer, sizes: tuple[int, int]) -> str:
    return "".join(
        path.read_bytes()[size:].decode(errors="replace")
        for path, size in zip((server.log_file, server.output), sizes, strict=True)
    )


class RequestDeadlineTests:
    def test_a_silent_connection_is_closed_after_the_request_timeout(
        self, deadline_server: ChatServer
    ) -> None:
        peer = dial(deadline_server)
        lived = lifetime(peer, time.monotonic(), DEADLINE + SLACK)
        peer.close()
        assert lived is not None, "still open"
        assert DEADLINE - 0.5 < lived < DEADLINE + SLACK

    def test_headers_that_never_end_are_closed_after_the_request_timeout(
        self, deadline_server: ChatServer
    ) -> None:
        peer = dial(deadline_server)
        began = time.monotonic()
        peer.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        lived = lifetime(peer, began, DEADLINE + SLACK)
        peer.close()
        assert lived is not None, "still open"
        assert DEADLINE - 0.5 < lived < DEADLINE + SLACK

    def test_a_body_shorter_than_its_length_is_closed_quietly(
        self, deadline_server: ChatServer
    ) -> None:
        """The view waiting on the body hears of the end, and nothing is logged."""
        sizes = log_size(deadline_server)
        peer = dial(deadline_server)
        began = time.monotonic()
        peer.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\nusername=a"
        )
        lived = lifetime(peer, began, DEADLINE + SLACK)
        peer.close()
        assert lived is not None, "still open"
        assert DEADLINE - 0.5 < lived < DEADLINE + SLACK
        time.sleep(0.5)  # Whatever the server would log about it.
        log = log_since(deadline_server, sizes)
        assert "Traceback" not in log
        assert "ERROR" not in log

    def test_a_body_that_keeps_coming_is_answered_however_long_it_takes(
        self, deadline_server: ChatServer
    ) -> None:
        """An upload over a slow link: 4 KiB/s, three times the timeout."""
        chunk, chunks = b"a=" + b"x" * 1022, 24
        peer = dial(deadline_server)
        began = time.monotonic()
        peer.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Connection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % (len(chunk) * chunks)
        )
        for _ in range(chunks):
            time.sleep(0.25)
            peer.sendall(chunk)
        peer.settimeout(SLACK)
        response = peer.recv(65536)
        peer.close()
        assert time.monotonic() - began > 3 * DEADLINE - 0.5
        # CSRF refuses the form: the request got to the view, whole.
        assert response.startswith(b"HTTP/1.1 403"), response[:100]

    def test_a_kept_alive_connection_may_idle_longer_than_the_request_timeout(
        self, deadline_server: ChatServer
    ) -> None:
        """Then uvicorn's keep-alive timeout, not the deadline, closes it."""
        client = http.client.HTTPConnection("127.0.0.1", deadline_server.port)
        client.request("GET", "/")
        assert client.getresponse().read()
        kept = client.sock
        time.sleep(DEADLINE + 1.5)
        client.request("GET", "/")
        response = client.getresponse()
        assert response.status == 200
        response.read()
        assert client.sock is kept, "the connection was opened again"
        lived = lifetime(kept, time.monotonic(), KEEP_ALIVE + SLACK)
        client.close()
        assert lived is not None, "the keep-alive timeout did not close it"
        assert KEEP_ALIVE - 1 < lived < KEEP_ALIVE + SLACK

    async def test_an_open_websocket_may_idle_longer_than_the_request_timeout(
        self, deadline_server: ChatServer
    ) -> None:
        room = await open_room(deadline_server)
        await asyncio.sleep(2 * DEADLINE + 1)
        await asyncio.wait_for(await room.ping(), SLACK)
        await room.close()

    @pytest.mark.parametrize(
        ("headers", "then"),
        [
            # llhttp skips line breaks between requests: no request begins.
            ({}, b"\r\n"),
            # After an upgrade uvicorn does not serve, it takes no requests.
            ({"Connection": "upgrade", "Upgrade": "h2c"}, b"G"),
        ],
    )
    def test_bytes_that_start_no_request_do_not_keep_a_connection(
        self, deadline_server: ChatServer, headers: dict[str, str], then: bytes
    ) -> None:
        """They stop uvicorn's keep-alive timer for good."""
        client = http.client.HTTPConnection("127.0.0.1", deadline_server.port)
        client.request("GET", "/", headers=headers)
        assert client.getresponse().read()
        kept = client.sock
        began = time.monotonic()
        kept.sendall(then)
        lived = lifetime(kept, began, KEEP_ALIVE + DEADLINE + SLACK)
        client.close()
        assert lived is not None, "still open"


class ConnectionCapTests:
    def test_an_address_over_its_share_is_closed_at_once_and_others_get_in(
        self, capped_server: ChatServer
    ) -> None:
        def refused() -> bool:
            extra = dial(capped_server)
            lived = lifetime(extra, time.monotonic(), SLACK)
            extra.close()
            return lived is not None and lived < 2

        for attempt in range(2):  # Again after closing: nothing was kept.
            held = [dial(capped_server) for _ in range(CAP)]
            assert refused(), attempt
            # Half of them go: half as many may come, and no more.
            for peer in held[: CAP // 2]:
                peer.close()
            time.sleep(1)  # For the server to hear of it.
            held[: CAP // 2] = [dial(capped_server) for _ in range(CAP // 2)]
            assert refused(), attempt
            assert closed(held) == [], attempt
            other = dial(capped_server, "127.0.0.2")
            assert request(other).startswith(b"HTTP/1.1 200"), attempt
            other.close()
            for peer in held:
                peer.close()
            time.sleep(1)  # For the server to hear of it.

    async def test_websockets_dropped_without_a_close_give_their_share_back(
        self, capped_server: ChatServer
    ) -> None:
        for attempt in range(2):
            sockets = [await open_room(capped_server) for _ in range(CAP)]
            assert await refused_room(capped_server) == 0, attempt
            drop(sockets[: CAP // 2])
            await asyncio.sleep(1)
            sockets[: CAP // 2] = [
                await open_room(capped_server) for _ in range(CAP // 2)
            ]
            assert await refused_room(capped_server) == 0, attempt
            other = await open_room(capped_server, local_addr=("127.0.0.2", 0))
            await other.close()
            drop(sockets)
            await asyncio.sleep(1)

    async def test_behind_a_trusted_proxy_the_forwarded_address_is_capped(
        self, proxied_server: ChatServer
    ) -> None:
        for attempt in range(2):
            sockets = [
                await open_room(proxied_server, **forwarded("203.0.113.7"))
                for _ in range(CAP)
            ]
            status = await refused_room(proxied_server, **forwarded("203.0.113.7"))
            assert status == 429, attempt
            drop(sockets[: CAP // 2])
            await asyncio.sleep(1)
            sockets[: CAP // 2] = [
                await open_room(proxied_server, **forwarded("203.0.113.7"))
                for _ in range(CAP // 2)
            ]
            status = await refused_room(proxied_server, **forwarded("203.0.113.7"))
            assert status == 429, attempt
            other = await open_room(proxied_server, **forwarded("203.0.113.8"))
            await other.close()
            peer = dial(proxied_server)
            response = request(peer, X_Forwarded_For="203.0.113.7")
            peer.close()
            assert response.startswith(b"HTTP/1.1 429"), response[:100]
            assert b"retry-after: 10" in response.lower()
            assert b'"code": "rate_limited"' in response
            drop(sockets)
            await asyncio.sleep(1)

    def test_rate_limits_off_lift_the_cap(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        with start(
            tmp_path_factory, CONNECTIONS_PER_ADDRESS=str(CAP), RATE_LIMITS="off"
        ) as server:
            held = [dial(server) for _ in range(CAP + 5)]
            try:
                assert closed(held) == []
            finally:
                for peer in held:
                    peer.close()

    def test_the_trusted_proxy_itself_is_not_capped(
        self, proxied_server: ChatServer
    ) -> None:
        """It carries everyone's connections."""
        held = [dial(proxied_server) for _ in range(CAP + 5)]
        try:
            assert closed(held) == []
        finally:
            for peer in held:
                peer.close()


class ForwardedForTests:
    """X-Forwarded-For counts only from FORWARDED_ALLOW_IPS (none by default)."""

    LIMIT = {"RATE_LIMIT_CONNECTS": "3/86400"}  # A day: no new window mid-test.

    async def first_frame(self, server: ChatServer, address: str) -> dict[str, Any]:
        async with connect(
            server.ws_url + ROOM,
            origin=server.origin,
            open_timeout=SLACK,
            **forwarded(address),
        ) as room:
            return json.loads(await asyncio.wait_for(room.recv(), SLACK))

    async def test_a_local_client_cannot_pick_its_address_by_default(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        with start(tmp_path_factory, **self.LIMIT) as server:
            frames = [
                await self.first_frame(server, f"198.51.100.{n}") for n in range(4)
            ]
        assert [frame["type"] for frame in frames] == ["history"] * 3 + ["error"]
        assert frames[3]["code"] == "rate_limited"

    async def test_a_configured_proxy_names_the_client(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        with start(
            tmp_path_factory, FORWARDED_ALLOW_IPS="127.0.0.1", **self.LIMIT
        ) as server:
            fresh = [
                await self.first_frame(server, f"198.51.100.{n}") for n in range(5)
            ]
            same = [await self.first_frame(server, "198.51.100.99") for _ in range(4)]
        assert [frame["type"] for frame in fresh] == ["history"] * 5
        assert [frame["type"] for frame in same] == ["history"] * 3 + ["error"]
        assert same[3]["code"] == "rate_limited"


class ForwardedClientTests:
    @pytest.mark.parametrize(
        "header",
        [
            None,
            "203.0.113.7",
            "203.0.113.7, 127.0.0.1",
            "198.51.100.1, 203.0.113.7",
            "203.0.113.7:5000",
            "[2001:db8::1]:443",
            "",
            " , ",
        ],
    )
    async def test_the_address_counted_is_the_one_the_application_sees(
        self, header: str | None
    ) -> None:
        seen: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["client"][0])

        proxy = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
        headers = [] if header is None else [(b"x-forwarded-for", header.encode())]
        scope = {"type": "http", "client": ("127.0.0.1", 1234), "headers": headers}
        await proxy(scope, None, None)  # type: ignore[arg-type]
        assert forwarded_client(proxy.trusted_hosts, headers, "127.0.0.1") == seen[0]


@pytest.fixture
def flood_server(tmp_path: Path) -> Iterator[ChatServer]:
    """The default cap (200), and a short timeout to watch the rest go."""
    with running(tmp_path, REQUEST_TIMEOUT="3") as server:
        yield server


class SilentFloodTests:
    def test_three_thousand_silent_connections_do_not_pile_up(
        self, flood_server: ChatServer
    ) -> None:
        count, cap, timeout = 3000, 200, 3.0
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < count + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1000), hard))
        baseline = server_descriptors(flood_server)
        sizes = log_size(flood_server)
        peers = []
        selector = selectors.DefaultSelector()
        try:
            for _ in range(count):
                peer = dial(flood_server)
                selector.register(peer, selectors.EVENT_READ)
                peers.append(peer)
            began = time.monotonic()
            gone: set[Any] = set()

            def watch(until_gone: int, within: float) -> None:
                while len(gone) < until_gone and time.monotonic() - began < within:
                    for key, _ in selector.select(0.1):
                        selector.unregister(key.fileobj)
                        gone.add(key.fileobj)

            watch(count - cap, SLACK)
            # Those over the share went at once; the share stays until the
            # deadline, holding its descriptors and no more.
            assert count - len(gone) == cap
            assert server_descriptors(flood_server) <= baseline + cap + 10
            watch(count, timeout + SLACK)
            assert len(gone) == count
            assert server_descriptors(flood_server) <= baseline + 10
            # One line says so (in the file and on the console), not one per
            # refused connection.
            assert log_since(flood_server, sizes).count("refusing more") == 2
        finally:
            selector.close()
            for peer in peers:
                peer.close()
