from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import user_create, user_rename, user_set_display_name
from conftest import PASSWORD

LOOKALIKE_USERNAMES = [("élan", "Élan"), ("straße", "STRASSE"), ("Ｍallory", "mallory")]


def refused_fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.message_dict)


class UserCreateTests:
    def test_the_display_name_defaults_to_the_username(self, db: None) -> None:
        user = user_create(username="carol", password="a-long-pass-123")
        assert user.display_name == "carol"
        assert user.check_password("a-long-pass-123")

    def test_a_weak_password_is_refused(self, db: None) -> None:
        with pytest.raises(ValidationError):
            user_create(username="dave", password="123")
        assert not User.objects.filter(username="dave").exists()

    @pytest.mark.parametrize(("first", "second"), LOOKALIKE_USERNAMES)
    def test_usernames_that_fold_alike_are_one_username(
        self, db: None, first: str, second: str
    ) -> None:
        user_create(username=first, password=PASSWORD)
        with pytest.raises(ValidationError) as error:
            user_create(username=second, password=PASSWORD)
        assert refused_fields(error) == {"username"}
        assert User.objects.count() == 1

    def test_a_display_name_may_not_be_another_users_username(
        self, other_user: User
    ) -> None:
        with pytest.raises(ValidationError) as error:
            user_create(username="mallory", password=PASSWORD, display_name="ＢOB")
        assert refused_fields(error) == {"display_name"}

    def test_a_display_name_may_not_be_another_users_display_name(
        self, make_user: Callable[..., User]
    ) -> None:
        make_user("robert", "Bobby Tables")
        with pytest.raises(ValidationError) as error:
            user_create(
                username="mallory", password=PASSWORD, display_name="bobby  TABLES"
            )
        assert refused_fields(error) == {"display_name"}

    def test_a_username_may_not_be_another_users_display_name(
        self, make_user: Callable[..., User]
    ) -> None:
        make_user("mallory", "Bob")
        with pytest.raises(ValidationError) as error:
            user_create(username="bob", password=PASSWORD)
        assert error.value.message_dict == {
            "username": ["Another user already goes by this name."]
        }

    def test_ones_own_username_is_a_fine_display_name(self, db: None) -> None:
        user = user_create(username="dana", password=PASSWORD, display_name="DANA")
        assert user.shown_name == "DANA"


class UserSetDisplayNameTests:
    def test_the_name_changes(self, user: User) -> None:
        user_set_display_name(user=user, display_name="  Alice Cooper ")
        user.refresh_from_db()
        assert user.shown_name == "Alice Cooper"

    def test_a_bad_name_keeps_the_old_one(self, user: User) -> None:
        with pytest.raises(ValidationError):
            user_set_display_name(user=user, display_name="\u202eevil")
        user.refresh_from_db()
        assert user.display_name == "Alice"

    def test_another_users_name_is_refused_and_the_old_one_kept(
        self, user: User, make_user: Callable[..., User]
    ) -> None:
        make_user("robert", "Bobby")
        for taken in ("ROBERT", "bobby"):
            with pytest.raises(ValidationError):
                user_set_display_name(user=user, display_name=taken)
            assert user.display_name == "Alice"
            user.refresh_from_db()
            assert user.display_name == "Alice"

    def test_ones_own_username_in_any_case_is_fine(self, user: User) -> None:
        user_set_display_name(user=user, display_name="ALICE")
        user.refresh_from_db()
        assert user.display_name == "ALICE"


class UserRenameTests:
    def test_a_rename_frees_the_old_names(
        self, user: User, make_user: Callable[..., User]
    ) -> None:
        user_rename(user=user, username="Alicia", display_name="Alicia K.")
        user.refresh_from_db()
        assert (user.username, user.display_name) == ("Alicia", "Alicia K.")
        assert User.objects.get_by_natural_key("alicia") == user
        make_user("alice", "Alice")

    def test_a_taken_name_is_refused(self, user: User, other_user: User) -> None:
        with pytest.raises(ValidationError) as error:
            user_rename(user=user, username="BOB")
        assert refused_fields(error) == {"username"}
        user.refresh_from_db()
        assert user.username == "alice"
