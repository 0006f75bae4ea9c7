"""
Baseline: the original design, a Tornado WebSocket broadcaster.

Every text message a client sends is written to every connected handler,
the sender included, with ``write_message`` in a loop: no storage, no
parsing, no backpressure (the returned futures are not awaited). Any path
is accepted and any Origin. Runs on uvloop when it is installed.

    python bench/baselines/tornado_broadcast.py --port 8715

Prints "ready" on stdout once it listens; stops cleanly on SIGTERM or SIGINT.
Needs ``tornado`` (not a dependency of the project).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from tornado.web import Application
from tornado.websocket import WebSocketClosedError, WebSocketHandler


class BroadcastHandler(WebSocketHandler):
    clients: set[BroadcastHandler] = set()

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self, *args: str) -> None:
        self.clients.add(self)

    def on_message(self, message: str | bytes) -> None:
        if not isinstance(message, str):
            return
        for client in list(self.clients):
            try:
                client.write_message(message)
            except WebSocketClosedError:
                self.clients.discard(client)

    def on_close(self) -> None:
        self.clients.discard(self)


async def main(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    app = Application([(r"/.*", BroadcastHandler)])
    server = app.listen(port, address=host, backlog=4096)
    print("ready", flush=True)
    await stop
    server.stop()
    for client in list(BroadcastHandler.clients):
        client.close(1001)
    await server.close_all_connections()


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
