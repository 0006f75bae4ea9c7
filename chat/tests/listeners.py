"""A hub listener for tests: it keeps what the hub hands it."""

from __future__ import annotations

import json
from typing import Any

from chat.hub import Outgoing
from chat.presence import Person


class Inbox:
    """
    A listener that keeps the room's frames (``frames``) and, apart, its
    presence frames (``presence``); a guest unless given a ``person``.
    """

    def __init__(self, key: str | None = None, person: Person | None = None) -> None:
        self.frames: list[tuple[int | None, str]] = []
        self.presence: list[dict[str, Any]] = []
        # The frames of each write of many the hub made.
        self.writes: list[list[str]] = []
        self.key = key
        self.ended = False
        self.me = person

    def deliver(self, seq: int | None, frame: str, wire: bytes) -> None:
        data = json.loads(frame)
        if data["type"] in ("presence", "presence_diff"):
            self.presence.append(data)
        else:
            self.frames.append((seq, frame))

    def deliver_many(self, frames: list[Outgoing], wire: bytes) -> None:
        self.writes.append([frame for _seq, frame, _wire in frames])
        for seq, frame, one in frames:
            self.deliver(seq, frame, one)

    def login_key(self) -> str | None:
        return self.key

    def end_session(self) -> None:
        self.ended = True

    def user_id(self) -> int | None:
        return self.me.user_id if self.me is not None else None

    def removed(self) -> None:
        raise AssertionError("not removed in these tests")

    def person(self) -> Person | None:
        return self.me

    def wants_presence(self) -> bool:
        return True

    @property
    def seqs(self) -> list[int | None]:
        return [seq for seq, _ in self.frames if seq]

    @property
    def kinds(self) -> list[str]:
        return [json.loads(frame)["type"] for seq, frame in self.frames if seq]
