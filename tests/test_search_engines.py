"""
Both search engines give the same answers: the query suite that the test run
checks on SQLite (chat/tests/test_search_suite.py) runs again on PostgreSQL,
in a pytest of its own with DATABASE_URL set, and must pass there too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.faults import conftest as faults

postgres_url = faults.postgres_url
ROOT = Path(__file__).resolve().parents[1]
SUITE = "chat/tests/test_search_suite.py"


def test_the_query_suite_passes_on_postgresql(postgres_url: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SUITE],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": postgres_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout
