"""Request types the account pages rely on."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that ``login_required`` let through: its user is a User."""

    user: User
