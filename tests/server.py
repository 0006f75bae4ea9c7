"""Run the chat as a real server process, started the way `make run` starts it."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-pass-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Address:
    """Something that listens on 127.0.0.1:``port``."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> Origin:
        """The Origin a page of this address sends with its WebSockets."""
        return Origin(self.url)


class ChatServer(Address):
    """A chat server process with its own data directory and log file."""

    def __init__(
        self, data_dir: Path, *, prefix: Sequence[str] = (), **env: str
    ) -> None:
        self.data_dir = data_dir
        # Run before the server command, e.g. ("taskset", "-c", "0").
        self.prefix = list(prefix)
        self.port = free_port()
        self.log_file = data_dir / "logs" / "chat.log"
        self.output = data_dir / "server-output.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(data_dir),
            "LOG_FILE": str(self.log_file),
            "PORT": str(self.port),
            "DEBUG": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        """Run a management command against this server's database."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    def create_user(self, username: str) -> None:
        self.manage(
            "shell",
            "-c",
            "from accounts.services import user_create; "
            f"user_create(username={username!r}, password={PASSWORD!r})",
        )

    def create_token(self, username: str, scopes: str = "read,write") -> str:
        """Make a personal access token for ``username``; return it."""
        return self.manage("createtoken", username, "--scopes", scopes).strip()

    def login(self, username: str) -> str:
        """Log in through the real login form; return the Cookie header."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(self.url + "/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        body = urllib.parse.urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            }
        ).encode()
        opener.open(
            urllib.request.Request(
                self.url + "/accounts/login/", data=body, headers={"Referer": self.url}
            )
        )
        cookies = {cookie.name: cookie.value for cookie in jar}
        assert "sessionid" in cookies, "login failed"
        return "; ".join(f"{name}={value}" for name, value in cookies.items())

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        self.manage("migrate", "--noinput")
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                [*self.prefix, sys.executable, "manage.py", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.output.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None


@contextlib.contextmanager
def running(data_dir: Path, **env: str) -> Iterator[ChatServer]:
    """Start one server with ``env`` in ``data_dir``; stop it afterwards."""
    server = ChatServer(data_dir, **env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def processes(
    directory: Path, names: Sequence[str], **env: str
) -> Iterator[list[ChatServer]]:
    """Start one server per name, sharing ``env``; stop them all afterwards."""
    servers = [ChatServer(directory / name, **env) for name in names]
    try:
        for server in servers:
            server.data_dir.mkdir(parents=True, exist_ok=True)
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
