"""The chat socket: translates frames to commands and subscriptions, and back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chat import commands, handshake, protocol, ratelimit, selectors
from chat.exceptions import BadRequest, ChatError, NotFound, RateLimited
from chat.hub import get_hub
from chat.models import Room
from chat.subscriptions import Subscription
from chat.transport import SEND_KEY, DirectWriter, Output

logger = logging.getLogger(__name__)

# Close codes. 1013 (try again later) tells a client that fell too far
# behind to reconnect with ?since= and catch up.
CLOSE_TOO_SLOW = 1013
CLOSE_BAD_REQUEST = 4400
CLOSE_RATE_LIMITED = 4429
CLOSE_LOGGED_OUT = 4401
CLOSE_NOT_FOUND = 4404


# Commands waiting on one socket are carried out together, up to this many.
COMMAND_BATCH = 50


class ChatConsumer(AsyncWebsocketConsumer):
    """
    One socket, following one room (``/ws/rooms/<slug>/``) or many
    (``/ws/``, by ``subscribe`` frames).

    Anyone may connect and read; only logged-in users may write. Each room's
    first frame is its history; its later changes follow from the process
    hub, each once and in ``seq`` order (chat/subscriptions.py), through the
    socket's one output (chat/transport.py). A socket that lets its output
    fill up is closed and catches up later.
    """

    # The hub takes the rooms' layer messages for the whole process; a
    # socket of its own needs no layer channel (nor fails when Redis does).
    channel_layer_alias = None

    language = "en"
    # The room of a /ws/rooms/<slug>/ socket: its commands name no other.
    fixed_room: str | None = None
    closing: asyncio.Task[None] | None = None
    worker: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output = Output(
            self._send_text, self._too_slow, settings.SOCKET_QUEUE_LIMIT
        )
        self.subscriptions: dict[str, Subscription] = {}
        # The client's frames not yet answered, in order: commands, or
        # ready replies (errors of frames that did not parse).
        self.pending: list[protocol.Command | str] = []
        self.open = False

    async def connect(self) -> None:
        self.language = handshake.language(self.scope)
        self.fixed_room = self.scope["url_route"]["kwargs"].get("slug")
        room: Room | None = None
        try:
            with translation.override(self.language):
                await ratelimit.aenforce_connect(self.scope)
                since, after = handshake.resume_point(self.scope)
                if self.fixed_room is not None:
                    room = await self._find_room(self.fixed_room)
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
        self.open = True
        # Broadcasts may go straight to the connection: each subscription
        # holds its room's until that room's history is out.
        self.output.start_direct(
            DirectWriter.behind(self.scope.get(SEND_KEY), settings.SOCKET_BUFFER_LIMIT)
        )
        if room is not None:
            await self._follow(room, since=since, after=after)

    async def disconnect(self, code: int) -> None:
        self.output.close()
        if self.worker is not None:
            self.worker.cancel()
        await self._leave_all(code)

    async def _leave_all(self, code: int) -> None:
        self.open = False
        subscriptions, self.subscriptions = self.subscriptions, {}
        for slug, subscription in subscriptions.items():
            await get_hub().leave(slug, subscription)
            logger.info("leave %s by %s (%s)", slug, self._who(), code)

    async def _find_room(self, slug: str) -> Room:
        return get_hub().room(slug) or await database_sync_to_async(selectors.room_get)(
            slug=slug
        )

    async def _follow(
        self, room: Room, *, since: int | None, after: int | None = None
    ) -> None:
        subscription = Subscription(self, room, self._too_slow)
        self.subscriptions[room.slug] = subscription
        joined = await get_hub().join(room, subscription)
        logger.info("join %s by %s", room.slug, self._who())
        await subscription.start(joined, since=since, after=after)

    async def _unfollow(self, slug: str) -> None:
        subscription = self.subscriptions.pop(slug, None)
        if subscription is not None:
            await get_hub().leave(slug, subscription)
            logger.info("leave %s by %s (unsubscribed)", slug, self._who())

    # Frames from the client ----------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        with translation.override(self.language):
            try:
                command = protocol.parse_client_frame(text_data)
            except ChatError as error:
                error.room = error.room or self.fixed_room
                self.pending.append(protocol.error_frame(error))
            else:
                self.pending.append(
                    protocol.PONG_FRAME
                    if isinstance(command, protocol.Ping)
                    else command
                )
        if self.worker is None or self.worker.done():
            self.worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        """
        Answer the client's frames in the order they came.

        Commands that arrive while earlier ones are being carried out wait,
        and are then carried out together: a burst of posts costs one
        commit, not one per message.
        """
        while self.pending and self.open:
            first = self.pending.pop(0)
            if isinstance(first, str):
                await self.output.send(first)
            elif isinstance(first, protocol.Subscribe | protocol.Unsubscribe):
                await self._subscription_command(first)
            elif not isinstance(first, protocol.Ping):
                batch = [first]
                while (
                    self.pending
                    and isinstance(self.pending[0], protocol.RoomCommand)
                    and len(batch) < COMMAND_BATCH
                ):
                    batch.append(self.pending.pop(0))  # type: ignore[arg-type]
                await self._room_commands(batch)

    async def _room_commands(self, batch: list[protocol.RoomCommand]) -> None:
        rooms: list[tuple[Room, protocol.RoomCommand]] = []
        refused: dict[int, str] = {}
        for index, command in enumerate(batch):
            try:
                rooms.append((self._room_of(command), command))
            except ChatError as error:
                error.client_id = command.client_id
                error.room = command.room or self.fixed_room
                refused[index] = protocol.error_frame(error)
        replies = iter(
            await database_sync_to_async(commands.execute)(
                rooms, self.session_key(), self.language
            )
            if rooms
            else []
        )
        for index in range(len(batch)):
            reply = refused[index] if index in refused else next(replies)
            if reply is not None:
                await self.output.send(reply)

    def _room_of(self, command: protocol.RoomCommand) -> Room:
        slug = command.room or self.fixed_room
        with translation.override(self.language):
            if slug is None:
                raise BadRequest(_('Name the "room" of the command.'))
            if self.fixed_room is not None and slug != self.fixed_room:
                raise BadRequest(_("This socket follows one room; use /ws/ for more."))
            subscription = self.subscriptions.get(slug)
            if subscription is None:
                raise BadRequest(_("Subscribe to the room first."))
        return subscription.room

    async def _subscription_command(
        self, command: protocol.Subscribe | protocol.Unsubscribe
    ) -> None:
        with translation.override(self.language):
            try:
                if self.fixed_room is not None:
                    raise BadRequest(
                        _("This socket follows one room; use /ws/ for more.")
                    )
                if isinstance(command, protocol.Unsubscribe):
                    await self._unfollow(command.room)
                    await self.output.send(protocol.unsubscribed_frame(command.room))
                    return
                if (
                    command.room not in self.subscriptions
                    and len(self.subscriptions) >= settings.SOCKET_MAX_ROOMS
                ):
                    raise BadRequest(
                        _("A socket follows at most %(count)d rooms.")
                        % {"count": settings.SOCKET_MAX_ROOMS}
                    )
                room = await self._find_room(command.room)
            except ChatError as error:
                error.room = command.room
                await self.output.send(protocol.error_frame(error))
                return
        # Subscribing again starts over from the given point.
        await self._unfollow(command.room)
        await self._follow(room, since=command.since)

    # What subscriptions call ---------------------------------------------

    def session_key(self) -> str | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        key: str | None = self.scope["session"].session_key
        return key

    def end_session(self) -> None:
        self._cut_off(CLOSE_LOGGED_OUT, "logged out")

    def _too_slow(self) -> None:
        self._cut_off(CLOSE_TOO_SLOW, "too slow")

    # Sending -------------------------------------------------------------

    async def _send_text(self, frame: str) -> None:
        await self.send(text_data=frame)

    def _cut_off(self, code: int, reason: str) -> None:
        if not self.open:
            return
        logger.warning(
            "closing %s in %s: %s", self._who(), ",".join(self.subscriptions), reason
        )
        self.open = False
        self.output.close()
        self.closing = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: int) -> None:
        await self._leave_all(code)
        await self.close(code=code)

    def _who(self) -> str:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return str(user.username)
        return f"anonymous@{handshake.client_host(self.scope)}"
