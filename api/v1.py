"""API v1: the routers, the error handlers and the OpenAPI description."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger

from api import errors, messages, people, rooms, tokens, webhooks
from chat.middleware import CONTENT_SECURITY_POLICY

# Swagger UI sets styles inline; still nothing from another origin.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def docs_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give the interactive docs page the policy Swagger UI needs."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response

    return wrapper


api = NinjaAPI(
    title="Chat API",
    version="1",
    description=(
        "Everything the chat's pages can do, for programs. Authenticate with "
        "`Authorization: Bearer <token>` (a personal access token from your "
        "profile page); public rooms can be read without one. Live changes "
        "come over the WebSocket (docs/protocol.md)."
    ),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_decorator=docs_policy,
)
errors.install(api)
api.add_router("", rooms.router)
api.add_router("", messages.router)
api.add_router("", people.router)
api.add_router("", webhooks.router)
api.add_router("", tokens.router)
