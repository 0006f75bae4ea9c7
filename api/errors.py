"""Every API v1 error in the contract's one shape (chat/protocol.error_payload)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chat.api import error_response
from chat.exceptions import (
    AuthRequired,
    BadRequest,
    ChatError,
    Forbidden,
    NotFound,
    TooLarge,
)
from chat.protocol import error_payload

# HTTP errors ninja raises itself (an unparsable body, a failed CSRF check).
_BY_STATUS: dict[int, type[ChatError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    413: TooLarge,
}


def _where(loc: Iterable[object]) -> str:
    return ".".join(str(part) for part in loc)


def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A request that failed its schema: 400, saying where and what."""
    errors = [
        {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    first = errors[0] if errors else {"loc": [], "msg": ""}
    error = BadRequest(
        _("Invalid request: %(where)s: %(what)s")
        % {"where": _where(first["loc"]), "what": first["msg"]}
    )
    return JsonResponse({**error_payload(error), "errors": errors}, status=400)


def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        AuthRequired(_("Log in, or send Authorization: Bearer <token>."))
    )
    response.status_code = 401
    response["WWW-Authenticate"] = "Bearer"
    return response


def chat_error(request: HttpRequest, exc: ChatError) -> HttpResponse:
    response = error_response(exc)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403 and "CSRF" in str(exc):
        return JsonResponse(
            {"type": "error", "code": "csrf_failed", "detail": str(exc)}, status=403
        )
    kind = _BY_STATUS.get(exc.status_code, BadRequest)
    response = error_response(kind(str(exc)))
    response.status_code = exc.status_code
    return response


def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(NotFound(_("Not found.")))


def refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """An account service's refusal (a name taken, a bad token name)."""
    return error_response(BadRequest(" ".join(exc.messages)))


_HANDLERS: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
    ValidationError: invalid,
    AuthenticationError: unauthenticated,
    ChatError: chat_error,
    HttpError: http_error,
    Http404: not_found,
    DjangoValidationError: refused,
}


def install(api: NinjaAPI) -> None:
    """Answer every error ``api`` can meet in the contract's shape."""
    for kind, handler in _HANDLERS.items():
        api.add_exception_handler(kind, handler)
