"""
The Python client and the terminal client against a real server process.

Helpers shared by test_client.py and test_tui.py: a server with users,
tokens and a room of many messages, and bounded waits on conditions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.server import ChatServer

# Load, not abuse: rate limits off, warnings only.
QUIET = {"RATE_LIMITS": "off", "LOG_LEVEL": "WARNING"}

_SEED = """
from accounts.models import User
from chat.models import Room
from chat.services import Post, messages_create, room_create
author = User.objects.get(username={author!r})
room = Room.objects.filter(slug={slug!r}).first() or room_create(
    name={slug!r}, created_by=author
)
assert room.slug == {slug!r}, room.slug
for start in range(0, {count}, 1000):
    posts = [
        Post(f"{prefix} {{n}}", None, None)
        for n in range(start, min(start + 1000, {count}))
    ]
    messages_create(room=room, author=author, posts=posts)
"""


def prepared_server(data_dir: Path, users: list[str], **env: str) -> ChatServer:
    """A server with ``users``, migrated but not started (seed it first)."""
    server = ChatServer(data_dir, **{**QUIET, **env})
    server.manage("migrate", "--noinput")
    for username in users:
        server.create_user(username)
    return server


def seed(
    server: ChatServer, *, slug: str, author: str, count: int, prefix: str = "seed"
) -> None:
    """Post ``count`` messages "<prefix> <n>" to ``slug`` (made if missing)."""
    server.manage(
        "shell",
        "-c",
        _SEED.format(author=author, slug=slug, count=count, prefix=prefix),
    )


async def until(
    predicate: Callable[[], Any], within: float = 30.0, step: float = 0.05
) -> None:
    """Wait until ``predicate()`` holds; fail if it does not within ``within`` s."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {predicate}")
        await asyncio.sleep(step)
