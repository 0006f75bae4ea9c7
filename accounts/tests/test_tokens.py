"""Personal access tokens: their form, storage, scopes, expiry and revocation."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts import tokens
from accounts.models import AccessToken, User
from accounts.services import bot_create, token_create, token_revoke
from accounts.sessions import live_logins, token_key
from chat.logfilters import RedactTokens

pytestmark = pytest.mark.django_db


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def make(user: User, scopes: tuple[str, ...] = ("read", "write"), **kw) -> str:
    _token, value = token_create(user=user, name="test", scopes=scopes, **kw)
    return value


class FormTests:
    def test_a_token_has_the_prefix_random_part_and_checksum(self) -> None:
        value = tokens.generate()
        assert value.startswith("chat_") and len(value) == 41
        assert tokens.well_formed(value)

    def test_one_changed_character_fails_the_checksum(self) -> None:
        value = tokens.generate()
        changed = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
        assert not tokens.well_formed(changed)

    def test_tokens_are_found_in_text_only_when_real(self) -> None:
        value = tokens.generate()
        assert tokens.contains_token(f"see {value}.")
        assert not tokens.contains_token("chat_export of the room")
        assert tokens.mask(f"token={value}") == "token=chat_…"


class StorageTests:
    def test_only_the_hash_is_stored(self, user: User) -> None:
        token, value = token_create(user=user, name="ci", scopes=["read"])
        stored = AccessToken.objects.get(pk=token.pk)
        assert stored.key_hash == hashlib.sha256(value.encode()).hexdigest()
        row = AccessToken.objects.filter(pk=token.pk).values().get()
        assert not any(value in str(field) for field in row.values())
        assert stored.hint == value[:9]

    def test_write_includes_read_and_scopes_are_checked(self, user: User) -> None:
        token, _value = token_create(user=user, name="ci", scopes=["write"])
        assert token.scopes == ["read", "write"]
        with pytest.raises(ValidationError):
            token_create(user=user, name="ci", scopes=["admin"])
        with pytest.raises(ValidationError):
            token_create(user=user, name="ci", scopes=[])

    def test_a_name_is_needed_and_expiry_is_in_the_future(self, user: User) -> None:
        with pytest.raises(ValidationError):
            token_create(user=user, name="  ", scopes=["read"])
        with pytest.raises(ValidationError):
            token_create(
                user=user,
                name="old",
                scopes=["read"],
                expires=timezone.now() - timedelta(days=1),
            )

    def test_one_may_make_tokens_for_ones_bots_only(
        self, user: User, other_user: User
    ) -> None:
        bot = bot_create(owner=user, username="builder")
        token, _value = token_create(user=bot, actor=user, name="b", scopes=["read"])
        assert token.user == bot and bot.is_bot and not bot.has_usable_password()
        with pytest.raises(ValidationError):
            token_create(user=bot, actor=other_user, name="b", scopes=["read"])
        with pytest.raises(ValidationError):
            token_create(user=other_user, actor=user, name="b", scopes=["read"])
        # The owner revokes the bot's token; no one else can.
        assert token_revoke(user=other_user, token_id=token.pk) is False
        assert token_revoke(user=user, token_id=token.pk) is True

    def test_the_command_prints_a_working_token(self, user: User, capsys) -> None:
        call_command("createtoken", "alice", "--scopes", "read")
        value = capsys.readouterr().out.strip()
        found = AccessToken.objects.find(value)
        assert found is not None and found.user == user and not found.can_write


class HttpTests:
    def test_a_token_acts_as_its_user_without_csrf(self, user: User) -> None:
        value = make(user)
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            "/api/v1/rooms",
            {"name": "Builds"},
            content_type="application/json",
            headers=bearer(value),
        )
        assert response.status_code == 201
        me = client.get("/api/v1/me", headers=bearer(value)).json()["user"]
        assert me["username"] == "alice" and me["scopes"] == ["read", "write"]

    def test_a_read_token_reads_but_may_not_write(self, user: User) -> None:
        value = make(user, ("read",))
        client = Client()
        assert client.get("/api/v1/rooms", headers=bearer(value)).status_code == 200
        response = client.post(
            "/api/v1/rooms/general/messages",
            {"text": "hi"},
            content_type="application/json",
            headers=bearer(value),
        )
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"

    def test_an_unknown_expired_or_revoked_token_is_401(self, user: User) -> None:
        client = Client()
        expired = make(user, expires=timezone.now() + timedelta(seconds=1))
        AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
        revoked_token, revoked = token_create(user=user, name="r", scopes=["read"])
        token_revoke(user=user, token_id=revoked_token.pk)
        for value in (tokens.generate(), expired, revoked, "not-a-token"):
            response = client.get("/api/v1/me", headers=bearer(value))
            assert response.status_code == 401, value
            assert response.json()["code"] == "unauthenticated"
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_deactivated_users_token_stops_working(self, user: User) -> None:
        value = make(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert Client().get("/api/v1/me", headers=bearer(value)).status_code == 401

    def test_a_token_in_the_query_string_is_refused(self, user: User) -> None:
        value = make(user)
        for path in (
            f"/api/v1/rooms?access_token={value}",
            f"/api/rooms?token={value}",
            f"/?t={value}",
        ):
            response = Client().get(path)
            assert response.status_code == 400, path
            assert "Authorization header" in response.json()["detail"]
        # Words that only look alike are searched as usual.
        assert Client().get("/api/v1/search?q=chat_export").status_code == 200

    def test_last_used_is_kept(self, user: User) -> None:
        value = make(user)
        assert AccessToken.objects.get().last_used is None
        Client().get("/api/v1/me", headers=bearer(value))
        assert AccessToken.objects.get().last_used is not None

    def test_token_requests_share_the_users_message_limit(
        self, user: User, settings
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "2/60"
        value = make(user)
        client, page = Client(), Client()
        page.force_login(user)
        statuses = [
            client.post(
                "/api/v1/rooms/general/messages",
                {"text": "one"},
                content_type="application/json",
                headers=bearer(value),
            ).status_code,
            page.post(
                "/api/v1/rooms/general/messages",
                {"text": "two"},
                content_type="application/json",
            ).status_code,
            client.post(
                "/api/v1/rooms/general/messages",
                {"text": "three"},
                content_type="application/json",
                headers=bearer(value),
            ).status_code,
        ]
        assert statuses == [201, 201, 429]


class LoginKeyTests:
    def test_a_live_token_is_a_login_until_revoked(self, user: User) -> None:
        token, _value = token_create(user=user, name="t", scopes=["read"])
        key = token_key(token)
        login = live_logins({key})[key]
        assert login.user == user and login.can_write is False
        token_revoke(user=user, token_id=token.pk)
        assert live_logins({key}) == {}


class ProfilePageTests:
    def test_a_token_is_shown_once(self, user_client: Client) -> None:
        response = user_client.post(
            "/accounts/profile/tokens/",
            {"owner": "", "name": "laptop", "scopes": "read", "expires_in": "30"},
        )
        # The owner field defaults to the user when the form is filled in.
        response = user_client.post(
            "/accounts/profile/tokens/",
            {
                "owner": str(User.objects.get(username="alice").pk),
                "name": "laptop",
                "scopes": "read",
                "expires_in": "30",
            },
        )
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        page = response.content.decode()
        token = AccessToken.objects.get(name="laptop")
        shown = page.split("data-token-value>")[1].split("<")[0]
        assert tokens.digest(shown) == token.key_hash
        assert token.expires is not None and not token.can_write
        again = user_client.get("/accounts/profile/").content.decode()
        assert shown not in again and token.hint in again

    def test_revoking_from_the_page(self, user: User, user_client: Client) -> None:
        token, value = token_create(user=user, name="t", scopes=["read"])
        response = user_client.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
        assert response.status_code == 302
        assert not AccessToken.objects.exists()
        assert Client().get("/api/v1/me", headers=bearer(value)).status_code == 401

    def test_a_bot_is_made_and_gets_a_token(self, user_client: Client) -> None:
        user_client.post("/accounts/profile/bots/", {"username": "deploybot"})
        bot = User.objects.get(username="deploybot")
        assert bot.is_bot and bot.bot_owner is not None
        response = user_client.post(
            "/accounts/profile/tokens/",
            {"owner": str(bot.pk), "name": "ci", "scopes": "read,write"},
        )
        shown = response.content.decode().split("data-token-value>")[1].split("<")[0]
        client = Client()
        posted = client.post(
            "/api/v1/rooms/general/messages",
            {"text": "build passed"},
            content_type="application/json",
            headers=bearer(shown),
        )
        assert posted.status_code == 201
        assert posted.json()["message"]["bot"] is True


def test_logs_never_show_a_token(caplog) -> None:
    value = tokens.generate()
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "got %s", (value,), None)
    assert RedactTokens().filter(record)
    assert value not in record.getMessage() and "chat_…" in record.getMessage()
