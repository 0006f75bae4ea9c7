"""Peers that vanish without closing: the server reaps them."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server import ChatServer

pytestmark = pytest.mark.timeout(120)


def handshake(server: ChatServer) -> socket.socket:
    """Open a WebSocket by hand: a peer that will never answer a ping."""
    peer = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    peer.sendall(
        (
            "GET /ws/rooms/general/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\n\r\n"
        ).encode()
    )
    response = peer.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response
    return peer


def guests_in_general(server: ChatServer, *, expected: int) -> int:
    """Return the guests the general room's presence counts, waiting up to
    5 s for ``expected`` (presence changes go out in batches)."""
    deadline = time.monotonic() + 5
    while True:
        with urllib.request.urlopen(f"{server.url}/api/rooms/general/presence") as r:
            guests: int = json.load(r)["guests"]
        if guests == expected or time.monotonic() > deadline:
            return guests
        time.sleep(0.1)


class DeadPeerTests:
    def test_a_peer_that_stops_answering_pings_is_closed_and_forgotten(
        self, tmp_path: Path
    ) -> None:
        server = ChatServer(tmp_path, WS_PING_INTERVAL="1", WS_PING_TIMEOUT="1")
        server.start()
        try:
            peer = handshake(server)
            assert guests_in_general(server, expected=1) == 1
            began = time.monotonic()
            received = b""
            peer.settimeout(1)
            while time.monotonic() - began < 30:
                try:
                    chunk = peer.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break  # The server hung up.
                received += chunk
            reaped_after = time.monotonic() - began
            peer.close()
            assert reaped_after < 10, "the server kept a dead peer"
            # Pings (opcode 0x9) came first, unanswered.
            assert b"\x89" in received
            # Forgotten: the room's presence no longer counts the guest.
            assert guests_in_general(server, expected=0) == 0
        finally:
            server.stop()
