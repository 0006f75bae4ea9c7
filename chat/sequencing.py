"""
Putting one room's changes in order, as a receiver hears them.

Every change broadcast names its ``seq`` and the room's change before it
(``prev_seq``). A receiver that has delivered everything up to ``delivered``
delivers a change whose ``prev_seq`` it has reached, holds one that comes
early, drops one it has already, and asks for a repair (a read of the stored
changes after ``delivered``) when a hole stays open.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]


class Repair(enum.Enum):
    """Whether the receiver should read the stored changes it lacks."""

    NONE = "none"
    # A change came early: the one before may still be on its way.
    LATER = "later"
    # A held change skipped past changes already delivered: only the stored
    # state can say what it lacks.
    NOW = "now"


@dataclass
class Sequencer:
    """The order of one room's changes: each delivered once, none skipped."""

    delivered: int = 0
    # Changes that came before the one they follow, by their prev_seq.
    waiting: dict[int, Event] = field(default_factory=dict)

    def hold(self, event: Event) -> None:
        """Keep ``event`` until it follows on (the start is not known yet)."""
        self.waiting[event["prev_seq"]] = event

    def offer(self, event: Event) -> tuple[list[Event], Repair]:
        """Return the changes that now follow on, in order, and what to repair."""
        if event["seq"] <= self.delivered:
            return [], Repair.NONE  # Heard twice, or repaired already.
        if event["prev_seq"] > self.delivered:
            self.waiting[event["prev_seq"]] = event
            return [], Repair.LATER
        ready = self.take(event)
        more, repair = self.drain()
        return [*ready, *more], repair

    def lowest_held(self) -> int | None:
        """Return the seq of the first held change, if any."""
        return min(self.waiting) + 1 if self.waiting else None

    def reach(self, seq: int) -> None:
        """Count everything up to ``seq`` delivered: what of it is not stored
        any more was changed again later, and those changes will follow."""
        self.delivered = max(self.delivered, seq)

    def take(self, event: Event) -> list[Event]:
        """Deliver ``event`` (from the stored state) if it is news."""
        if event["seq"] <= self.delivered:
            return []
        self.delivered = event["seq"]
        return [event]

    def drain(self) -> tuple[list[Event], Repair]:
        """Return the held changes that now follow on; drop stale ones."""
        ready: list[Event] = []
        repair = Repair.NONE
        while self.waiting:
            event = self.waiting.pop(self.delivered, None)
            if event is None:
                for prev_seq in [p for p in self.waiting if p < self.delivered]:
                    stale = self.waiting.pop(prev_seq)
                    if stale["seq"] > self.delivered:
                        repair = Repair.NOW
                if self.waiting and repair is Repair.NONE:
                    repair = Repair.LATER
                break
            ready.extend(self.take(event))
        return ready, repair
