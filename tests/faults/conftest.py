"""Real engines for fault tests: a fresh PostgreSQL database, a Redis of our own."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.needs import missing
from tests.server import ChatServer, free_port, processes

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
POSTGRES = os.environ.get("TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    import psycopg

    name = f"chat_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(
            f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as error:
        missing(f"PostgreSQL is not reachable at {POSTGRES}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES}/{name}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RedisServer:
    """A redis-server process of the test's own, which it may restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        missing("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scale_out_env(redis_server: RedisServer, postgres_url: str) -> dict[str, str]:
    """What every process of one chat shares: PostgreSQL, Redis, the secret."""
    return {
        "RATE_LIMITS": "off",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": postgres_url,
        "SECRET_KEY": secrets.token_urlsafe(40),
    }


# Rate limits off, warnings only: load, not abuse, and a readable log.
QUIET = {"RATE_LIMITS": "off", "LOG_LEVEL": "WARNING"}


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChatServer]:
    """One server process, as `make run` starts it, on SQLite or PostgreSQL."""
    env = dict(QUIET)
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = ChatServer(tmp_path, **env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def two_servers(
    tmp_path: Path, scale_out_env: dict[str, str]
) -> Iterator[list[ChatServer]]:
    """Two processes of one chat; they catch up on missed broadcasts within 1 s."""
    with processes(
        tmp_path, ("a", "b"), **scale_out_env, HEARTBEAT_SECONDS="1"
    ) as servers:
        yield servers


@pytest.fixture
def report() -> Iterator[dict[str, Any]]:
    """Figures a fault test saw, kept in test-artifacts/faults.jsonl."""
    figures: dict[str, Any] = {}
    yield figures
    if figures:
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "faults.jsonl").open("a") as out:
            out.write(json.dumps(figures) + "\n")
