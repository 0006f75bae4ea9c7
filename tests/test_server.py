"""The real server process: one port for pages, API and sockets; logs."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from websockets.asyncio.client import connect

from tests.server import ChatServer

pytestmark = pytest.mark.timeout(120)


class ServerProcessTests:
    def test_pages_and_static_files_are_served_on_one_port(
        self, chat_server: ChatServer
    ) -> None:
        with urllib.request.urlopen(chat_server.url + "/rooms/general/") as page:
            html = page.read().decode()
        assert page.status == 200
        css = re.search(r'href="([^"]+chat\.css)"', html).group(1)
        with urllib.request.urlopen(chat_server.url + css) as stylesheet:
            assert stylesheet.status == 200
            assert stylesheet.headers["Content-Type"].startswith("text/css")

    async def test_messages_are_logged_with_their_date_to_the_file(
        self, chat_server: ChatServer
    ) -> None:
        chat_server.create_user("logger")
        cookie = chat_server.login("logger")
        async with connect(
            chat_server.ws_url + "/ws/rooms/general/",
            origin=chat_server.url,
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
        log = chat_server.log_file.read_text()
        line = next(line for line in log.splitlines() if "for the log" in line)
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line)
        assert "join general by logger" in log
