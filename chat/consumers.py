"""The chat socket: translates frames to commands and subscriptions, and back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation

from chat import access, auth, handshake, protocol, ratelimit
from chat.exceptions import (
    BadRequest,
    ChatError,
    InsufficientScope,
    NotFound,
    RateLimited,
)
from chat.hub import get_hub
from chat.models import Room
from chat.presence import Person
from chat.subscriptions import Following
from chat.transport import DirectWriter, Output
from chat.turns import get_turns

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
    # The user whose own frames (read cursor) the socket hears.
    own_frames_of: int | None = None
    # Who the socket's user is in its rooms' presence (None: a guest), and
    # whether it asked to hear who is in its rooms (?presence=1).
    presence: Person | None = None
    presence_wanted = False
    # Rooms being taken from the socket (held against GC).
    removals: set[asyncio.Task[None]] | None = None
    worker: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output = Output(
            self._send_text, self._too_slow, settings.SOCKET_QUEUE_LIMIT
        )
        self.following = Following(self, self._too_slow, fixed=None)
        # The client's frames not yet answered, in order: commands, or
        # ready replies (errors of frames that did not parse).
        self.pending: list[protocol.Command | str] = []
        self.open = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """
        Channels' consumer loop, minus its task per socket.

        Channels reads its sources (the socket, and a layer channel) each
        in a task of its own; this socket has one source (no channel layer,
        see channel_layer_alias), so it is read in the consumer's own task.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def dispatch(self, message: dict[str, Any]) -> None:
        """
        Hand an ASGI event to its handler, as Channels does, minus the
        thread hop Channels makes first to close stale database connections.

        That hop waits in the one database thread behind whatever runs
        there, so each frame a client sent waited for the commit of the
        one before it and frames could never be carried out together.
        Every database call of this socket already closes stale
        connections around itself (``database_sync_to_async``).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.language = handshake.language(self.scope)
        self.fixed_room = self.scope["url_route"]["kwargs"].get("slug")
        self.following.fixed = self.fixed_room
        room: Room | None = None
        try:
            with translation.override(self.language):
                await ratelimit.aenforce_connect(self.scope)
                since, after = handshake.resume_point(self.scope)
                self.presence_wanted = handshake.wants_presence(self.scope)
                if self.fixed_room is not None:
                    room = await self.following.find(self.fixed_room)
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
            # No middleware wraps send: it is the connection's own.
            DirectWriter.behind(self.base_send, settings.SOCKET_BUFFER_LIMIT)
        )
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.own_frames_of = user.pk
            self.presence = Person(user.pk, user.username, user.shown_name, True)
            await get_hub().add_user(user.pk, self)
        if room is not None:
            try:
                await self.following.follow(room, since=since, after=after)
            except NotFound:
                await self.close(code=CLOSE_NOT_FOUND)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """
        Channels' handler minus its thread hop to close stale database
        connections (see ``dispatch``): 5,000 closing sockets queued 5,000
        calls in the database thread, behind whatever ran there.
        """
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        if self.own_frames_of is not None:
            get_hub().remove_user(self.own_frames_of, self)
        self.output.close()
        if self.worker is not None:
            self.worker.cancel()
        self.open = False
        await self.following.leave_all(code)

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
                with translation.override(self.language):
                    await self.following.answer(first)
            elif isinstance(first, protocol.Typing | protocol.Activity):
                await self._presence_command(first)
            elif not isinstance(first, protocol.Ping):
                batch = [first]
                while (
                    self.pending
                    and isinstance(self.pending[0], protocol.RoomCommand)
                    and len(batch) < COMMAND_BATCH
                ):
                    batch.append(self.pending.pop(0))  # type: ignore[arg-type]
                done = await self._room_commands(batch)
                # The rest go first in the next batch.
                self.pending[:0] = batch[done:]

    async def _presence_command(self, command: protocol.PresenceCommand) -> None:
        """Carry out a typing notice or an activity change (no database)."""
        if isinstance(command, protocol.Activity):
            person = self.presence
            if person is not None and person.active != command.active:
                self.presence = person._replace(active=command.active)
                get_hub().touch_presence(list(self.following.rooms))
            return
        try:
            with translation.override(self.language):
                room = self.following.room_of(command.room)
                if not auth.can_write(self.scope):
                    raise InsufficientScope()
                get_hub().typing(room.slug, self.presence)
        except ChatError as error:
            error.room = command.room or self.fixed_room
            await self.output.send(protocol.error_frame(error))

    async def _room_commands(self, batch: list[protocol.RoomCommand]) -> int:
        """
        Carry out ``batch``, or its first part (see commands.execute), and
        send the sender's own replies; return how many were carried out.
        """
        rooms: list[tuple[Room, protocol.RoomCommand]] = []
        for command in batch:
            try:
                with translation.override(self.language):
                    rooms.append((self.following.room_of(command.room), command))
            except ChatError as error:
                if rooms:
                    break  # Answered after the broadcasts of those before it.
                error.client_id = command.client_id
                error.room = command.room or self.fixed_room
                await self.output.send(protocol.error_frame(error))
                return 1
        replies = await get_turns().execute((rooms, self.login_key(), self.language))
        if self.presence is not None:
            hub = get_hub()
            for room, command in rooms[: len(replies)]:
                if isinstance(command, protocol.SendMessage):
                    hub.posted(room.slug, self.presence.user_id)
        for reply in replies:
            if reply is not None:
                await self.output.send(reply)
        return len(replies)

    # What subscriptions call ---------------------------------------------

    def login_key(self) -> str | None:
        return auth.login_key(self.scope)

    def viewer(self) -> access.Viewer:
        """Return who the socket logged in as (AnonymousUser for a guest)."""
        user: access.Viewer = self.scope.get("user")
        return user

    def person(self) -> Person | None:
        return self.presence

    def wants_presence(self) -> bool:
        return self.presence_wanted

    def end_session(self) -> None:
        self._cut_off(CLOSE_LOGGED_OUT, "logged out")

    def tell(self, frame: str, wire: bytes) -> None:
        """Send a frame of the user's own (their read cursor) without waiting."""
        self.output.deliver(frame, wire)

    def removed(self, slug: str) -> None:
        """The user can no longer read ``slug`` (told by its ``removed`` frame)."""
        task = asyncio.get_running_loop().create_task(self._removed(slug))
        if self.removals is None:
            self.removals = set()  # Made when needed: most sockets never are.
        self.removals.add(task)
        task.add_done_callback(self.removals.discard)

    async def _removed(self, slug: str) -> None:
        await self.following.removed(slug)
        if self.fixed_room is not None and self.open:
            # Its only room: closed once the frames before it are out.
            self.open = False
            await self.output.drain()
            self.output.close()
            await self.close(code=CLOSE_NOT_FOUND)

    def _too_slow(self) -> None:
        self._cut_off(CLOSE_TOO_SLOW, "too slow")

    # Sending -------------------------------------------------------------

    async def _send_text(self, frame: str) -> None:
        await self.send(text_data=frame)

    def _cut_off(self, code: int, reason: str) -> None:
        if not self.open:
            return
        rooms = ",".join(self.following.rooms)
        logger.warning("closing %s in %s: %s", self.who(), rooms, reason)
        self.open = False
        self.output.close()
        self.closing = asyncio.get_running_loop().create_task(self._close(code))

    async def _close(self, code: int) -> None:
        await self.following.leave_all(code)
        await self.close(code=code)

    def who(self) -> str:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return str(user.username)
        return f"anonymous@{handshake.client_host(self.scope)}"
