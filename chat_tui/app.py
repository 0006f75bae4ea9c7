"""
The chat in a terminal: ``chat-tui --server URL [--token TOKEN]``.

A sidebar of rooms with unread counts, the room on screen live from one
socket, and a composer. Without a token (``--token`` or ``CHAT_TOKEN``) it
reads public rooms as a guest. See docs/terminal.md.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from chat_client import (
    Change,
    ChatError,
    Client,
    History,
    Message,
    Notice,
    Room,
    Status,
    Stream,
    StreamClosed,
)
from chat_tui.widgets import (
    Composer,
    EmojiPicker,
    MessageView,
    RoomItem,
    RoomList,
    StatusLine,
)

DEFAULT_SERVER = "http://127.0.0.1:8080"
# Messages per page: the first screen, and each older page.
PAGE_SIZE = 50
# The socket follows at most this many rooms (the server's limit).
MAX_ROOMS = 200
READ_ONLY_HINT = "Read-only: start with --token (or CHAT_TOKEN) to write."


@dataclass
class RoomState:
    """What the client holds of a room it has opened."""

    messages: dict[int, Message] = field(default_factory=dict)
    loaded: bool = False
    # The oldest message loaded; None before the first page.
    oldest: int | None = None
    # Whether the oldest message of the room is loaded.
    complete: bool = False
    loading_older: bool = False


class ChatApp(App[None]):
    """The chat's terminal client."""

    CSS_PATH = "app.tcss"
    TITLE = "chat"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+n,alt+down", "next_room", "Next room", key_display="^n"),
        Binding("ctrl+p,alt+up", "previous_room", "Prev room", key_display="^p"),
        Binding("ctrl+q", "quit", "Quit", key_display="^q"),
    ]

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        token: str | None = None,
        *,
        room: str | None = None,
    ) -> None:
        super().__init__()
        self.client = Client(server, token)
        self.wanted_room = room
        self.me: str | None = None
        self.rooms: dict[str, Room] = {}
        self.order: list[str] = []
        self.states: dict[str, RoomState] = {}
        self.current: str | None = None
        self.stream: Stream | None = None
        self.replying: Message | None = None
        self.editing: Message | None = None
        self.sending = 0
        self.connection = "connecting"
        self._read_up_to: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield RoomList(id="rooms")
            with Vertical(id="room"):
                yield Static("", id="title")
                yield MessageView(me=None, id="messages")
                yield Static("", id="banner")
                yield Composer(id="composer", placeholder="Loading…")
        yield StatusLine("◌ connecting…", id="status")
        yield Footer()

    @property
    def view(self) -> MessageView:
        return self.query_one(MessageView)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def sidebar(self) -> RoomList:
        return self.query_one(RoomList)

    def on_mount(self) -> None:
        self.query_one("#banner").display = False
        self.composer.disabled = True
        self.run_worker(self._start(), name="start")

    async def on_unmount(self) -> None:
        if self.stream is not None:
            await self.stream.close()
        await self.client.aclose()

    async def _start(self) -> None:
        try:
            if self.client.token is not None:
                self.me = (await self.client.me())["username"]
            rooms = await self.client.rooms()
        except (ChatError, OSError) as error:
            self._show_status(f"✕ {error}")
            self.notify(str(error), severity="error", timeout=30)
            return
        self.view.me = self.me
        await self._show_rooms(rooms)
        self.stream = self.client.stream(
            {room["slug"]: room["seq"] for room in rooms[:MAX_ROOMS]}
        )
        self.stream.start()
        self.run_worker(self._follow(self.stream), name="follow")
        if self.me is None:
            self.composer.placeholder = READ_ONLY_HINT
        else:
            self.composer.disabled = False
            self.composer.placeholder = "Write a message (/upload PATH shares a file)"
            self.composer.focus()
        first = self._first_room(rooms)
        if first is not None:
            await self.open_room(first)
        if self.me is None:
            self.view.focus()

    def _first_room(self, rooms: list[Room]) -> str | None:
        slugs = [room["slug"] for room in rooms]
        for wanted in (self.wanted_room, "general"):
            if wanted in slugs:
                return wanted
        joined = [room["slug"] for room in rooms if room["joined"]]
        candidates = joined or slugs
        return candidates[0] if candidates else None

    async def _show_rooms(self, rooms: list[Room]) -> None:
        self.rooms = {room["slug"]: room for room in rooms}
        self.order = [room["slug"] for room in rooms]
        await self.sidebar.clear()
        await self.sidebar.extend(RoomItem(room) for room in rooms)
        for slug in self.order:
            self._show_room(slug)

    def _show_room(self, slug: str) -> None:
        item = self.sidebar.item(slug)
        if item is not None:
            item.show(self.rooms[slug], current=slug == self.current)

    # Rooms.

    async def open_room(self, slug: str) -> None:
        """Show ``slug``: its latest page at once, then live."""
        if slug not in self.rooms:
            return
        previous, self.current = self.current, slug
        self.replying = self.editing = None
        self._show_banner()
        room = self.rooms[slug]
        room["unread"] = room["mentions"] = 0
        for name in (previous, slug):
            if name is not None and name in self.rooms:
                self._show_room(name)
        if slug in self.order:
            self.sidebar.index = self.order.index(slug)
        title = Text(room["name"], style="bold")
        if self.me is None:
            title.append("  (read-only)", style="dim")
        self.query_one("#title", Static).update(title)
        state = self.states.setdefault(slug, RoomState())
        if self.stream is not None and slug not in self.stream.rooms:
            await self.stream.subscribe(slug, since=room["seq"])
        if not state.loaded:
            await self.view.show_page([])
            try:
                page = await self.client.messages(slug, limit=PAGE_SIZE)
            except (ChatError, OSError) as error:
                self.notify(f"Could not load {room['name']}: {error}", severity="error")
                return
            for message in page:
                self._store(state, message)
            state.loaded = True
            state.complete = len(page) < PAGE_SIZE
            state.oldest = min(state.messages, default=None)
        if self.current != slug:
            return  # Another room was opened meanwhile.
        await self.view.show_page(sorted(state.messages.values(), key=_by_id))
        await self._read(slug)

    async def load_older(self, below: int | None = None) -> None:
        """Load the page before the oldest message; ``below``: only if that is it."""
        slug = self.current
        if slug is None:
            return
        state = self.states[slug]
        if not state.loaded or state.complete or state.loading_older:
            return
        if below is not None and below != state.oldest:
            return  # That page came meanwhile.
        state.loading_older = True
        try:
            page = await self.client.messages(
                slug, before=state.oldest, limit=PAGE_SIZE
            )
        except (ChatError, OSError) as error:
            self.notify(f"Could not load older messages: {error}", severity="error")
            return
        finally:
            state.loading_older = False
        for message in page:
            self._store(state, message)
        state.complete = len(page) < PAGE_SIZE
        if page:
            state.oldest = min(state.oldest or page[0]["id"], page[0]["id"])
        if self.current == slug:
            await self.view.prepend(page)

    def _store(self, state: RoomState, message: Message) -> bool:
        """Keep ``message`` unless a later state of it is held already."""
        held = state.messages.get(message["id"])
        if held is not None and held["seq"] > message["seq"]:
            return False
        state.messages[message["id"]] = message
        return True

    async def _read(self, slug: str) -> None:
        """Move one's read cursor to the newest message on screen."""
        room = self.rooms.get(slug)
        state = self.states.get(slug)
        if self.me is None or room is None or not room["joined"] or not state:
            return
        newest = max(state.messages, default=0)
        if newest <= self._read_up_to.get(slug, room["last_read_id"] or 0):
            return
        if self.stream is not None and await self.stream.send_frame(
            {"type": "read", "room": slug, "id": newest}
        ):
            self._read_up_to[slug] = newest

    # The live stream.

    async def _follow(self, stream: Stream) -> None:
        try:
            async for event in stream:
                if isinstance(event, Status):
                    self._connection(event)
                elif isinstance(event, History):
                    for message in event.messages:
                        await self._apply(message)
                elif isinstance(event, Change):
                    await self._apply(event.message)
                elif isinstance(event, Notice):
                    await self._notice(event)
        except StreamClosed as closed:
            self.connection = "closed"
            self._show_status(f"✕ disconnected: {closed.reason}")

    async def _apply(self, message: Message) -> None:
        slug = message["room"]
        self._count(slug, message)
        state = self.states.get(slug)
        if state is None:
            return
        if state.loaded and state.oldest is not None and message["id"] < state.oldest:
            return  # Older than what is loaded: its page brings it.
        if not self._store(state, message):
            return
        if slug == self.current and state.loaded:
            if state.oldest is None:
                state.oldest = message["id"]
            await self.view.upsert([message])
            await self._read(slug)

    def _count(self, slug: str, message: Message) -> None:
        """Count a new message of a room not on screen as unread."""
        room = self.rooms.get(slug)
        if room is None or message["id"] <= (room["last_message_id"] or 0):
            return
        room["last_message_id"] = message["id"]
        if (
            slug == self.current
            or message["member"] is not None
            or message["deleted"]
            or (self.me is not None and message["username"] == self.me)
        ):
            return
        room["unread"] += 1
        if self.me in message["mentions"] or message["notifies_room"]:
            room["mentions"] += 1
        self._show_room(slug)

    async def _notice(self, notice: Notice) -> None:
        frame = notice.frame
        if notice.type == "unread" and notice.room in self.rooms:
            if notice.room != self.current:
                room = self.rooms[notice.room]
                room["unread"] = int(frame.get("unread", 0))
                room["mentions"] = int(frame.get("mentions", 0))
                self._show_room(notice.room)
        elif notice.type == "rooms_changed":
            self.run_worker(self._reload_rooms(), group="rooms", exclusive=True)
        elif notice.type == "removed" and notice.room is not None:
            self.notify(f"You no longer read {notice.room}.", severity="warning")
        elif notice.type == "error" and not frame.get("client_id"):
            self.notify(str(frame.get("detail", "error")), severity="error")

    async def _reload_rooms(self) -> None:
        try:
            rooms = await self.client.rooms()
        except (ChatError, OSError):
            return
        await self._show_rooms(rooms)
        if self.stream is not None:
            for room in rooms[:MAX_ROOMS]:
                if room["slug"] not in self.stream.rooms:
                    await self.stream.subscribe(room["slug"], since=room["seq"])
        if self.current in self.rooms:
            self.sidebar.index = self.order.index(self.current)

    def _connection(self, status: Status) -> None:
        self.connection = status.state
        self._show_status()

    def _show_status(self, text: str | None = None) -> None:
        if text is None:
            if self.connection == "connected":
                who = f" as @{self.me}" if self.me else " · guest: " + READ_ONLY_HINT
                text = "● connected" + who
            elif self.connection == "reconnecting":
                text = "◌ reconnecting…"
            else:
                text = f"◌ {self.connection}…"
            if self.sending:
                text += f" · sending {self.sending}…"
        self.query_one(StatusLine).update(text)

    # Writing.

    async def on_composer_submitted(self, event: Composer.Submitted) -> None:
        text = event.text
        slug = self.current
        if self.me is None or slug is None or self.stream is None or not text.strip():
            return
        replying, editing = self.replying, self.editing
        self.composer.clear()
        self.replying = self.editing = None
        self._show_banner()
        if text.startswith("/upload "):
            self._command(
                self.client.upload(slug, text.removeprefix("/upload ").strip())
            )
        elif editing is not None:
            self._command(self.stream.edit(slug, editing["id"], text))
        else:
            reply_to = replying["id"] if replying is not None else None
            self._command(self.stream.send(slug, text, reply_to=reply_to))

    def _command(self, work: Awaitable[Message]) -> None:
        async def run() -> None:
            self.sending += 1
            self._show_status()
            try:
                await work
            except (ChatError, OSError, StreamClosed) as error:
                self.notify(str(error), severity="error")
            finally:
                self.sending -= 1
                self._show_status()

        self.run_worker(run(), group="commands")

    def on_composer_edit_last(self, _event: Composer.EditLast) -> None:
        state = self.states.get(self.current or "")
        if self.me is None or state is None:
            return
        mine = [
            m
            for m in state.messages.values()
            if m["username"] == self.me and not m["deleted"] and m["member"] is None
        ]
        if not mine:
            return
        self.editing = max(mine, key=_by_id)
        self.replying = None
        self.composer.text = self.editing["text"]
        self.composer.move_cursor(self.composer.document.end)
        self._show_banner()

    def on_composer_cancelled(self, _event: Composer.Cancelled) -> None:
        if self.editing is not None:
            self.composer.clear()
        if self.editing is not None or self.replying is not None:
            self.replying = self.editing = None
            self._show_banner()
            return
        self.view.focus()
        if self.view.index is None and self.view.ids:
            self.view.index = len(self.view.ids) - 1

    def _show_banner(self) -> None:
        banner = self.query_one("#banner", Static)
        if self.editing is not None:
            banner.update("✎ Editing your message · Esc cancels")
        elif self.replying is not None:
            quote = self.replying["text"].replace("\n", " ")[:80]
            banner.update(
                Text(f"↪ Replying to {self.replying['author']}: {quote} · Esc cancels")
            )
        banner.display = self.editing is not None or self.replying is not None

    # Actions.

    def action_focus_composer(self) -> None:
        if not self.composer.disabled:
            self.composer.focus()

    def action_reply(self) -> None:
        message = self._actionable()
        if message is not None:
            self.replying, self.editing = message, None
            self._show_banner()
            self.composer.focus()

    def action_react(self) -> None:
        message = self._actionable()
        if message is not None:

            def picked(emoji: str | None) -> None:
                if emoji:
                    self._react(message, emoji)

            self.push_screen(EmojiPicker(), picked)

    def action_thumbs_up(self) -> None:
        message = self._actionable()
        if message is not None:
            self._react(message, "👍")

    def _react(self, message: Message, emoji: str) -> None:
        if self.stream is None:
            return
        on = not any(
            r["emoji"] == emoji and self.me in r["users"] for r in message["reactions"]
        )
        self._command(self.stream.react(message["room"], message["id"], emoji, on=on))

    def _actionable(self) -> Message | None:
        message = self.view.selected
        if self.me is None:
            self.notify(READ_ONLY_HINT, severity="warning")
            return None
        if message is None or message["deleted"] or message["member"] is not None:
            return None
        # The newest state: the item may show an older one for a moment.
        state = self.states.get(message["room"])
        return state.messages.get(message["id"], message) if state else message

    async def action_next_room(self) -> None:
        await self._step_room(1)

    async def action_previous_room(self) -> None:
        await self._step_room(-1)

    async def _step_room(self, step: int) -> None:
        if not self.order:
            return
        place = self.order.index(self.current) if self.current in self.order else 0
        slug = self.order[(place + step) % len(self.order)]
        self.run_worker(self.open_room(slug), group="open", exclusive=True)

    def on_list_view_selected(self, event: RoomList.Selected) -> None:
        if isinstance(event.item, RoomItem) and event.item.slug != self.current:
            self.run_worker(
                self.open_room(event.item.slug), group="open", exclusive=True
            )
            self.action_focus_composer()

    def on_message_view_near_top(self, event: MessageView.NearTop) -> None:
        self.run_worker(self.load_older(event.oldest), group="older")


def _by_id(message: Message) -> int:
    return message["id"]


def main(argv: list[str] | None = None) -> None:
    """Run the terminal client."""
    parser = argparse.ArgumentParser(prog="chat-tui", description=__doc__)
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help=f"default: {DEFAULT_SERVER}"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("CHAT_TOKEN") or None,
        help="an API token (default: $CHAT_TOKEN); without one, read as a guest",
    )
    parser.add_argument("--room", help="the room to open first (its slug)")
    args = parser.parse_args(argv)
    ChatApp(args.server, args.token, room=args.room).run()
