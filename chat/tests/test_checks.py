"""System checks: ALLOWED_HOSTS=* is reported, by `check` and `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core import checks

from tests.server import ROOT

# docs/security.md, "Production settings".
PRODUCTION = {
    "DEBUG": "0",
    "HTTPS": "1",
    "ALLOWED_HOSTS": "chat.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
}


def manage_check(
    tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `manage.py check` in a process of its own, as an operator would."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(tmp_path),
            "LOG_FILE": str(tmp_path / "chat.log"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def chat_ids(messages: list[checks.CheckMessage]) -> list[str | None]:
    return [m.id for m in messages if m.id and m.id.startswith("chat.")]


class AllowedHostsCheckTests:
    def test_a_wildcard_is_reported_with_the_settings_to_use(
        self, settings: Any
    ) -> None:
        settings.ALLOWED_HOSTS = ["chat.example.com", "*"]
        messages = checks.run_checks()
        assert chat_ids(messages) == ["chat.W001"]
        warning = next(m for m in messages if m.id == "chat.W001")
        assert warning.level == checks.WARNING
        text = f"{warning.msg} {warning.hint}"
        assert "ALLOWED_HOSTS" in text
        assert "CSRF_TRUSTED_ORIGINS" in text

    @pytest.mark.parametrize(
        "hosts",
        [["chat.example.com"], [".example.com"], ["localhost", "127.0.0.1", "[::1]"]],
    )
    def test_named_hosts_are_not_reported(
        self, settings: Any, hosts: list[str]
    ) -> None:
        settings.ALLOWED_HOSTS = hosts
        assert chat_ids(checks.run_checks()) == []

    def test_manage_check_reports_a_wildcard(self, tmp_path: Path) -> None:
        result = manage_check(tmp_path, ALLOWED_HOSTS="*")
        assert "chat.W001" in result.stderr, result.stdout + result.stderr

    def test_check_deploy_fails_on_a_wildcard_in_production(
        self, tmp_path: Path
    ) -> None:
        env = {**PRODUCTION, "ALLOWED_HOSTS": "*"}
        result = manage_check(tmp_path, "--deploy", "--fail-level", "WARNING", **env)
        assert result.returncode != 0
        assert "chat.W001" in result.stdout + result.stderr

    def test_https_without_a_trusted_proxy_is_reported(self, tmp_path: Path) -> None:
        env = {**PRODUCTION, "FORWARDED_ALLOW_IPS": ""}
        result = manage_check(tmp_path, "--deploy", "--fail-level", "WARNING", **env)
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "chat.W002" in output
        assert "FORWARDED_ALLOW_IPS" in output

    def test_the_documented_production_settings_stay_clean(
        self, tmp_path: Path
    ) -> None:
        result = manage_check(
            tmp_path, "--deploy", "--fail-level", "WARNING", **PRODUCTION
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout
