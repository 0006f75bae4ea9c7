from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction

from accounts.models import NameClaim, User

LOOKALIKE_USERNAMES = [("élan", "Élan"), ("straße", "STRASSE"), ("Ｍallory", "mallory")]


class UserNameConstraintTests:
    """The database itself refuses a name another user holds."""

    @pytest.mark.parametrize(("first", "second"), LOOKALIKE_USERNAMES)
    def test_usernames_that_fold_alike_cannot_both_be_stored(
        self, db: None, first: str, second: str
    ) -> None:
        User.objects.create(username=first)
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username=second)
        assert User.objects.count() == 1

    def test_a_display_name_cannot_be_stored_as_another_users_username(
        self, db: None
    ) -> None:
        User.objects.create(username="bob")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="mallory", display_name="BOB")
        assert not User.objects.filter(username="mallory").exists()

    def test_a_username_cannot_be_stored_as_another_users_display_name(
        self, db: None
    ) -> None:
        User.objects.create(username="mallory", display_name="Ｂob")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="bob")

    def test_a_display_name_change_cannot_take_another_users_display_name(
        self, db: None
    ) -> None:
        User.objects.create(username="bob", display_name="Robert")
        mallory = User.objects.create(username="mallory")
        mallory.display_name = "robert"
        with pytest.raises(IntegrityError), transaction.atomic():
            mallory.save(update_fields=["display_name"])

    def test_a_display_name_may_be_ones_own_username(self, db: None) -> None:
        user = User.objects.create(username="dana", display_name="DANA")
        assert set(user.name_claims.values_list("key", flat=True)) == {"dana"}


class UserNameKeyTests:
    def test_a_rename_frees_the_old_names(self, db: None) -> None:
        user = User.objects.create(username="olga", display_name="Olga")
        user.username, user.display_name = "olha", "Olha"
        user.save(update_fields=["username", "display_name"])
        assert user.username_key == "olha"
        assert set(user.name_claims.values_list("key", flat=True)) == {"olha"}
        User.objects.create(username="OLGA")

    def test_saving_other_fields_leaves_the_names_alone(self, user: User) -> None:
        user.first_name = "Alice"
        user.save(update_fields=["first_name"])
        user.save()
        assert set(NameClaim.objects.values_list("key", "user")) == {("alice", user.pk)}

    def test_any_case_or_width_of_a_username_finds_the_user(
        self, make_user: Callable[..., User]
    ) -> None:
        elan = make_user("élan")
        assert User.objects.get_by_natural_key("ÉLAN") == elan
        assert User.objects.get_by_natural_key("e\u0301lan") == elan
        with pytest.raises(User.DoesNotExist):
            User.objects.get_by_natural_key("elan")

    @pytest.mark.django_db(transaction=True)
    async def test_the_async_lookup_folds_too(self, user: User) -> None:
        found = await User.objects.aget_by_natural_key("ALICE")
        assert found.pk == user.pk
