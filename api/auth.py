"""
Who an API v1 request acts as: a personal access token, the browser's
session (with Django's CSRF check on writes), or a guest where reading
is open to anyone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from accounts.models import AccessToken, User
from accounts.tokens import bearer
from chat.exceptions import InsufficientScope, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: a personal access token."""

    def __call__(self, request: HttpRequest) -> AccessToken | None:
        value = bearer(request.headers.get("Authorization"))
        return None if value is None else self.authenticate(request, value)

    def authenticate(self, request: HttpRequest, token: str) -> AccessToken:
        found = AccessToken.objects.find(token)
        if found is None:
            # Not silently a guest: the program should hear its token failed.
            raise Unauthenticated(
                _("The token is not valid: unknown, revoked or expired.")
            )
        if request.method not in SAFE_METHODS and not found.can_write:
            raise InsufficientScope()
        request.user = found.user
        return found


class SessionCookie(APIKeyCookie):
    """The page's own login: the session cookie, with Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # No session cookie, no forgery to fear: a plain "log in" answer.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if isinstance(user, User) and user.is_authenticated else None


def guest(request: HttpRequest) -> AnonymousUser:
    """Anyone, where reading is open to guests (public rooms)."""
    return AnonymousUser()


token_auth = BearerToken()
session_auth = SessionCookie()
# A login is needed (writes, and what is one's own).
LOGIN = [token_auth, session_auth]
# Anyone may ask; a login sees more (their private rooms, their counts).
ANYONE = [token_auth, session_auth, guest]
# OpenAPI: the same schemes, or none at all.
ANYONE_SECURITY: dict[str, Any] = {
    "security": [{"BearerToken": []}, {"SessionCookie": []}, {}]
}


def token_of(request: HttpRequest) -> AccessToken | None:
    """Return the token a request came with (None for a session or a guest)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, AccessToken) else None
