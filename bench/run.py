"""
The benchmark: the chat against baseline servers, in one invocation.

Run with `make bench`. Each server runs pinned to core 0 and the Node load
generator (bench/loadgen.js) to core 1, where the machine has two cores.
Every figure in the report is compared with baselines measured in the same
run, because absolute numbers on a shared machine vary by up to 30%.
Writes docs/performance.md, docs/performance.png and docs/performance.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import PASSWORD, ChatServer, free_port  # noqa: E402

PYTHON = sys.executable
NODE = shutil.which("node") or "node"
DOCS = ROOT / "docs"
SERVER_CORE, LOADGEN_CORE = "0", "1"
# A full run measures every server this many times (see main).
ROUNDS = 3
TUTORIAL = "Channels tutorial (daphne, in-memory layer)"


def server_cores(cores: int, processes: int) -> list[str]:
    """
    The core of each of a server's ``processes`` on a machine of ``cores``:
    a core of its own beside the load generator's where there are enough
    (0, 2, 3, ...), else shared in turn (on two cores, all on core 0).
    PostgreSQL and Redis are the machine's services and are not pinned: they
    run on whatever core is free, the load generator's included.
    """
    free = [str(core) for core in range(cores) if str(core) != LOADGEN_CORE]
    free = free or [SERVER_CORE]
    return [free[number % len(free)] for number in range(processes)]


def pinned(core: str, command: list[str]) -> list[str]:
    """Pin ``command`` to ``core`` when taskset and a second core exist."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *command]
    return command


def _proc_texts(pid: int, name: str) -> Iterator[str]:
    """Yield /proc/<p>/<name> of process ``pid`` and of each of its live
    children (one that ended meanwhile is skipped)."""
    for candidate in [pid, *_children(pid)]:
        try:
            yield Path(f"/proc/{candidate}/{name}").read_text()
        except OSError:
            continue


