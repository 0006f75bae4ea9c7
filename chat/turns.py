"""
The sockets' room commands, carried out together.

Each socket hands its commands over and waits for its replies. While the
database thread carries out one group, the next gathers every socket that
wrote meanwhile, and goes in one thread hop, one check of their logins and
one commit (chat/commands.py ``execute_together``): two hundred people
writing at once cost a few commits a second, not two hundred.
"""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async

from chat import commands
from chat.loops import PerLoop


class Turns:
    """The commands of one event loop's sockets, waiting for their group."""

    def __init__(self) -> None:
        self.waiting: list[
            tuple[commands.Request, asyncio.Future[list[commands.Reply]]]
        ] = []
        self.runner: asyncio.Task[None] | None = None

    async def execute(self, request: commands.Request) -> list[commands.Reply]:
        """Carry out one socket's ``request`` with the others' waiting; return
        its replies (see commands.execute)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[commands.Reply]] = loop.create_future()
        self.waiting.append((request, future))
        if self.runner is None or self.runner.done():
            self.runner = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self.waiting:
            group, self.waiting = self.waiting, []
            try:
                results = await database_sync_to_async(commands.execute_together)(
                    [request for request, _future in group]
                )
            except Exception as error:  # Each socket hears of it.
                results = [error] * len(group)
            for (_request, future), result in zip(group, results, strict=True):
                if future.done():
                    continue  # Its socket went away meanwhile.
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)


_turns: PerLoop[Turns] = PerLoop(lambda _loop: Turns())


def get_turns() -> Turns:
    """Return the running event loop's Turns, creating it on first use."""
    return _turns.get()
