"""Turn a benchmark run into docs/performance.md, .png and .json."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

CHAT = "chat"
RAW = "raw websockets broadcast"
TORNADO = "tornado broadcast"
TUTORIAL = "Channels tutorial (daphne, in-memory layer)"
RATE_100 = "100 readers, 200 msg/s"
RATE_1000 = "1,000 readers, 20 msg/s"
BURST = "1,000 readers, burst of 500"
IDLE = "5,000 idle readers"
MIXED = "100 readers, 200 actions/s, a quarter edits and reactions"
PRESENCE_RATE = "1,000 readers with presence, 20 msg/s"
TYPISTS = "1,000 readers with presence, 20 msg/s, 50 typists"
IDLE_PRESENCE = "5,000 idle readers with presence"
WRITERS = "many writers"
# Many writers: delivery p99 at most this (ms); two processes' deliveries/s
# at least this many times one process's.
WRITERS_P99_MS = 100
WRITERS_SCALED_GOAL = 0.8
# Typists' p99 at most this many times that of the same readers without them;
# the 5,000 idle readers with presence connected within this many times the
# time of those without.
TYPISTS_GOAL = 1.5
IDLE_PRESENCE_GOAL = 1.5


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _rate_cell(result: dict[str, Any]) -> str:
    latency = result.get("latencyMs") or {}
    expected = result.get("expected") or 0
    in_window = result.get("deliveredInWindow") or 0
    behind = 100 * (expected - in_window) / expected if expected else 0
    rate, p50, p99 = (
        _num(result.get("deliveriesPerSecond")),
        _num(latency.get("p50"), 1),
        _num(latency.get("p99"), 1),
    )
    return (
        f"{rate}/s; p50 {p50} ms, p99 {p99} ms; lost {_num(result.get('lost'))}, "
        f"dup {_num(result.get('duplicates'))}; {behind:.0f}% late"
    )


def _mixed_cell(result: dict[str, Any]) -> str:
    if not result:
        return "–"  # The baselines cannot edit or react.
    updates = result.get("updateLatencyMs") or {}
    return (
        f"{_rate_cell(result)}; reactions: {_num(result.get('updatesReceived'))} "
        f"updates, p99 {_num(updates.get('p99'), 1)} ms, "
        f"lost {_num(result.get('updatesLost'))}, "
        f"dup {_num(result.get('updateDuplicates'))}; {_stream_cell(result)}"
    )


def _stream_cell(result: dict[str, Any]) -> str:
    stream = result.get("stream") or {}
    if "stale" not in stream:
        return f"streams not checked ({stream.get('error', 'no check')})"
    return (
        f"streams: {_num(stream['changed'])} messages changed, "
        f"{_num(stream['stale'])} stale and {_num(stream['outOfOrder'])} "
        f"out of order of {_num(stream['readers'])} readers"
    )


def _stream_intact(result: dict[str, Any]) -> bool:
    stream = result.get("stream") or {}
    return stream.get("stale") == 0 and stream.get("outOfOrder") == 0


def _burst_cell(result: dict[str, Any]) -> str:
    latency = result.get("latencyMs") or {}
    rate, p99 = _num(result.get("deliveriesPerSecond")), _num(latency.get("p99"))
    return (
        f"{rate}/s; p99 {p99} ms; "
        f"lost {_num(result.get('lost'))}, dup {_num(result.get('duplicates'))}"
    )


def _idle_cell(result: dict[str, Any]) -> str:
    seconds = _num(result.get("connectSeconds"), 1)
    return (
        f"{_num(result.get('kibPerConnection'), 1)} KiB/conn; "
        f"{_num(result.get('connected'))} connected in {seconds} s"
    )


def _extra(
    result: dict[str, Any], phase: str, kinds: tuple[str, ...]
) -> tuple[float, float] | None:
    """Return the frames and bytes of ``kinds`` (readerExtraFrames) a reader
    got on average in ``phase`` ("connect" or "after")."""
    counts = (result.get("readerExtraFrames") or {}).get(phase)
    connected = result.get("connected")
    if not counts or not connected:
        return None
    frames = sum(counts.get(kind, {}).get("frames", 0) for kind in kinds)
    size = sum(counts.get(kind, {}).get("bytes", 0) for kind in kinds)
    return frames / connected, size / connected


def _presence_traffic(result: dict[str, Any], phase: str) -> str:
    got = _extra(result, phase, ("presence", "presenceDiff"))
    if got is None:
        return "–"
    frames, size = got
    return f"{frames:,.1f} frames, {size:,.0f} bytes"


def _typists_cell(result: dict[str, Any]) -> str:
    typists = result.get("typists") or {}
    typing = _extra(result, "after", ("typing",))
    return (
        f"{_num(typists.get('connected'))} of {_num(typists.get('configured'))} "
        f"typists; {_num(typists.get('typingSent'))} notices sent, "
        f"{typing[0] if typing else 0:,.1f} typing frames per reader"
    )


def _stored_vs_acked(result: dict[str, Any]) -> str:
    acked = (result.get("writers") or {}).get("acked")
    return f"{_num(result.get('storedDuringRun'))} stored of {_num(acked)} acked"


def _writers_row(name: str, result: dict[str, Any]) -> str:
    """A row of the "Many writers" table."""
    latency = result.get("latencyMs") or {}
    writers = result.get("writers") or {}
    readers = result.get("readersPerRoom") or {}
    return (
        f"| {name} | {_num(result.get('rooms'))} rooms, "
        f"{_num(result.get('connected'))} readers ({_num(readers.get('min'))}"
        f"–{_num(readers.get('max'))} a room), "
        f"{_num(writers.get('connected'))} of {_num(writers.get('configured'))} "
        f"writers; {_num(writers.get('acked'))} of {_num(result.get('sent'))} "
        f"messages acked "
        f"| {_num(result.get('deliveriesPerSecond'))} "
        f"| {_num(latency.get('p50'), 1)} / {_num(latency.get('p99'), 1)} ms "
        f"| {_num(result.get('lostAcked'))} "
        f"({_num(result.get('messagesMissed'))} messages), "
        f"{_num(result.get('duplicates'))} "
        f"| {_stored_vs_acked(result)} "
        f"| {_num(result.get('serverCpuMsPer1000Deliveries'), 0)} ms |"
    )


def _writers_sound(result: dict[str, Any]) -> bool:
    """Many writers: every message acked and stored, none lost, doubled or
    delivered to the wrong room."""
    acked = (result.get("writers") or {}).get("acked")
    return bool(
        result.get("lostAcked") == 0
        and result.get("duplicates") == 0
        and result.get("wrongRoom") == 0
        and acked == result.get("sent")
        and (result.get("storedDuringRun") or 0) >= (acked or 0)
    )


def _verdict(met: bool | None) -> str:
    return "–" if met is None else "yes" if met else "no"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


class Goal(NamedTuple):
    """A target of the chat as one round measured it."""

    goal: str
    measured: str
    met: bool | None  # None: not measured in this round
    # False when the round lost, doubled or missed something, or stored
    # less than was sent: never noise, so no other round makes up for it.
    sound: bool = True


def verdict(goals: list[Goal]) -> bool | None:
    """A target over the rounds that measured it: met when most of them met
    it and none lost, doubled or missed anything (the median of a figure
    meets a threshold exactly when most rounds' figures do)."""
    measured = [goal for goal in goals if goal.met is not None]
    if not measured:
        return None
    if not all(goal.sound for goal in measured):
        return False
    return 2 * sum(bool(goal.met) for goal in measured) > len(measured)


def targets(results: dict[str, Any]) -> list[Goal]:
    """Return each goal of the chat as the round ``results`` measured it."""
    chat = results.get(CHAT, {})
    raw = results.get(RAW, {})
    tornado = results.get(TORNADO, {})
    tutorial = results.get(TUTORIAL, {})
    rows: list[Goal] = []

    def p99(result: dict[str, Any], workload: str) -> float | None:
        value = (result.get(workload, {}).get("latencyMs") or {}).get("p99")
        return None if value is None else float(value)

    def rate(result: dict[str, Any], workload: str) -> float | None:
        value = result.get(workload, {}).get("deliveriesPerSecond")
        return None if value is None else float(value)

    r = _ratio(p99(chat, RATE_1000), p99(raw, RATE_1000))
    lost = chat.get(RATE_1000, {}).get("lost")
    dups = chat.get(RATE_1000, {}).get("duplicates")
    rows.append(
        Goal(
            "1,000 readers, 20 msg/s: no loss, no duplicates, p99 within 1.5x of raw",
            f"lost {lost}, duplicates {dups}, p99 {r:.2f}x raw" if r else "–",
            bool(r <= 1.5 and lost == 0 and dups == 0) if r else None,
            lost == 0 and dups == 0,
        )
    )
    r = _ratio(p99(chat, RATE_100), p99(tornado, RATE_100))
    lost = chat.get(RATE_100, {}).get("lost")
    rows.append(
        Goal(
            "100 readers, 200 msg/s: no loss, p99 within 2x of tornado broadcast",
            f"lost {lost}, p99 {_num(p99(chat, RATE_100), 1)} ms, {r:.2f}x "
            f"{_num(p99(tornado, RATE_100), 1)} ms"
            if r
            else "–",
            bool(r <= 2 and lost == 0) if r else None,
            lost == 0,
        )
    )
    for name, other, goal in (
        (TORNADO, tornado, 3.0),
        (TUTORIAL, tutorial, 10.0),
        (RAW, raw, 0.7),
    ):
        r = _ratio(rate(chat, BURST), rate(other, BURST))
        rows.append(
            Goal(
                f"burst of 500 to 1,000: deliveries/s at least {goal:g}x {name}",
                f"{r:.2f}x" if r else "–",
                (r >= goal) if r else None,
            )
        )
    idle = chat.get(IDLE, {})
    kib = idle.get("kibPerConnection")
    rows.append(
        Goal(
            "5,000 idle readers: at most 16 KiB of server memory per connection",
            f"{kib} KiB" if kib is not None else "–",
            (kib <= 16) if kib is not None else None,
        )
    )
    r = _ratio(idle.get("connectSeconds"), tornado.get(IDLE, {}).get("connectSeconds"))
    rows.append(
        Goal(
            "5,000 idle readers all connected within 1.5x the tornado baseline's time",
            f"{r:.2f}x" if r else "–",
            (r <= 1.5) if r else None,
        )
    )
    with_typists = chat.get(TYPISTS, {})
    r = _ratio(p99(chat, TYPISTS), p99(chat, PRESENCE_RATE))
    typists = with_typists.get("typists") or {}
    typing = _extra(with_typists, "after", ("typing",))
    losses = [with_typists.get("lost"), with_typists.get("duplicates")]
    # The typists were there and typed: all connected, none refused.
    typed = bool(
        typing
        and typing[0] > 0
        and typists.get("connected") == typists.get("configured")
        and not typists.get("errorFrames")
    )
    rows.append(
        Goal(
            f"{TYPISTS}: no loss, p99 within {TYPISTS_GOAL:g}x of the same readers "
            "without typists",
            f"lost {losses[0]}, duplicates {losses[1]}, "
            f"{typists.get('connected')} typists, "
            f"{typing[0] if typing else 0:.1f} typing frames per reader; "
            f"p99 {_num(p99(chat, TYPISTS))} ms, {r:.2f}x "
            f"{_num(p99(chat, PRESENCE_RATE))} ms"
            if r
            else "–",
            bool(r <= TYPISTS_GOAL and losses == [0, 0] and typed) if r else None,
            losses == [0, 0] and typed,
        )
    )
    seconds = chat.get(IDLE_PRESENCE, {}).get("connectSeconds")
    r = _ratio(seconds, idle.get("connectSeconds"))
    rows.append(
        Goal(
            f"{IDLE_PRESENCE}: all connected within {IDLE_PRESENCE_GOAL:g}x the "
            "time of the same chat's 5,000 idle readers without presence",
            f"{_num(seconds, 1)} s, {r:.2f}x {_num(idle.get('connectSeconds'), 1)} s"
            if r
            else "–",
            (r <= IDLE_PRESENCE_GOAL) if r else None,
        )
    )
    for name, result in results.items():
        if not name.startswith(CHAT) or MIXED not in result:
            continue
        mixed = result[MIXED]
        r = _ratio(p99(result, MIXED), p99(result, RATE_100))
        rows.append(
            Goal(
                f"{name}, mixed workload: every reader ends with the stored "
                "state (no change missed, none out of order), p99 within 1.5x "
                "of the same chat's plain 100 readers at 200 msg/s",
                f"{_stream_cell(mixed)}; p99 {_num(p99(result, MIXED))}"
                f" ms, {r:.2f}x {_num(p99(result, RATE_100))} ms"
                if r
                else "–",
                bool(r <= 1.5 and _stream_intact(mixed)) if r else None,
                _stream_intact(mixed),
            )
        )
    for name, result in results.items():
        if not name.startswith(CHAT) or WRITERS not in result:
            continue
        writing = result[WRITERS]
        latency = p99(result, WRITERS)
        sound = _writers_sound(writing)
        rows.append(
            Goal(
                f"{name}, {WRITERS}: 0 lost, 0 doubled, every message stored, "
                f"delivery p99 ≤ {WRITERS_P99_MS} ms",
                f"lost {_num(writing.get('lostAcked'))}, "
                f"doubled {_num(writing.get('duplicates'))}, "
                f"{_stored_vs_acked(writing)} "
                f"({_num(writing.get('sent'))} sent); "
                f"p99 {_num(latency)} ms",
                None if latency is None else sound and latency <= WRITERS_P99_MS,
                sound,
            )
        )
    scaled = next((v for k, v in results.items() if "processes" in k), None)
    if scaled and WRITERS in scaled:
        r = _ratio(rate(scaled, WRITERS), rate(chat, WRITERS))
        rows.append(
            Goal(
                f"2 processes, {WRITERS}: at least {WRITERS_SCALED_GOAL:g}x one "
                "process's deliveries/s",
                f"{_num(rate(scaled, WRITERS))}/s, {r:.2f}x "
                f"{_num(rate(chat, WRITERS))}/s"
                if r
                else "–",
                (r >= WRITERS_SCALED_GOAL) if r else None,
            )
        )
    if scaled:
        for workload in (RATE_100, RATE_1000, BURST):
            r = _ratio(rate(scaled, workload), rate(chat, workload))
            lost = scaled.get(workload, {}).get("lost")
            rows.append(
                Goal(
                    f"2 processes on Redis, {workload}: "
                    "no loss, at least 0.8x one process",
                    f"lost {lost}, {r:.2f}x" if r else "–",
                    bool(r >= 0.8 and lost == 0) if r else None,
                    lost == 0,
                )
            )
    for name, result in results.items():
        if "stored" in result:
            # New messages only: a mixed run's `sent` counts its edits too.
            sent = sum(
                result[w].get("messagesSent", result[w].get("sent")) or 0
                for w in result.get("storedWorkloads", (RATE_100, RATE_1000, BURST))
                if isinstance(result.get(w), dict)
            )
            stored = result["stored"] >= sent
            rows.append(
                Goal(
                    f"{name}: every benchmark message stored",
                    f"{result['stored']} stored of {sent} sent",
                    stored,
                    stored,
                )
            )
    return rows


def _median(values: Iterable[float | None]) -> float:
    """The median of the figures measured (0 when none was)."""
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else 0


def _servers(rounds: list[dict[str, Any]]) -> list[str]:
    """The servers measured in any round, in the order they ran."""
    return list(dict.fromkeys(name for results in rounds for name in results))


def _each(rounds: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (label, results) of each server in each round that measured it,
    a server's rounds together; the label names the round when there are
    several."""
    for name in _servers(rounds):
        for number, results in enumerate(rounds, 1):
            if name in results:
                yield _in_round(name, number, rounds), results[name]


def _in_round(label: str, number: int, rounds: list[dict[str, Any]]) -> str:
    """``label`` of round ``number``, named only when there are several."""
    return f"{label}, round {number}" if len(rounds) > 1 else label


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = report["rounds"]
    names = _servers(rounds)
    fig, axes = plt.subplots(
        1, 4, figsize=(20, 4.8), gridspec_kw={"width_ratios": [1, 1, 1, 1.1]}
    )
    panels = [
        (
            BURST,
            "deliveriesPerSecond",
            "burst of 500 to 1,000 readers\ndeliveries/s (higher is better)",
        ),
        (
            RATE_1000,
            "p99",
            "1,000 readers at 20 msg/s\np99 latency, ms, log scale (lower is better)",
        ),
        (
            IDLE,
            "kibPerConnection",
            "5,000 idle readers\nserver KiB per connection (lower is better)",
        ),
    ]
    for axis, (workload, key, title) in zip(axes[:3], panels, strict=True):
        values = [
            _median(
                (result.get("latencyMs") or {}).get("p99")
                if key == "p99"
                else result.get(key)
                for results in rounds
                for result in [results.get(name, {}).get(workload, {})]
                if result
            )
            for name in names
        ]
        colors = ["#3b5bdb" if name.startswith("chat") else "#adb5bd" for name in names]
        axis.barh(names, values, color=colors)
        if key == "p99":
            axis.set_xscale("log")  # Seconds behind and milliseconds side by side.
        axis.set_title(title, fontsize=10)
        axis.invert_yaxis()
        axis.tick_params(labelsize=8)
        if axis is not axes[0]:
            axis.set_yticklabels([])
    presence_panel(axes[3], [results[CHAT] for results in rounds if CHAT in results])
    several = f", the median of {len(rounds)} rounds" if len(rounds) > 1 else ""
    fig.suptitle(
        f"Measured {report['date']} on {report['cores']} cores{several}; chat in blue",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def presence_panel(axis: Any, chats: list[dict[str, Any]]) -> None:
    """What presence and typing cost the chat (``chats``: its results in each
    round): ratios within a round, their median over the rounds, with the
    targets."""

    def ratio(workload: str, other: str, key: str) -> float:
        def within(chat: dict[str, Any]) -> float | None:
            a, b = chat.get(workload, {}), chat.get(other, {})
            if key == "p99":
                a, b = a.get("latencyMs") or {}, b.get("latencyMs") or {}
            return _ratio(a.get(key), b.get(key))

        return _median(within(chat) for chat in chats)

    bars = [
        ("p99, 50 typists\n÷ without", ratio(TYPISTS, PRESENCE_RATE, "p99")),
        (
            "connect 5,000 with presence\n÷ without",
            ratio(IDLE_PRESENCE, IDLE, "connectSeconds"),
        ),
        (
            "KiB/conn with presence\n÷ without",
            ratio(IDLE_PRESENCE, IDLE, "kibPerConnection"),
        ),
    ]
    axis.barh(
        [label for label, _ in bars], [value for _, value in bars], color="#3b5bdb"
    )
    # Both targets are 1.5x: one line for the first two bars.
    axis.axvline(TYPISTS_GOAL, color="#e03131", linestyle="--", linewidth=1)
    axis.axvline(1, color="#868e96", linewidth=0.8)
    axis.set_title(
        f"the chat: presence and typing, ratios\n(dashed: target {TYPISTS_GOAL:g}x; "
        "lower is better)",
        fontsize=10,
    )
    axis.invert_yaxis()
    axis.tick_params(labelsize=8)


def _placement(report: dict[str, Any]) -> str:
    """Where the servers ran, as a sentence."""
    placement = report["placement"]
    scaled = placement["chat, 2 processes"]
    where = (
        f"both on core {scaled[0]}"
        if len(set(scaled)) == 1
        else f"on cores {' and '.join(scaled)}"
    )
    return (
        f" On {report['cores']} cores: the load generator on core "
        f"{placement['load generator']}, every one-process server on core "
        f"{placement['servers']}, the chat's two processes {where};"
        " PostgreSQL and Redis, the machine's services, unpinned."
    )


def write_report(report: dict[str, Any], docs: Path) -> None:
    rounds = report["rounds"]
    (docs / "performance.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(report, docs / "performance.png")
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Each server",
        "runs pinned to one core and the Node load generator (bench/loadgen.js)",
        "to the other; one sender and N anonymous readers in one room; a",
        "delivery is one reader receiving one message. Only ratios within one run",
        "count: runs on this shared machine vary by up to 30%.",
        "",
        f"Run of {report['date']}"
        + (" (quick, smaller workloads)." if report["quick"] else ".")
        + _placement(report),
        *(
            [
                "",
                f"The run measured every server {len(rounds)} times, in rounds:",
                "each round runs every server's workloads in turn (the Channels",
                "tutorial's in the first round only). Each table shows every",
                "round; a ratio is taken within a round, and a target is met when",
                "it is met in most rounds and no round lost, doubled or missed",
                "anything. The chart shows the median of the rounds.",
            ]
            if len(rounds) > 1
            else []
        ),
        "",
        "![Benchmark chart](performance.png)",
        "",
        f"| server | {RATE_100} | {RATE_1000} | {BURST} | {IDLE} | {MIXED} |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in _each(rounds):
        cells = [
            _rate_cell(result.get(RATE_100, {})),
            _rate_cell(result.get(RATE_1000, {})),
            _burst_cell(result.get(BURST, {})),
            _idle_cell(result.get(IDLE, {})),
            _mixed_cell(result.get(MIXED, {})),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        '"late": deliveries not yet received one second after the last message',
        "was sent (a server that falls behind under load).",
        "",
        f'"{MIXED}" (the chat only: the baselines cannot',
        "edit): the sender's every fourth action is, alternately, an edit or a",
        "reaction (👍 on, then off) of one of its recent acknowledged messages.",
        "Deliveries, latency, lost and dup count new messages and edits (an edit",
        "carries a new text); a reaction's update repeats the text and is counted",
        "apart, its latency from when the reaction was sent. Streams: at the end",
        "each reader's last frame for every message changed during the run is",
        "compared with the message's stored state (read through the HTTP API):",
        "stale counts (reader, message) pairs where they differ, a change the",
        "reader never got; out of order, frames whose seq is not above the one",
        "before. A server that repaired a gap in its stream sends a message in",
        "its current state, with the client_id of a reaction or edit only if it",
        "was the last change: an edit made meanwhile then arrives in place of",
        "the text before it (lost above, not stale), and a reaction's update",
        "without its client_id counts as a text twice (dup above). The stream",
        "check is what a client relies on; the mixed row meets its target on",
        "it.",
        "",
        "## Presence and typing (the chat only)",
        "",
        "| workload | measured | presence frames per reader, while connecting "
        "| the same, after (quiet seconds, or sending) | typing |",
        "|---|---|---|---|---|",
    ]
    for workload, cell in (
        (PRESENCE_RATE, _rate_cell),
        (TYPISTS, _rate_cell),
        (IDLE, _idle_cell),
        (IDLE_PRESENCE, _idle_cell),
    ):
        for number, results in enumerate(rounds, 1):
            result = results.get(CHAT, {}).get(workload, {})
            label = _in_round(
                workload if workload != IDLE else f"{IDLE} (without presence)",
                number,
                rounds,
            )
            typing = _typists_cell(result) if workload == TYPISTS else "–"
            lines.append(
                f"| {label} | {cell(result) if result else '–'} "
                f"| {_presence_traffic(result, 'connect')} "
                f"| {_presence_traffic(result, 'after')} | {typing} |"
            )
    lines += [
        "",
        "Readers here ask for presence (`?presence=1`): a `presence` frame",
        "after the history, then `presence_diff` frames, at most one every",
        "0.5 s, as people and guests come and go. With typists, 50 logged-in",
        "users (5 beside 300 readers in a quick run) also ask for presence on the",
        "same room and each sends a typing notice every 10 s (every 3 s in a",
        "quick run), staggered, while the sender sends; the server relays each",
        "as a `typing` frame to every socket of the room. Presence and typing",
        "frames carry no message: the load generator counts them apart, never",
        "as deliveries, losses or duplicates. Both rate runs wait 1 s once",
        "everyone is connected before the sender starts, and are compared with",
        "each other. The idle readers with presence are guests held 10 quiet",
        "seconds (2 in a quick run) once all are connected, on a server of",
        "their own, started afresh: one that served earlier workloads reuses",
        "the memory their sockets freed, which hides what new sockets take.",
        "Their frames are averaged over the sockets, while connecting (until",
        "the last one was ready) and after.",
        "",
        "## Many writers (the chat's targets only)",
        "",
        "| server | run | deliveries/s | p50 / p99 | lost (pairs), dup "
        "| stored vs acked | server CPU per 1,000 deliveries |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        _writers_row(name, result[WRITERS])
        for name, result in _each(rounds)
        if isinstance(result.get(WRITERS), dict)
    ] or ["| – | not measured | – | – | – | – | – |"]
    lines += [
        "",
        "Many rooms, many writers: 50 public rooms (room1..room50, made before",
        "the run), each with 40 anonymous readers and 4 logged-in writers (200",
        "accounts, each its own socket in its room), each writer posting 1",
        "message a second for 20 s, the writers staggered evenly over each",
        "second (200 msg/s in all); a quick run has 10 rooms of 20 readers and",
        "sends for 5 s. With 2 processes, each room's readers and writers are",
        "spread over both. A delivery is a reader receiving a message of its",
        "room; latency is from the writer's send. A message is acked when its",
        "writer's own socket gets its broadcast (with its client_id); lost",
        "counts (reader, acked message of its room) pairs never received within",
        "the grace time, with the number of messages concerned; dup, a reader",
        "receiving a message twice. Stored: messages the database gained during",
        "the run. Server CPU: user + system time of the server's processes",
        "(from /proc) over the whole load generator run, connects included,",
        "per 1,000 deliveries.",
        "",
        "## Where the time goes",
        "",
        "`bench/run.py --profile DIR` samples the chat's processes with py-spy",
        "during each workload and writes collapsed stacks (the input of any",
        "flame graph tool). What the profiles of 2026-12-06 showed:",
        "",
        "- **A database thread hop per frame.** Channels' consumer closes stale",
        "  database connections before every event it dispatches, in the one",
        "  database thread, behind whatever runs there: each frame a client sent",
        "  waited for the commit of the one before it, so posts were never",
        "  carried out together (one sender at 200 msg/s: 1,600 calls for 1,600",
        "  posts, each alone, 8 to 16 ms each; 104 msg/s reached, p99 3.7 s in a",
        "  quick run). The chat's consumer dispatches without it (its database",
        "  calls close stale connections themselves): p99 90 ms.",
        "- **One socket's batch at a time.** With many writers at 1 msg/s each,",
        "  no socket has a second post waiting, so every post paid a thread hop,",
        "  a login check (two queries) and a commit (an fsync on SQLite). The",
        "  sockets' commands now go together (chat/turns.py): a group per",
        "  database turn, one login check, one commit.",
        "- **What a post costs now** (one process, 200 msg/s): about half the",
        "  samples are the database thread: storing the message (insert, the",
        "  search index, the room's seq) a third, Markdown rendering 6%, the log",
        "  line 4.5% (written synchronously to the console and the file), the",
        "  login check 4.6%, the commit 5.5%. Writing the frame to 100 sockets",
        "  is 6%; the rest of the event loop's time is in uvicorn's protocol",
        "  objects and the event loop itself.",
        "- **Connects** (5,000 idle readers): the time is spread over uvicorn's",
        "  legacy websockets handshake (10%), Channels' middleware stack",
        "  (cookies, session, auth, origin: 19% inclusive) and the consumer's",
        "  connect (13%), a third of it parsing the query string twice.",
        "- **Memory per idle socket** (tracemalloc, the difference between 50",
        "  and 1,050 idle guest sockets, 2026-12-07): 37.6 KiB of Python",
        "  objects each. The websockets library's legacy protocol object with",
        "  its stream reader, futures and three tasks (keep-alive, transfer,",
        "  close) 17.4 KiB; uvicorn's wrapper around it and its ASGI task",
        "  8.7 KiB; Channels 8.4 KiB (the consumer's dispatch task, the cookie,",
        "  session and auth middleware's scope copies, session and lazy user",
        "  objects, the router's copy); the chat's own consumer, output and",
        "  subscriptions 2.2 KiB. The sockets now run on the chat's own",
        "  protocol over websockets' sans-I/O core (chat/wsprotocol.py: one",
        "  object with slots, a timer for pings, no queue or task of its own),",
        "  one authentication middleware (chat/auth.py) in place of Channels'",
        "  three, and a consumer that reads its socket in its own task:",
        "  15.8 KiB (25.0 with the new protocol alone). What is left: the",
        "  request's headers, kept twice (by websockets' parser for the",
        "  connection's life, and in the ASGI scope: 4 KiB together), the ASGI",
        "  task and the coroutine frames of the middleware chain and the",
        "  consumer, the router's scope copy (1.4 KiB), and the chat's own",
        "  consumer, output and subscriptions.",
        "- **Two processes** (2026-12-07): each change a process stored went",
        "  on to the other processes from a task of its own, a channels_redis",
        "  group_send of several Redis round trips each. Concurrent sends",
        "  overtook one another, so the other process held the later change",
        "  and repaired the gap from the database after half a second; a burst",
        "  of 200 changes opened 200 Redis connections at once, past the pool's",
        "  limit, and every forward failed (MaxConnectionsError): the other",
        "  process then caught up from the database. One task now sends them in",
        "  the order taken, all of a room's changes that gathered meanwhile in",
        "  one layer message. The two processes' p99 at 100 readers and 200",
        "  msg/s went from 542 to 73 ms (single-workload runs before and",
        "  after); against the full run of 03:58 that day, the burst went from",
        "  110k to 524k deliveries/s and many writers from 3,756 to 7,271",
        "  deliveries/s (of 8,000).",
        "- **What a post cost** (2026-12-07): eight statements on the database",
        "  thread each, however many sockets shared the turn: a savepoint for its",
        "  socket and one for its room, the lookup of its client_id, the room's",
        "  lock, the INSERT, the room's row and the two releases, each some",
        "  170 µs of Django for about 20 µs of the database's own work. The posts",
        "  of all the sockets of a turn that only post are now stored together",
        "  (chat/services/messages.py: messages_check for each socket, then",
        "  messages_store for all; chat/services/stream.py: rooms_changes,",
        "  post_together): one lookup of retries, one statement that locks all",
        "  their rooms in the order of their ids, one INSERT, one UPDATE per",
        "  room and one commit. Four sockets posting to four rooms took 36",
        "  statements and now take at most 11 (a test counts them). Measured in",
        "  the process on PostgreSQL, a post in turns of five sockets in five",
        "  rooms went from 3.2-3.6 to 1.8-2.4 ms of the database thread, a turn",
        "  of one post from 5.1-5.4 to 4.2-4.5 ms. In `make bench-quick` before",
        "  and after: many writers on two processes p99 1,161 to 143 ms",
        "  (3,496 to 3,977 deliveries/s of 4,000), the mixed workload's p99 85 to",
        "  11-17 ms on one process and 198 to 48 ms on two.",
        "- **Many writers on two processes at full size** fell seconds",
        "  behind (p99 2.3 to 5.7 s in the morning's runs, some 500 repairs",
        '  from the database a run: "caught up ... missed by the channel',
        '  layer"). The profile of 2026-12-07 afternoon: a hub reads its layer',
        "  channel one message per Redis round trip, and every process's",
        "  change went to the room's layer group as a message per room and",
        "  process, read back by the sender's own hub too; with changes in 50",
        "  rooms, each hub's channel filled faster than it was read, so the",
        "  other process's changes arrived after the half-second gap wait and",
        "  were read from the database instead, costing its thread more. Every",
        "  hub now joins one group, each process sends all the changes that",
        "  gathered while its last send went in one layer message, and a hub",
        "  drops its own messages unread and the changes of rooms none of its",
        "  sockets follows. Single-workload runs of the same hour: p50 3,179 to",
        "  27 ms, p99 5,674 to 184 ms, 7,016 to 7,989 deliveries/s (of 8,000),",
        "  586 repair lines to none, server CPU per 1,000 deliveries 174 (the",
        "  morning's full run) to 135 ms; the mixed workload on two processes",
        "  in quick runs went from a p99 of 335-1,482 ms to 58-115 ms.",
        "- **An edit** cost 9.6 ms of the database thread on PostgreSQL (in",
        "  the process), most of it Django building statements: the message's",
        "  query with four joins (the member line's join a third of it, and",
        "  an ORDER BY that cost more to build than the one-row query took to",
        "  run) and a second such query for its replies, usually none. Posts",
        "  are now read without the member join or ordering, and replies only",
        "  once a cheap query found some: 9.1 ms, a reaction 8.0 to 7.7 ms.",
        "- **Connects** (2026-12-07 afternoon): two log lines per guest socket",
        "  (join, leave) cost about a sixth of the time 5,000 guests took to",
        "  connect; a guest's are now at DEBUG, a logged-in user's still at",
        "  INFO: 3.45 and 3.49 s to 3.02 and 2.83 s in alternating",
        "  single-workload runs. A closing socket no longer queues a call in",
        "  the database thread (Channels' close_old_connections).",
        "- **The login check** of every turn was two queries, a fifth of the",
        "  database thread's samples in the mixed workload on one process (one",
        "  writer, many small turns). A socket's commands now reuse a check at",
        "  most a second old (accounts/sessions.py, RecentLogins); a logout or",
        "  a saved user in the process, and the check-the-logins event, make",
        "  the next command check anew (docs/security.md).",
        "- **No private API of a dependency on the hot path.** The last were",
        "  Django's prefetch and relation caches, written to say that a new",
        "  message carries no file and no reactions so that its payload would not",
        "  ask the database. A service now says what it knows in",
        "  `Message.parts`; a reaction's broadcast reuses the reactions read",
        "  under the room's lock instead of reading them again.",
        "  `python -W error::DeprecationWarning manage.py serve` starts (a test).",
        "- **Log lines** are written by a thread of their own",
        "  (chat/logqueue.py), not by the database thread (one line per stored",
        "  change) or the event loop.",
        "- **Garbage collection** (2026-12-07 evening): timed with",
        "  `gc.callbacks` in the mixed workload on one process, a full",
        "  collection stopped the process for 65 to 110 ms every 10 to 20 s,",
        "  a run of late deliveries each time, enough to make the p99. Most",
        "  of what it walked was what the process loaded at start (Django and",
        "  every module). `manage.py serve` now freezes that (`gc.freeze`)",
        "  before it serves: the same collections take 7 to 24 ms, most of it",
        "  freeing the reference cycles Django's prefetch caches make (a",
        "  message and its reactions' queryset, some 25 objects an edit or",
        "  reaction). Three alternating pairs of single-workload runs: the",
        "  mixed workload's p99 1.37, 1.10 and 1.24x the plain one's, against",
        "  1.44, 1.66 and 1.54x before.",
        "- **The mixed workload on two processes** (2026-12-07 evening): the",
        "  sender's process's database thread was busy all the time on",
        "  PostgreSQL (a timing of every turn), each of a socket's edits and",
        "  reactions locking, reading and updating the room's row again. A",
        "  socket's commands to one room now lock and update it once per turn",
        "  (chat/services/stream.py: later changes of a held room reuse its",
        "  RoomChanges, each in a savepoint that gives its seq back if undone):",
        "  a turn of eight commands went from 33 statements to 27; in",
        "  alternating single-workload runs the two processes' mixed p99 went",
        "  from 3.93 and 1.76x the plain one's to 1.80 and 1.28x, one",
        "  process's from 1.53 and 1.77x to 1.24 and 1.42x.",
        "- **Many writers on two processes** (2026-12-07 night): with",
        "  py-spy counting only samples that held the GIL, a quarter of the",
        "  two processes' time went on reading the channel layer",
        "  (channels_redis's list-based layer reads each message with",
        "  Redis round trips of its own) and another quarter on the",
        "  database turns, where most posts found their login's check a",
        "  second old and checked it again (two queries in most turns). The",
        "  layer is now channels_redis's pub/sub one (Redis pushes each",
        "  published message to every process; the hub repairs from the",
        "  database what it loses, as before), and a login check that falls",
        "  due checks along the logins used within the second whose checks",
        "  are half a second old (accounts/sessions.py). Three alternating",
        "  pairs of single-workload runs each: the login checks took the p50",
        "  from 21 to 17 ms (p99 71-88 to 57-81 ms); pub/sub then took it to",
        "  10-11 ms, the p99 to 45-70 ms (against 65-78) and the CPU per",
        "  1,000 deliveries from 128 to 116 ms; the mixed workload on two",
        "  processes went from a p50 of 18-21 to 11-15 ms (p99 35-48 to",
        "  24-38 ms), its CPU per 1,000 deliveries from 51 to 47 ms.",
        "- **Typing notices** (2026-12-07 night): each went to every socket",
        "  of the room in a write of its own (50 typists beside 1,000 readers:",
        "  a fifth more writes than the messages' own). A notice now joins the",
        "  room's outgoing frames in the order it came and goes out with the",
        "  room's next changes, in the same write, or alone after 0.1 s",
        "  (chat/hub.py: `notice`). Three alternating pairs of single-workload",
        "  runs: the typists' p99 24, 25 and 20 ms against 24, 32 and 26 ms",
        "  before, the worst delivery 31 to 34 ms against 45 to 67; the ratio",
        "  to the run without typists moved within the noise (0.87 to 1.14",
        "  against 0.74 to 1.28).",
        "- **What is left of the mixed workload on two processes**",
        "  (2026-12-07 night): a socket's turn of eight commands (six posts, an",
        "  edit, a reaction) takes 25 statements on PostgreSQL, 17.6 ms of the",
        "  database thread in the process, 12.7 ms of it CPU; its commands are",
        "  carried out one turn at a time, and on one shared core each round",
        "  trip waits for the other processes. `message_get` now reads a",
        "  message's reactions with a plain query instead of Django's prefetch",
        "  (as costly again as the message's own query): 16.9 ms in the",
        "  process, no change that three alternating pairs of runs could see.",
        "  Next: the turn's four savepoints and their releases (8 of the 25",
        "  statements; without them the turn took 15.8 ms) and Django building",
        "  each query (a fifth of the turn).",
        "",
        "## Targets",
        "",
    ]
    lines += targets_table(rounds)
    lines += [
        "",
        "## The load generator kept up",
        "",
        "| server | workload | load generator CPU busy | event-loop lag p99 |",
        "|---|---|---|---|",
    ]
    for name, result in _each(rounds):
        for workload, data in result.items():
            if not isinstance(data, dict) or "measure" not in data:
                continue
            busy = (data.get("measure") or {}).get("cpuBusy")
            lag = (data.get("eventLoopLagMs") or {}).get("p99")
            lines.append(
                f"| {name} | {workload} | {_num(busy, 2)} | {_num(lag, 1)} ms |"
            )
    lines += search_section(docs)
    (docs / "performance.md").write_text("\n".join(lines) + "\n")


def targets_table(rounds: list[dict[str, Any]]) -> list[str]:
    """The targets: what each round measured, and the verdict over them."""
    # Each target's measure in each round (None: not in that round).
    goals: dict[str, list[Goal | None]] = {}
    for number, results in enumerate(rounds):
        for goal in targets(results):
            goals.setdefault(goal.goal, [None] * len(rounds))[number] = goal
    several = len(rounds) > 1
    columns = (
        [f"round {number}" for number in range(1, len(rounds) + 1)]
        if several
        else ["measured"]
    )
    lines = [
        "| target | " + " | ".join(columns) + " | met |",
        "|---|" + "---|" * len(columns) + "---|",
    ]
    for text, measured in goals.items():
        cells = [
            "–"
            if goal is None
            else f"{goal.measured} ({_verdict(goal.met)})"
            if several
            else goal.measured
            for goal in measured
        ]
        lines.append(
            f"| {text} | "
            + " | ".join(cells)
            + f" | {_verdict(verdict([goal for goal in measured if goal]))} |"
        )
    return lines


SEARCH_KINDS = {
    "common": "common word",
    "rare": "rare word",
    "partial": "part of a word",
    "link": "link fragment",
    "phrase": "phrase",
    "filtered": "filtered",
    "short": "1-2 characters",
}
# Every search kind's p95 within this, on both engines; a stored message
# with its index entry at most this many times one without.
SEARCH_P95_MS = 50
STORE_GOAL = 1.5


def search_section(docs: Path) -> list[str]:
    """The "Search" section, from `make bench-search`'s last run (if any)."""
    path = docs / "search-performance.json"
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    lines = [
        "",
        "## Search",
        "",
        "Written by `make bench-search` (bench/search.py), run of "
        + report["date"]
        + (" (quick, 100,000 messages)." if report["quick"] else "."),
        "Each engine gets a fresh database of generated messages (Russian and",
        "English words with Zipf frequencies and inflections, links, code) in",
        "100 rooms, and each search kind 20 searches, 3 times each, through the",
        "real selector as a user who may read every room (p50 / p95, and the",
        "mean number of results on a page of 20). Store: mean time to store one",
        "message through the service, before the index exists and after.",
        "",
        "| engine | messages | index build | size without / with index"
        " (normalised text) | store without / with index | "
        + " | ".join(SEARCH_KINDS.values())
        + " |",
        "|---|---|---|---|---|" + "---|" * len(SEARCH_KINDS),
    ]
    rows = []
    for result in report["results"]:
        queries = result["queries"]
        cells = [
            f"{_num(queries[k]['p50'], 1)} / {_num(queries[k]['p95'], 1)} ms"
            f" ({_num(queries[k]['mean_hits'], 1)})"
            for k in SEARCH_KINDS
        ]
        ratio = result["store_ms_with_index"] / result["store_ms_without_index"]
        rows.append((result, ratio))
        lines.append(
            f"| {result['engine']} | {result['messages']:,} "
            f"| {_num(result['index_build_seconds'], 1)} s "
            f"| {result['bytes_without_index'] / 2**20:,.0f} / "
            f"{result['bytes_with_index'] / 2**20:,.0f} MiB "
            f"({result['search_text_bytes'] / 2**20:,.0f} MiB) "
            f"| {_num(result['store_ms_without_index'], 2)} / "
            f"{_num(result['store_ms_with_index'], 2)} ms ({ratio:.2f}x) | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for result, ratio in rows:
        engine = result["engine"]
        worst = max(result["queries"], key=lambda k: result["queries"][k]["p95"])
        p95 = result["queries"][worst]["p95"]
        lines.append(
            f"| {engine}: every search kind's p95 within {SEARCH_P95_MS} ms "
            f"| slowest: {SEARCH_KINDS[worst]}, {_num(p95, 1)} ms "
            f"| {_verdict(p95 <= SEARCH_P95_MS)} |"
        )
        lines.append(
            f"| {engine}: a message stored with its index entry within "
            f"{STORE_GOAL}x of one without | {ratio:.2f}x "
            f"| {_verdict(ratio <= STORE_GOAL)} |"
        )
    return lines
