"""
Outgoing mail, sent off the request thread.

Two reasons. Django runs every synchronous view of an ASGI process in one
shared thread, so a slow mail server (up to EMAIL_TIMEOUT per attempt)
would stall every page of the process. And a password-reset answer that
takes longer for a known address than for an unknown one tells which
addresses have accounts.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)

_sender: ThreadPoolExecutor | None = None
_sender_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _sender
    with _sender_lock:
        if _sender is None:
            # One thread: mail goes out in the order it was handed over.
            _sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        return _sender


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("could not send mail %r", message.subject)


def email_send_later(message: EmailMessage) -> None:
    """Send ``message`` (rendered already) from the mail thread."""
    _executor().submit(_send, message)


def emails_wait(timeout: float = 30.0) -> None:
    """Return once every message handed over so far is sent (or failed)."""
    done: Future[None] = _executor().submit(lambda: None)
    done.result(timeout)
