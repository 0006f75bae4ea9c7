from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User


class CreateSuperuserTests:
    def test_a_username_in_another_case_is_refused(
        self, make_user: Callable[..., User]
    ) -> None:
        make_user("élan")
        with pytest.raises(CommandError, match="already taken"):
            call_command("createsuperuser", username="ÉLAN", interactive=False)
        assert User.objects.count() == 1

    def test_another_users_display_name_is_refused(
        self, make_user: Callable[..., User]
    ) -> None:
        make_user("mallory", "Root")
        with pytest.raises(CommandError, match="Another user already goes by"):
            call_command("createsuperuser", username="ROOT", interactive=False)

    def test_a_free_name_makes_a_superuser(self, db: None) -> None:
        call_command(
            "createsuperuser",
            username="root",
            email="",
            interactive=False,
            stdout=io.StringIO(),
        )
        assert User.objects.get_by_natural_key("Root").is_superuser


class RenameUserTests:
    """The migrated database; tests/test_migrations.py covers the one before."""

    def test_a_user_gets_new_names(self, user: User) -> None:
        out = io.StringIO()
        call_command(
            "rename_user", "alice", username="alicia", display_name="Ali", stdout=out
        )
        user.refresh_from_db()
        assert (user.username, user.display_name) == ("alicia", "Ali")
        assert User.objects.get_by_natural_key("ALICIA") == user
        assert "'alicia'" in out.getvalue()

    def test_a_taken_name_is_refused(self, user: User, other_user: User) -> None:
        with pytest.raises(CommandError, match="A user with that username"):
            call_command("rename_user", "alice", username="BOB")
        with pytest.raises(CommandError, match="Another user already goes by"):
            call_command("rename_user", "alice", display_name="bob")
        user.refresh_from_db()
        assert (user.username, user.display_name) == ("alice", "Alice")

    def test_an_unknown_user_or_no_new_name_is_an_error(self, user: User) -> None:
        with pytest.raises(CommandError, match="No user has the username 'ALICE'"):
            call_command("rename_user", "ALICE", username="alicia")
        with pytest.raises(CommandError, match="--username, --display-name"):
            call_command("rename_user", "alice")
