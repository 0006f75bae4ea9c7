"""Make a personal access token for a user and print it (shown this once)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from accounts.services import token_create


class Command(BaseCommand):
    help = (
        "Make a personal access token for USERNAME and print it. Only its "
        "hash is stored: copy it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="exactly as stored")
        parser.add_argument("--name", default="command line", help="what it is for")
        parser.add_argument(
            "--scopes", default="read,write", help="read, or read,write (default)"
        )
        parser.add_argument(
            "--days", type=int, help="expires after this many days (default: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days is a number of days, 1 or more.")
        try:
            _token, value = token_create(
                user=user,
                name=options["name"],
                scopes=[s.strip() for s in options["scopes"].split(",") if s.strip()],
                expires=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(value)
