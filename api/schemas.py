"""The wire shapes of API v1, as pydantic models (the OpenAPI schemas)."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from chat.models import CLIENT_ID_MAX_LENGTH
from chat.protocol import MESSAGE_ID_MAX

# A message id or seq: the largest the socket accepts (18 digits).
Id = Annotated[int, Field(ge=0, le=MESSAGE_ID_MAX)]
# The client's own id for a message or change (chat/protocol.parse_client_id).
ClientId = Annotated[
    str, Field(min_length=1, max_length=CLIENT_ID_MAX_LENGTH, pattern=r"^[!-~]+$")
]


class Error(Schema):
    """Every error: a code from the contract and a sentence for people."""

    type: Literal["error"]
    code: str = Field(examples=["not_found"])
    detail: str
    client_id: str | None = None
    room: str | None = None
    retry_after: int | None = Field(None, description="Seconds, when rate limited.")
    # For a request that failed validation: where, and what.
    errors: list[FieldError] | None = None


class FieldError(Schema):
    loc: list[str | int]
    msg: str


class Attachment(Schema):
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None


class Quote(Schema):
    """The message a reply answers, in brief."""

    id: int
    author: str
    excerpt: str
    deleted: bool


class ReactionGroup(Schema):
    emoji: str
    count: int
    users: list[str]


class MemberLine(Schema):
    """A member line's change: someone joined, was added, left or removed."""

    action: str
    username: str | None
    name: str


class Message(Schema):
    """A message, as history, the socket and the API all give it."""

    id: int
    room: str
    author: str
    username: str | None
    bot: bool
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
    reactions: list[ReactionGroup]
    member: MemberLine | None


class Room(Schema):
    """A room as its reader sees it (a direct conversation named by its people)."""

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


class Person(Schema):
    username: str
    name: str


class Me(Schema):
    """The account a request acts as."""

    username: str
    name: str
    display_name: str
    is_bot: bool
    is_staff: bool
    # The scopes of the token the request came with; null for a session.
    scopes: list[str] | None


class OnlinePerson(Schema):
    username: str
    name: str
    state: Literal["active", "idle"]


class RoomOut(Schema):
    room: Room


class RoomList(Schema):
    rooms: list[Room]


class MessageOut(Schema):
    message: Message


class MessageList(Schema):
    messages: list[Message]


class MemberOut(Schema):
    member: Person


class MemberList(Schema):
    members: list[Person]


class BlockedOut(Schema):
    blocked: Person


class BlockList(Schema):
    blocks: list[Person]


class Presence(Schema):
    room: str
    online: list[OnlinePerson]
    guests: int


class Revision(Schema):
    text: str
    written: str


class RevisionList(Schema):
    revisions: list[Revision]


class SearchHit(Schema):
    message: Message
    room_name: str
    snippet: str = Field(description="HTML of the text around the match; only <mark>.")


class SearchResults(Schema):
    results: list[SearchHit]
    next: int | None = Field(description="The `before` of the next page, if any.")


class ReadAllOut(Schema):
    moved: int = Field(description="How many rooms had unread messages.")


class MeOut(Schema):
    user: Me


class Webhook(Schema):
    """An incoming webhook: ``POST`` its ``url`` with the secret in a header."""

    id: int
    name: str
    room: str
    url: str
    bot: Person
    created_by: str | None
    created: str
    last_used: str | None


class WebhookList(Schema):
    webhooks: list[Webhook]


class NewWebhookOut(Schema):
    webhook: Webhook
    secret: str = Field(
        description="Send it as the X-Chat-Webhook-Secret header; shown this once."
    )


class Token(Schema):
    """A personal access token, as its owner sees it (never the token itself)."""

    id: int
    name: str
    user: str = Field(description="Whom it acts as: its owner, or their bot.")
    hint: str = Field(description="The token's first characters.")
    scopes: list[Literal["read", "write"]]
    created: str
    expires: str | None
    last_used: str | None


class TokenList(Schema):
    tokens: list[Token]


# Inputs ------------------------------------------------------------------


class RoomIn(Schema):
    name: str
    kind: Literal["public", "private"] = "public"
    members_can_add: bool = False


class MessageIn(Schema):
    text: str
    client_id: ClientId | None = Field(
        None,
        description="Your id for the message: a retry with the same one "
        "stores nothing new.",
    )
    reply_to: Id | None = Field(None, description="The id of the message answered.")


class EditIn(Schema):
    text: str


class ReadIn(Schema):
    id: Id = Field(description="The newest message read.")
    unread: bool = Field(False, description="Move the cursor back: unread from id on.")


class UsernameIn(Schema):
    username: str


class UsernamesIn(Schema):
    usernames: list[str]


class WebhookIn(Schema):
    name: str


class ProfileIn(Schema):
    display_name: str


Error.model_rebuild()
