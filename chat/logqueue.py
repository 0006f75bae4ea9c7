"""
Log lines leave the threads that serve: a queue, and one thread that writes.

The chat logs a line for every stored change (from the database thread,
just before the broadcast) and for every socket that comes and goes (from
the event loop); writing it to the file and the console is a system call
each. ``configure``, Django's ``LOGGING_CONFIG``, sets ``LOGGING`` up as
``dictConfig`` does, then gives each configured logger a ``QueueHandler``
in place of its handlers: a line is formatted into its record where it is
logged, and one ``QueueListener`` thread per set of handlers writes it
through them, in the order logged. The listener writes what is left on its
queue when the process exits normally (a ``kill -9`` loses what was not
written yet, a moment's lines at most).
"""

from __future__ import annotations

import atexit
import logging
import logging.config
import queue
from logging.handlers import QueueHandler, QueueListener
from typing import Any


def configure(config: dict[str, Any]) -> None:
    """Configure logging from ``config``; route each logger's lines through a queue."""
    logging.config.dictConfig(config)
    loggers = [logging.getLogger()]
    loggers += [logging.getLogger(name) for name in config.get("loggers", {})]
    queued: dict[tuple[logging.Handler, ...], QueueHandler] = {}
    for logger in loggers:
        handlers = tuple(logger.handlers)
        if not handlers or any(isinstance(h, QueueHandler) for h in handlers):
            continue
        if handlers not in queued:
            queued[handlers] = _start(handlers)
        for handler in handlers:
            logger.removeHandler(handler)
        logger.addHandler(queued[handlers])


def _start(handlers: tuple[logging.Handler, ...]) -> QueueHandler:
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(lines, *handlers, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)
    return QueueHandler(lines)
