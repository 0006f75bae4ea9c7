"""
The WebSocket frames of the wire contract: parsing what clients send and
encoding what the server sends. See docs/protocol.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from chat.exceptions import BadRequest, ChatError, RateLimited
from chat.models import CLIENT_ID_MAX_LENGTH

if TYPE_CHECKING:
    from chat.payloads import MemberChange

HISTORY = "history"
MESSAGE = "message"
UPDATE = "update"
MEMBER = "member"
REMOVED = "removed"
READ = "read"
UNREAD = "unread"
ROOMS_CHANGED = "rooms_changed"
EDIT = "edit"
DELETE = "delete"
REACT = "react"
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBED = "unsubscribed"
ERROR = "error"
TYPING = "typing"
ACTIVITY = "activity"
PRESENCE = "presence"
PRESENCE_DIFF = "presence_diff"
PING = "ping"
PONG = "pong"
HEARTBEAT = "heartbeat"

# A frame carries at most a 4000-character text; anything far larger is not
# a message, and parsing it would only cost memory.
MAX_FRAME_CHARS = 64 * 1024


@dataclass(frozen=True)
class SendMessage:
    """Post ``text``, replying to message ``reply_to`` if given."""

    room: str | None
    text: str
    client_id: str | None
    reply_to: int | None = None


@dataclass(frozen=True)
class Edit:
    """Replace the text of one's own message ``id``."""

    room: str | None
    id: int
    text: str
    client_id: str | None


@dataclass(frozen=True)
class Delete:
    """Delete message ``id`` (one's own; staff: anyone's)."""

    room: str | None
    id: int
    client_id: str | None


@dataclass(frozen=True)
class React:
    """Put one's ``emoji`` on message ``id`` (``on``) or take it off."""

    room: str | None
    id: int
    emoji: str
    on: bool
    client_id: str | None


@dataclass(frozen=True)
class Read:
    """Move one's read cursor to message ``id`` (``unread``: to just before it)."""

    room: str | None
    id: int
    unread: bool
    client_id: str | None


@dataclass(frozen=True)
class Subscribe:
    """
    Follow ``room`` on a multi-room socket, from change ``since`` if given;
    hear who is in it if ``presence`` (None: as the socket asked).
    """

    room: str
    since: int | None
    presence: bool | None = None


@dataclass(frozen=True)
class Unsubscribe:
    """Stop following ``room``."""

    room: str


@dataclass(frozen=True)
class Typing:
    """The sender is writing in ``room`` (relayed, never stored)."""

    room: str | None


@dataclass(frozen=True)
class Activity:
    """The sender is ``active`` at the keyboard, or idle (or its tab hidden)."""

    active: bool


@dataclass(frozen=True)
class Ping:
    """A client's check that the connection is alive; answered with a pong."""


# What a client frame asks for; commands name their room on ``/ws/``.
Command = (
    SendMessage
    | Edit
    | Delete
    | React
    | Read
    | Subscribe
    | Unsubscribe
    | Typing
    | Activity
    | Ping
)
# What the socket answers by itself, without the database.
PresenceCommand = Typing | Activity
RoomCommand = SendMessage | Edit | Delete | React | Read


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


# A message id (or seq) has at most this many digits.
MESSAGE_ID_DIGITS = 18
MESSAGE_ID_MAX = 10**MESSAGE_ID_DIGITS - 1


def parse_message_id(value: str, *, name: str) -> int:
    """Return ``value`` as a message id, or raise BadRequest naming ``name``."""
    # isdigit() alone would let through "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > MESSAGE_ID_DIGITS:
        raise BadRequest(_("%(name)s must be a message id.") % {"name": name})
    return int(value)


