from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import NameClaim, User

BEFORE = [("accounts", "0001_initial")]
NAME_KEYS = [("accounts", "0002_name_keys")]


def migrate(targets: list[tuple[str, str]]) -> None:
    # A fresh executor each time: each reads which migrations are applied.
    MigrationExecutor(connection).migrate(targets)


@pytest.fixture
def before_name_keys(transactional_db: None) -> Iterator[None]:
    """The database as it was before names were unique once folded."""
    migrate(BEFORE)
    try:
        yield
    finally:
        # Colliding users would stop the way back to the latest schema.
        tables = connection.introspection.table_names()
        with connection.cursor() as cursor:
            for model in (NameClaim, User):
                if model._meta.db_table in tables:
                    cursor.execute(f"DELETE FROM {model._meta.db_table}")
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def add_old_users(*names: tuple[str, str]) -> dict[str, int]:
    """Store users as the old schema did, with no folded keys; return ids."""
    old_apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    OldUser = old_apps.get_model("accounts", "User")
    return {
        username: OldUser.objects.create(
            username=username, display_name=display_name, password="!"
        ).pk
        for username, display_name in names
    }


class NameKeysMigrationTests:
    def test_collisions_stop_it_with_every_user_named_and_the_fix(
        self, before_name_keys: None
    ) -> None:
        ids = add_old_users(
            ("élan", "élan"),
            ("Élan", ""),
            ("bob", "Mallory"),
            ("Ｍallory", "M."),
            ("carol", "Carol"),
        )
        with pytest.raises(CommandError) as error:
            migrate(NAME_KEYS)
        message = str(error.value)
        assert (
            f"'élan' is held by 'élan' (id {ids['élan']}, display name 'élan'), "
            f"'Élan' (id {ids['Élan']}, display name '')"
        ) in message
        assert (
            f"'mallory' is held by 'bob' (id {ids['bob']}, display name 'Mallory'), "
            f"'Ｍallory' (id {ids['Ｍallory']}, display name 'M.')"
        ) in message
        assert "carol" not in message
        assert "python manage.py rename_user" in message
        # Nothing of it stayed: the migration is all or nothing.
        assert ("accounts", "0002_name_keys") not in (
            MigrationExecutor(connection).loader.applied_migrations
        )

    def test_rename_user_clears_the_collisions_then_it_applies(
        self, before_name_keys: None
    ) -> None:
        add_old_users(("élan", "élan"), ("Élan", ""), ("bob", "Mallory"))
        with pytest.raises(CommandError, match="Another user holds the new name"):
            call_command("rename_user", "Élan", username="BOB")
        call_command(
            "rename_user",
            "Élan",
            username="elan2",
            display_name="Élan Two",
            stdout=io.StringIO(),
        )
        migrate(NAME_KEYS)
        # The current model needs the later columns too (bots, tokens).
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        renamed = User.objects.get_by_natural_key("ELAN2")
        assert renamed.display_name == "Élan Two"
        assert User.objects.get_by_natural_key("ÉLAN").username == "élan"
        assert set(NameClaim.objects.values_list("key", flat=True)) == {
            "élan",
            "elan2",
            "élan two",
            "bob",
            "mallory",
        }
