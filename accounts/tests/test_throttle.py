"""Guessing passwords and mass sign-ups, tried the way an outsider would."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from accounts.models import User
from accounts.services import user_create
from conftest import PASSWORD


class CountingHasher(PBKDF2PasswordHasher):
    """PBKDF2 that counts how many passwords it was asked to check."""

    checks: ClassVar[int] = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_LOGIN = "3/300"
    settings.RATE_LIMIT_LOGIN_IP = "10/300"
    settings.RATE_LIMIT_LOGIN_USER = "20/3600"
    settings.RATE_LIMIT_SIGNUP = "2/600"
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checks = 0
    return settings


def login(
    client: Client, username: str, password: str, path: str = "/accounts/login/"
) -> Any:
    return client.post(path, {"username": username, "password": password})


def page(response: Any) -> str:
    """The page as an attacker compares it: without the re-masked CSRF token."""
    return re.sub(r'value="[^"]{64}"', 'value=""', response.content.decode())


class LoginThrottleTests:
    def test_while_throttled_a_right_and_a_wrong_password_look_the_same(
        self, limits: Any, user: User
    ) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(3):
            assert login(attacker, "alice", "guess").status_code == 200
        checked = CountingHasher.checks
        right = login(attacker, "alice", PASSWORD)
        wrong = login(attacker, "alice", "another-guess")
        assert right.status_code == wrong.status_code == 429
        assert page(right) == page(wrong)
        assert "Too many failed attempts" in page(right)
        assert 1 <= int(right["Retry-After"]) <= 300
        assert abs(int(right["Retry-After"]) - int(wrong["Retry-After"])) <= 1
        assert "_auth_user_id" not in attacker.session
        assert CountingHasher.checks == checked, "a throttled password was checked"

    def test_a_stranger_cannot_lock_out_a_user_who_logs_in_from_elsewhere(
        self, limits: Any, user: User
    ) -> None:
        stranger = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(5):
            login(stranger, "alice", "guess")
        assert login(stranger, "alice", PASSWORD).status_code == 429
        alice = Client(REMOTE_ADDR="198.51.100.7")
        assert login(alice, "alice", PASSWORD).status_code == 302
        assert alice.session["_auth_user_id"] == str(user.pk)

    def test_one_address_cannot_try_many_usernames(
        self, limits: Any, make_user: Any
    ) -> None:
        make_user("zoe")
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for n in range(10):
            login(attacker, f"user{n}", "guess")
        assert login(attacker, "zoe", PASSWORD).status_code == 429
        assert (
            login(Client(REMOTE_ADDR="198.51.100.7"), "zoe", PASSWORD).status_code
            == 302
        )

    def test_a_distributed_attack_on_one_username_reaches_its_ceiling(
        self, limits: Any, user: User
    ) -> None:
        for n in range(20):
            login(Client(REMOTE_ADDR=f"203.0.113.{n}"), "alice", "guess")
        assert (
            login(Client(REMOTE_ADDR="198.51.100.7"), "alice", PASSWORD).status_code
            == 429
        )

    def test_the_username_is_throttled_in_every_case(
        self, limits: Any, user: User
    ) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for name in ("alice", "ALICE", "Alice"):
            login(attacker, name, "guess")
        assert login(attacker, "alice", PASSWORD).status_code == 429

    def test_a_successful_login_takes_its_attempt_back(
        self, limits: Any, user: User
    ) -> None:
        alice = Client(REMOTE_ADDR="198.51.100.7")
        for _ in range(5):
            assert login(alice, "alice", PASSWORD).status_code == 302
            alice.logout()
        assert login(alice, "alice", PASSWORD).status_code == 302

    def test_an_unknown_user_and_a_wrong_password_look_the_same(
        self, limits: Any, user: User
    ) -> None:
        wrong = login(Client(), "alice", "no")
        unknown = login(Client(), "nobody", "no")
        assert wrong.status_code == unknown.status_code == 200
        assert wrong.context["form"].errors == unknown.context["form"].errors


class AdminLoginThrottleTests:
    @pytest.fixture
    def admin_user(self, db: None) -> User:
        admin = user_create(username="root", password=PASSWORD)
        admin.is_staff = admin.is_superuser = True
        admin.save()
        return admin

    def test_guessing_in_the_admin_is_throttled(
        self, limits: Any, admin_user: User
    ) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(40):
            login(attacker, "root", "guess", "/admin/login/")
        checked = CountingHasher.checks
        response = login(attacker, "root", PASSWORD, "/admin/login/")
        assert response.status_code == 429
        assert "_auth_user_id" not in attacker.session
        assert CountingHasher.checks == checked
        assert attacker.get("/admin/").status_code == 302

    def test_the_admin_and_the_pages_share_one_throttle(
        self, limits: Any, admin_user: User
    ) -> None:
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(3):
            login(attacker, "root", "guess")
        assert login(attacker, "root", PASSWORD, "/admin/login/").status_code == 429
        assert "_auth_user_id" not in attacker.session

    def test_staff_still_log_in_to_the_admin(
        self, limits: Any, admin_user: User
    ) -> None:
        client = Client()
        assert login(client, "root", PASSWORD, "/admin/login/").status_code == 302
        assert client.get("/admin/").status_code == 200


class SignupThrottleTests:
    def test_sign_ups_are_limited_per_address(self, limits: Any, db: None) -> None:
        client = Client(REMOTE_ADDR="203.0.113.9")
        for n in range(2):
            response = client.post(
                "/accounts/signup/",
                {"username": f"bot{n}", "password1": PASSWORD, "password2": PASSWORD},
            )
            assert response.status_code == 302
            client.logout()
        refused = client.post(
            "/accounts/signup/",
            {"username": "bot9", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many sign-ups" in refused.content.decode()
        assert not User.objects.filter(username="bot9").exists()
        other = Client(REMOTE_ADDR="198.51.100.7").post(
            "/accounts/signup/",
            {"username": "human", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert other.status_code == 302

    def test_a_throttled_sign_up_does_not_say_whether_a_username_is_taken(
        self, limits: Any, user: User
    ) -> None:
        client = Client(REMOTE_ADDR="203.0.113.9")
        for n in range(2):
            client.post("/accounts/signup/", {"username": f"x{n}", "password1": "a"})
        taken = client.post(
            "/accounts/signup/", {"username": "alice", "password1": "a"}
        )
        free = client.post("/accounts/signup/", {"username": "alicf", "password1": "a"})
        assert taken.status_code == free.status_code == 429
        assert page(taken).replace("alice", "") == page(free).replace("alicf", "")


class PasswordConfirmationThrottleTests:
    """A stolen session must not become a password oracle either."""

    @pytest.mark.parametrize(
        ("path", "field", "extra"),
        [
            ("/accounts/password/change/", "old_password", {"new_password1": "x"}),
            ("/accounts/profile/sessions/", "password", {}),
            ("/accounts/profile/delete/", "password", {}),
        ],
    )
    def test_guessing_a_password_again_is_throttled_like_a_login(
        self, limits: Any, user: User, path: str, field: str, extra: dict[str, str]
    ) -> None:
        thief = Client(REMOTE_ADDR="203.0.113.9")
        thief.force_login(user)
        for _ in range(3):
            response = thief.post(path, {field: "guess", **extra})
            assert response.status_code == 200
            assert "not your password" in response.content.decode().lower() or (
                "incorrect" in response.content.decode().lower()
            )
        checked = CountingHasher.checks
        response = thief.post(path, {field: PASSWORD, **extra})
        assert "Too many failed attempts" in response.content.decode()
        assert CountingHasher.checks == checked, "a throttled password was checked"
        assert User.objects.filter(pk=user.pk).exists()
