from __future__ import annotations

from django.test import Client

from chat.models import Room


class SecurityHeadersTests:
    def test_pages_forbid_inline_script_and_framing(
        self, client: Client, room: Room
    ) -> None:
        response = client.get(room.get_absolute_url())
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_pages_carry_no_inline_script(self, client: Client, room: Room) -> None:
        html = client.get(room.get_absolute_url()).content.decode()
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening or 'type="application/json"' in opening, opening

    def test_the_session_cookie_is_http_only_and_same_site(
        self, client: Client, user: object
    ) -> None:
        from conftest import PASSWORD

        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        cookie = client.cookies["sessionid"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
