"""Django's createsuperuser, refusing a name another user already goes by."""

from __future__ import annotations

from django.contrib.auth.management.commands import createsuperuser
from django.core.exceptions import ValidationError

from accounts.models import User


class Command(createsuperuser.Command):
    def _validate_username(
        self, username: str, verbose_field_name: str, database: str
    ) -> str | None:
        # Django's check finds another username of any case or width (through
        # get_by_natural_key); this one also finds another user's display
        # name, which the new user's default display name would collide with.
        # A private hook, but the one both the prompt and --noinput go
        # through.
        error: str | None = super()._validate_username(  # type: ignore[misc]
            username, verbose_field_name, database
        )
        if error:
            return error
        try:
            User(username=User.normalize_username(username)).validate_names()
        except ValidationError as refusal:
            return "Error: " + " ".join(refusal.messages)
        return None
