"""The WebSocket protocol, served by a real uvicorn server to real clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.transport import DirectWriter, wire_frame
from chat.wsprotocol import WebSocketProtocol, Written
from tests.clients import until
from tests.server import free_port

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(app: App, **config: Any) -> AsyncIterator[str]:
    """Serve ``app`` with the chat's WebSocket protocol; yield its ws:// URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws=WebSocketProtocol,
            lifespan="off",
            log_config=None,
            **config,
        )
    )
    task = asyncio.create_task(server.serve())
    assert await until(lambda: server.started, within=10, step=0.02)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


class Recorder:
    """An ASGI app that accepts, echoes text, and records what it got."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.send: Any = None
        self.lost = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.send = send
        while True:
            event = await receive()
            self.events.append(event)
            if event["type"] == "websocket.connect":
                send.__self__.when_lost(self.on_lost)
                await send({"type": "websocket.accept"})
            elif event["type"] == "websocket.receive":
                if event.get("text") == "close please":
                    await send(
                        {"type": "websocket.close", "code": 4401, "reason": "bye"}
                    )
                elif "text" in event:
                    await send({"type": "websocket.send", "text": event["text"]})
            else:
                return

    def on_lost(self) -> None:
        self.lost = True

    def disconnect_code(self) -> int | None:
        codes = [e["code"] for e in self.events if e["type"] == "websocket.disconnect"]
        assert len(codes) <= 1
        return codes[0] if codes else None


async def closed_code(client: ClientConnection) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await client.recv()
    return client.close_code


class WebSocketProtocolTests:
    async def test_a_socket_is_accepted_and_its_frames_go_both_ways(self) -> None:
        app = Recorder()
        async with (
            serving(app) as url,
            connect(f"{url}/ws/rooms/caf%C3%A9/?since=3", origin=None) as client,
        ):
            await client.send("héllo")
            assert await client.recv() == "héllo"
            # A message in fragments arrives whole.
            await client.send(["frag", "ments"])
            assert await client.recv() == "fragments"
        assert app.scope["path"] == "/ws/rooms/café/"
        assert app.scope["query_string"] == b"since=3"
        assert app.scope["client"][0] == "127.0.0.1"
        names = [name for name, _ in app.scope["headers"]]
        assert b"sec-websocket-key" in names and all(n == n.lower() for n in names)
        assert await until(lambda: app.disconnect_code() == 1000, within=5)
        assert app.lost

    async def test_a_refusal_before_accepting_is_a_403(self) -> None:
        async def refuse(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "websocket.close"})

        async with serving(refuse) as url:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{url}/ws/"):
                    pass
        assert refused.value.response.status_code == 403

    async def test_the_application_closes_with_its_code_and_reason(self) -> None:
        app = Recorder()
        async with serving(app) as url, connect(f"{url}/ws/") as client:
            await client.send("close please")
            assert await closed_code(client) == 4401
            assert client.close_reason == "bye"
        assert app.disconnect_code() == 4401

    async def test_an_oversized_frame_closes_with_1009(self) -> None:
        app = Recorder()
        async with serving(app, ws_max_size=1024) as url, connect(f"{url}/ws/") as c:
            await c.send("x" * 2000)
            assert await closed_code(c) == 1009
        assert await until(lambda: app.disconnect_code() == 1009, within=5)

    async def test_a_text_frame_that_is_not_utf8_closes_with_1007(self) -> None:
        app = Recorder()
        async with serving(app) as url, connect(f"{url}/ws/") as client:
            await client.send(b"\xff\xfe", text=True)
            assert await closed_code(client) == 1007
        assert await until(lambda: app.disconnect_code() == 1007, within=5)

    async def test_a_stopping_server_closes_its_sockets_with_1012(self) -> None:
        app = Recorder()
        async with serving(app) as url:
            client = await connect(f"{url}/ws/")
            await client.send("hi")
            assert await client.recv() == "hi"
        assert await closed_code(client) == 1012
        assert app.disconnect_code() == 1012

    async def test_a_peer_that_stops_answering_pings_is_closed(self) -> None:
        app = Recorder()
        async with serving(app, ws_ping_interval=0.2, ws_ping_timeout=0.2) as url:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", int(url.rsplit(":", 1)[1])
            )
            writer.write(
                b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            assert (await reader.readline()).startswith(b"HTTP/1.1 101")
            # It reads (the pings) but never answers: closed within seconds.
            assert await until(lambda: app.disconnect_code() == 1011, within=5)
            assert await until(lambda: app.lost, within=5)
            writer.close()

    async def test_a_prepared_frame_is_written_without_an_await(self) -> None:
        app = Recorder()
        async with serving(app) as url:
            async with connect(f"{url}/ws/") as client:
                await client.send("ready")
                assert await client.recv() == "ready"
                direct = DirectWriter.behind(app.send, 64 * 1024)
                assert direct is not None
                assert direct.write(wire_frame('{"type":"message"}')) is Written.SENT
                assert await client.recv() == '{"type":"message"}'
                # A socket whose unsent bytes are over the limit is too slow.
                slow = DirectWriter.behind(app.send, -1)
                assert slow is not None
                assert slow.write(wire_frame("never")) is Written.SLOW
            assert await until(lambda: app.lost, within=5)
            assert direct.write(wire_frame("late")) is Written.CLOSED

    async def test_no_writer_is_found_behind_a_send_that_is_not_a_sockets(self) -> None:
        async def send(message: dict[str, Any]) -> None:
            pass

        assert DirectWriter.behind(send, 1000) is None
        assert DirectWriter.behind(None, 1000) is None
