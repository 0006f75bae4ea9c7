"""
Where the processes keep their shares of the rooms' presence, under a lease.

With ``REDIS_URL`` set, a room's shares are one Redis hash (process -> the
share and the time it lapses), which expires as a whole once no process
renews it; any process, and the HTTP API, can read it. A single process
(the embedded default) needs no store: its hub holds the whole view.
Presence never touches the SQL database.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

import redis
import redis.asyncio
from django.conf import settings
from django.utils.translation import gettext as _

from chat.exceptions import Unavailable
from chat.loops import PerLoop

logger = logging.getLogger(__name__)

# A share as stored: its JSON form, and the time (epoch seconds) it lapses.
Stored = tuple[dict[str, Any], float]

# Each event loop has its own client: a client's connections belong to
# the loop that made them.
_async_clients: PerLoop[redis.asyncio.Redis] = PerLoop(
    lambda _loop: redis.asyncio.Redis.from_url(settings.REDIS_URL, **_client_options())
)
_sync_client: redis.Redis | None = None


def shared() -> bool:
    """Return whether processes share presence through the store (Redis)."""
    return bool(settings.REDIS_URL)


def _key(slug: str) -> str:
    return f"chat:presence:{slug}"


def _client_options() -> dict[str, Any]:
    return {"socket_timeout": 1, "socket_connect_timeout": 1}


def _async_client() -> redis.asyncio.Redis:
    return _async_clients.get()


def _live(rows: dict[str, Stored]) -> dict[str, Stored]:
    now = time.time()
    return {process: row for process, row in rows.items() if row[1] >= now}


def _parse(raw: dict[Any, Any]) -> dict[str, Stored]:
    rows: dict[str, Stored] = {}
    for process, value in raw.items():
        try:
            data = json.loads(value)
            rows[process.decode()] = (data["share"], float(data["until"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("skipping a malformed presence share of %r", process)
    return rows


async def put(
    slug: str, process: str, share: dict[str, Any] | None, until: float
) -> None:
    """Store ``process``'s share of room ``slug`` until ``until`` (None: drop it)."""
    key = _key(slug)
    try:
        async with _async_client().pipeline(transaction=False) as pipe:
            if share is None:
                pipe.hdel(key, process)
            else:
                pipe.hset(key, process, json.dumps({"share": share, "until": until}))
                pipe.expire(key, math.ceil(settings.PRESENCE_TTL_SECONDS * 2))
            await pipe.execute()
    except redis.RedisError as error:
        # The next tick renews it.
        logger.warning("could not store presence in %s: %r", slug, error)


async def aread_shares(slug: str) -> dict[str, Stored]:
    """Return every live share of room ``slug``, by process."""
    try:
        raw = await _async_client().hgetall(_key(slug))
    except redis.RedisError as error:
        logger.warning("could not read presence in %s: %r", slug, error)
        return {}
    return _live(_parse(raw))


def read(slug: str) -> list[dict[str, Any]]:
    """Return every live share of room ``slug`` (from any thread)."""
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, **_client_options())
    try:
        rows = _live(_parse(_sync_client.hgetall(_key(slug))))
    except redis.RedisError as error:
        raise Unavailable(_("Presence is unavailable right now.")) from error
    return [share for share, _until in rows.values()]
