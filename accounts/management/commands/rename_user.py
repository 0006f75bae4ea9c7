"""
Give a user another username, display name or both.

Works before the migration that makes names unique once folded
(accounts.0002_name_keys), to clear the collisions that stop it, and after.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder

from accounts.models import User
from accounts.services import user_rename
from accounts.validators import (
    NameHolder,
    clean_display_name,
    describe_collisions,
    name_collisions,
    name_keys,
)

NAME_KEYS_MIGRATION = ("accounts", "0002_name_keys")


class Command(BaseCommand):
    help = (
        "Give a user another username (--username), display name "
        "(--display-name) or both. Names must stay unique once case, width "
        "and spacing are ignored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("current", metavar="USERNAME", help="exactly as stored")
        parser.add_argument("--username", help="the new username")
        parser.add_argument("--display-name", help="the new display name")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        username, display_name = options["username"], options["display_name"]
        if username is None and display_name is None:
            raise CommandError("Give --username, --display-name or both.")
        database = options["database"]
        users = User.objects.using(database)
        # Before the migration the new columns do not exist: read and write
        # only the ones that do.
        row = (
            users.filter(username=options["current"])
            .values_list("id", "username", "display_name")
            .first()
        )
        if row is None:
            raise CommandError(f"No user has the username {options['current']!r}.")
        try:
            if (
                NAME_KEYS_MIGRATION
                in MigrationRecorder(connections[database]).applied_migrations()
            ):
                user = user_rename(
                    user=users.get(pk=row[0]),
                    username=username,
                    display_name=display_name,
                )
                holder = NameHolder(user.pk, user.username, user.display_name)
            else:
                holder = _rename_before_migration(
                    NameHolder(*row), username, display_name, database
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Renamed {row[1]!r}: username {holder.username!r}, "
            f"display name {holder.display_name!r}."
        )


def _rename_before_migration(
    user: NameHolder, username: str | None, display_name: str | None, database: str
) -> NameHolder:
    renamed = NameHolder(
        user.id,
        user.username if username is None else _clean_username(username),
        user.display_name if display_name is None else clean_display_name(display_name),
    )
    users = User.objects.using(database)
    others = users.exclude(pk=user.id).values_list("id", "username", "display_name")
    # Only names the user newly takes count: one step at a time must be
    # possible when two users each hold the other's name.
    kept = name_keys(user.username, user.display_name)
    collisions = {
        key: holders
        for key, holders in name_collisions(
            [renamed, *(NameHolder(*row) for row in others)]
        ).items()
        if renamed in holders and key not in kept
    }
    if collisions:
        raise CommandError(
            "Another user holds the new name:\n" + describe_collisions(collisions)
        )
    users.filter(pk=user.id).update(
        username=renamed.username, display_name=renamed.display_name
    )
    return renamed


def _clean_username(username: str) -> str:
    # What full_clean() does to a username: NFKC, then the field's checks.
    username = User.normalize_username(username)
    return str(User._meta.get_field("username").clean(username, None))
