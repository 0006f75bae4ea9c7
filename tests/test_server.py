"""The real server process: one port for pages, API and sockets; logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import select
import socket
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.server import ChatServer, running

pytestmark = pytest.mark.timeout(120)


class ServerProcessTests:
    def test_pages_and_static_files_are_served_on_one_port(
        self, chat_server: ChatServer
    ) -> None:
        with urllib.request.urlopen(chat_server.url + "/rooms/general/") as page:
            html = page.read().decode()
        assert page.status == 200
        css = re.search(r'href="([^"]+chat\.css)"', html)
        assert css is not None
        with urllib.request.urlopen(chat_server.url + css.group(1)) as stylesheet:
            assert stylesheet.status == 200
            assert stylesheet.headers["Content-Type"].startswith("text/css")

    async def test_messages_are_logged_with_their_date_to_the_file(
        self, chat_server: ChatServer
    ) -> None:
        chat_server.create_user("logger")
        cookie = chat_server.login("logger")
        async with connect(
            chat_server.ws_url + "/ws/rooms/general/",
            origin=chat_server.origin,
            additional_headers={"Cookie": cookie},
        ) as socket:
            assert json.loads(await socket.recv())["type"] == "history"
            await socket.send(
                json.dumps(
                    {"type": "message", "text": "for the log", "client_id": "l1"}
                )
            )
            frame = json.loads(await socket.recv())
            assert frame["message"]["text"] == "for the log"
        # The line is written before the message is broadcast; a moment's
        # grace covers a handler that writes in the background.
        deadline = time.monotonic() + 10
        lines: list[str] = []
        while time.monotonic() < deadline:
            log = chat_server.log_file.read_text()
            lines = [line for line in log.splitlines() if "for the log" in line]
            if lines:
                break
            await asyncio.sleep(0.05)
        assert lines, "the message never reached the log file"
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", lines[0])
        assert "join general by logger" in log

    async def test_the_server_runs_with_deprecation_warnings_as_errors(
        self, tmp_path: Path
    ) -> None:
        """No deprecated API of a dependency is used on the way to a socket."""
        with running(tmp_path, PYTHONWARNINGS="error::DeprecationWarning") as server:
            async with connect(
                server.ws_url + "/ws/rooms/general/", origin=server.origin
            ) as socket:
                assert json.loads(await socket.recv())["type"] == "history"
            assert "Warning" not in server.output.read_text()


def raw_request(server: ChatServer, head: str, chunks: Sequence[bytes] = ()) -> bytes:
    """Send a request by hand, a chunk at a time until the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as peer:
        peer.sendall(head.encode())
        for chunk in chunks:
            if select.select([peer], [], [], 0.01)[0]:
                break  # Answered already: stop sending.
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                peer.sendall(chunk)
        response = b""
        with contextlib.suppress(ConnectionResetError):
            while data := peer.recv(65536):
                response += data
        return response


class RequestBodyLimitTests:
    def test_a_too_large_upload_is_refused_before_its_body_is_read(
        self, chat_server: ChatServer
    ) -> None:
        """The headers announce 100 MiB; not one byte of it is sent."""
        response = raw_request(
            chat_server,
            "POST /api/rooms/general/files HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{chat_server.port}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n",
        )
        assert response.startswith(b"HTTP/1.1 413")
        assert b'"code": "too_large"' in response

    def test_a_chunked_body_is_cut_off_once_it_is_too_large(
        self, chat_server: ChatServer
    ) -> None:
        chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
        response = raw_request(
            chat_server,
            "POST /api/rooms/general/files HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{chat_server.port}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
            [chunk] * 400 + [b"0\r\n\r\n"],
        )
        assert response.startswith(b"HTTP/1.1 413")


class LogFloodTests:
    def test_garbage_requests_cannot_fill_the_log(
        self, chat_server: ChatServer
    ) -> None:
        for _ in range(40):
            with socket.create_connection(("127.0.0.1", chat_server.port), 10) as peer:
                peer.sendall(b"\x16\x03\x01\x02\x00 not http\r\n\r\n")
                assert peer.recv(1024).startswith(b"HTTP/1.1 400")
        time.sleep(0.5)  # The last lines reach the file.
        lines = [
            line
            for line in chat_server.log_file.read_text().splitlines()
            if "Invalid HTTP request" in line
        ]
        assert 1 <= len(lines) <= 10
