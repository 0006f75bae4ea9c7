"""One object per running event loop, for state that belongs to a loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """
    Holds one ``T`` per event loop, made by ``make(loop)`` on first use in
    that loop; those of loops that have closed are dropped as new ones come.
    Safe to read from any thread.
    """

    def __init__(self, make: Callable[[asyncio.AbstractEventLoop], T]) -> None:
        self._make = make
        self._items: dict[asyncio.AbstractEventLoop, T] = {}
        self._lock = threading.Lock()

    def get(self) -> T:
        """Return the running loop's object, making it if there is none."""
        loop = asyncio.get_running_loop()
        with self._lock:
            item = self._items.get(loop)
            if item is None:
                for stale in [other for other in self._items if other.is_closed()]:
                    del self._items[stale]
                item = self._items[loop] = self._make(loop)
            return item

    def live(self) -> list[T]:
        """Return the objects of the loops that still run."""
        with self._lock:
            return [item for loop, item in self._items.items() if not loop.is_closed()]
