"""
Baseline: a bare `websockets` broadcast server, Python's practical ceiling.

Every text frame a client sends goes to every connected client, the sender
included, through ``websockets.asyncio.server.broadcast`` (no backpressure,
no parsing, no storage). Runs on uvloop when it is installed.

    python bench/baselines/raw_ws.py --port 8711

Prints "ready" on stdout once it listens; stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

CLIENTS: set[ServerConnection] = set()


async def handler(websocket: ServerConnection) -> None:
    CLIENTS.add(websocket)
    try:
        async for message in websocket:
            if isinstance(message, str):
                broadcast(CLIENTS, message)
    except ConnectionClosed:
        pass  # A client that went away without a close frame: not an error.
    finally:
        CLIENTS.discard(websocket)


async def main(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(handler, host, port, compression=None, backlog=4096):
        print("ready", flush=True)
        await stop


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.host, args.port))
    else:
        uvloop.run(main(args.host, args.port))
    sys.stdout.flush()


if __name__ == "__main__":
    run()