def rss_kib(pid: int) -> int:
    """Return the resident memory of process ``pid`` and its children."""
    total = 0
    for status in _proc_texts(pid, "status"):
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    kids = [int(child) for child in text.split()]
    return kids + [grandchild for kid in kids for grandchild in _children(kid)]


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process ``pid`` and its live
    children used so far, from /proc/<pid>/stat."""
    ticks = 0
    for stat in _proc_texts(pid, "stat"):
        # Fields after the command (which may hold spaces), from field 3 on:
        # utime and stime are fields 14 and 15.
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Target:
    """A server under test: how to start it and how to talk to it."""

    name: str
    dialect: str
    urls: list[str] = field(default_factory=list)
    origin: str = ""
    cookie: str = ""
    pids: list[int] = field(default_factory=list)
    stop: Any = None
    stored: Any = None  # callable returning the number of stored messages
    # callable: count -> Cookie headers of that many logged-in accounts
    accounts: Any = None
    # callable: (writers, rooms) -> (Cookie headers of that many logged-in
    # writer accounts, slugs of that many public rooms)
    writers: Any = None
    logs: list[Path] = field(default_factory=list)  # the server's log files


def start_baseline(
    name: str,
    command: list[str],
    port: int,
    path: str,
    env: dict[str, str] | None = None,
) -> Target:
    process = subprocess.Popen(
        pinned(SERVER_CORE, command),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)

    def stop() -> None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    dialect = "tutorial" if "tutorial" in name else "raw"
    return Target(
        name=name,
        dialect=dialect,
        urls=[f"ws://127.0.0.1:{port}{path}"],
        origin=f"http://127.0.0.1:{port}",
        pids=[process.pid],
        stop=stop,
    )


def start_chat(
    data: Path, processes: int = 1, sender: bool = True, **env: str
) -> Target:
    """Start the chat as `make run` does (DEBUG=0, rate limits off); with
    ``sender``, make the sender's account and log it in."""
    env = {"RATE_LIMITS": "off", "SECRET_KEY": secrets.token_urlsafe(40), **env}
    cores = server_cores(os.cpu_count() or 1, processes)
    servers = [
        ChatServer(data / f"p{n}", prefix=pinned(core, []), **env)
        for n, core in enumerate(cores)
    ]
    for server in servers:
        server.data_dir.mkdir(parents=True, exist_ok=True)
        server.start()
    first = servers[0]
    cookie = ""
    if sender:
        first.create_user("bench")
        cookie = first.login("bench")

    def stop() -> None:
        for server in servers:
            server.stop()

    made: list[str] = []  # Cookie headers of typist1, typist2, ...

    def accounts(count: int) -> list[str]:
        """Return Cookie headers of ``count`` logged-in users; create the
        missing ones as the sender is created (one shell for all), and log
        each in through the login form."""
        if len(made) < count:
            numbers = range(len(made) + 1, count + 1)
            first.manage(
                "shell",
                "-c",
                "from accounts.services import user_create\n"
                f"for n in {list(numbers)!r}:\n"
                f"    user_create(username=f'typist{{n}}', password={PASSWORD!r})",
            )
            made.extend(first.login(f"typist{n}") for n in numbers)
        return made[:count]

    writer_cookies: list[str] = []  # of writer1, writer2, ...
    room_slugs: list[str] = []  # of room1, room2, ...

    def writers(count: int, rooms: int) -> tuple[list[str], list[str]]:
        """Return Cookie headers of ``count`` logged-in writers and slugs of
        ``rooms`` public rooms, making the missing ones in one shell. Unlike
        accounts(), the password is hashed once for all (so 200 writers do
        not cost 400 password hashes) and each writer is logged in there, a
        session as the login form makes (Django's force_login), not through
        the form."""
        if len(writer_cookies) < count or len(room_slugs) < rooms:
            script = (
                "import json\n"
                "from unittest import mock\n"
                "from django.contrib.auth.hashers import make_password\n"
                "from django.test import Client\n"
                "from accounts.models import User\n"
                "from accounts.services import user_create\n"
                "from chat.services import room_create\n"
                f"password = {PASSWORD!r}\n"
                "hashed = make_password(password)\n"
                "def same_hash(user, raw):\n"
                "    user.password = hashed\n"
                "cookies, slugs = [], []\n"
                "with mock.patch.object(User, 'set_password', same_hash):\n"
                f"    for n in range({len(writer_cookies) + 1}, {count + 1}):\n"
                "        user = user_create(username=f'writer{n}', password=password)\n"
                "        client = Client()\n"
                "        client.force_login(user)\n"
                "        cookies.append('; '.join(\n"
                "            f'{k}={v.value}' for k, v in client.cookies.items()))\n"
                "creator = User.objects.get(username='writer1')\n"
                f"for n in range({len(room_slugs) + 1}, {rooms + 1}):\n"
                "    room = room_create(name=f'room{n}', created_by=creator)\n"
                "    slugs.append(room.slug)\n"
                "print(json.dumps([cookies, slugs]))\n"
            )
            try:
                out = first.manage("shell", "-c", script)
            except subprocess.CalledProcessError as error:
                raise RuntimeError(f"making writers failed: {error.stderr}") from None
            cookies, slugs = json.loads(out.strip().splitlines()[-1])
            writer_cookies.extend(cookies)
            room_slugs.extend(slugs)
        return writer_cookies[:count], room_slugs[:rooms]

    def stored() -> int:
        count = first.manage(
            "shell",
            "-c",
            "from chat.models import Message; print(Message.objects.count())",
        )
        return int(count.strip().splitlines()[-1])

    return Target(
        name="chat"
        if processes == 1
        else f"chat, {processes} processes (Redis + PostgreSQL)",
        dialect="chat",
        urls=[f"{s.ws_url}/ws/rooms/general/" for s in servers],
        # Each process is reached on its own port, as its own page would.
        origin="same",
        cookie=cookie,
        pids=[s.process.pid for s in servers if s.process],
        stop=stop,
        stored=stored,
        accounts=accounts,
        writers=writers,
        logs=[p for s in servers for p in (s.log_file, s.output)],
    )


