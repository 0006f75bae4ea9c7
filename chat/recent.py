"""The latest page of a room's messages, kept encoded for new sockets."""

from __future__ import annotations

from collections.abc import Iterable

from chat import protocol


class RecentPage:
    """
    A room's latest ``size`` messages by id, each in its newest state.

    Fed every change the hub delivers: a new message joins the page (the
    oldest leaves), a change of a message on the page replaces it in place,
    a change of an older one leaves the page alone. So the history a new
    socket gets is never staler than the stream it follows.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        # id -> encoded message, in id order (new ids are always the highest).
        self.messages: dict[int, str] = {}
        # The last history frame made: (room, seq, frame), until the page changes.
        self._frame: tuple[str, int, str] | None = None

    def fill(self, messages: Iterable[tuple[int, str]]) -> None:
        """Start from ``messages``, oldest first."""
        self.messages.clear()
        self._frame = None
        for message_id, message in messages:
            self.put(message_id, message)

    def put(self, message_id: int, message: str) -> None:
        """Take the newest state of message ``message_id``."""
        if message_id in self.messages:
            self.messages[message_id] = message
        elif not self.messages or message_id > next(reversed(self.messages)):
            self.messages[message_id] = message
            if len(self.messages) > self.size:
                del self.messages[next(iter(self.messages))]
        else:
            return
        self._frame = None

    def history_frame(self, room: str, seq: int) -> str:
        """Return the history frame of the page, at the room's change ``seq``."""
        if self._frame is None or self._frame[:2] != (room, seq):
            frame = protocol.history_frame(self.messages.values(), room=room, seq=seq)
            self._frame = (room, seq, frame)
        return self._frame[2]
