from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from conftest import PASSWORD


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    return client


def change_data(user: User, **changes: str) -> dict[str, str]:
    """Return what the admin's change form posts for ``user``."""
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
    return {**data, **changes}


class UserAdminNameTests:
    def test_adding_a_username_in_another_case_is_a_field_error(
        self, admin_client: Client, make_user: Callable[..., User]
    ) -> None:
        make_user("élan")
        response = admin_client.post(
            "/admin/accounts/user/add/",
            {
                "username": "ÉLAN",
                "usable_password": "true",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
            },
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["username"] == [
            "A user with that username already exists."
        ]
        assert not User.objects.filter(username="ÉLAN").exists()

    def test_adding_another_users_display_name_as_username_is_a_field_error(
        self, admin_client: Client, make_user: Callable[..., User]
    ) -> None:
        make_user("mallory", "Bob")
        response = admin_client.post(
            "/admin/accounts/user/add/",
            {
                "username": "bob",
                "usable_password": "false",
            },
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["username"]

    def test_changing_to_another_users_name_is_a_field_error(
        self, admin_client: Client, user: User, make_user: Callable[..., User]
    ) -> None:
        mallory = make_user("mallory")
        url = f"/admin/accounts/user/{mallory.pk}/change/"
        response = admin_client.post(url, change_data(mallory, display_name="ALICE"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["display_name"] == [
            "Another user already goes by this name."
        ]
        response = admin_client.post(url, change_data(mallory, username="Alice"))
        assert response.context["adminform"].form.errors["username"]
        mallory.refresh_from_db()
        assert (mallory.username, mallory.display_name) == ("mallory", "mallory")

    def test_a_change_to_ones_own_username_is_saved(
        self, admin_client: Client, user: User
    ) -> None:
        url = f"/admin/accounts/user/{user.pk}/change/"
        response = admin_client.post(url, change_data(user, display_name="ALICE"))
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.display_name == "ALICE"

    def test_the_list_shows_both_names(
        self, admin_client: Client, make_user: Callable[..., User]
    ) -> None:
        make_user("bob", "Robert")
        page = admin_client.get("/admin/accounts/user/").content.decode()
        assert ">bob<" in page
        assert ">Robert<" in page

    @pytest.mark.parametrize(
        ("username", "search"), [("élan", "ÉLAN"), ("straße", "STRASSE")]
    )
    def test_search_finds_any_case_of_a_name(
        self,
        admin_client: Client,
        make_user: Callable[..., User],
        username: str,
        search: str,
    ) -> None:
        make_user(username)
        make_user("bob")
        response = admin_client.get("/admin/accounts/user/", {"q": search})
        assert [u.username for u in response.context["cl"].result_list] == [username]
