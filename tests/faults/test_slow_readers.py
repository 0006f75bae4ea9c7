"""A reader that stops reading must not hold up the room, nor lose anything."""

from __future__ import annotations

import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.clients import until
from tests.faults.scenario import Room
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(300)

CONTROL = 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class SlowReaderTests:
    async def test_a_stalled_reader_is_cut_off_then_catches_up(
        self, tmp_path: Path, report: dict[str, Any]
    ) -> None:
        server = ChatServer(
            tmp_path,
            RATE_LIMITS="off",
            LOG_LEVEL="WARNING",
            SOCKET_QUEUE_LIMIT="200",
            SOCKET_BUFFER_LIMIT="262144",
        )
        server.start()
        try:
            room = Room(
                send_to=server,
                read_from=[server],
                senders=1,
                readers=3,
                count=5000,
                window=50,
                size=2000,
            )
            await room.start_readers()
            room.start_senders()
            # The first 1,000 messages go out with every reader keeping up:
            # the control for the fast readers' latency.
            assert await until(lambda: room.acked >= CONTROL, 120)
            url = server.ws_url + "/ws/rooms/general/"
            stalled = await connect(url, origin=server.origin, max_queue=4)
            history = json.loads(await stalled.recv())
            seen = [message["id"] for message in history["messages"]]

            async def resume_after_the_cut() -> int | None:
                """Read again once the server gave up on this reader."""
                assert await until(
                    lambda: "too slow" in server.log_file.read_text(), 120
                )
                try:
                    while True:
                        frame = json.loads(await asyncio.wait_for(stalled.recv(), 30))
                        if frame["type"] == "message":
                            seen.append(frame["message"]["id"])
                except ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else None

            resumed = asyncio.create_task(resume_after_the_cut())
            stored = await room.finish()
            figures = room.check(stored)
            # What was buffered, then the close that says: reconnect.
            code = await resumed
            assert code == 1013
            had_before_cut = len(seen)
            async with connect(
                f"{url}?after={seen[-1]}", origin=server.origin
            ) as again:
                history = json.loads(await again.recv())
                seen += [message["id"] for message in history["messages"]]
                # A long catch-up goes on in message frames.
                while seen[-1] < stored[-1]["id"]:
                    frame = json.loads(await asyncio.wait_for(again.recv(), 30))
                    seen.append(frame["message"]["id"])
            assert seen == [m["id"] for m in stored if m["id"] >= seen[0]]

            def milliseconds(part: slice) -> dict[str, float]:
                values = [x for r in room.readers for x in r.latencies[part]]
                return {
                    "p50": round(statistics.median(values) * 1000, 1),
                    "p99": round(percentile(values, 0.99) * 1000, 1),
                }

            report.update(
                test="stalled reader, 5000 messages of 2 kB",
                stalled_reader_close_code=code,
                stalled_reader_had_before_cut=had_before_cut,
                fast_latency_ms_before_stall=milliseconds(slice(200, CONTROL)),
                fast_latency_ms_while_stalled=milliseconds(slice(CONTROL + 200, None)),
                **figures,
            )
        finally:
            server.stop()
