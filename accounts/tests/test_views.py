from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from conftest import PASSWORD


class SignupViewTests:
    def test_signing_up_logs_the_user_in(self, client: Client, db: None) -> None:
        response = client.post(
            "/accounts/signup/",
            {
                "username": "erin",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
                "display_name": "Erin ✨",
            },
        )
        assert response.status_code == 302
        user = User.objects.get(username="erin")
        assert user.display_name == "Erin ✨"
        assert client.session["_auth_user_id"] == str(user.pk)

    def test_the_display_name_is_optional(self, client: Client, db: None) -> None:
        client.post(
            "/accounts/signup/",
            {
                "username": "finn",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
            },
        )
        assert User.objects.get(username="finn").shown_name == "finn"

    def test_mismatched_passwords_show_the_form_again(
        self, client: Client, db: None
    ) -> None:
        response = client.post(
            "/accounts/signup/",
            {
                "username": "gus",
                "password1": "a-long-pass-123",
                "password2": "other-pass-456",
            },
        )
        assert response.status_code == 200
        assert not User.objects.filter(username="gus").exists()
        assert response.context["form"].errors["password2"]

    def test_a_bidi_display_name_is_refused(self, client: Client, db: None) -> None:
        response = client.post(
            "/accounts/signup/",
            {
                "username": "hal",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
                "display_name": "\u202eadmin",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["display_name"]

    def test_next_may_not_leave_the_site(self, client: Client, db: None) -> None:
        response = client.post(
            "/accounts/signup/?next=https://evil.example/",
            {
                "username": "ivy",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
            },
        )
        assert response["Location"] == "/"


class LoginLogoutTests:
    def test_log_in_and_out(self, client: Client, user: User) -> None:
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert client.session.get("_auth_user_id") == str(user.pk)
        client.post("/accounts/logout/")
        assert "_auth_user_id" not in client.session

    def test_a_wrong_password_is_refused(self, client: Client, user: User) -> None:
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": "wrong"}
        )
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


class ProfileViewTests:
    def test_the_display_name_can_be_changed(
        self, user_client: Client, user: User
    ) -> None:
        response = user_client.post("/accounts/profile/", {"display_name": "Ally"})
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.display_name == "Ally"

    def test_anonymous_visitors_are_sent_to_log_in(
        self, client: Client, db: None
    ) -> None:
        response = client.get("/accounts/profile/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def sign_up(client: Client, username: str, display_name: str = "") -> Any:
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
            "display_name": display_name,
        },
    )


class SignupNameTests:
    """Names are unique once case, width and spacing are ignored."""

    @pytest.mark.parametrize(
        ("first", "second"),
        # ASCII case is Django's own check; it must stay a form error too.
        [("élan", "Élan"), ("straße", "STRASSE"), ("alice", "ALICE")],
    )
    def test_a_username_in_another_case_is_refused(
        self, client: Client, make_user: Callable[..., User], first: str, second: str
    ) -> None:
        make_user(first)
        response = sign_up(client, second)
        assert response.status_code == 200
        assert response.context["form"].errors["username"] == [
            "A user with that username already exists."
        ]
        assert User.objects.count() == 1

    @pytest.mark.parametrize("lookalike", ["Ｍallory", "MALLORY", "mallory"])
    def test_a_display_name_that_is_another_users_username_is_refused(
        self, client: Client, make_user: Callable[..., User], lookalike: str
    ) -> None:
        make_user("mallory")
        response = sign_up(client, "eve", lookalike)
        assert response.status_code == 200
        assert response.context["form"].errors["display_name"] == [
            "Another user already goes by this name."
        ]
        assert "Another user already goes by this name." in response.content.decode()
        assert not User.objects.filter(username="eve").exists()

    def test_a_display_name_that_is_another_users_display_name_is_refused(
        self, client: Client, user: User
    ) -> None:
        response = sign_up(client, "eve", "ALICE")
        assert response.context["form"].errors["display_name"]

    def test_a_username_that_is_another_users_display_name_is_refused(
        self, client: Client, make_user: Callable[..., User]
    ) -> None:
        make_user("mallory", "Bob")
        response = sign_up(client, "BOB")
        assert response.context["form"].errors["username"] == [
            "Another user already goes by this name."
        ]

    def test_the_refusal_speaks_the_browsers_language(
        self, client: Client, user: User
    ) -> None:
        response = client.post(
            "/accounts/signup/",
            {"username": "eve", "display_name": "alice"},
            HTTP_ACCEPT_LANGUAGE="ru",
        )
        assert response.context["form"].errors["display_name"] == [
            "Это имя уже носит другой пользователь."
        ]

    def test_ones_own_username_is_a_fine_display_name(
        self, client: Client, db: None
    ) -> None:
        response = sign_up(client, "élan", "ÉLAN")
        assert response.status_code == 302
        assert User.objects.get(username="élan").display_name == "ÉLAN"


class LoginNameTests:
    def test_any_case_of_the_username_logs_its_user_in(
        self, client: Client, make_user: Callable[..., User]
    ) -> None:
        elan = make_user("élan")
        response = client.post(
            "/accounts/login/", {"username": "ÉLAN", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(elan.pk)


class ProfileNameTests:
    def test_another_users_name_is_refused_on_the_page(
        self, user_client: Client, user: User, make_user: Callable[..., User]
    ) -> None:
        make_user("robert", "Bobby")
        for taken in ("ROBERT", "Ｂobby"):
            response = user_client.post("/accounts/profile/", {"display_name": taken})
            assert response.status_code == 200
            assert response.context["form"].errors["display_name"] == [
                "Another user already goes by this name."
            ]
            # The page still shows the name the user really has.
            assert response.context["user"].shown_name == "Alice"
        user.refresh_from_db()
        assert user.display_name == "Alice"

    def test_ones_own_username_is_accepted(
        self, user_client: Client, user: User
    ) -> None:
        response = user_client.post("/accounts/profile/", {"display_name": "ALICE"})
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.display_name == "ALICE"


class SignupRaceTests:
    def test_a_name_taken_after_the_check_is_a_form_error_not_a_crash(
        self, client: Client, make_user: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        make_user("élan", "Élan")
        # As if "élan" signed up between the form's checks and the save.
        monkeypatch.setattr(User, "validate_names", lambda self, **kwargs: None)
        monkeypatch.setattr(User, "validate_unique", lambda self, exclude=None: None)
        response = client.post(
            "/accounts/signup/",
            {
                "username": "ÉLAN",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
            },
        )
        assert response.status_code == 200
        assert "Another user already goes by this name." in response.content.decode()
        assert User.objects.count() == 1
