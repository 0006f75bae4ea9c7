"""What the baseline servers share: their command line and how they stop."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

Main = Callable[[str, int], Coroutine[Any, Any, None]]


def _complete(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def stop_requested() -> asyncio.Future[None]:
    """Return a future that SIGTERM or SIGINT completes."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _complete, stop)
    return stop


def run(main: Main, description: str) -> None:
    """Parse --host and --port, then run ``main`` on uvloop when installed."""
    parser = argparse.ArgumentParser(description=description)
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
