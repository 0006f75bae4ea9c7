"""Run the chat: pages, API and WebSockets on one port."""

from __future__ import annotations

from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the chat over HTTP and WebSocket on one port (uvicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        self.stdout.write(f"Chat on http://{host}:{port}/")
        uvicorn.run(
            "config.asgi:application",
            host=host,
            port=port,
            loop="auto",
            http="auto",
            ws="websockets",
            # Frames beyond 64 KiB close the socket with 1009 (too big).
            ws_max_size=64 * 1024,
            # Peers that stop answering pings are closed and forgotten.
            ws_ping_interval=settings.WS_PING_INTERVAL,
            ws_ping_timeout=settings.WS_PING_TIMEOUT,
            # Compression costs CPU per recipient on the broadcast path.
            ws_per_message_deflate=False,
            lifespan="off",
            # On SIGTERM: stop accepting, close sockets with 1012 (service
            # restart), then let in-flight work finish for up to this long.
            timeout_graceful_shutdown=10,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        )
