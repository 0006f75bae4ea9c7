"""What a WebSocket handshake says: who is asking, in what language, from where."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

from chat.exceptions import BadRequest
from chat.protocol import parse_message_id


def client_host(scope: dict[str, Any]) -> str:
    """Return the client's address (the forwarded one behind a trusted proxy)."""
    client = scope.get("client") or ("unknown", 0)
    return str(client[0])


def language(scope: dict[str, Any]) -> str:
    """Return the UI language the browser asked for, as pages choose it."""
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            for code, _quality in parse_accept_lang_header(value.decode("latin-1")):
                try:
                    return get_supported_language_variant(code)
                except LookupError:
                    continue
    return translation.get_language() or "en"


def resume_point(scope: dict[str, Any]) -> tuple[int | None, int | None]:
    """Return the ``?since=`` seq and the ``?after=`` id a room socket asks for."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    since, after = (
        parse_message_id(values[0], name=name) if (values := query.get(name)) else None
        for name in ("since", "after")
    )
    if since is not None and after is not None:
        raise BadRequest(_("Give since or after, not both."))
    return since, after


def wants_presence(scope: dict[str, Any]) -> bool:
    """Return whether a socket asks for its rooms' presence (``?presence=1``)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    value: str = query.get("presence", ["0"])[0]
    if value not in ("0", "1"):
        raise BadRequest(_("presence is 1 or 0."))
    return value == "1"
