from __future__ import annotations

import asyncio
from typing import Any, cast

from chat.transport import Output, wire_frame
from chat.wsprotocol import Written
from tests.clients import until


class Peer:
    """
    The ASGI side of a socket: ``send`` records a frame once it is out.

    With ``gate`` cleared, each send waits for it first, as a send does that
    waits for the network; a frame in ``slow`` waits for its own event.
    """

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.slow: dict[str, asyncio.Event] = {}

    async def send(self, frame: str) -> None:
        await self.gate.wait()
        if frame in self.slow:
            await self.slow[frame].wait()
        self.sent.append(frame)


class Direct:
    """A DirectWriter stand-in that records the wire bytes written to it."""

    def __init__(self, answer: Written = Written.SENT) -> None:
        self.answer = answer
        self.wires: list[bytes] = []

    def write(self, wire: bytes) -> Written:
        if self.answer is Written.SENT:
            self.wires.append(wire)
        return self.answer


class Slow:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def output(
    peer: Peer, *, direct: Direct | None = None, limit: int = 100
) -> tuple[Output, Slow]:
    too_slow = Slow()
    out = Output(peer.send, too_slow, limit)
    out.start_direct(cast(Any, direct))
    return out, too_slow


def wire(frame: str) -> bytes:
    return wire_frame(frame)


class WireFrameTests:
    def test_a_short_text_is_one_unmasked_final_text_frame(self) -> None:
        assert wire_frame("hi") == b"\x81\x02hi"

    def test_a_longer_text_carries_its_16_bit_length(self) -> None:
        text = "é" * 100  # 200 bytes of UTF-8.
        assert wire_frame(text) == b"\x81\x7e\x00\xc8" + text.encode()


class OutputTests:
    async def test_a_reply_goes_out_at_once(self) -> None:
        peer = Peer()
        out, _ = output(peer)
        await out.send("pong")
        assert peer.sent == ["pong"]

    async def test_a_broadcast_is_written_straight_away_when_nothing_waits(
        self,
    ) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        out.deliver("b1", wire("b1"))
        # Written without an await: the hub's loop turn writes it.
        assert direct.wires == [wire("b1")]
        assert peer.sent == []

    async def test_broadcasts_without_a_direct_writer_go_out_in_order(self) -> None:
        peer = Peer()
        out, _ = output(peer)
        for frame in ("b1", "b2", "b3"):
            out.deliver(frame, wire(frame))
        assert await until(lambda: len(peer.sent) == 3, 2, 0.01)
        assert peer.sent == ["b1", "b2", "b3"]
        out.close()

    async def test_a_broadcast_waits_behind_a_reply_being_sent(self) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        peer.gate.clear()
        reply = asyncio.create_task(out.send("history"))
        await asyncio.sleep(0)
        out.deliver("b1", wire("b1"))
        assert direct.wires == []  # It would overtake the history.
        peer.gate.set()
        await reply
        assert await until(lambda: len(peer.sent) == 2, 2, 0.01)
        assert peer.sent == ["history", "b1"]
        out.close()

    async def test_a_reply_waits_behind_queued_broadcasts(self) -> None:
        peer = Peer()
        out, _ = output(peer)
        peer.gate.clear()
        out.deliver("b1", wire("b1"))
        out.deliver("b2", wire("b2"))
        await asyncio.sleep(0)
        await out.send("reply")
        peer.gate.set()
        assert await until(lambda: len(peer.sent) == 3, 2, 0.01)
        assert peer.sent == ["b1", "b2", "reply"]
        out.close()

    async def test_frames_keep_their_order_once_the_queue_has_been_used(
        self,
    ) -> None:
        """
        A reply and a broadcast given while it is under way reach the client
        in that order, also after the socket has needed its queue once.
        """
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        peer.gate.clear()
        first = asyncio.create_task(out.send("reply 1"))
        await asyncio.sleep(0)
        out.deliver("b1", wire("b1"))  # Queued behind reply 1.
        peer.gate.set()
        await first
        assert await until(lambda: len(peer.sent) == 2, 2, 0.01)
        assert peer.sent == ["reply 1", "b1"]
        # The queue is empty again: a reply that takes its time, then a
        # broadcast given meanwhile.
        peer.slow["reply 2"] = asyncio.Event()
        second = asyncio.create_task(out.send("reply 2"))
        await asyncio.sleep(0)
        out.deliver("b2", wire("b2"))
        await asyncio.sleep(0.05)
        peer.slow["reply 2"].set()
        await second
        assert await until(lambda: len(peer.sent) == 4, 2, 0.01)
        assert peer.sent == ["reply 1", "b1", "reply 2", "b2"]
        assert direct.wires == []
        out.close()

    async def test_broadcasts_go_straight_again_once_the_queue_is_empty(
        self,
    ) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        peer.gate.clear()
        reply = asyncio.create_task(out.send("history"))
        await asyncio.sleep(0)
        out.deliver("b1", wire("b1"))
        peer.gate.set()
        await reply
        assert await until(lambda: len(peer.sent) == 2, 2, 0.01)
        out.deliver("b2", wire("b2"))
        assert direct.wires == [wire("b2")]
        out.close()

    async def test_many_broadcasts_are_one_write_when_nothing_waits(self) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        both = wire("b1") + wire("b2")
        out.deliver_many(["b1", "b2"], both)
        assert direct.wires == [both]

    async def test_many_broadcasts_behind_a_reply_are_queued_each_in_order(
        self,
    ) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        peer.gate.clear()
        reply = asyncio.create_task(out.send("history"))
        await asyncio.sleep(0)
        out.deliver_many(["b1", "b2"], wire("b1") + wire("b2"))
        peer.gate.set()
        await reply
        assert await until(lambda: len(peer.sent) == 3, 2, 0.01)
        assert peer.sent == ["history", "b1", "b2"]
        assert direct.wires == []
        out.close()

    async def test_a_full_queue_makes_the_socket_too_slow(self) -> None:
        peer = Peer()
        out, too_slow = output(peer, limit=3)
        peer.gate.clear()
        for n in range(6):
            out.deliver(f"b{n}", wire(f"b{n}"))
        assert too_slow.calls >= 1
        out.close()

    async def test_a_full_write_buffer_makes_the_socket_too_slow(self) -> None:
        peer = Peer()
        out, too_slow = output(peer, direct=Direct(Written.SLOW))
        out.deliver("b1", wire("b1"))
        assert too_slow.calls == 1

    async def test_a_closed_output_sends_nothing_more(self) -> None:
        peer, direct = Peer(), Direct()
        out, _ = output(peer, direct=direct)
        out.close()
        await out.send("reply")
        out.deliver("b1", wire("b1"))
        out.deliver_many(["b2"], wire("b2"))
        await asyncio.sleep(0.01)
        assert (peer.sent, direct.wires) == ([], [])

    async def test_closing_drops_what_is_still_queued(self) -> None:
        peer = Peer()
        out, _ = output(peer)
        peer.gate.clear()
        for frame in ("b1", "b2"):
            out.deliver(frame, wire(frame))
        await asyncio.sleep(0)
        out.close()
        peer.gate.set()
        await asyncio.sleep(0.01)
        assert peer.sent == []
        assert out.writer is not None and out.writer.cancelled()
