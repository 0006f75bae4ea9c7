"""Writing to a room without a browser: frames over a socket of one's own."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import BrowserContext
from websockets.asyncio.client import connect

from tests.server import ChatServer


def cookie_header(context: BrowserContext) -> str:
    """The Cookie header of ``context``'s login."""
    return "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())


async def post_over_socket(
    server: ChatServer, cookie: str, texts: list[str], **fields: Any
) -> list[dict[str, Any]]:
    """Post ``texts`` to the general room one by one; return the stored messages."""
    stored = []
    async with connect(
        f"{server.ws_url}/ws/rooms/general/",
        origin=server.origin,
        additional_headers={"Cookie": cookie},
    ) as socket:
        assert json.loads(await socket.recv())["type"] == "history"
        for text in texts:
            client_id = uuid.uuid4().hex
            frame = {"type": "message", "text": text, "client_id": client_id}
            await socket.send(json.dumps({**frame, **fields}))
            # Others' messages and heartbeats may come first.
            while (answer := json.loads(await socket.recv())).get("client_id") != (
                client_id
            ):
                pass
            assert answer["type"] == "message", answer
            stored.append(answer["message"])
    return stored


def post(
    server: ChatServer, context: BrowserContext, texts: list[str], **fields: Any
) -> list[dict[str, Any]]:
    """Post ``texts`` as ``context``'s user; return the stored messages."""
    # Playwright's sync API owns this thread's event loop; the socket
    # client gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(
            asyncio.run,
            post_over_socket(server, cookie_header(context), texts, **fields),
        ).result(timeout=60)
