"""The room socket: translates frames to service calls and back."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

from chat import events, protocol, selectors, services
from chat.exceptions import BadRequest, ChatError, NotFound
from chat.models import Room
from chat.payloads import message_payload

logger = logging.getLogger(__name__)

# Close codes in the private range 4000-4999.
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400


def _parse_after(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    value = values[0]
    if not value.isdigit() or len(value) > 18:
        raise BadRequest(_("after must be a message id."))
    return int(value)


def _language(headers: list[tuple[bytes, bytes]]) -> str:
    """Return the UI language the browser asked for, as pages choose it."""
    for name, value in headers:
        if name == b"accept-language":
            for code, _quality in parse_accept_lang_header(value.decode("latin-1")):
                try:
                    return get_supported_language_variant(code)
                except LookupError:
                    continue
    return translation.get_language() or "en"


def _history(room: Room, after: int | None) -> tuple[str, int]:
    """Return the encoded history frame and the newest id it covers."""
    messages = selectors.message_list(room=room, after=after)
    payloads = [message_payload(message, room_slug=room.slug) for message in messages]
    newest = messages[-1].pk if messages else (after or 0)
    return protocol.history_frame(payloads), newest


class RoomConsumer(AsyncWebsocketConsumer):
    """
    One socket in one room.

    Anyone may connect and read; only logged-in users may send. The first
    frame is the history; live messages follow, each once.
    """

    room: Room
    group: str
    language = "en"
    # Broadcasts of messages at or below this id were already in the history.
    seen_up_to = 0

    async def connect(self) -> None:
        self.language = _language(self.scope.get("headers", []))
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            with translation.override(self.language):
                after = _parse_after(self.scope.get("query_string", b""))
            self.room = await database_sync_to_async(selectors.room_get)(slug=slug)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except BadRequest as error:
            await self.accept()
            await self.send(text_data=protocol.error_frame(error))
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        # Join before reading the history: a message committed after the
        # read is then sure to arrive as a broadcast.
        self.group = events.room_group_name(self.room.slug)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        frame, self.seen_up_to = await database_sync_to_async(_history)(
            self.room, after
        )
        await self.send(text_data=frame)
        logger.info("join %s by %s", self.room.slug, self._who())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            logger.info("leave %s by %s (%s)", self.room.slug, self._who(), code)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        with translation.override(self.language):
            frame = await self._answer(text_data)
        if frame is not None:
            await self.send(text_data=frame)

    async def _answer(self, text_data: str | None) -> str | None:
        """Perform what the client's frame asks; return a reply for it alone."""
        command: protocol.SendMessage | protocol.Ping | None = None
        try:
            command = protocol.parse_client_frame(text_data)
            if isinstance(command, protocol.Ping):
                return protocol.PONG_FRAME
            message, created = await database_sync_to_async(services.message_create)(
                room=self.room,
                author=self.scope["user"],
                text=command.text,
                client_id=command.client_id,
            )
        except ChatError as error:
            if error.client_id is None and isinstance(command, protocol.SendMessage):
                error.client_id = command.client_id
            return protocol.error_frame(error)
        if created:
            return None  # The broadcast brings it to this socket too.
        # A retry: the room heard it already; only the sender needs it again.
        # The message comes with room, author and attachment loaded.
        return protocol.message_frame(message_payload(message), command.client_id)

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["id"] > self.seen_up_to:
            await self.send(text_data=event["text"])

    def _who(self) -> str:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return user.username
        client = self.scope.get("client") or ("?", 0)
        return f"anonymous@{client[0]}"
