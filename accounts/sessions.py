"""
Whether the login behind a long-lived connection still holds.

A socket logs in by a session (the browser's cookie) or by a personal
access token; either is named by a *login key*: the session key, or
``token:<id>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import AccessToken, User

TOKEN_KEY_PREFIX = "token:"
# How old a socket's check of its login may be when it sends (see
# RecentLogins); docs/security.md says so.
LOGIN_RECHECK_SECONDS = 1.0
# Checks kept before the expired ones are dropped.
RECENT_LOGINS_KEPT = 4096


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


class RecentLogins:
    """
    The logins found live in the last LOGIN_RECHECK_SECONDS, for the checks
    the sockets' commands make on every send: a socket that sends many
    times a second costs one check a second, not one per turn (two queries,
    and a fifth of the database thread's time with one busy writer).

    The checks that fall due within half that time, of logins used within
    it, are made together with one that is due: two hundred people each
    posting once a second cost a few checks a second, not one per post
    (every post found its check a second old, and a quarter of the
    database thread's time went on them).

    A login that ends is refused at the latest that much later. One ended
    in this process (a logout deletes its session) is forgotten at once, and
    so are a user's logins when the user is saved here (a new name shows on
    their next post); an event that asks every hub to check the logins (a password
    change, "log out other sessions", a revoked token) forgets them all.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # By login key: when it was checked, the login, when it was last used.
        self._checked: dict[str, tuple[float, Login, float]] = {}

    def live(self, keys: set[str]) -> dict[str, Login]:
        """Return the logins among ``keys`` that hold (see ``live_logins``)."""
        now = self.clock()
        live: dict[str, Login] = {}
        for key in keys:
            checked = self._checked.get(key)
            if checked is not None and now - checked[0] < LOGIN_RECHECK_SECONDS:
                live[key] = checked[1]
                self._checked[key] = (checked[0], checked[1], now)
        if unchecked := keys - live.keys():
            # Along with them, the logins used within the interval whose
            # checks are at least half of it old.
            checking = unchecked | {
                key
                for key, (at, _login, used) in self._checked.items()
                if now - at >= LOGIN_RECHECK_SECONDS / 2
                and now - used < LOGIN_RECHECK_SECONDS
            }
            found = live_logins(checking)
            for key in checking:
                if key in found:
                    used = now if key in keys else self._checked[key][2]
                    self._checked[key] = (now, found[key], used)
                else:
                    self._checked.pop(key, None)
            if len(self._checked) > RECENT_LOGINS_KEPT:
                self._checked = {
                    key: checked
                    for key, checked in self._checked.items()
                    if now - checked[0] < LOGIN_RECHECK_SECONDS
                }
            live.update((key, found[key]) for key in unchecked if key in found)
        return live

    def forget(self, key: str | None = None) -> None:
        """Check ``key`` (None: every login) in the database again next time."""
        if key is None:
            self._checked = {}
        else:
            self._checked.pop(key, None)

    def forget_user(self, user_id: int) -> None:
        """Check the logins of user ``user_id`` in the database again next time."""
        for key, (_at, login, _used) in list(self._checked.items()):
            if login.user.pk == user_id:
                self._checked.pop(key, None)


recent_logins = RecentLogins()


def session_deleted(instance: Session, **_kwargs: object) -> None:
    """A session was deleted (a logout): its sockets are refused at once."""
    recent_logins.forget(instance.session_key)


def user_saved(instance: User, **_kwargs: object) -> None:
    """A user changed here (a new name, say): their next command checks anew."""
    recent_logins.forget_user(instance.pk)
