"""The terminal client's widgets: rooms, messages, the composer, the emoji picker."""

from __future__ import annotations

import bisect

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message as UiMessage
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ListItem, ListView, Static, TextArea

from chat_client import Message, Room
from chat_tui.render import message_text, room_label

QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "🙏"]


class RoomItem(ListItem):
    def __init__(self, room: Room) -> None:
        super().__init__(Static(room_label(room)))
        self.slug = room["slug"]

    def show(self, room: Room, *, current: bool) -> None:
        self.query_one(Static).update(room_label(room, current=current))


class RoomList(ListView):
    """The sidebar: every room one reads, with unread counts."""

    BINDINGS = [Binding("escape", "app.focus_composer", "Write", show=False)]

    def item(self, slug: str) -> RoomItem | None:
        for child in self.children:
            if isinstance(child, RoomItem) and child.slug == slug:
                return child
        return None


class MessageItem(ListItem):
    def __init__(self, message: Message, me: str | None) -> None:
        super().__init__(Static(message_text(message, me=me)))
        self.message = message
        self.me = me

    def show(self, message: Message) -> None:
        self.message = message
        self.query_one(Static).update(message_text(message, me=self.me))


class MessageView(ListView):
    """One room's messages, oldest at the top; scrolling up loads older ones."""

    BINDINGS = [
        Binding("r", "app.reply", "Reply"),
        Binding("e", "app.react", "React"),
        Binding("plus", "app.thumbs_up", "👍"),
        Binding("escape,i", "app.focus_composer", "Write"),
    ]

    class NearTop(UiMessage):
        """The reader reached the oldest message shown (``oldest``, its id)."""

        def __init__(self, oldest: int | None) -> None:
            super().__init__()
            self.oldest = oldest

    def __init__(self, *, me: str | None, id: str | None = None) -> None:
        super().__init__(initial_index=None, id=id)
        self.me = me
        self.ids: list[int] = []
        self.items: dict[int, MessageItem] = {}

    async def show_page(self, messages: list[Message]) -> None:
        """Show ``messages`` (oldest first) instead of what is shown."""
        await self.clear()
        self.ids, self.items = [], {}
        await self.upsert(messages)
        self.anchor()

    async def upsert(self, messages: list[Message]) -> None:
        """Show each message in its place, or its new state where it is."""
        newer: list[MessageItem] = []
        for message in messages:
            shown = self.items.get(message["id"])
            if shown is not None:
                shown.show(message)
                continue
            item = MessageItem(message, self.me)
            self.items[message["id"]] = item
            if not self.ids or message["id"] > self.ids[-1]:
                self.ids.append(message["id"])
                newer.append(item)
                continue
            await self._flush(newer)
            newer = []
            place = bisect.bisect(self.ids, message["id"])
            self.ids.insert(place, message["id"])
            await self.insert(place, [item])
            if self.index is not None and place <= self.index:
                self.index += 1
        await self._flush(newer)

    async def prepend(self, messages: list[Message]) -> None:
        """Show an older page above what is shown, keeping the view still."""
        older = [m for m in messages if m["id"] not in self.items]
        if not older:
            return
        from_bottom = self.max_scroll_y - self.scroll_y
        items = [MessageItem(m, self.me) for m in older]
        for item in items:
            self.items[item.message["id"]] = item
        await self.insert(0, items)
        # Shown only now: a reader who reached the top while they went in
        # (the list scrolls to its highlight after a refresh) reached the
        # page before them, and must not ask for the page before these.
        self.ids = sorted([*self.ids, *(item.message["id"] for item in items)])
        if self.index is not None:
            self.index += len(items)

        def keep_place() -> None:
            self.scroll_to(y=self.max_scroll_y - from_bottom, animate=False)

        self.call_after_refresh(keep_place)

    @property
    def selected(self) -> Message | None:
        child = self.highlighted_child
        return child.message if isinstance(child, MessageItem) else None

    async def _flush(self, items: list[MessageItem]) -> None:
        if items:
            await self.extend(items)

    def watch_index(self, old_index: int | None, new_index: int | None) -> None:
        super().watch_index(old_index, new_index)
        if new_index == 0:
            self._near_top()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self._near_top()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0:
            self._near_top()

    def _near_top(self) -> None:
        # Reaching the top by key and by scrolling at once asks twice: the
        # oldest id shown tells the app which page is asked for.
        self.post_message(self.NearTop(self.ids[0] if self.ids else None))


class Composer(TextArea):
    """Where one writes: Enter sends, Ctrl+J or Alt+Enter starts a new line."""

    BINDINGS = [
        Binding("enter", "submit", "Send", priority=True),
        Binding("ctrl+j,alt+enter", "newline", "New line", key_display="^j"),
        Binding("up", "edit_last", "Edit last", show=False),
        Binding("escape", "cancel", "Messages"),
    ]

    class Submitted(UiMessage):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class EditLast(UiMessage):
        """Up in an empty composer: edit one's last message."""

    class Cancelled(UiMessage):
        """Escape: leave a reply or edit, or go to the messages."""

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_edit_last(self) -> None:
        if self.text:
            self.action_cursor_up()
        else:
            self.post_message(self.EditLast())

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class EmojiPicker(ModalScreen[str | None]):
    """Pick an emoji: a quick one, or any typed in."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("React with:")
            with Horizontal(id="quick"):
                for emoji in QUICK_EMOJI:
                    yield Button(emoji, name=emoji, classes="emoji")
            yield Input(placeholder="or type one, then Enter", id="emoji-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.name)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class StatusLine(Static):
    """Connected, reconnecting, read-only: what the connection is doing."""
