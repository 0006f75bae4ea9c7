"""Errors the chat reports to clients, each with a code from the contract."""

from __future__ import annotations

from django.utils.translation import gettext


class ChatError(Exception):
    """An error reported to the client as ``{"type": "error", "code", "detail"}``."""

    code = "bad_request"
    status = 400
    # The room the failed command named, on a socket that follows several.
    room: str | None = None

    def __init__(self, detail: str, *, client_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # The message the error answers, when the client named one.
        self.client_id = client_id


class BadRequest(ChatError):
    code = "bad_request"
    status = 400


class AuthRequired(ChatError):
    code = "auth_required"
    status = 403


class Forbidden(ChatError):
    """The actor may not do this to this thing (say, edit another's message)."""

    code = "forbidden"
    status = 403


class InsufficientScope(Forbidden):
    """The request's token lacks the scope the action needs (``write``)."""

    code = "insufficient_scope"

    def __init__(self, *, client_id: str | None = None) -> None:
        super().__init__(gettext("This token may only read."), client_id=client_id)


class Unauthenticated(ChatError):
    """The request's credentials are not valid (an unknown or expired token)."""

    code = "unauthenticated"
    status = 401


class TooLarge(ChatError):
    code = "too_large"
    status = 413


class NotFound(ChatError):
    code = "not_found"
    status = 404


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(ChatError):
    """A part the answer needs (say, Redis) does not answer right now."""

    code = "unavailable"
    status = 503
