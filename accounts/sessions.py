"""
Whether the login behind a long-lived connection still holds.

A socket logs in by a session (the browser's cookie) or by a personal
access token; either is named by a *login key*: the session key, or
``token:<id>``.
"""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import AccessToken, User

TOKEN_KEY_PREFIX = "token:"


class Login(NamedTuple):
    """Who a live login acts as, and whether it may change anything."""

    user: User
    can_write: bool


def token_key(token: AccessToken) -> str:
    """Return the login key of a socket that logged in with ``token``."""
    return f"{TOKEN_KEY_PREFIX}{token.pk}"


def _live_sessions(keys: set[str]) -> dict[str, Login]:
    sessions = {
        session.session_key: session.get_decoded()
        for session in Session.objects.filter(
            session_key__in=keys, expire_date__gt=timezone.now()
        )
    }
    user_ids = [str(data.get(SESSION_KEY)) for data in sessions.values()]
    users = {str(user.pk): user for user in User.objects.filter(pk__in=user_ids)}
    live = {}
    for key, data in sessions.items():
        user = users.get(str(data.get(SESSION_KEY)))
        if (
            user is not None
            and user.is_active
            and data.get(BACKEND_SESSION_KEY)
            and constant_time_compare(
                data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
            )
        ):
            live[key] = Login(user, can_write=True)
    return live


def _live_tokens(keys: set[str]) -> dict[str, Login]:
    ids = [
        int(key.removeprefix(TOKEN_KEY_PREFIX))
        for key in keys
        if key.removeprefix(TOKEN_KEY_PREFIX).isdigit()
    ]
    return {
        token_key(token): Login(token.user, token.can_write)
        for token in AccessToken.objects.select_related("user").filter(pk__in=ids)
        if token.live
    }


def live_logins(keys: set[str]) -> dict[str, Login]:
    """
    Return the logins among ``keys`` that still hold, with who they are.

    A session ends with logout (it is deleted), expiry, a password change
    (its hash no longer matches) or the user's deactivation; a token with
    its revocation, expiry or the user's deactivation. At most three
    queries, however many keys.
    """
    token_keys = {key for key in keys if key.startswith(TOKEN_KEY_PREFIX)}
    live = _live_tokens(token_keys) if token_keys else {}
    if session_keys := keys - token_keys:
        live.update(_live_sessions(session_keys))
    return live


def ended_logins(keys: set[str]) -> set[str]:
    """Return the login keys among ``keys`` that no longer log anyone in."""
    return keys - set(live_logins(keys))
