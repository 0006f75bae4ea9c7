"""The room socket: translates frames to service calls and back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

from accounts.sessions import session_user
from chat import protocol, ratelimit, selectors, services
from chat.exceptions import (
    AuthRequired,
    BadRequest,
    ChatError,
    NotFound,
    RateLimited,
)
from chat.hub import get_hub
from chat.models import Room
from chat.payloads import encoded_message, encoded_messages
from chat.transport import SEND_KEY, DirectWriter, Written

logger = logging.getLogger(__name__)

# Close codes. 1013 (try again later) tells a client that fell too far
# behind to reconnect with ?after= and catch up.
CLOSE_TOO_SLOW = 1013
CLOSE_BAD_REQUEST = 4400
CLOSE_RATE_LIMITED = 4429
CLOSE_LOGGED_OUT = 4401
CLOSE_NOT_FOUND = 4404


def _parse_after(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    return protocol.parse_message_id(values[0], name="after")


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


# A catch-up longer than this comes as message frames after the history
# frame, so that no frame grows without bound.
HISTORY_FRAME_MAX = 100


def _catch_up(
    room: Room, after: int, up_to: int
) -> tuple[list[tuple[int, str, str | None]], int | None]:
    """
    Return the next messages after ``after`` (up to ``up_to``), each as (id,
    encoded, client_id), and the last id among them if more may follow.
    """
    messages = selectors.message_list(
        room=room, after=after, up_to=up_to, limit=HISTORY_FRAME_MAX
    )
    encoded = encoded_messages(messages, room_slug=room.slug)
    more = len(messages) == HISTORY_FRAME_MAX and messages[-1].pk < up_to
    return encoded, messages[-1].pk if more else None


# Sends waiting on one socket are stored together, up to this many at once.
POST_BATCH = 50


def _post(
    room: Room,
    session_key: str | None,
    commands: list[protocol.SendMessage],
    language: str,
) -> list[str | None]:
    """
    Store ``commands`` in order; return each one's reply to the sender alone.

    None means the broadcast of the stored message is the reply.
    """
    with translation.override(language):
        # The login is checked again on every send: it may have ended since
        # the socket opened (logout, password change, deactivation).
        author = session_user(session_key)
        posts = [services.Post(c.text, c.client_id) for c in commands]
        try:
            results = services.messages_create(room=room, author=author, posts=posts)
        except AuthRequired as error:
            results = [error] * len(commands)
        replies: list[str | None] = []
        for command, result in zip(commands, results, strict=True):
            if isinstance(result, ChatError):
                payload = protocol.error_payload(result)
                if command.client_id is not None:
                    payload.setdefault("client_id", command.client_id)
                replies.append(protocol.encode(payload))
            elif result[1]:
                replies.append(None)
            else:
                # A retry: the room heard it already; only the sender needs it.
                message = encoded_message(result[0])
                replies.append(protocol.message_frame(message, command.client_id))
        return replies


class RoomConsumer(AsyncWebsocketConsumer):
    """
    One socket in one room.

    Anyone may connect and read; only logged-in users may send. The first
    frame is the history; the room's later messages follow from the process
    hub, each once and in id order: written straight to the connection when
    nothing waits before them, else through one bounded queue. A socket that
    lets its queue or its write buffer fill up is closed and catches up
    later.
    """

    # The hub takes the room's layer messages for the whole process; a
    # socket of its own needs no layer channel (nor fails when Redis does).
    channel_layer_alias = None

    room: Room
    language = "en"
    joined = False
    # Messages at or below this id were in the history or are known to the
    # client (its ?after=).
    seen_up_to = 0
    writer: asyncio.Task[None] | None = None
    closing: asyncio.Task[None] | None = None
    # Set once the history is out, when the server lets frames be written
    # straight to the connection (see chat/transport.py).
    direct: DirectWriter | None = None
    sending = False
    # Frames waiting to be sent (made on first need), and whether the
    # history is out so that they may go.
    outbox: asyncio.Queue[tuple[int | None, str]] | None = None
    live = False
    poster: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The client's frames not yet answered: sends, or ready replies.
        self.pending: list[protocol.SendMessage | str] = []

    async def connect(self) -> None:
        self.language = _language(self.scope.get("headers", []))
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            with translation.override(self.language):
                await ratelimit.aenforce_connect(self.scope)
                after = _parse_after(self.scope.get("query_string", b""))
            hub = get_hub()
            self.room = hub.room(slug) or await database_sync_to_async(
                selectors.room_get
            )(slug=slug)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except (BadRequest, RateLimited) as error:
            await self.accept()
            await self.send(text_data=protocol.error_frame(error))
            code = (
                CLOSE_RATE_LIMITED
                if isinstance(error, RateLimited)
                else CLOSE_BAD_REQUEST
            )
            await self.close(code=code)
            return
        await self.accept()
        delivered, history = await hub.join(self.room, self)
        self.joined = True
        self.seen_up_to = max(delivered, after or 0)
        if after is None:
            # The latest page, kept by the hub: no query per socket.
            await self.send(text_data=history)
        else:
            await self._send_catch_up(after, delivered)
        self.live = True
        if self.outbox is not None:
            self._start_writer()
        self.direct = DirectWriter.behind(
            self.scope.get(SEND_KEY), settings.SOCKET_BUFFER_LIMIT
        )
        logger.info("join %s by %s", self.room.slug, self._who())

    async def disconnect(self, code: int) -> None:
        if self.writer is not None:
            self.writer.cancel()
        if self.joined:
            self.joined = False
            await get_hub().leave(self.room.slug, self)
            logger.info("leave %s by %s (%s)", self.room.slug, self._who(), code)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        with translation.override(self.language):
            try:
                command = protocol.parse_client_frame(text_data)
            except ChatError as error:
                self.pending.append(protocol.error_frame(error))
            else:
                if isinstance(command, protocol.Ping):
                    self.pending.append(protocol.PONG_FRAME)
                else:
                    self.pending.append(command)
        if self.poster is None or self.poster.done():
            self.poster = asyncio.get_running_loop().create_task(self._post_pending())

    async def _post_pending(self) -> None:
        """
        Answer the client's frames in the order they came.

        Sends that arrive while earlier ones are being stored wait, and are
        then stored together: a burst costs one commit, not one per message.
        """
        while self.pending:
            first = self.pending[0]
            if isinstance(first, str):
                self.pending.pop(0)
                self._queue(None, first)
                continue
            batch: list[protocol.SendMessage] = []
            while (
                self.pending
                and isinstance(self.pending[0], protocol.SendMessage)
                and len(batch) < POST_BATCH
            ):
                batch.append(self.pending.pop(0))  # type: ignore[arg-type]
            replies = await database_sync_to_async(_post)(
                self.room, self.session_key(), batch, self.language
            )
            for reply in replies:
                if reply is not None:
                    self._queue(None, reply)

    async def _send_catch_up(self, after: int, up_to: int) -> None:
        """Send everything after ``after``: a history frame, then messages."""
        page, more = await database_sync_to_async(_catch_up)(self.room, after, up_to)
        await self.send(text_data=protocol.history_frame(m for _, m, _ in page))
        while more is not None:
            page, more = await database_sync_to_async(_catch_up)(self.room, more, up_to)
            for _id, message, client_id in page:
                await self.send(text_data=protocol.message_frame(message, client_id))

    # What the hub calls ---------------------------------------------------

    def deliver(self, message_id: int | None, frame: str, wire: bytes) -> None:
        if message_id is not None and message_id <= self.seen_up_to:
            return
        if not self._write_now(wire):
            self._queue(message_id, frame)

    def deliver_many(self, messages: list[tuple[int, str, bytes]], wire: bytes) -> None:
        if messages[0][0] > self.seen_up_to and self._write_now(wire):
            return
        for message_id, frame, one in messages:
            self.deliver(message_id, frame, one)

    def _write_now(self, wire: bytes) -> bool:
        """Write ``wire`` straight to the connection if nothing waits before it."""
        idle = not self.sending and (self.outbox is None or self.outbox.empty())
        if self.direct is None or not idle:
            return False
        # Written in the hub's loop, without a task switch or an await.
        if self.direct.write(wire) is Written.SLOW:
            self._cut_off(CLOSE_TOO_SLOW, "too slow")
        return True

    def _queue(self, message_id: int | None, frame: str) -> None:
        # The queue and its writer task come with the first frame that needs
        # them: most sockets never do, and an idle socket stays small.
        if self.outbox is None:
            self.outbox = asyncio.Queue(settings.SOCKET_QUEUE_LIMIT)
            if self.live:
                self._start_writer()
        try:
            self.outbox.put_nowait((message_id, frame))
        except asyncio.QueueFull:
            self._cut_off(CLOSE_TOO_SLOW, "too slow")

    def _start_writer(self) -> None:
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def session_key(self) -> str | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        key: str | None = self.scope["session"].session_key
        return key

    def end_session(self) -> None:
        self._cut_off(CLOSE_LOGGED_OUT, "logged out")

    # Sending -------------------------------------------------------------

    async def _write(self) -> None:
        """Send queued frames in order; skip messages the client already has."""
        assert self.outbox is not None
        while True:
            message_id, frame = await self.outbox.get()
            if message_id is None or message_id > self.seen_up_to:
                self.sending = True
                try:
                    await self.send(text_data=frame)
                finally:
                    self.sending = False

    def _cut_off(self, code: int, reason: str) -> None:
        if not self.joined:
            return
        logger.warning("closing %s in %s: %s", self._who(), self.room.slug, reason)
        self.joined = False
        if self.writer is not None:
            self.writer.cancel()
        self.closing = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: int) -> None:
        await get_hub().leave(self.room.slug, self)
        await self.close(code=code)

    def _who(self) -> str:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return str(user.username)
        client = self.scope.get("client") or ("?", 0)
        return f"anonymous@{client[0]}"
