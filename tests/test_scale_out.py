"""
Two chat processes on one PostgreSQL, one Redis and one MEDIA_ROOT, behind nginx.

What a user notices when the chat runs on several processes: a message sent
through one reaches readers on the other, a reader that lands on the other
process after a reconnect catches up exactly, a file shared through one
downloads through the other, and deploy/nginx.conf puts both behind one
address, sockets, uploads and all.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.clients import Reader, Sender, stored_messages, until
from tests.faults import conftest as faults
from tests.needs import missing
from tests.server import ROOT, Address, ChatServer, free_port, processes

pytestmark = pytest.mark.timeout(120)

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
ROOM = "/ws/rooms/general/"
MIB = 1024 * 1024

# The fault tests' fixtures: a fresh PostgreSQL database, a private Redis,
# and the settings the processes of one chat share.
postgres_url = faults.postgres_url
redis_server = faults.redis_server
scale_out_env = faults.scale_out_env


@pytest.fixture
def servers(
    tmp_path: Path, scale_out_env: dict[str, str]
) -> Iterator[list[ChatServer]]:
    """Processes A and B, configured as docs/scaling.md says."""
    media = str(tmp_path / "media")
    # nginx, in front of them in some tests, connects from 127.0.0.1.
    env = {**scale_out_env, "MEDIA_ROOT": media, "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with processes(tmp_path, ("a", "b"), **env) as pair:
        yield pair


class Nginx(Address):
    """nginx running deploy/nginx.conf, with its upstream and listen replaced."""

    def __init__(self, binary: str, prefix: Path, upstreams: list[ChatServer]) -> None:
        self.binary = binary
        self.prefix = prefix
        self.port = free_port()
        self.upstreams = upstreams
        self.conf = prefix / "nginx.conf"
        self.output = prefix / "nginx-output.log"
        self.access_log = prefix / "logs" / "access.log"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        """deploy/nginx.conf with our processes upstream and our port to listen."""
        text = NGINX_CONF.read_text()
        upstream = re.compile(r"(?m)^ *server 127\.0\.0\.1:\d+;\n")
        found = upstream.search(text)
        assert found, "deploy/nginx.conf names no `server 127.0.0.1:PORT;`"
        ours = "".join(f"        server 127.0.0.1:{s.port};\n" for s in self.upstreams)
        text = text[: found.start()] + ours + upstream.sub("", text[found.start() :])
        text, listens = re.subn(
            r"(?m)^( *)listen [^;]+;", rf"\g<1>listen 127.0.0.1:{self.port};", text
        )
        assert listens == 1, "deploy/nginx.conf should have one `listen`"
        return text

    def start(self, timeout: float = 15.0) -> None:
        # Pid, logs and temporary files are relative to the -p prefix.
        (self.prefix / "logs").mkdir(parents=True)
        (self.prefix / "temp").mkdir()
        self.conf.write_text(self.config())
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "-p", f"{self.prefix}/", "-e", "stderr"),
                    *("-c", str(self.conf)),
                    # One foreground process that stays root, so it can use
                    # the test's private temporary directory.
                    *("-g", "daemon off; master_process off;"),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.output.read_text()}")
            if fetch(self.url + "/")[0] == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.output.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def login(self, username: str) -> str:
        """Log in with the login form through nginx; return the Cookie header."""
        return ChatServer.login(self, username)  # type: ignore[arg-type]  # uses .url

    def upstreams_used(self, path: str) -> set[int]:
        """Ports of the processes nginx sent finished requests for ``path`` to."""
        if not self.access_log.exists():
            return set()
        pattern = re.compile(rf'"GET {re.escape(path)}\S* [^"]*".* upstream=\S+:(\d+)')
        lines = self.access_log.read_text().splitlines()
        return {int(m[1]) for line in lines if (m := pattern.search(line))}


@pytest.fixture
def nginx_binary() -> str:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if binary is None:
        missing("nginx is not installed (apt-get install nginx)")
    return binary


@pytest.fixture
def nginx(
    tmp_path: Path, nginx_binary: str, servers: list[ChatServer]
) -> Iterator[Nginx]:
    """nginx in front of A and B (found before they start, or skipped)."""
    proxy = Nginx(nginx_binary, tmp_path / "nginx", servers)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()


# HTTP and WebSocket helpers ---------------------------------------------------


def fetch(
    url: str, *, cookie: str = "", data: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    """GET (or POST ``data``); return the status and the body, errors included."""
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def upload(
    base_url: str, cookie: str, name: str, content: bytes
) -> tuple[int, dict[str, Any]]:
    """Share a file in `general` the way the page does: multipart, CSRF header."""
    token = re.search(r"(?:^|; )csrftoken=([^;]+)", cookie)
    assert token, "no csrftoken cookie from the login page"
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="',
            name.encode(),
            b'"\r\nContent-Type: application/octet-stream\r\n\r\n',
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    status, answer = fetch(
        f"{base_url}/api/rooms/general/files",
        cookie=cookie,
        data=body,
        **{
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": token[1],
            "Origin": base_url,
            "Referer": f"{base_url}/rooms/general/",
            "Accept": "application/json",
        },
    )
    return status, json.loads(answer) if answer else {}


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


async def receive(socket: ClientConnection, within: float = 10) -> dict[str, Any]:
    """The next frame that is not a heartbeat."""
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] != "heartbeat":
                return frame


async def history(socket: ClientConnection) -> list[int]:
    frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert frame["type"] == "history", frame
    return [message["id"] for message in frame["messages"]]


async def live(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages arriving live on ``socket``."""
    frames = [await receive(socket) for _ in range(count)]
    assert all(frame["type"] == "message" for frame in frames), frames
    return [frame["message"] for frame in frames]


