from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import user_create, user_set_display_name


class UserCreateTests:
    def test_the_display_name_defaults_to_the_username(self, db: None) -> None:
        user = user_create(username="carol", password="a-long-pass-123")
        assert user.display_name == "carol"
        assert user.check_password("a-long-pass-123")

    def test_a_weak_password_is_refused(self, db: None) -> None:
        with pytest.raises(ValidationError):
            user_create(username="dave", password="123")
        assert not User.objects.filter(username="dave").exists()


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
