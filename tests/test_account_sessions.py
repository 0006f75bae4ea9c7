"""
Account self-service on the real server: ended logins close their sockets
at once (not at the hub's next tick), and a deleted account leaves neither
its name nor its files in what the server serves, its cached history
included.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conftest import image_bytes
from tests.server import PASSWORD, ChatServer

pytestmark = pytest.mark.timeout(120)

# The hub's tick (every 15 s) would close them too, eventually; the login
# check event must do it well before.
PROMPTLY = 8.0
NEW_PASSWORD = "another-long-pass-456"


class Visitor:
    """A browser without the browser: a cookie jar and forms."""

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def open(self, path: str, **kwargs: Any) -> tuple[int, str, str]:
        """Return the status, final path and body of ``path``."""
        request = urllib.request.Request(self.server.url + path, **kwargs)
        try:
            with self.opener.open(request, timeout=30) as response:
                final = urllib.parse.urlsplit(response.geturl()).path
                return response.status, final, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, path, error.read().decode(errors="replace")

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """Fill in and send the form on the page ``path``."""
        _, _, page = self.open(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        body = urllib.parse.urlencode(
            {**fields, "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        return self.open(path, data=body)

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.submit("/accounts/login/", {"username": username, "password": password})
        assert self.logged_in

    @property
    def logged_in(self) -> bool:
        return self.open("/accounts/profile/")[1] == "/accounts/profile/"

    @property
    def cookie(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        """Share a file in the room general through the API; return its Message."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        status, _, answer = self.open(
            "/api/rooms/general/files",
            data=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-CSRFToken": str(csrf),
            },
        )
        assert status == 201, answer
        return dict(json.loads(answer)["message"])


async def room_socket(
    server: ChatServer, visitor: Visitor | None = None
) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """Open a socket in the room general; return it and its history."""
    headers = {"Cookie": visitor.cookie} if visitor is not None else {}
    socket = await connect(
        server.ws_url + "/ws/rooms/general/",
        origin=server.origin,
        additional_headers=headers,
    )
    frame = json.loads(await socket.recv())
    assert frame["type"] == "history"
    return socket, frame["messages"]


async def close_code(socket: ClientConnection, within: float) -> int | None:
    """Return the code the server closes ``socket`` with, reading until then."""
    async with asyncio.timeout(within):
        try:
            while True:
                await socket.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


async def post(socket: ClientConnection, text: str) -> dict[str, Any]:
    client_id = uuid.uuid4().hex
    await socket.send(
        json.dumps({"type": "message", "text": text, "client_id": client_id})
    )
    while True:
        frame = json.loads(await socket.recv())
        if frame.get("client_id") == client_id:
            assert frame["type"] == "message", frame
            return dict(frame["message"])


async def visitor(server: ChatServer, username: str) -> Visitor:
    await asyncio.to_thread(server.create_user, username)
    person = Visitor(server)
    await asyncio.to_thread(person.log_in, username)
    return person


class LiveSessionTests:
    async def test_a_password_change_closes_the_other_sessions_sockets(
        self, chat_server: ChatServer
    ) -> None:
        here = await visitor(chat_server, "changer")
        there = Visitor(chat_server)
        await asyncio.to_thread(there.log_in, "changer")
        socket, _ = await room_socket(chat_server, there)
        status, final, _ = await asyncio.to_thread(
            here.submit,
            "/accounts/password/change/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert (status, final) == (200, "/accounts/profile/")
        assert await close_code(socket, PROMPTLY) == 4401
        assert await asyncio.to_thread(lambda: here.logged_in)
        assert not await asyncio.to_thread(lambda: there.logged_in)

    async def test_logging_out_other_sessions_closes_their_sockets(
        self, chat_server: ChatServer
    ) -> None:
        here = await visitor(chat_server, "leaver")
        there = Visitor(chat_server)
        await asyncio.to_thread(there.log_in, "leaver")
        socket, _ = await room_socket(chat_server, there)

        status, final, page = await asyncio.to_thread(
            here.submit, "/accounts/profile/sessions/", {"password": "wrong"}
        )
        assert (status, final) == (200, "/accounts/profile/sessions/")
        assert "data-field-errors" in page
        await post(socket, "still here")  # The socket lives on.

        status, final, _ = await asyncio.to_thread(
            here.submit, "/accounts/profile/sessions/", {"password": PASSWORD}
        )
        assert (status, final) == (200, "/accounts/profile/")
        assert await close_code(socket, PROMPTLY) == 4401
        assert await asyncio.to_thread(lambda: here.logged_in)
        assert not await asyncio.to_thread(lambda: there.logged_in)

    async def test_a_deleted_account_leaves_no_name_or_file_in_the_live_history(
        self, chat_server: ChatServer
    ) -> None:
        leaving = await visitor(chat_server, "goner")
        staying = await visitor(chat_server, "stayer")
        # A guest keeps the room open, so the hub keeps its page cached.
        guest, _ = await room_socket(chat_server)
        socket, _ = await room_socket(chat_server, leaving)
        said = await post(socket, "words that stay")
        shared = await asyncio.to_thread(leaving.upload, "cat.png", image_bytes())
        urls = [shared["attachment"]["url"], shared["attachment"]["thumbnail_url"]]
        key = urls[0].strip("/").split("/")[-1].replace("-", "")
        stored = [
            chat_server.data_dir / "media" / "attachments" / key[:2] / key,
            chat_server.data_dir / "media" / "thumbnails" / key[:2] / f"{key}.webp",
        ]
        assert all(path.exists() for path in stored)
        for url in urls:
            assert (await asyncio.to_thread(staying.open, url))[0] == 200
        _, before = await room_socket(chat_server)
        assert {m["id"]: m["author"] for m in before}[said["id"]] == "goner"

        status, final, _ = await asyncio.to_thread(
            leaving.submit, "/accounts/profile/delete/", {"password": PASSWORD}
        )
        assert (status, final) == (200, "/")
        assert await close_code(socket, PROMPTLY) == 4401

        for url in urls:
            assert (await asyncio.to_thread(staying.open, url))[0] == 404
        assert not any(path.exists() for path in stored)
        _, after = await room_socket(chat_server)
        mine = [m for m in after if m["id"] in (said["id"], shared["id"])]
        assert [(m["author"], m["username"], m["attachment"]) for m in mine] == [
            ("deleted user", None, None)
        ] * 2
        assert mine[0]["text"] == "words that stay"
        assert not await asyncio.to_thread(lambda: Visitor(chat_server).logged_in)
        relogin = Visitor(chat_server)
        await asyncio.to_thread(
            relogin.submit,
            "/accounts/login/",
            {"username": "goner", "password": PASSWORD},
        )
        assert not await asyncio.to_thread(lambda: relogin.logged_in)
        await guest.close()