async def send(
    server: ChatServer | Nginx, cookie: str, name: str, count: int
) -> Sender:
    """Post ``count`` messages through ``server``; return the acknowledged sender."""
    sender = Sender(
        url=server.ws_url + ROOM,
        origin=server.origin,
        cookie=cookie,
        name=name,
        count=count,
    )
    await asyncio.wait_for(sender.run(), 30)
    assert not sender.errors, sender.errors
    return sender


def acked(*senders: Sender) -> list[int]:
    return sorted(i for sender in senders for i in sender.acked.values())


async def listening(
    *targets: ChatServer | Nginx,
) -> tuple[list[Reader], list[asyncio.Task[None]]]:
    """Readers of `general`, one on each of ``targets``, connected."""
    readers = [Reader(url=t.ws_url + ROOM, origin=t.origin) for t in targets]
    tasks = [asyncio.create_task(reader.run()) for reader in readers]
    await asyncio.wait_for(
        asyncio.gather(*(reader.connected.wait() for reader in readers)), 30
    )
    return readers, tasks


async def stop(readers: list[Reader], tasks: list[asyncio.Task[None]]) -> None:
    for reader in readers:
        reader.stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)


class ScaleOutTests:
    async def test_a_message_sent_through_either_process_reaches_readers_on_both(
        self, servers: list[ChatServer]
    ) -> None:
        a, b = servers
        a.create_user("wanda")
        cookie = a.login("wanda")  # The session works on B too.
        readers, tasks = await listening(a, b)
        senders = await asyncio.gather(
            send(a, cookie, "through-a", 15), send(b, cookie, "through-b", 15)
        )
        stored = [m["id"] for m in await asyncio.to_thread(stored_messages, b.url)]
        assert stored == acked(*senders)
        assert await until(lambda: all(r.ids == stored for r in readers), 10), [
            r.ids for r in readers
        ]
        await stop(readers, tasks)
        # Heard live, in order, once: no reconnect had to repair anything.
        assert [(r.reconnects, r.duplicates, r.out_of_order) for r in readers] == [
            (0, 0, 0),
            (0, 0, 0),
        ]

    async def test_a_reader_moving_to_the_other_process_gets_exactly_what_it_missed(
        self, servers: list[ChatServer]
    ) -> None:
        a, b = servers
        a.create_user("wanda")
        cookie = a.login("wanda")
        async with connect(a.ws_url + ROOM, origin=a.origin) as socket:
            assert await history(socket) == []
            seen = await send(a, cookie, "seen", 3)
            held = [m["id"] for m in await live(socket, 3)]
            assert held == acked(seen)
        missed = await send(a, cookie, "missed", 5)
        async with connect(
            f"{b.ws_url}{ROOM}?after={held[-1]}", origin=b.origin
        ) as socket:
            assert await history(socket) == acked(missed)
            # And from there on, live from the other process.
            later = await send(a, cookie, "later", 2)
            assert [m["id"] for m in await live(socket, 2)] == acked(later)

    async def test_a_file_shared_through_one_process_downloads_through_the_other(
        self, servers: list[ChatServer]
    ) -> None:
        a, b = servers
        a.create_user("wanda")
        cookie = a.login("wanda")
        # Beyond the 2 MiB Django keeps in memory: spooled to disk, then stored.
        content = os.urandom(3 * MIB + 17)
        async with connect(b.ws_url + ROOM, origin=b.origin) as socket:
            await history(socket)
            status, answer = await asyncio.to_thread(
                upload, a.url, cookie, "data.bin", content
            )
            assert status == 201, answer
            [heard] = await live(socket, 1)
        assert heard == answer["message"]
        url = heard["attachment"]["url"]
        assert fetch(b.url + url, cookie=cookie) == (200, content)
        assert fetch(b.url + url)[0] == 403

        # An image shared through B: A serves it and the thumbnail B made.
        image = png()
        status, answer = upload(b.url, cookie, "dot.png", image)
        assert status == 201, answer
        attachment = answer["message"]["attachment"]
        assert fetch(a.url + attachment["url"], cookie=cookie) == (200, image)
        status, thumbnail = fetch(a.url + attachment["thumbnail_url"], cookie=cookie)
        assert status == 200
        assert thumbnail[:4] == b"RIFF"
        assert thumbnail[8:12] == b"WEBP"
        assert fetch(a.url + attachment["thumbnail_url"])[0] == 403

    async def test_nginx_serves_both_processes_behind_one_address(
        self, nginx: Nginx
    ) -> None:
        a, b = nginx.upstreams
        a.create_user("wanda")
        cookie = nginx.login("wanda")
        earlier = await send(a, cookie, "earlier", 2)
        readers, tasks = await listening(a, b)
        async with connect(nginx.ws_url + ROOM, origin=nginx.origin) as socket:
            assert await history(socket) == acked(earlier)
            # With this socket open, least_conn gives the sender the other
            # process.
            proxied = await send(nginx, cookie, "proxied", 10)
            assert [m["id"] for m in await live(socket, 10)] == acked(proxied)
        everything = acked(earlier, proxied)
        assert await until(lambda: all(r.ids == everything for r in readers), 10)
        await stop(readers, tasks)
        assert await until(lambda: nginx.upstreams_used(ROOM) == {a.port, b.port}, 5), (
            nginx.access_log.read_text()
        )

        # A file shared through nginx: the same bytes through nginx, A and B.
        content = os.urandom(3 * MIB + 17)
        status, answer = upload(nginx.url, cookie, "data.bin", content)
        assert status == 201, answer
        url = answer["message"]["attachment"]["url"]
        for base in (nginx.url, a.url, b.url):
            assert fetch(base + url, cookie=cookie) == (200, content), base
        assert fetch(nginx.url + url)[0] == 403

        # Too large: refused by the app (just over 10 MiB, which nginx lets
        # through) and by nginx (over its 11m), both in the app's JSON.
        for size in (10 * MIB + MIB // 2, 12 * MIB):
            status, answer = upload(nginx.url, cookie, "big.bin", bytes(size))
            assert (status, answer.get("code")) == (413, "too_large"), (size, answer)

    async def test_sockets_through_nginx_move_to_the_other_process_on_a_restart(
        self, nginx: Nginx
    ) -> None:
        a, b = nginx.upstreams
        a.create_user("wanda")
        cookie = nginx.login("wanda")
        # least_conn spreads them over both processes.
        readers, tasks = await listening(*[nginx] * 4)
        before = await send(nginx, cookie, "before", 5)
        await asyncio.to_thread(a.stop)  # SIGTERM: its sockets close with 1012.
        after = await send(nginx, cookie, "after", 5)
        everything = acked(before, after)
        assert await until(lambda: all(r.ids == everything for r in readers), 15), [
            (r.ids, r.close_codes) for r in readers
        ]
        await stop(readers, tasks)
        moved = [r for r in readers if r.reconnects]
        assert moved, "no socket was on the stopped process"
        assert all(r.close_codes[0] == 1012 for r in moved)
        assert all(r.duplicates == 0 for r in readers)
        assert b.alive and not a.alive
