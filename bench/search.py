"""
`make bench-search`: search on a large history, on SQLite and PostgreSQL.

For each engine, in a process of its own with a fresh database: generate
messages (Russian and English words with Zipf frequencies and inflections,
links, code) across 100 rooms; store some through the real service before
the search index exists and some after, to compare what the index costs a
stored message; build the index and measure its time and size; then run a
fixed mix of searches (common word, rare word, part of a word, link
fragment, phrase, filtered, short) through the real selector, as a user who
may read every room, and report p50 and p95 per kind. The figures go to
docs/search-performance.json and the "Search" section of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = DOCS / "search-performance.json"
POSTGRES = os.environ.get("TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
ROOMS = 100
PEOPLE = 20
BATCH = 10_000
# Messages stored through the service, before and after the index exists.
STORED = 400
REPEATS = 3
RARE_EVERY = 1000
KINDS = ("common", "rare", "partial", "link", "phrase", "filtered", "short")

RU_ONSETS = [
    "б",
    "в",
    "г",
    "д",
    "ж",
    "з",
    "к",
    "л",
    "м",
    "н",
    "п",
    "р",
    "с",
    "т",
    "ф",
    "х",
    "ц",
    "ч",
    "ш",
    "щ",
    "бр",
    "гр",
    "др",
    "кр",
    "пр",
    "ст",
    "тр",
]
RU_VOWELS = ["а", "е", "и", "о", "у", "ы", "я", "ю"]
RU_ENDINGS = [
    "а",
    "ы",
    "е",
    "у",
    "ой",
    "ами",
    "ах",
    "ом",
    "ов",
    "ого",
    "ому",
    "ая",
    "ий",
    "ые",
    "ет",
    "ют",
    "ит",
    "ат",
    "ал",
    "ала",
]
EN_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "br",
    "cl",
    "dr",
    "fl",
    "gr",
    "pl",
    "pr",
    "sh",
    "st",
    "th",
    "tr",
]
EN_VOWELS = ["a", "e", "i", "o", "u", "ea", "oo", "ai"]
EN_ENDINGS = ["", "", "s", "ing", "ed", "er", "ly", "ies"]


def _lemma(rng: random.Random, onsets: list[str], vowels: list[str]) -> str:
    return "".join(
        rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 3))
    )


class Corpus:
    """A deterministic stream of messages with a known vocabulary."""

    def __init__(self, seed: int = 7, lemmas: int = 15_000) -> None:
        self.rng = random.Random(seed)
        self.ru = list(
            dict.fromkeys(_lemma(self.rng, RU_ONSETS, RU_VOWELS) for _ in range(lemmas))
        )
        self.en = list(
            dict.fromkeys(_lemma(self.rng, EN_ONSETS, EN_VOWELS) for _ in range(lemmas))
        )
        # Zipf: the word of rank r comes about 1/r as often as the first.
        self.ru_weights = [1 / (rank + 1) for rank in range(len(self.ru))]
        self.en_weights = [1 / (rank + 1) for rank in range(len(self.en))]
        # Every RARE_EVERY-th message names a ticket no other names: what a
        # rare word is at any size (the "rare" searches look for them).
        self.count = 0
        self.tickets: list[str] = []

    def words(self, count: int, russian: bool) -> list[str]:
        lemmas, weights, endings = (
            (self.ru, self.ru_weights, RU_ENDINGS)
            if russian
            else (self.en, self.en_weights, EN_ENDINGS)
        )
        chosen = self.rng.choices(lemmas, weights, k=count)
        return [lemma + self.rng.choice(endings) for lemma in chosen]

    def message(self) -> str:
        rng = self.rng
        words = self.words(rng.randint(3, 18), russian=rng.random() < 0.5)
        self.count += 1
        if self.count % RARE_EVERY == 0:
            self.tickets.append(f"ticket{self.count}qz")
            words.append(self.tickets[-1])
        roll = rng.random()
        if roll < 0.05:
            host, path = self.words(2, russian=False)
            words.insert(
                rng.randrange(len(words) + 1),
                f"https://docs.{host}.org/{path}/{rng.randint(1, 999)}",
            )
        elif roll < 0.10:
            first, second = self.words(2, russian=False)
            words.insert(rng.randrange(len(words) + 1), f"`get_{first}_{second}()`")
        return " ".join(words)


def child(engine: str, url: str, messages: int, data: str) -> dict[str, Any]:
    """
    Measure one engine on the database at ``url`` (SQLite: a file in
    ``data``); return the figures.
    """
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=data,
        RATE_LIMITS="off",
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="0",
        LOG_LEVEL="WARNING",
    )
    if url:
        os.environ["DATABASE_URL"] = url
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from chat import search
    from chat.models import Message, Room
    from chat.search import engines
    from chat.search.text import document
    from chat.services import message_create, room_create

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    engines.uninstall(connection)
    from accounts.services import user_create

    people = [
        user_create(username=f"user{n}", password=secrets.token_urlsafe(12))
        for n in range(PEOPLE)
    ]
    rooms = [
        room_create(name=f"Room {n}", created_by=people[n % PEOPLE])
        for n in range(ROOMS)
    ]
    corpus = Corpus()
    texts: list[str] = []
    started = time.perf_counter()
    begin = datetime(2026, 1, 1, tzinfo=UTC)
    seq = {room.pk: 1 for room in rooms}
    for start in range(0, messages, BATCH):
        batch = []
        for n in range(start, min(messages, start + BATCH)):
            room = rooms[corpus.rng.randrange(ROOMS)]
            text = corpus.message()
            if len(texts) < 50_000:
                texts.append(text)
            seq[room.pk] += 1
            author = people[corpus.rng.randrange(PEOPLE)]
            batch.append(
                Message(
                    room=room,
                    author=author,
                    author_name=author.username,
                    text=text,
                    search_text=document(text),
                    created=begin + timedelta(seconds=n * 20),
                    seq=seq[room.pk],
                )
            )
        with transaction.atomic():
            Message.objects.bulk_create(batch)
    for room in rooms:
        last = Message.objects.filter(room=room).order_by("-id").first()
        Room.objects.filter(pk=room.pk).update(
            last_seq=seq[room.pk],
            last_message_id=last.pk if last else None,
            last_message_at=last.created if last else None,
        )
    loaded = time.perf_counter() - started
    size_without = _size(connection)

    def store(count: int) -> float:
        """Mean ms to store one message through the service."""
        began = time.perf_counter()
        for n in range(count):
            room = rooms[n % ROOMS]
            message_create(
                room=Room.objects.get(pk=room.pk),
                author=people[n % PEOPLE],
                text=corpus.message(),
            )
        return (time.perf_counter() - began) * 1000 / count

    store(20)  # Warm caches and connections.
    without = store(STORED)
    began = time.perf_counter()
    engines.install(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            table = engines.FTS_TABLE
            cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE chat_message")
    built = time.perf_counter() - began
    size_with = _size(connection)
    # Right after a rebuild FTS5 merges what it built as new segments come
    # (the first few hundred stores pay for it): measured once it settled,
    # as an index kept since the first message would be.
    store(STORED)
    with_index = store(STORED)

    viewer = User.objects.get(username="user0")
    queries = _query_mix(corpus, texts)
    for text in [q for kind in KINDS for q in queries[kind][:2]]:
        search.search(viewer, text)  # Warm up.
    timings: dict[str, Any] = {}
    for kind in KINDS:
        samples = []
        hits = []
        for _ in range(REPEATS):
            for text in queries[kind]:
                t0 = time.perf_counter()
                found = search.search(viewer, text)
                samples.append((time.perf_counter() - t0) * 1000)
                hits.append(len(found.hits))
        samples.sort()
        timings[kind] = {
            "p50": statistics.median(samples),
            "p95": samples[int(len(samples) * 0.95) - 1],
            "queries": len(queries[kind]),
            "examples": queries[kind][:3],
            "mean_hits": statistics.mean(hits),
        }
    text_bytes = sum(
        len(t.encode())
        for t in Message.objects.values_list("search_text", flat=True).iterator(
            chunk_size=20_000
        )
    )
    return {
        "engine": engine,
        "messages": Message.objects.count(),
        "load_seconds": loaded,
        "index_build_seconds": built,
        "bytes_without_index": size_without,
        "bytes_with_index": size_with,
        "search_text_bytes": text_bytes,
        "store_ms_without_index": without,
        "store_ms_with_index": with_index,
        "queries": timings,
    }


def _size(connection: Any) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return int(pages * cursor.fetchone()[0])
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def _query_mix(corpus: Corpus, texts: list[str]) -> dict[str, list[str]]:
    """Twenty searches of each kind, drawn from what the history holds."""
    rng = random.Random(11)
    counts: dict[str, int] = {}
    for text in texts:
        for word in text.split():
            if word.isalpha():
                counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=counts.__getitem__, reverse=True)
    common = ranked[:20]
    middle = ranked[200:2000]
    links = [t for t in texts if "https://docs." in t]
    two = [t.split() for t in texts if len(t.split()) >= 4]
    return {
        "common": common,
        "rare": rng.sample(corpus.tickets, 20),
        "partial": [w[:4] for w in rng.sample(middle, 20)],
        "link": [
            next(p for p in t.split() if p.startswith("https://")).split(".")[1]
            for t in rng.sample(links, 20)
        ],
        "phrase": [f'"{w[1]} {w[2]}"' for w in rng.sample(two, 20)],
        "filtered": [
            f"from:user{rng.randrange(PEOPLE)} in:room-{rng.randrange(ROOMS)} {w}"
            for w in rng.sample(middle, 10)
        ]
        + [f"after:2026-03-01 before:2026-04-01 {w}" for w in rng.sample(common, 10)],
        "short": [
            f"in:room-{rng.randrange(ROOMS)} {w[:2]}" for w in rng.sample(common, 20)
        ],
    }


def _postgres_database() -> tuple[str, str] | None:
    import psycopg

    name = f"chat_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(
            f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5
        ) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: not reachable at {POSTGRES}: {error}")
        return None
    return name, f"{POSTGRES}/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 messages")
    parser.add_argument(
        "--engine", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS
    )
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    messages = 100_000 if args.quick else args.messages
    if args.engine:
        figures = child(args.engine, args.url, messages, args.data)
        Path(args.out).write_text(json.dumps(figures))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="chat-bench-search-") as scratch:
        for engine in ("sqlite", "postgresql"):
            url, database = "", None
            if engine == "postgresql":
                database = _postgres_database()
                if database is None:
                    continue
                url = database[1]
            out = Path(scratch) / f"{engine}.json"
            data = Path(scratch) / engine
            data.mkdir()
            print(f"{engine}: {messages:,} messages…", flush=True)
            try:
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--engine",
                        engine,
                        "--url",
                        url,
                        "--out",
                        str(out),
                        "--messages",
                        str(messages),
                        "--data",
                        str(data),
                    ],
                    check=True,
                    cwd=ROOT,
                )
            finally:
                if database is not None:
                    _drop_postgres(database[0])
            result = json.loads(out.read_text())
            print(json.dumps(result, indent=2, ensure_ascii=False))
            results.append(result)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": messages < 1_000_000,
        "results": results,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    sys.path.insert(0, str(ROOT))
    from bench.report import write_report

    write_report(json.loads((DOCS / "performance.json").read_text()), DOCS)
    print(f"wrote {RESULTS} and {DOCS / 'performance.md'}")


if __name__ == "__main__":
    main()
