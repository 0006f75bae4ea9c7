"""
Baseline: the original design, a Tornado WebSocket broadcaster.

Every text message a client sends is written to every connected handler,
the sender included, with ``write_message`` in a loop: no storage, no
parsing, no backpressure (the returned futures are not awaited). Any path
is accepted and any Origin. Runs on uvloop when it is installed.

    python -m bench.baselines.tornado_broadcast --port 8715

Prints "ready" on stdout once it listens; stops cleanly on SIGTERM or SIGINT.
Needs ``tornado`` (in the project's ``bench`` extra).
"""

from __future__ import annotations

from tornado.web import Application
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from bench.baselines.launch import run, stop_requested


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
    stop = stop_requested()
    app = Application([(r"/.*", BroadcastHandler)])
    server = app.listen(port, address=host, backlog=4096)
    print("ready", flush=True)
    await stop
    server.stop()
    for client in list(BroadcastHandler.clients):
        client.close(1001)
    await server.close_all_connections()


if __name__ == "__main__":
    run(main, __doc__.split("\n\n")[0])