# Room slugs as routes accept them (chat/routing.py).
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def parse_room(value: Any, *, required: bool = False) -> str | None:
    """Return ``value`` as a room slug (None if absent and not ``required``)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise BadRequest(_("room must be a room's slug."))
    return value


def _number(value: Any, *, name: str, client_id: str | None = None) -> int:
    # bool is an int to Python, not to a client.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise BadRequest(
            _("%(name)s must be a whole number.") % {"name": name}, client_id=client_id
        )
    return value


def _text(data: dict[str, Any], client_id: str | None) -> str:
    text = data.get("text")
    if not isinstance(text, str):
        raise BadRequest(_("A message needs a text string."), client_id=client_id)
    return text


def _send(data: dict[str, Any], room: str | None, key: str | None) -> SendMessage:
    reply_to = data.get("reply_to")
    return SendMessage(
        room=room,
        text=_text(data, key),
        client_id=key,
        reply_to=(
            None
            if reply_to is None
            else _number(reply_to, name="reply_to", client_id=key)
        ),
    )


def _edit(data: dict[str, Any], room: str | None, key: str | None) -> Edit:
    message_id = _number(data.get("id"), name="id", client_id=key)
    return Edit(room=room, id=message_id, text=_text(data, key), client_id=key)


def _delete(data: dict[str, Any], room: str | None, key: str | None) -> Delete:
    message_id = _number(data.get("id"), name="id", client_id=key)
    return Delete(room=room, id=message_id, client_id=key)


def _react(data: dict[str, Any], room: str | None, key: str | None) -> React:
    message_id = _number(data.get("id"), name="id", client_id=key)
    emoji, on = data.get("emoji"), data.get("on")
    if not isinstance(emoji, str) or not isinstance(on, bool):
        raise BadRequest(
            _('A reaction needs an "emoji" string and "on": true or false.'),
            client_id=key,
        )
    return React(room=room, id=message_id, emoji=emoji, on=on, client_id=key)


def _read(data: dict[str, Any], room: str | None, key: str | None) -> Read:
    message_id = _number(data.get("id"), name="id", client_id=key)
    unread = data.get("unread", False)
    if not isinstance(unread, bool):
        raise BadRequest(_('"unread" is true or false.'), client_id=key)
    return Read(room=room, id=message_id, unread=unread, client_id=key)


_ROOM_COMMANDS: dict[
    str, Callable[[dict[str, Any], str | None, str | None], RoomCommand]
] = {
    MESSAGE: _send,
    EDIT: _edit,
    DELETE: _delete,
    REACT: _react,
    READ: _read,
}


def parse_client_frame(text: str | None) -> Command:
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
    if kind == SUBSCRIBE:
        since, presence = data.get("since"), data.get("presence")
        if presence is not None and not isinstance(presence, bool):
            raise BadRequest(_('"presence" is true or false.'))
        return Subscribe(
            room=parse_room(data.get("room"), required=True),  # type: ignore[arg-type]
            since=None if since is None else _number(since, name="since"),
            presence=presence,
        )
    if kind == UNSUBSCRIBE:
        return Unsubscribe(room=parse_room(data.get("room"), required=True))  # type: ignore[arg-type]
    if kind == TYPING:
        return Typing(room=parse_room(data.get("room")))
    if kind == ACTIVITY:
        state = data.get("state")
        if state not in ("active", "idle"):
            raise BadRequest(_('"state" is "active" or "idle".'))
        return Activity(active=state == "active")
    parse = _ROOM_COMMANDS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise BadRequest(_("Unknown frame type: %(type)r.") % {"type": str(kind)[:40]})
    client_id = parse_client_id(data.get("client_id"))
    try:
        room = parse_room(data.get("room"))
    except BadRequest as error:
        error.client_id = client_id
        raise
    try:
        return parse(data, room, client_id)
    except ChatError as error:
        error.room = room  # The room it named, when it named a good one.
        raise


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


# Frames are assembled from messages encoded once each (``encode`` of a
# message payload): a message is serialized once however many sockets, and
# frames, carry it.


def history_frame(messages: Iterable[str], *, room: str, seq: int) -> str:
    """
    Return the history frame of the encoded ``messages`` of ``room``; the
    reader has the room up to change ``seq`` once it holds them.
    """
    return (
        '{"type":"history","room":'
        + json.dumps(room)
        + ',"seq":'
        + str(seq)
        + ',"messages":['
        + ",".join(messages)
        + "]}"
    )


def change_frame(
    kind: str,
    message: str,
    *,
    room: str,
    seq: int,
    client_id: str | None,
    member: MemberChange | None = None,
) -> str:
    """
    Return the frame of change ``seq`` of ``room``: a ``member`` frame for a
    member line, else a ``message`` or ``update`` frame (``kind``: new or
    changed) of the encoded ``message``, made with ``client_id``.
    """
    if member is not None:
        return _member_frame(message, room=room, seq=seq, member=member)
    return (
        '{"type":"'
        + kind
        + '","room":'
        + json.dumps(room)
        + ',"seq":'
        + str(seq)
        + ',"message":'
        + message
        + ',"client_id":'
        + json.dumps(client_id)
        + "}"
    )


def _member_frame(message: str, *, room: str, seq: int, member: MemberChange) -> str:
    # Someone joined, left, was added or removed; ``message``: the line.
    fields = encode(
        {
            "type": MEMBER,
            "room": room,
            "seq": seq,
            "action": member.action,
            "username": member.username,
            "by": member.by,
        }
    )
    return fields[:-1] + ',"message":' + message + "}"


def removed_frame(room: str) -> str:
    """Tell a socket its user can no longer read ``room``: no more of it follows."""
    return encode({"type": REMOVED, "room": room})


def read_frame(room: str, last_read_id: int) -> str:
    """Tell a user's sockets where they now stand in ``room``."""
    return encode({"type": READ, "room": room, "id": last_read_id})


def unread_frame(room: str, unread: int, mentions: int, last_id: int) -> str:
    """
    Tell a user's sockets their counts in ``room`` (each up to 100), taken
    over its messages up to ``last_id``.
    """
    return encode(
        {
            "type": UNREAD,
            "room": room,
            "unread": unread,
            "mentions": mentions,
            "last_id": last_id,
        }
    )


def presence_frame(room: str, online: list[dict[str, str]], guests: int) -> str:
    """Return who is in ``room``: everyone online, and the guest count."""
    return encode({"type": PRESENCE, "room": room, "online": online, "guests": guests})


def presence_diff_frame(
    room: str, online: list[dict[str, str]], offline: list[str], guests: int
) -> str:
    """Return the change of who is in ``room``: new or changed entries, gone
    usernames, and the guest count."""
    return encode(
        {
            "type": PRESENCE_DIFF,
            "room": room,
            "online": online,
            "offline": offline,
            "guests": guests,
        }
    )


def typing_frame(room: str, username: str, name: str) -> str:
    return encode({"type": TYPING, "room": room, "username": username, "name": name})


def heartbeat_frame(room: str, seq: int, last_id: int) -> str:
    """Tell a socket it is alive, and the room's newest change and id."""
    return encode({"type": HEARTBEAT, "room": room, "seq": seq, "last_id": last_id})


def unsubscribed_frame(room: str) -> str:
    """Confirm that a socket no longer follows ``room``."""
    return encode({"type": UNSUBSCRIBED, "room": room})


PONG_FRAME = encode({"type": PONG})
# A user's room list changed (added, removed, a conversation back): the
# client asks GET /api/rooms again.
ROOMS_CHANGED_FRAME = encode({"type": ROOMS_CHANGED})


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
    if error.room is not None:
        payload["room"] = error.room
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
