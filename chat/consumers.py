"""The room socket: translates frames to service calls and back."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
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
from chat.payloads import encoded_message
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


def _check_connect_rate(scope: dict[str, object]) -> None:
    client = scope.get("client") or ("unknown", 0)
    rates = ratelimit.parse_rates(settings.RATE_LIMIT_CONNECTS)
    retry_after = ratelimit.hit("connects", str(client[0]), rates)  # type: ignore[index]
    if retry_after is not None:
        raise RateLimited(
            _("Too many connections. Try again in %(seconds)d s.")
            % {"seconds": retry_after},
            retry_after=retry_after,
        )


# A catch-up longer than this comes as message frames after the history
# frame, so that no frame grows without bound.
HISTORY_FRAME_MAX = 100


def _catch_up(
    room: Room, after: int, up_to: int
) -> tuple[list[str], list[str], int | None]:
    """
    Return the next messages after ``after`` (up to ``up_to``): encoded, as
    frames, and the last id among them if more may follow, else None.
    """
    messages = selectors.message_list(
        room=room, after=after, up_to=up_to, limit=HISTORY_FRAME_MAX
    )
    encoded = [encoded_message(m, room_slug=room.slug) for m in messages]
    frames = [
        protocol.message_frame(text, m.client_id)
        for text, m in zip(encoded, messages, strict=True)
    ]
    more = len(messages) == HISTORY_FRAME_MAX and messages[-1].pk < up_to
    return encoded, frames, messages[-1].pk if more else None


def _post(
    room: Room, session_key: str | None, command: protocol.SendMessage
) -> tuple[object, bool]:
    # The login is checked again on every send: it may have ended since the
    # socket opened (logout, password change, deactivation).
    author = session_user(session_key)
    if author is None:
        raise AuthRequired(_("Log in to write."))
    return services.message_create(
        room=room, author=author, text=command.text, client_id=command.client_id
    )


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

    async def connect(self) -> None:
        self.language = _language(self.scope.get("headers", []))
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            with translation.override(self.language):
                if settings.RATE_LIMITS:
                    await database_sync_to_async(_check_connect_rate)(self.scope)
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
            frame = await self._answer(text_data)
        if frame is not None:
            self._queue(None, frame)

    async def _answer(self, text_data: str | None) -> str | None:
        """Perform what the client's frame asks; return a reply for it alone."""
        command: protocol.SendMessage | protocol.Ping | None = None
        try:
            command = protocol.parse_client_frame(text_data)
            if isinstance(command, protocol.Ping):
                return protocol.PONG_FRAME
            message, created = await database_sync_to_async(_post)(
                self.room, self.session_key(), command
            )
        except ChatError as error:
            if error.client_id is None and isinstance(command, protocol.SendMessage):
                error.client_id = command.client_id
            return protocol.error_frame(error)
        if created:
            return None  # The hub brings it to this socket too.
        # A retry: the room heard it already; only the sender needs it again.
        # The message comes with room, author and attachment loaded.
        return protocol.message_frame(encoded_message(message), command.client_id)

    async def _send_catch_up(self, after: int, up_to: int) -> None:
        """Send everything after ``after``: a history frame, then messages."""
        encoded, frames, more = await database_sync_to_async(_catch_up)(
            self.room, after, up_to
        )
        await self.send(text_data=protocol.history_frame(encoded))
        while more is not None:
            encoded, frames, more = await database_sync_to_async(_catch_up)(
                self.room, more, up_to
            )
            for frame in frames:
                await self.send(text_data=frame)

    # What the hub calls ---------------------------------------------------

    def deliver(self, message_id: int | None, frame: str, wire: bytes) -> None:
        if message_id is not None and message_id <= self.seen_up_to:
            return
        idle = not self.sending and (self.outbox is None or self.outbox.empty())
        if self.direct is not None and idle:
            # Nothing waits before it: write it now, in the hub's loop.
            written = self.direct.write(wire)
            if written is Written.SLOW:
                self._cut_off(CLOSE_TOO_SLOW, "too slow")
            return
        self._queue(message_id, frame)

    def deliver_many(self, messages: list[tuple[int, str, bytes]], wire: bytes) -> None:
        idle = not self.sending and (self.outbox is None or self.outbox.empty())
        if self.direct is not None and idle and messages[0][0] > self.seen_up_to:
            written = self.direct.write(wire)
            if written is Written.SLOW:
                self._cut_off(CLOSE_TOO_SLOW, "too slow")
            return
        for message_id, frame, one in messages:
            self.deliver(message_id, frame, one)

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
        return self.scope["session"].session_key

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
            return user.username
        client = self.scope.get("client") or ("?", 0)
        return f"anonymous@{client[0]}"
