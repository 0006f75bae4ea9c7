"""How `make bench` decides a target over its rounds (bench/report.py)."""

from __future__ import annotations

from typing import Any

from bench.report import (
    CHAT,
    RATE_1000,
    RAW,
    Goal,
    targets,
    targets_table,
    verdict,
)

GOAL = "1,000 readers, 20 msg/s: no loss, no duplicates, p99 within 1.5x of raw"


def round_of(chat_p99: float, lost: int = 0) -> dict[str, Any]:
    """A round in which raw websockets' p99 was 10 ms and the chat's
    ``chat_p99``, with ``lost`` deliveries lost."""
    return {
        RAW: {RATE_1000: {"latencyMs": {"p99": 10.0}, "lost": 0, "duplicates": 0}},
        CHAT: {
            RATE_1000: {"latencyMs": {"p99": chat_p99}, "lost": lost, "duplicates": 0}
        },
    }


def goal_in(results: dict[str, Any]) -> Goal:
    return next(goal for goal in targets(results) if goal.goal == GOAL)


def test_a_target_met_in_most_rounds_is_met() -> None:
    rounds = [goal_in(round_of(p99)) for p99 in (12.0, 30.0, 14.0)]
    assert [goal.met for goal in rounds] == [True, False, True]
    assert verdict(rounds) is True
    assert verdict([goal_in(round_of(p99)) for p99 in (12.0, 30.0, 31.0)]) is False


def test_a_loss_in_one_round_fails_the_target_whatever_the_others() -> None:
    rounds = [goal_in(round_of(12.0)), goal_in(round_of(12.0, lost=3))]
    rounds.append(goal_in(round_of(11.0)))
    assert rounds[1].sound is False
    assert verdict(rounds) is False


def test_rounds_that_did_not_measure_a_target_do_not_vote() -> None:
    unmeasured = goal_in({})
    assert unmeasured.met is None
    assert verdict([unmeasured, goal_in(round_of(12.0))]) is True
    assert verdict([unmeasured]) is None


def test_the_table_shows_each_round_and_the_verdict() -> None:
    lines = targets_table([round_of(12.0), round_of(30.0), round_of(14.0)])
    assert lines[0] == "| target | round 1 | round 2 | round 3 | met |"
    row = next(line for line in lines if line.startswith(f"| {GOAL} |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1:] == [
        "lost 0, duplicates 0, p99 1.20x raw (yes)",
        "lost 0, duplicates 0, p99 3.00x raw (no)",
        "lost 0, duplicates 0, p99 1.40x raw (yes)",
        "yes",
    ]
    # A target only one round measured is decided by that round.
    only_first = [round_of(12.0), {}, {}]
    row = next(
        line for line in targets_table(only_first) if line.startswith(f"| {GOAL} |")
    )
    assert row.endswith("| – (–) | – (–) | yes |")
