"""
The two engines behind search, chosen by the database in use.

Both look for each needle as a substring of ``Message.search_text``
(chat.search.text) through a trigram index: SQLite's FTS5 table
``chat_message_search`` (external content, the trigram tokenizer), or
PostgreSQL's ``pg_trgm`` GIN index on the column, which ``LIKE`` uses. The
same text and the same rule make both find the same messages.
"""

from __future__ import annotations

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Max, QuerySet

from chat.models import Message

FTS_TABLE = "chat_message_search"
# On PostgreSQL, how many of the newest messages are read in id order before
# the trigram index is asked (see _postgresql_page).
WINDOW = 20_000

# Each statement may run again: a migration that rebuilds chat_message on
# SQLite drops its triggers, and post_migrate puts them back (apps.py).
INDEX_SQL = {
    "sqlite": [
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
            search_text, content='chat_message', content_rowid='id',
            tokenize='trigram')""",
        # Merging 8 segments at a time, not 4, more than halves what the
        # index costs each stored message, for a little more to read.
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 8)",
        # Empty texts (deleted messages, member lines) are not indexed.
        f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert
            AFTER INSERT ON chat_message WHEN new.search_text != '' BEGIN
            INSERT INTO {FTS_TABLE}(rowid, search_text)
            VALUES (new.id, new.search_text); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete
            AFTER DELETE ON chat_message WHEN old.search_text != '' BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
            AFTER UPDATE OF search_text ON chat_message
            WHEN old.search_text != new.search_text BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            SELECT 'delete', old.id, old.search_text WHERE old.search_text != '';
            INSERT INTO {FTS_TABLE}(rowid, search_text)
            SELECT new.id, new.search_text WHERE new.search_text != ''; END""",
    ],
    "postgresql": [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"""CREATE INDEX IF NOT EXISTS {FTS_TABLE}_trgm ON chat_message
            USING gin (search_text gin_trgm_ops)""",
    ],
}
DROP_SQL = {
    "sqlite": [
        *(
            f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}"
            for name in ("insert", "delete", "update")
        ),
        f"DROP TABLE IF EXISTS {FTS_TABLE}",
    ],
    "postgresql": [f"DROP INDEX IF EXISTS {FTS_TABLE}_trgm"],
}


def page(
    messages: QuerySet[Message],
    needles: list[str],
    limit: int,
    *,
    below: int | None = None,
) -> list[int]:
    """
    Return the ids of up to ``limit`` of ``messages`` whose index text holds
    every needle, newest first. ``messages`` are below id ``below`` already
    if it is given; the engine reads nothing above it.
    """
    if connection.vendor == "sqlite":
        return _sqlite_page(messages, needles, limit, below)
    return _postgresql_page(messages, needles, limit, below)


def _sqlite_page(
    messages: QuerySet[Message],
    needles: list[str],
    limit: int,
    below: int | None,
) -> list[int]:
    # Joined to the FTS table and ordered by its rowid, SQLite walks the
    # matches newest first, from the cursor, and stops at the page's
    # end; "id IN (matches)" would collect every match of a common word
    # first (90 ms at a million messages, against 0.5 ms).
    where = [
        f"{FTS_TABLE}.rowid = {Message._meta.db_table}.id",
        f"{FTS_TABLE} MATCH %s",
    ]
    params: list[object] = [" AND ".join(_fts_string(n) for n in needles)]
    if below is not None:
        where.append(f"{FTS_TABLE}.rowid < %s")
        params.append(below)
    found = messages.extra(
        tables=[FTS_TABLE], where=where, params=params, order_by=[f"-{FTS_TABLE}.rowid"]
    )
    return list(found.values_list("id", flat=True)[:limit])


def _postgresql_page(
    messages: QuerySet[Message],
    needles: list[str],
    limit: int,
    below: int | None,
) -> list[int]:
    # PostgreSQL cannot tell a common needle from a rare one ("LIKE" has no
    # statistics): walking the primary key backwards finds a common one at
    # once and reads the whole table for a rare one; the trigram index finds
    # a rare one at once and collects every match of a common one. So: the
    # newest WINDOW messages first, by the primary key (a bounded read),
    # and only if they do not fill the page, the older ones through the
    # index, where fewer than limit/WINDOW of the messages can match.
    for needle in needles:
        messages = messages.filter(search_text__contains=needle)
    top = below - 1 if below is not None else _newest_id()
    floor = top - WINDOW
    ids = list(
        messages.filter(id__gt=floor)
        .order_by("-id")
        .values_list("id", flat=True)[:limit]
    )
    if len(ids) < limit and floor > 0:
        # An order the primary key cannot give makes the planner take the
        # trigram index (and sort what it found).
        older = messages.filter(id__lte=floor).order_by((F("id") + 0).desc())
        ids += older.values_list("id", flat=True)[: limit - len(ids)]
    return ids


def _newest_id() -> int:
    return Message.objects.aggregate(newest=Max("id"))["newest"] or 0


def install(database: BaseDatabaseWrapper) -> None:
    """Create what the engine of ``database`` searches with, if missing."""
    with database.cursor() as cursor:
        for statement in INDEX_SQL.get(database.vendor, []):
            cursor.execute(statement)


def reinstall(using: str = "default", **_kwargs: object) -> None:
    """
    After migrations (post_migrate): put back what a rebuild of
    chat_message dropped, once the table has its search_text.
    """
    database = connections[using]
    with database.cursor() as cursor:
        tables = database.introspection.table_names(cursor)
        if "chat_message" not in tables:
            return
        columns = database.introspection.get_table_description(cursor, "chat_message")
    if any(column.name == "search_text" for column in columns):
        install(database)


def uninstall(database: BaseDatabaseWrapper) -> None:
    """Drop what ``install`` created."""
    with database.cursor() as cursor:
        for statement in DROP_SQL.get(database.vendor, []):
            cursor.execute(statement)


def _fts_string(needle: str) -> str:
    """``needle`` as an FTS5 string: a substring, never query syntax."""
    return '"' + needle.replace('"', '""') + '"'
