"""System checks for settings that quietly weaken or break the chat."""

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


def proxy_check(**kwargs: Any) -> list[CheckMessage]:
    """
    Warn when HTTPS=1 trusts no proxy.

    `manage.py serve` speaks plain HTTP, so with HTTPS=1 a proxy terminates
    TLS. Unless FORWARDED_ALLOW_IPS names it, its X-Forwarded-Proto is not
    believed: every socket looks like ws:// while its page is https://, and
    the Origin check refuses them all (and every client seems to be the
    proxy, to the per-address limits).
    """
    if not settings.HTTPS or settings.FORWARDED_ALLOW_IPS:
        return []
    return [
        Warning(
            "HTTPS=1 but FORWARDED_ALLOW_IPS is empty: the TLS proxy's "
            "X-Forwarded-Proto and X-Forwarded-For are not believed, so "
            "WebSockets from https:// pages are refused and every client "
            "looks like the proxy.",
            hint="Set FORWARDED_ALLOW_IPS to the proxy's address, e.g. 127.0.0.1.",
            id="chat.W002",
        )
    ]
