"""The WebSocket Origin rule: the site's own origin, or a trusted one."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from chat import origin
from chat.origin import origin_allowed
from config.asgi import application

SITE = "127.0.0.1:8080"


def handshake(
    page: str | None, *, host: str | None = SITE, scheme: str = "ws"
) -> dict[str, Any]:
    """The ASGI scope of a handshake from ``page`` to ``host``."""
    headers = []
    if host is not None:
        headers.append((b"host", host.encode("latin-1")))
    if page is not None:
        headers.append((b"origin", page.encode("latin-1")))
    return {
        "type": "websocket",
        "scheme": scheme,
        "path": "/ws/rooms/general/",
        "headers": headers,
    }


@pytest.fixture(autouse=True)
def site(settings: Any) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "chat.example.com"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.USE_X_FORWARDED_HOST = False


class SiteOriginTests:
    def test_the_page_the_request_came_from_is_accepted(self) -> None:
        assert origin_allowed(handshake("http://127.0.0.1:8080")) is True

    @pytest.mark.parametrize(
        "page",
        [
            "http://127.0.0.1:9999",
            "https://127.0.0.1:8080",
            "http://127.0.0.1",
            "http://localhost:8080",
            "http://127.0.0.1.evil.example",
            "http://127.0.0.1.evil.example:8080",
            "http://127.0.0.1:8080@evil.example",
            "http://evil.example@127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080.evil.example",
            "ws://127.0.0.1:8080",
            "null",
            "",
        ],
        ids=[
            "other port",
            "other scheme",
            "default port",
            "other name",
            "lookalike",
            "lookalike with port",
            "userinfo before",
            "userinfo after",
            "path",
            "port lookalike",
            "ws scheme",
            "null",
            "empty",
        ],
    )
    def test_any_other_origin_is_refused(self, page: str) -> None:
        assert origin_allowed(handshake(page)) is False

    def test_a_missing_origin_with_a_cookie_is_refused(self) -> None:
        scope = handshake(None)
        scope["headers"].append((b"cookie", b"sessionid=abc"))
        assert origin_allowed(scope) is False

    def test_a_null_origin_with_a_cookie_is_refused(self) -> None:
        scope = handshake("null")
        scope["headers"].append((b"cookie", b"sessionid=abc"))
        assert origin_allowed(scope) is False

    def test_a_program_without_origin_or_cookie_may_connect(self) -> None:
        # Not a browser: it has no visitor's cookie to borrow (chat/auth.py
        # makes it a guest, or its token's user).
        assert origin_allowed(handshake(None)) is True

    def test_two_origins_are_refused(self) -> None:
        scope = handshake("http://127.0.0.1:8080")
        scope["headers"].append((b"origin", b"http://evil.example"))
        assert origin_allowed(scope) is False

    def test_two_hosts_are_refused(self) -> None:
        scope = handshake("http://evil.example")
        scope["headers"].append((b"host", b"evil.example"))
        assert origin_allowed(scope) is False

    def test_a_forwarded_host_is_the_site_when_django_is_told_to_trust_it(
        self, settings: Any
    ) -> None:
        scope = handshake("https://chat.example.com", scheme="wss")
        scope["headers"].append((b"x-forwarded-host", b"chat.example.com"))
        assert origin_allowed(scope) is False
        settings.USE_X_FORWARDED_HOST = True
        assert origin_allowed(scope) is True

    def test_a_host_outside_allowed_hosts_proves_nothing(self) -> None:
        """A DNS-rebinding page names its own host, which Django would refuse."""
        page = handshake("http://rebound.example:8080", host="rebound.example:8080")
        assert origin_allowed(page) is False

    def test_a_handshake_without_a_host_has_no_site_origin(self) -> None:
        assert origin_allowed(handshake("http://127.0.0.1:8080", host=None)) is False

    def test_a_secure_socket_belongs_to_an_https_page(self) -> None:
        secure = handshake("https://chat.example.com", host="chat.example.com")
        secure["scheme"] = "wss"
        assert origin_allowed(secure) is True
        secure["headers"][1] = (b"origin", b"http://chat.example.com")
        assert origin_allowed(secure) is False

    @pytest.mark.parametrize(
        ("page", "host", "scheme"),
        [
            ("http://chat.example.com", "chat.example.com:80", "ws"),
            ("http://chat.example.com:80", "chat.example.com", "ws"),
            ("https://chat.example.com", "chat.example.com:443", "wss"),
            ("https://chat.example.com:443", "chat.example.com", "wss"),
        ],
    )
    def test_a_default_port_is_the_same_written_or_not(
        self, page: str, host: str, scheme: str
    ) -> None:
        assert origin_allowed(handshake(page, host=host, scheme=scheme)) is True

    def test_case_and_ipv6_brackets_are_read_as_browsers_write_them(self) -> None:
        assert origin_allowed(handshake("http://[::1]:8080", host="[::1]:8080"))
        assert origin_allowed(
            handshake("HTTP://Chat.Example.COM", host="chat.example.com")
        )

    def test_an_empty_allowed_hosts_under_debug_means_the_local_names(
        self, settings: Any
    ) -> None:
        settings.DEBUG = True
        settings.ALLOWED_HOSTS = []
        assert origin_allowed(handshake("http://localhost:8080", host="localhost:8080"))
        page = handshake("http://chat.example.com", host="chat.example.com")
        assert origin_allowed(page) is False


class TrustedOriginTests:
    def test_an_origin_listed_exactly_is_accepted(self, settings: Any) -> None:
        settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com"]
        assert origin_allowed(handshake("https://chat.example.com")) is True
        assert origin_allowed(handshake("https://chat.example.com:443")) is True
        assert origin_allowed(handshake("http://chat.example.com")) is False
        assert origin_allowed(handshake("https://chat.example.com:8443")) is False
        assert origin_allowed(handshake("https://www.chat.example.com")) is False

    @pytest.mark.parametrize(
        ("page", "allowed"),
        [
            ("https://a.example.com", True),
            ("https://a.b.example.com", True),
            ("https://example.com", True),
            ("http://a.example.com", False),
            ("https://a.example.com:8443", False),
            ("https://evilexample.com", False),
            ("https://example.com.evil.example", False),
            ("https://evil.example@a.example.com", False),
        ],
    )
    def test_a_wildcard_covers_subdomains_on_the_same_scheme_and_port(
        self, settings: Any, page: str, allowed: bool
    ) -> None:
        settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
        assert origin_allowed(handshake(page)) is allowed

    def test_a_trusted_origin_is_read_when_the_handshake_comes(
        self, settings: Any
    ) -> None:
        page = handshake("https://chat.example.com")
        assert origin_allowed(page) is False
        settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com"]
        assert origin_allowed(page) is True


class AnyHostTests:
    @pytest.fixture(autouse=True)
    def any_host(self, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        settings.ALLOWED_HOSTS = ["*"]
        settings.CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8080"]
        # Each test starts as a fresh process would: no hint logged yet.
        monkeypatch.setattr(origin, "_any_host_hinted_at", None)

    def test_only_trusted_origins_are_accepted(self) -> None:
        assert origin_allowed(handshake("http://127.0.0.1:8080")) is True
        other = handshake("http://rebound.example:8080", host="rebound.example:8080")
        assert origin_allowed(other) is False

    async def test_a_refusal_says_which_settings_to_change_once_a_minute(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        refused = handshake("http://rebound.example:8080", host="rebound.example:8080")
        with caplog.at_level(logging.WARNING, logger="chat.origin"):
            for _ in range(3):
                communicator = WebsocketCommunicator(
                    application, refused["path"], headers=refused["headers"]
                )
                accepted, _code = await communicator.connect()
                assert accepted is False
        assert len(caplog.records) == 1
        assert "ALLOWED_HOSTS" in caplog.text
        assert "CSRF_TRUSTED_ORIGINS" in caplog.text
