"""
Tokens on the WebSocket, on a real server: a program without a browser
opens a socket with ``Authorization: Bearer`` and no Origin, within its
token's scopes, and is cut off when the token is revoked.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts import tokens
from tests.server import ChatServer, running

pytestmark = pytest.mark.timeout(180)

ROOM = "/ws/rooms/general/"
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    with running(
        Path(tmp_path_factory.mktemp("token-sockets")), RATE_LIMITS="off"
    ) as server:
        server.create_user("alice")
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def frame(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of ``kind`` (heartbeats and presence pass by)."""
    while True:
        data = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        if data["type"] == kind or data["type"] == "error":
            return data


async def status_of(server: ChatServer, path: str, **headers: str) -> int:
    try:
        async with connect(
            server.ws_url + path, additional_headers=headers, open_timeout=TIMEOUT
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_a_token_socket_needs_no_origin_and_posts(server: ChatServer) -> None:
    token = server.create_token("alice")
    async with connect(
        server.ws_url + ROOM, additional_headers=bearer(token), open_timeout=TIMEOUT
    ) as socket:
        await frame(socket, "history")
        await socket.send(
            json.dumps({"type": "message", "text": "from a script", "client_id": "s1"})
        )
        posted = await frame(socket, "message")
    assert posted["message"]["username"] == "alice"
    assert posted["client_id"] == "s1"


async def test_a_read_token_reads_but_may_not_post(server: ChatServer) -> None:
    token = server.create_token("alice", "read")
    async with connect(
        server.ws_url + ROOM, additional_headers=bearer(token), open_timeout=TIMEOUT
    ) as socket:
        await frame(socket, "history")
        await socket.send(
            json.dumps({"type": "message", "text": "no", "client_id": "r1"})
        )
        refused = await frame(socket, "message")
    assert refused["type"] == "error" and refused["code"] == "insufficient_scope"
    assert refused["client_id"] == "r1"


async def test_without_token_or_cookie_a_program_reads_as_a_guest(
    server: ChatServer,
) -> None:
    async with connect(server.ws_url + ROOM, open_timeout=TIMEOUT) as socket:
        assert (await frame(socket, "history"))["type"] == "history"
        await socket.send(json.dumps({"type": "message", "text": "x"}))
        assert (await frame(socket, "message"))["code"] == "auth_required"


async def test_what_is_refused_at_the_handshake(server: ChatServer) -> None:
    token = server.create_token("alice")
    cookie = server.login("alice")
    # A cookie always needs the site's Origin, token or not.
    assert await status_of(server, ROOM, Cookie=cookie) == 403
    assert await status_of(server, ROOM, Cookie=cookie, **bearer(token)) == 403
    # A token that is not live, and any token in the URL.
    # The last character changed (a token may end in "x" already).
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")
    assert await status_of(server, ROOM, **bearer(wrong)) == 403
    assert await status_of(server, ROOM, Authorization="Bearer nonsense") == 403
    assert await status_of(server, f"{ROOM}?access_token={token}") == 403
    assert await status_of(server, f"/ws/?token={token}", **bearer(token)) == 403


def token_id(server: ChatServer, token: str) -> int:
    request = urllib.request.Request(
        server.url + "/api/v1/tokens", headers=bearer(token)
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        tokens = json.loads(response.read())["tokens"]
    [mine] = [
        t for t in tokens if token.startswith(t["hint"]) and t["name"] == "doomed"
    ]
    return int(mine["id"])


async def test_revoking_a_token_closes_its_sockets_within_two_seconds(
    server: ChatServer,
) -> None:
    doomed = server.manage(
        "createtoken", "alice", "--name", "doomed", "--scopes", "read"
    ).strip()
    admin = server.create_token("alice")
    async with (
        connect(
            server.ws_url + ROOM,
            additional_headers=bearer(doomed),
            open_timeout=TIMEOUT,
        ) as in_room,
        connect(
            server.ws_url + "/ws/",
            additional_headers=bearer(doomed),
            open_timeout=TIMEOUT,
        ) as multi,
    ):
        await frame(in_room, "history")
        await multi.send(json.dumps({"type": "ping"}))
        await frame(multi, "pong")
        request = urllib.request.Request(
            server.url + f"/api/v1/tokens/{token_id(server, doomed)}",
            method="DELETE",
            headers=bearer(admin),
        )
        revoked_at = time.monotonic()
        assert await asyncio.to_thread(status_of_request, request) == 204
        for socket in (in_room, multi):
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(socket.recv(), TIMEOUT)
            assert socket.close_code == 4401
        assert time.monotonic() - revoked_at < 2.0
    me = urllib.request.Request(server.url + "/api/v1/me", headers=bearer(doomed))
    assert await asyncio.to_thread(status_of_request, me) == 401


def status_of_request(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_no_token_reaches_the_log(server: ChatServer) -> None:
    # Every test above sent tokens, some where they do not belong.
    logged = server.log_file.read_text() + server.output.read_text()
    assert "token made: alice" in logged  # Its name and first characters only.
    assert tokens.SHAPED.search(logged) is None
