from __future__ import annotations

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
