"""Protections applied to every response and request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from chat.exceptions import TooLarge
from chat.protocol import error_response

# No inline script or style, nothing from other origins; WebSockets to this
# host only ('self' covers ws: and wss: of the same host).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Set a strict Content-Security-Policy on responses that have none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class RequestBodyLimit:
    """
    Refuse request bodies larger than an upload may be, while they stream in.

    Django reads a whole body (to memory or a temporary file) before any
    view runs, so the view's own size check would come after the bytes were
    taken. This ASGI middleware answers 413 on a too large Content-Length
    without reading, and stops reading a chunked body once it is too large.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Room for the multipart framing and a message's text.
        limit = (settings.MAX_UPLOAD_MB + 1) * 1024 * 1024
        for name, value in scope.get("headers", []):
            if (
                name == b"content-length"
                and value.isdigit()
                and (len(value) > 15 or int(value) > limit)
            ):
                await self._refuse(send)
                return
        received = 0
        refused = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, send: Any) -> None:
        error = TooLarge(f"Files are limited to {settings.MAX_UPLOAD_MB} MiB.")
        status, headers, body = error_response(error)
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})
