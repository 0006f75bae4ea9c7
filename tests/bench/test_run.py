"""Where `make bench` runs each server (bench/run.py)."""

from __future__ import annotations

from bench.run import LOADGEN_CORE, server_cores


def test_two_processes_share_the_one_core_a_two_core_machine_leaves() -> None:
    assert server_cores(2, 2) == ["0", "0"]
    assert server_cores(2, 1) == ["0"]


def test_each_process_gets_a_core_of_its_own_where_there_are_enough() -> None:
    for cores in (3, 4, 8):
        placed = server_cores(cores, 2)
        assert len(set(placed)) == 2
        assert LOADGEN_CORE not in placed
    assert server_cores(3, 3) == ["0", "2", "0"]
