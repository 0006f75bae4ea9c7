"""
Baseline: a bare `websockets` broadcast server, Python's practical ceiling.

Every text frame a client sends goes to every connected client, the sender
included, through ``websockets.asyncio.server.broadcast`` (no backpressure,
no parsing, no storage). Runs on uvloop when it is installed.

    python -m bench.baselines.raw_ws --port 8711

Prints "ready" on stdout once it listens; stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from bench.baselines.launch import run, stop_requested

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
    stop = stop_requested()
    async with serve(handler, host, port, compression=None, backlog=4096):
        print("ready", flush=True)
        await stop


if __name__ == "__main__":
    run(main, __doc__.split("\n\n")[0])