MIXED = "100 readers, 200 actions/s, a quarter edits and reactions"
IDLE = "5,000 idle readers"
PRESENCE_RATE = "1,000 readers with presence, 20 msg/s"
TYPISTS = "1,000 readers with presence, 20 msg/s, 50 typists"
IDLE_PRESENCE = "5,000 idle readers with presence"
WRITERS = "many writers"
# Keys of a workload that tell this script, not the load generator, what to
# do: "chatOnly" (run on the one-process chat alone), "baseline" (the
# workload it is compared with, which runs whenever it runs), "accounts"
# (logged-in users the typists need), "ownServer" (run on a server of its
# own, started afresh after the others: the memory a server freed after an
# earlier workload's sockets would hide what this one's sockets take),
# "chatTargets" (run on the chat's targets, one process and two, not on
# the baselines).
BENCH_KEYS = ("chatOnly", "baseline", "accounts", "ownServer", "chatTargets")
# Readers asking for presence at a steady rate (see WORKLOADS).
PRESENCE_RATE_WORKLOAD = {
    "readers": 1000,
    "mode": "rate",
    "rate": 20,
    "duration": 10,
    "query": "presence=1",
    "settle": 1,
    "chatOnly": True,
}

WORKLOADS = {
    "100 readers, 200 msg/s": {
        "readers": 100,
        "mode": "rate",
        "rate": 200,
        "duration": 10,
    },
    # The chat only (the baselines cannot edit): 3 new messages to 1 edit or
    # reaction (alternately) of the sender's acknowledged messages. It runs
    # right after the plain 100 readers, which it is compared with.
    # The readers' streams are checked against the stored state at the end
    # (loadgen.js's `stream`): a server that falls behind gets 30 s to
    # catch up, and the grace ends as soon as every stream has.
    MIXED: {
        "readers": 100,
        "mode": "rate",
        "rate": 200,
        "duration": 10,
        "mix": 4,
        "grace": 30,
    },
    "1,000 readers, 20 msg/s": {
        "readers": 1000,
        "mode": "rate",
        "rate": 20,
        "duration": 10,
    },
    "1,000 readers, burst of 500": {"readers": 1000, "mode": "burst", "count": 500},
    IDLE: {"readers": 5000, "mode": "idle", "duration": 3},
    # The chat only: presence (?presence=1) and typing. Readers and typists
    # ask for presence; the two runs differ only in the 50 logged-in typists,
    # each sending a typing notice every 10 s, staggered (5 a second in all).
    # Both wait 1 s once everyone is connected, so the presence_diff frames
    # of the connects are out before the sender starts.
    PRESENCE_RATE: PRESENCE_RATE_WORKLOAD,
    TYPISTS: {
        **PRESENCE_RATE_WORKLOAD,
        "typists": 50,
        "accounts": 50,
        "typingInterval": 10,
        "baseline": PRESENCE_RATE,
    },
    # Compared with the 5,000 idle readers without presence: guests asking
    # for presence, held 10 quiet seconds once connected, on a fresh server.
    IDLE_PRESENCE: {
        "readers": 5000,
        "mode": "idle",
        "duration": 10,
        "query": "presence=1",
        "chatOnly": True,
        "baseline": IDLE,
        "ownServer": True,
    },
    # The chat's targets only (the baselines have one room and no accounts):
    # 50 rooms (room1..room50, made before the run), each with 40 anonymous
    # readers and 4 logged-in writers (200 accounts), each writer posting
    # 1 msg/s, the writers staggered evenly over each second.
    WRITERS: {
        "mode": "writers",
        "rooms": 50,
        "readers": 2000,
        "writers": 200,
        "writerRate": 1,
        "duration": 20,
        "settle": 1,
        # A server that falls behind gets time to catch up (two processes
        # on one core ended 34 s behind): `lost` is then what never came.
        "grace": 60,
        "chatTargets": True,
    },
}
# A smoke run, under 3 minutes: 3 s windows (many writers 5 s: in less, the
# two processes' start-up weighs too much); the workloads every server runs
# keep listening 2 s after the last send, not 5 (the Channels tutorial loses
# messages, so it always waits out the grace).
QUICK = {
    "100 readers, 200 msg/s": {"duration": 3, "grace": 2},
    "1,000 readers, 20 msg/s": {"readers": 300, "duration": 3, "grace": 2},
    "1,000 readers, burst of 500": {"readers": 300, "count": 200, "grace": 2},
    IDLE: {"readers": 1000, "duration": 2},
    MIXED: {"duration": 3},
    PRESENCE_RATE: {"readers": 300, "duration": 3},
    # Each typist types once in the 3 s; few of them, for each account costs
    # two password hashes (made, then logged in) before the run.
    TYPISTS: {
        "readers": 300,
        "duration": 3,
        "typists": 5,
        "accounts": 5,
        "typingInterval": 3,
    },
    IDLE_PRESENCE: {"readers": 1000, "duration": 2},
    WRITERS: {"rooms": 10, "readers": 200, "duration": 5},
}


