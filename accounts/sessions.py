"""Whether the login behind a long-lived connection still holds."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User


def live_sessions(keys: set[str]) -> dict[str, User]:
    """
    Return the sessions among ``keys`` that still log a user in, with the user.

    A session ends with logout (it is deleted), expiry, a password change
    (its hash no longer matches) or the user's deactivation. Costs two
    queries, however many keys.
    """
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
            live[key] = user
    return live


def ended_sessions(keys: set[str]) -> set[str]:
    """Return the session keys among ``keys`` that no longer log anyone in."""
    return keys - set(live_sessions(keys))


def session_user(key: str | None) -> User | None:
    """Return the user the session ``key`` still logs in, or None."""
    return live_sessions({key}).get(key) if key else None
