"""
The JSON shapes of the wire contract (docs/protocol.md), as typed dicts.

The server adds fields as the chat grows: these name the ones a client
reads, and a client reads any other with ``.get()``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class Quote(TypedDict):
    """The start of the message a reply answers."""

    id: int
    author: str
    excerpt: str
    deleted: bool


class Reaction(TypedDict):
    emoji: str
    count: int
    users: list[str]


class Attachment(TypedDict):
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None


class MemberLine(TypedDict):
    action: Literal["join", "leave", "add", "remove"]
    username: str | None
    name: str


class Message(TypedDict):
    id: int
    room: str
    author: str
    username: str | None
    text: str
    html: str
    mentions: list[str]
    notifies_room: bool
    created: str
    attachment: Attachment | None
    seq: int
    edited: str | None
    deleted: bool
    reply_to: Quote | None
    reactions: list[Reaction]
    member: MemberLine | None
    client_id: NotRequired[str | None]
    bot: NotRequired[bool]


class Room(TypedDict):
    slug: str
    name: str
    kind: Literal["public", "private", "direct"]
    url: str
    joined: bool
    members: int
    last_message_at: str | None
    seq: int
    last_message_id: int | None
    last_read_id: int | None
    unread: int
    mentions: int
    muted: bool


class User(TypedDict):
    username: str
    display_name: str


# A frame as the server sent it, parsed from JSON.
Frame = dict[str, Any]
