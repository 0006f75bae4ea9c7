"""
The brake on guessing passwords and on mass sign-ups.

Every way to log in (the login page, the admin, and any later API) goes
through ``authenticate()`` and so through ``ThrottledModelBackend``, which
counts each attempt before it checks a password. Past a limit the password
is not checked at all and every answer is the same, whatever was typed, so
a throttled attacker learns nothing from guessing on.

Attempts are counted per (username, address), so that a stranger elsewhere
cannot lock a user out; per address, so that one address cannot try many
usernames; and per username with a high ceiling, which only an attack from
many addresses reaches. A successful login takes its attempt back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.validators import fold
from chat import ratelimit

# Set on the request when a login was refused unchecked: the seconds to wait.
RETRY_AFTER_ATTR = "login_retry_after"


@dataclass(frozen=True)
class Limit:
    scope: str
    subject: str
    rates: str

    def hit(self) -> int | None:
        return ratelimit.hit(
            self.scope, self.subject, ratelimit.parse_rates(self.rates)
        )

    def refund(self) -> None:
        ratelimit.refund(self.scope, self.subject, ratelimit.parse_rates(self.rates))


def _hit_all(limits: list[Limit]) -> int | None:
    """Count one event against each of ``limits``; return the longest wait."""
    waits = [wait for limit in limits if (wait := limit.hit()) is not None]
    return max(waits, default=None)


def client_address(request: HttpRequest | None) -> str:
    """Return the address a request came from, as the server sees it."""
    if request is None:
        return "unknown"
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _login_limits(request: HttpRequest | None, username: str) -> list[Limit]:
    # Case and width variants of a name are one user.
    name = fold(username[:150])
    address = client_address(request)
    return [
        Limit("login", f"{name}@{address}", settings.RATE_LIMIT_LOGIN),
        Limit("login-ip", address, settings.RATE_LIMIT_LOGIN_IP),
        Limit("login-user", name, settings.RATE_LIMIT_LOGIN_USER),
    ]


class LoginThrottled(PermissionDenied):
    """Too many attempts: the password was not checked."""


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password backend, counting every attempt first."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None or password is None:
            return None
        limits = _login_limits(request, str(username))
        # Count before checking, so that parallel guesses cannot all slip in
        # before the first failure is counted.
        retry_after = _hit_all(limits)
        if retry_after is not None:
            if request is not None:
                setattr(request, RETRY_AFTER_ATTR, retry_after)
            # authenticate() stops at PermissionDenied: no other backend and
            # no password hasher runs.
            raise LoginThrottled
        user = super().authenticate(request, username, password, **kwargs)
        if user is not None:
            for limit in limits:
                limit.refund()
        return user


def password_confirmed(request: HttpRequest, user: Any, password: str) -> bool:
    """
    Return whether ``password`` is ``user``'s, asked the way a login asks.

    A page that asks for the password again before a grave step (changing
    it, logging out other sessions, deleting the account) is as good an
    oracle as the login page: it goes through the same throttle.
    """
    confirmed = authenticate(request, username=user.get_username(), password=password)
    return confirmed is not None and confirmed.pk == user.pk


def login_retry_after(request: HttpRequest) -> int | None:
    """Return the wait if this request's login was refused unchecked."""
    return getattr(request, RETRY_AFTER_ATTR, None)


def throttled_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Mark a login page answered while throttled: 429 with Retry-After."""
    retry_after = login_retry_after(request)
    if retry_after is not None:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


def password_reset_retry_after(request: HttpRequest, email: str) -> int | None:
    """
    Count a password-reset request for ``email`` from the request's address;
    return the wait if either asked too often (then no mail is sent).

    Per mailbox, so that nobody's inbox can be flooded; per address, so that
    one client cannot probe or mail many addresses.
    """
    # A digest: the cache holds no addresses, and any address makes a key.
    mailbox = hashlib.sha256(fold(email).encode()).hexdigest()
    limits = [
        Limit("reset-mailbox", mailbox, settings.RATE_LIMIT_PASSWORD_RESET),
        Limit("reset-ip", client_address(request), settings.RATE_LIMIT_PASSWORD_RESET),
    ]
    return _hit_all(limits)


def signup_retry_after(request: HttpRequest) -> int | None:
    """Count a sign-up attempt from the address; return the wait if too many."""
    return Limit("signup", client_address(request), settings.RATE_LIMIT_SIGNUP).hit()
