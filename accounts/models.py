from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.validators import DISPLAY_NAME_MAX_LENGTH


class User(AbstractUser):
    """A chat user: Django's user with the name shown on messages."""

    display_name = models.CharField(
        _("display name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        blank=True,
        help_text=_("Shown on your messages. Defaults to your username."),
    )

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        """Return the name shown on this user's messages."""
        return self.display_name or self.username
