"""Filters that keep the log readable when a client makes noise on purpose."""

from __future__ import annotations

import logging
import time

from accounts import tokens


class RepeatLimit(logging.Filter):
    """
    Let at most ``burst`` records of one message through per ``seconds``.

    The server logs a line for each malformed request it refuses before the
    application runs ("Invalid HTTP request received."); without a limit,
    anyone could fill the log, and roll its files over, by sending garbage.
    The first record after a quiet window says how many were left out.
    """

    def __init__(self, burst: int = 10, seconds: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.seconds = seconds
        # Per message template: window start, records seen, records dropped.
        # Templates are the program's own strings, so this stays small.
        self._windows: dict[tuple[str, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        start, seen, dropped = self._windows.get(key, (now, 0, 0))
        if now - start >= self.seconds:
            if dropped:
                record.msg = f"{record.msg} (and {dropped} more like it not logged)"
            start, seen, dropped = now, 0, 0
        seen += 1
        passed = seen <= self.burst
        self._windows[key] = (start, seen, dropped + (not passed))
        return passed


class RedactTokens(logging.Filter):
    """
    Mask personal access tokens (accounts.tokens) in a record's text.

    Tokens travel only in headers, which nothing logs, and one in a URL is
    refused; this catches one quoted by anything else (an exception's
    message, a library's debug line).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "chat" in message:
            masked = tokens.mask(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True
