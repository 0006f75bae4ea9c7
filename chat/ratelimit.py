"""
Fixed-window rate limits kept in Django's cache.

With REDIS_URL the cache is Redis, so a limit holds across processes. A
limit is a list of rates, e.g. "10/5,60/60": at most 10 in any 5-second
window (the burst) and 60 a minute (the steady pace). RATE_LIMITS=off turns
every limit off. When the cache is down, limits fail open: a chat that
keeps working beats one that refuses everyone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from chat.exceptions import RateLimited
from chat.handshake import client_host

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@functools.lru_cache(maxsize=32)
def parse_rates(value: str) -> tuple[Rate, ...]:
    """Parse "10/5,60/60" into rates; raise ValueError on anything else."""
    rates = []
    for part in value.split(","):
        count, _, seconds = part.strip().partition("/")
        rate = Rate(int(count), int(seconds))
        if rate.count < 1 or rate.seconds < 1:
            raise ValueError(f"bad rate {part!r}")
        rates.append(rate)
    return tuple(rates)


def _key(scope: str, subject: str, rate: Rate, now: float) -> str:
    return f"rl:{scope}:{subject}:{rate.seconds}:{int(now // rate.seconds)}"


def _wait(rate: Rate, now: float) -> int:
    return max(1, math.ceil((int(now // rate.seconds) + 1) * rate.seconds - now))


def exceeded(scope: str, subject: str, rates: tuple[Rate, ...]) -> int | None:
    """Return the seconds to wait if ``subject`` is over a rate, else None."""
    if not settings.RATE_LIMITS:
        return None
    now = time.time()
    try:
        counts = cache.get_many([_key(scope, subject, r, now) for r in rates])
    except Exception:
        logger.warning("rate limits unavailable: the cache is down", exc_info=True)
        return None
    waits = [
        _wait(rate, now)
        for rate in rates
        if counts.get(_key(scope, subject, rate, now), 0) >= rate.count
    ]
    return max(waits) if waits else None


def hit(scope: str, subject: str, rates: tuple[Rate, ...]) -> int | None:
    """
    Count one event of ``subject``; return the seconds to wait if it was one
    too many (it is then not allowed), else None.
    """
    if not settings.RATE_LIMITS:
        return None
    now = time.time()
    waits = []
    try:
        for rate in rates:
            key = _key(scope, subject, rate, now)
            if cache.add(key, 1, timeout=rate.seconds + 1):
                count = 1
            else:
                try:
                    count = cache.incr(key)
                except ValueError:  # Expired between add and incr.
                    cache.add(key, 1, timeout=rate.seconds + 1)
                    count = 1
            if count > rate.count:
                waits.append(_wait(rate, now))
    except Exception:
        logger.warning("rate limits unavailable: the cache is down", exc_info=True)
        return None
    return max(waits) if waits else None


def refund(scope: str, subject: str, rates: tuple[Rate, ...]) -> None:
    """Take back one event of ``subject`` counted by ``hit`` in this window."""
    if not settings.RATE_LIMITS:
        return
    now = time.time()
    try:
        for rate in rates:
            with contextlib.suppress(ValueError):  # The window has passed.
                cache.decr(_key(scope, subject, rate, now))
    except Exception:
        logger.warning("rate limits unavailable: the cache is down", exc_info=True)


def enforce(scope: str, subject: str, rates: str, detail: str) -> None:
    """
    Count one event of ``subject`` against ``rates`` ("10/5,60/60"); raise
    RateLimited with ``detail`` (which names ``%(seconds)d``) if it is one
    too many.
    """
    retry_after = hit(scope, subject, parse_rates(rates))
    if retry_after is not None:
        raise RateLimited(detail % {"seconds": retry_after}, retry_after=retry_after)


def enforce_connect(scope: dict[str, Any]) -> None:
    """
    Count one WebSocket handshake from the client address in ``scope``
    against RATE_LIMIT_CONNECTS; raise RateLimited if it is one too many.
    """
    enforce(
        "connects",
        client_host(scope),
        settings.RATE_LIMIT_CONNECTS,
        _("Too many connections. Try again in %(seconds)d s."),
    )


async def aenforce_connect(scope: dict[str, Any]) -> None:
    """See enforce_connect()."""
    # With limits off there is nothing to count, and no thread hop to pay.
    if settings.RATE_LIMITS:
        await database_sync_to_async(enforce_connect)(scope)
