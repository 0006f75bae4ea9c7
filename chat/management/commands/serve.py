"""Run the chat: pages, API and WebSockets on one port."""

from __future__ import annotations

import gc
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from chat.connections import GuardedHttpProtocol
from chat.wsprotocol import WebSocketProtocol


class Command(BaseCommand):
    help = "Serve the chat over HTTP and WebSocket on one port (uvicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        self.stdout.write(f"Chat on http://{host}:{port}/")
        trusted = settings.FORWARDED_ALLOW_IPS
        from config.asgi import application

        # What the process holds once loaded (modules, Django's setup) lasts
        # as long as it does: out of the collector's sight, a full
        # collection no longer walks it. One took 65 to 110 ms with the event
        # loop stopped, every 10 to 20 s under load (docs/performance.md).
        gc.collect()
        gc.freeze()
        uvicorn.run(
            application,
            host=host,
            port=port,
            loop="auto",
            # httptools, with a deadline for each request and a cap on the
            # sockets one address may hold (chat/connections.py).
            http=GuardedHttpProtocol,
            # Each socket: the chat's own protocol on websockets' sans-I/O
            # core, which writes broadcast frames without an await.
            ws=WebSocketProtocol,
            # Frames beyond 64 KiB close the socket with 1009 (too big).
            ws_max_size=64 * 1024,
            # Peers that stop answering pings are closed and forgotten.
            ws_ping_interval=settings.WS_PING_INTERVAL,
            ws_ping_timeout=settings.WS_PING_TIMEOUT,
            # Idle time between requests on a kept-alive connection; a request,
            # once begun, has REQUEST_TIMEOUT.
            timeout_keep_alive=5,
            lifespan="off",
            # On SIGTERM: stop accepting, close sockets with 1012 (service
            # restart), then let in-flight work finish for up to this long.
            timeout_graceful_shutdown=10,
            log_config=None,
            access_log=False,
            # X-Forwarded-For/-Proto count only from the proxies named, and
            # from none unless some are: otherwise any client could pick its
            # own address and walk past every per-address limit. Never None,
            # which would make uvicorn read its own default (127.0.0.1).
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted,
        )
