"""A room under load: senders and readers against real server processes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from tests.clients import Reader, Sender, stored_messages, until
from tests.server import ChatServer

TEXT = re.compile(r"^(?P<sender>\S+) #(?P<n>\d+) at ")


class Room:
    """Senders and readers of the room `general`, spread over servers."""

    def __init__(
        self,
        *,
        send_to: ChatServer,
        read_from: list[ChatServer],
        senders: int,
        readers: int,
        count: int,
        window: int = 10,
        size: int = 0,
    ) -> None:
        self.server = send_to
        names = [f"sender{n}" for n in range(senders)]
        for name in names:
            send_to.create_user(name)
        self.senders = [
            Sender(
                url=send_to.ws_url + "/ws/rooms/general/",
                origin=send_to.origin,
                cookie=send_to.login(name),
                name=name,
                count=count,
                window=window,
                size=size,
            )
            for name in names
        ]
        self.readers = [
            Reader(
                url=read_from[n % len(read_from)].ws_url + "/ws/rooms/general/",
                origin=read_from[n % len(read_from)].origin,
            )
            for n in range(readers)
        ]
        self.expected = senders * count
        self.reader_tasks: list[asyncio.Task[None]] = []
        self.sender_tasks: list[asyncio.Task[None]] = []

    async def start_readers(self) -> None:
        self.reader_tasks = [asyncio.create_task(r.run()) for r in self.readers]
        await asyncio.wait_for(
            asyncio.gather(*(reader.connected.wait() for reader in self.readers)), 30
        )

    def start_senders(self) -> None:
        self.sender_tasks = [asyncio.create_task(s.run()) for s in self.senders]

    @property
    def acked(self) -> int:
        return sum(len(sender.acked) for sender in self.senders)

    async def finish(self, within: float = 180) -> list[dict[str, Any]]:
        """Wait for every send to be acknowledged and every reader to catch up."""
        await asyncio.wait_for(asyncio.gather(*self.sender_tasks), within)
        stored = await asyncio.to_thread(stored_messages, self.server.url)
        last = stored[-1]["id"] if stored else 0
        await until(lambda: all(r.last_id >= last for r in self.readers), 60)
        for reader in self.readers:
            reader.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.reader_tasks), 30)
        return stored

    def check(self, stored: list[dict[str, Any]]) -> dict[str, Any]:
        """Assert nothing was lost, doubled or reordered; return the figures."""
        keys: Counter[tuple[str, int]] = Counter()
        for message in stored:
            match = TEXT.match(message["text"])
            assert match, message["text"]
            keys[(match["sender"], int(match["n"]))] += 1
        doubled = {key: n for key, n in keys.items() if n > 1}
        stored_ids = [message["id"] for message in stored]
        acked_ids = {i for sender in self.senders for i in sender.acked.values()}
        figures = {
            "sent": self.expected,
            "acknowledged": self.acked,
            "stored": len(stored),
            "stored_twice": len(doubled),
            "acknowledged_but_missing": len(acked_ids - set(stored_ids)),
            "sender_reconnects": sum(s.reconnects for s in self.senders),
            "sender_errors": sum(len(s.errors) for s in self.senders),
            "readers": len(self.readers),
            "delivered": sum(len(r.ids) for r in self.readers),
            "reader_duplicates": sum(r.duplicates for r in self.readers),
            "reader_out_of_order": sum(r.out_of_order for r in self.readers),
            "reader_gaps": sum(len(set(stored_ids) - set(r.ids)) for r in self.readers),
            "reader_reconnects": sum(r.reconnects for r in self.readers),
        }
        assert len(keys) == self.expected, figures
        assert not doubled, figures
        assert figures["acknowledged_but_missing"] == 0, figures
        for reader in self.readers:
            assert reader.ids == stored_ids, figures
            assert reader.duplicates == 0, figures
        return figures
