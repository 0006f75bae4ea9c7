"""
The WebSocket frames of the wire contract: parsing what clients send and
encoding what the server sends. See docs/protocol.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from chat.exceptions import BadRequest, ChatError, RateLimited
from chat.models import CLIENT_ID_MAX_LENGTH

HISTORY = "history"
MESSAGE = "message"
ERROR = "error"
PING = "ping"
PONG = "pong"
HEARTBEAT = "heartbeat"

# A frame carries at most a 4000-character text; anything far larger is not
# a message, and parsing it would only cost memory.
MAX_FRAME_CHARS = 64 * 1024


@dataclass(frozen=True)
class SendMessage:
    """A client's request to post ``text`` in the room it is connected to."""

    text: str
    client_id: str | None


@dataclass(frozen=True)
class Ping:
    """A client's check that the connection is alive; answered with a pong."""


def parse_client_id(value: Any) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= CLIENT_ID_MAX_LENGTH
        or not all("!" <= char <= "~" for char in value)
    ):
        raise BadRequest(
            _(
                "client_id must be 1 to %(limit)d printable ASCII characters "
                "without spaces."
            )
            % {"limit": CLIENT_ID_MAX_LENGTH}
        )
    return value


def parse_message_id(value: str, *, name: str) -> int:
    """Return ``value`` as a message id, or raise BadRequest naming ``name``."""
    # isdigit() alone would let through "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise BadRequest(_("%(name)s must be a message id.") % {"name": name})
    return int(value)


def parse_client_frame(text: str | None) -> SendMessage | Ping:
    """Parse one frame from a client, or raise a ChatError saying what is wrong."""
    if text is None:
        raise BadRequest(_("Frames must be JSON text, not binary."))
    if len(text) > MAX_FRAME_CHARS:
        raise BadRequest(_("The frame is too large."))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(_("The frame is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("The frame must be a JSON object."))
    kind = data.get("type")
    if kind == PING:
        return Ping()
    if kind != MESSAGE:
        raise BadRequest(_("Unknown frame type: %(type)r.") % {"type": str(kind)[:40]})
    client_id = parse_client_id(data.get("client_id"))
    text_value = data.get("text")
    if not isinstance(text_value, str):
        raise BadRequest(_("A message needs a text string."), client_id=client_id)
    return SendMessage(text=text_value, client_id=client_id)


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


# Frames are assembled from messages encoded once each (``encode`` of a
# message payload): a message is serialized once however many sockets, and
# frames, carry it.


def history_frame(messages: Iterable[str]) -> str:
    """Return the history frame of the encoded ``messages``."""
    return '{"type":"history","messages":[' + ",".join(messages) + "]}"


def message_frame(message: str, client_id: str | None) -> str:
    """Return the frame of the encoded ``message`` sent with ``client_id``."""
    return (
        '{"type":"message","message":'
        + message
        + ',"client_id":'
        + json.dumps(client_id)
        + "}"
    )


def heartbeat_frame(last_id: int) -> str:
    """Tell a socket it is alive and the newest id of its room."""
    return encode({"type": HEARTBEAT, "last_id": last_id})


PONG_FRAME = encode({"type": PONG})


def error_payload(error: ChatError) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": ERROR,
        "code": error.code,
        "detail": error.detail,
    }
    if isinstance(error, RateLimited):
        payload["retry_after"] = error.retry_after
    if error.client_id is not None:
        payload["client_id"] = error.client_id
    return payload


def error_response(error: ChatError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """
    Return the status, headers and JSON body that answer ``error`` at the
    ASGI or socket level, before Django, closing the connection.
    """
    body = json.dumps(error_payload(error)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if isinstance(error, RateLimited):
        headers.append((b"retry-after", str(error.retry_after).encode()))
    return error.status, headers, body


def error_frame(error: ChatError) -> str:
    return encode(error_payload(error))
