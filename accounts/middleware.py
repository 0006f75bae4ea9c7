"""Refuse a personal access token sent where it would be logged."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from chat.auth import query_has_token
from chat.exceptions import BadRequest
from chat.protocol import error_payload


def refuse_tokens_in_urls(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """
    Answer 400 to a request with a token in its query string.

    URLs end up in access logs, proxies' logs and browser histories; a
    token belongs in the ``Authorization`` header. Refusing it (rather than
    ignoring it) tells the program's author at once.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if query_has_token(request.META.get("QUERY_STRING", "")):
            error = BadRequest(
                _("Send the token in the Authorization header, never in the URL.")
            )
            return JsonResponse(error_payload(error), status=error.status)
        return get_response(request)

    return middleware
