"""
Settings for the test run: the real settings, writing only to a temporary
directory (database, uploads, secret key, log file), removed at exit.

Servers that tests start as processes use ``config.settings`` with their
own ``DATA_DIR``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_TEST_DIR = tempfile.mkdtemp(prefix="chat-tests-")
atexit.register(shutil.rmtree, _TEST_DIR, ignore_errors=True)
os.environ["DATA_DIR"] = _TEST_DIR
os.environ["LOG_FILE"] = os.path.join(_TEST_DIR, "logs", "chat.log")

from config.settings import *  # noqa: E402, F403

# A fast hasher for the in-process tests' many users (each PBKDF2 costs a
# third of a second); servers the tests start use the real settings, and
# the throttle tests count a PBKDF2 hasher of their own.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