# With --profile: where py-spy writes each chat process's samples.
PROFILE_DIR: Path | None = None


def profile(target: Target, title: str) -> list[subprocess.Popen[bytes]]:
    """Start py-spy on each of the chat's processes (with --profile): it
    samples them, native frames off, until stopped, and writes collapsed
    stacks (one line per stack, with its count: the input of any flame
    graph tool) to PROFILE_DIR/<target>--<workload>--<pid>.txt."""
    if PROFILE_DIR is None or target.dialect != "chat":
        return []
    slug = re.sub(r"[^a-z0-9]+", "-", f"{target.name}--{title}".lower())
    return [
        subprocess.Popen(
            pinned(
                LOADGEN_CORE,
                [
                    str(Path(PYTHON).parent / "py-spy"),
                    *("record", "--pid", str(pid), "--format", "raw"),
                    *("--rate", "250", "--nonblocking"),
                    *("--output", str(PROFILE_DIR / f"{slug}--{pid}.txt")),
                ],
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in target.pids
    ]


def run_loadgen(target: Target, workload: dict[str, Any], title: str) -> dict[str, Any]:
    config = {
        "url": target.urls[0],
        "readerUrls": target.urls,
        "origin": target.origin,
        "cookie": target.cookie,
        "dialect": target.dialect,
        "timeout": 150,
        **{key: value for key, value in workload.items() if key not in BENCH_KEYS},
    }
    if workload.get("accounts"):
        # Made and logged in before the load generator starts (each login
        # checks a password on the server's core).
        config["typistCookies"] = target.accounts(workload["accounts"])
    writing = workload["mode"] == "writers"
    if writing:
        # Accounts and rooms made (once a server) before the load generator
        # starts; loadgen.js derives each room's URLs from the targets'.
        config["writerCookies"], config["rooms"] = target.writers(
            workload["writers"], workload["rooms"]
        )
        stored_before = target.stored()
    before = sum(rss_kib(pid) for pid in target.pids)
    cpu_before = sum(cpu_seconds(pid) for pid in target.pids)
    profilers = profile(target, title)
    process = subprocess.Popen(
        pinned(
            LOADGEN_CORE, [NODE, str(ROOT / "bench" / "loadgen.js"), json.dumps(config)]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = before
    assert process.stderr is not None
    for line in process.stderr:
        if "READY" in line:
            time.sleep(1)  # Let the server settle before reading its memory.
            peak = sum(rss_kib(pid) for pid in target.pids)
    out, _ = process.communicate(timeout=200)
    cpu = sum(cpu_seconds(pid) for pid in target.pids) - cpu_before
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT.
        profiler.wait(timeout=30)
    result: dict[str, Any] = json.loads(out) if out.strip() else {"error": "no result"}
    result["serverRssKiB"] = {"before": before, "ready": peak}
    # The server's CPU over the whole load generator run (connects included).
    result["serverCpuSeconds"] = round(cpu, 2)
    if result.get("delivered"):
        result["serverCpuMsPer1000Deliveries"] = round(
            1000 * cpu / (result["delivered"] / 1000), 1
        )
    if writing:
        result["storedDuringRun"] = target.stored() - stored_before
    if workload["mode"] == "idle" and result.get("connected"):
        result["kibPerConnection"] = round((peak - before) / result["connected"], 1)
    return result


def applies(target: Target, workload: dict[str, Any]) -> bool:
    """Edits and reactions (``mix``) exist in the chat's dialect only;
    presence and typing are measured on the one-process chat only; many
    writers on the chat's targets (one process and two) only."""
    if workload.get("chatOnly") and target.name != "chat":
        return False
    if workload.get("chatTargets") and target.dialect != "chat":
        return False
    return not workload.get("mix") or target.dialect == "chat"


def measure(
    target: Target, workloads: dict[str, dict[str, Any]], own: bool = False
) -> dict[str, Any]:
    """Run on ``target`` the workloads that apply to it, and that want a server
    of their own (``own``: one such workload per server) or share one."""
    results: dict[str, Any] = {}
    for title, workload in workloads.items():
        if not applies(target, workload) or bool(workload.get("ownServer")) != own:
            continue
        print(f"  {target.name}: {title}", flush=True)
        results[title] = run_loadgen(target, workload, title)
        summary = {
            key: results[title].get(key)
            for key in (
                "connected",
                "delivered",
                "lost",
                "duplicates",
                "deliveriesPerSecond",
                "latencyMs",
                "connectSeconds",
                "kibPerConnection",
                "actionsPerSecond",
                "updatesReceived",
                "updatesLost",
                "updateDuplicates",
                "updateLatencyMs",
                "editLatencyMs",
                "stream",
                "senderErrorFrames",
                "typists",
                "writers",
                "lostAcked",
                "messagesMissed",
                "wrongRoom",
                "storedDuringRun",
                "serverCpuMsPer1000Deliveries",
                "error",
            )
            if key in results[title]
        }
        print(f"    {summary}", flush=True)
        if results[title].get("query"):
            extra = results[title].get("readerExtraFrames") or {}
            print(f"    frames without messages: {extra}", flush=True)
        time.sleep(1)
    if target.stored is not None and not own:
        # What this server stored came from these workloads (a partial run
        # keeps the figures of the others, measured on an earlier server).
        results["storedWorkloads"] = list(results)
        results["stored"] = target.stored()
    report_server_log(target)
    return results


def report_server_log(target: Target, shown: int = 5) -> None:
    """Print how many errors and warnings the server logged, and the first."""
    problems: dict[str, None] = {}  # The log file and the console repeat lines.
    for path in target.logs:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        problems.update(
            (line[:300], None)
            for line in lines
            if re.search(r"\b(ERROR|CRITICAL|WARNING|Traceback)\b", line)
        )
    if problems:
        print(f"  {target.name}: {len(problems)} error/warning log lines", flush=True)
        for line in list(problems)[:shown]:
            print(f"    {line}", flush=True)


def postgres_database() -> tuple[str, Any]:
    import psycopg

    base = os.environ.get("TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    name = f"chat_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def measure_scaled(
    data: Path, redis_url: str, workloads: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Start the chat as two processes on a fresh PostgreSQL database and an
    emptied Redis database, and run the workloads on them."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    database, drop = postgres_database()
    try:
        target = start_chat(
            data, processes=2, DATABASE_URL=database, REDIS_URL=redis_url
        )
        print(f"starting {target.name}", flush=True)
        try:
            return measure(target, workloads)
        finally:
            target.stop()
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller workloads, a smoke run"
    )
    parser.add_argument("--only", help="run only targets whose name contains this")
    parser.add_argument(
        "--workload", help="run only workloads whose title contains this"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="measure every server this many times, in turn "
        "(default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="sample the chat's processes with py-spy during each workload "
        "and write their collapsed stacks to this directory",
    )
    args = parser.parse_args()
    if args.profile:
        global PROFILE_DIR
        PROFILE_DIR = args.profile.resolve()
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    chosen = {
        title for title in WORKLOADS if not args.workload or args.workload in title
    }
    # A workload compared with another brings it: both in the same run.
    chosen |= {
        str(WORKLOADS[t]["baseline"]) for t in chosen if "baseline" in WORKLOADS[t]
    }
    workloads = {
        # A slow server gets time to finish; `lost` is then what never came.
        title: {"grace": 30, **spec, **(QUICK[title] if args.quick else {})}
        for title, spec in WORKLOADS.items()
        if title in chosen
    }
    if not workloads:
        parser.error(f"no workload title contains {args.workload!r}")
    rounds = args.rounds or (1 if args.quick else ROUNDS)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    measured: list[dict[str, Any]] = []  # Each round's results.
    started = time.time()
    port = 0  # Each target's, chosen just before it starts.
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as scratch:
        data = Path(scratch)
        chat_runs: list[Path] = []

        def chat_dir(new: bool = True) -> Path:
            """A new directory for each start of the chat (``new``), or the last."""
            if new:
                chat_runs.append(data / f"chat-{len(chat_runs) + 1}")
            return chat_runs[-1]

        def start_one_chat(sender: bool = True) -> Target:
            return start_chat(chat_dir(), sender=sender, DATA_DIR=str(chat_dir(False)))

        starters: list[tuple[str, Callable[..., Target]]] = [
            (
                "raw websockets broadcast",
                lambda: start_baseline(
                    "raw websockets broadcast",
                    [PYTHON, "-m", "bench.baselines.raw_ws", "--port", str(port)],
                    port,
                    "/",
                ),
            ),
            (
                "tornado broadcast",
                lambda: start_baseline(
                    "tornado broadcast",
                    [
                        PYTHON,
                        "-m",
                        "bench.baselines.tornado_broadcast",
                        "--port",
                        str(port),
                    ],
                    port,
                    "/",
                ),
            ),
            (
                TUTORIAL,
                lambda: start_baseline(
                    TUTORIAL,
                    [
                        str(Path(PYTHON).parent / "daphne"),
                        # Twisted's default listen backlog (50) would refuse
                        # connects that the other servers (2048+) accept.
                        "-e",
                        f"tcp:port={port}:interface=127.0.0.1:backlog=4096",
                        "bench.baselines.tutorial.asgi:application",
                    ],
                    port,
                    "/ws/chat/bench/",
                ),
            ),
            ("chat", start_one_chat),
        ]
        redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
        scaled_name = "chat, 2 processes (Redis + PostgreSQL)"
        for number in range(1, rounds + 1):
            if rounds > 1:
                print(f"round {number} of {rounds}", flush=True)
            results: dict[str, Any] = {}
            measured.append(results)
            for name, start in starters:
                if args.only and args.only not in name:
                    continue
                if name == TUTORIAL and number > 1:
                    continue  # Far behind the chat, and slow: measured once.
                port = free_port()
                print(f"starting {name}", flush=True)
                target = start()
                try:
                    results[target.name] = measure(target, workloads)
                finally:
                    target.stop()
                for title, workload in workloads.items():
                    if workload.get("ownServer") and applies(target, workload):
                        print(f"starting {name} again, for {title}", flush=True)
                        # An idle workload: no sender, no account for it.
                        own = start(sender=workload.get("mode") != "idle")
                        try:
                            results[own.name].update(
                                measure(own, {title: workload}, True)
                            )
                        finally:
                            own.stop()
            if not args.only or args.only in scaled_name or "process" in args.only:
                results[scaled_name] = measure_scaled(
                    data / f"scaled-{number}", redis_url, workloads
                )
    if args.only or args.workload:
        # A partial run updates the last full one's figures for its targets
        # and workloads, round by round (a round the last run did not have
        # starts from its last), and keeps the rest.
        previous = json.loads((DOCS / "performance.json").read_text())
        before = previous["rounds"]
        measured = [
            {
                **base,
                **{
                    name: {**base.get(name, {}), **figures}
                    for name, figures in results.items()
                },
            }
            for number, results in enumerate(measured)
            for base in [before[min(number, len(before) - 1)]]
        ]
        workloads = {**previous.get("workloads", {}), **workloads}
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "quick": args.quick,
        "cores": os.cpu_count(),
        # Where each server ran: one core for every one-process server.
        "placement": {
            "load generator": LOADGEN_CORE,
            "servers": SERVER_CORE,
            "chat, 2 processes": server_cores(os.cpu_count() or 1, 2),
        },
        "workloads": workloads,
        "rounds": measured,
    }
    from bench.report import write_report

    write_report(report, DOCS)
    print(f"wrote {DOCS / 'performance.md'}")


if __name__ == "__main__":
    main()
