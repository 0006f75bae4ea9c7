"""The log's lines are written by a thread of their own, all of them, in order."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.server import ROOT

# Run in a process of its own: configure() replaces the logging setup of
# the process it runs in.
SCRIPT = """
import json, logging, sys
from chat.logqueue import configure

configure(json.loads(sys.argv[1]))
log = logging.getLogger("chat")
for n in range(2000):
    log.info("line %d", n)
try:
    raise ValueError("broken")
except ValueError:
    log.exception("failed")
logging.getLogger("other").warning("to the root")
"""


class WriterThread(logging.Filter):
    """Tag each record with the thread that writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.writer = threading.current_thread().name
        return True


def run(tmp_path: Path) -> list[str]:
    log_file = tmp_path / "chat.log"
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(writer)s|%(levelname)s %(message)s"}},
        "filters": {"writer": {"()": "chat.tests.test_logqueue.WriterThread"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(log_file),
                "formatter": "plain",
                "filters": ["writer"],
            },
        },
        "root": {"handlers": ["file"], "level": "WARNING"},
        "loggers": {
            "chat": {"handlers": ["file"], "level": "INFO", "propagate": False}
        },
    }
    subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=60,
    )
    return log_file.read_text().splitlines()


def test_every_line_is_written_in_order_by_another_thread_by_exit(
    tmp_path: Path,
) -> None:
    lines = run(tmp_path)
    # Every line, though the process exited right after logging the last.
    expected = [f"INFO line {n}" for n in range(2000)]
    assert [line.split("|", 1)[1] for line in lines[:2000]] == expected
    # None written by the thread that logged it.
    assert not [line for line in lines if line.startswith("MainThread|")]
    # The traceback travels with its line; the root logger is queued too.
    rest = "\n".join(lines[2000:])
    assert "ERROR failed" in rest
    assert "ValueError: broken" in rest
    assert lines[-1].endswith("WARNING to the root")
