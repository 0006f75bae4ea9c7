"""System checks for settings that quietly weaken the chat."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning

from chat.origin import accepts_any_host


def allowed_hosts_check(**kwargs: Any) -> list[CheckMessage]:
    """
    Warn when ALLOWED_HOSTS lets any host through.

    The WebSocket Origin check then cannot trust the Host header, and opens
    sockets only for origins in CSRF_TRUSTED_ORIGINS; Django's own checks
    say nothing about it, not even with --deploy.
    """
    if not accepts_any_host(list(settings.ALLOWED_HOSTS)):
        return []
    return [
        Warning(
            "ALLOWED_HOSTS contains '*': any Host header passes, so WebSocket "
            "handshakes are accepted only from origins listed in "
            "CSRF_TRUSTED_ORIGINS.",
            hint=(
                "Set ALLOWED_HOSTS to the site's host names (e.g. "
                "chat.example.com), or list each origin that may open sockets "
                "in CSRF_TRUSTED_ORIGINS (e.g. https://chat.example.com)."
            ),
            id="chat.W001",
        )
    ]
