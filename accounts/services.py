"""Every change to an account goes through a function here."""

from __future__ import annotations

import logging

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User
from accounts.validators import clean_display_name

logger = logging.getLogger(__name__)


@transaction.atomic
def user_create(*, username: str, password: str, display_name: str = "") -> User:
    """Create a user; the display name defaults to the username."""
    user = User(username=username)
    user.display_name = clean_display_name(display_name or username)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    logger.info("user signed up: %s", user.username)
    return user


def user_set_display_name(*, user: User, display_name: str) -> User:
    """Change the name shown on the user's messages, old ones included."""
    user.display_name = clean_display_name(display_name)
    user.save(update_fields=["display_name"])
    logger.info("display name changed: %s -> %r", user.username, user.display_name)
    return user
