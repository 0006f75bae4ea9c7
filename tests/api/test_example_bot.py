"""The example bot of docs/api.md, run as its reader would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server import ROOT, ChatServer, running

BOT = ROOT / "docs" / "examples" / "bot.py"


def call(server: ChatServer, token: str, method: str, path: str, body: Any = None):
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChatServer]:
    with running(tmp_path, RATE_LIMITS="off") as server:
        yield server


def test_the_example_bot_answers_ping_with_pong_and_a_reaction(
    server: ChatServer,
) -> None:
    server.create_user("alice")
    server.manage(
        "shell",
        "-c",
        "from accounts.models import User; from accounts.services import bot_create; "
        "bot_create(owner=User.objects.get(username='alice'), username='pingbot')",
    )
    bot_token, alice = server.create_token("pingbot"), server.create_token("alice")
    bot = subprocess.Popen(
        [sys.executable, str(BOT)],
        env={**os.environ, "CHAT_URL": server.url, "CHAT_TOKEN": bot_token},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # A ping sent before the bot has subscribed goes unanswered (it reads
        # what comes after it starts): ping until it answers.
        deadline, answered = time.monotonic() + 30, None
        while answered is None and time.monotonic() < deadline:
            assert bot.poll() is None, bot.stdout.read() if bot.stdout else ""
            ping = call(
                server,
                alice,
                "POST",
                "/api/v1/rooms/general/messages",
                {"text": "!ping"},
            )["message"]
            time.sleep(0.5)
            messages = call(
                server, alice, "GET", "/api/v1/rooms/general/messages?limit=50"
            )["messages"]
            answered = next(
                (
                    m
                    for m in messages
                    if m["text"] == "pong"
                    and (m["reply_to"] or {}).get("id") == ping["id"]
                ),
                None,
            )
        assert answered is not None, "the bot never answered"
        assert answered["bot"] is True and answered["username"] == "pingbot"
        pinged = next(m for m in messages if m["id"] == answered["reply_to"]["id"])
        assert pinged["reactions"] == [
            {"emoji": "🏓", "count": 1, "users": ["pingbot"]}
        ]
    finally:
        bot.kill()
        bot.wait(10)
