"""How a message reads in a terminal: pure functions of its current state."""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser

from rich.style import Style
from rich.text import Text

from chat_client import Message, Room

MEMBER_ACTIONS = {
    "join": "{name} joined",
    "leave": "{name} left",
    "add": "{by} added {name}",
    "remove": "{by} removed {name}",
}


def shown_time(stamp: str, now: datetime | None = None) -> str:
    """Return ``stamp`` in local time: the hour today, the date before."""
    moment = datetime.fromisoformat(stamp).astimezone()
    now = now or datetime.now().astimezone()
    if moment.date() == now.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def message_text(message: Message, *, me: str | None = None) -> Text:
    """Return the lines a message shows: header, quote, text, file, reactions."""
    member = message["member"]
    if member is not None:
        line = MEMBER_ACTIONS.get(member["action"], "{name} {action}").format(
            name=member["name"], by=message["author"], action=member["action"]
        )
        return Text(f"— {line} · {shown_time(message['created'])}", style="dim")
    text = Text()
    text.append(message["author"], style="bold")
    if message["username"]:
        text.append(f" @{message['username']}", style="dim")
    if message.get("bot"):
        text.append(" bot", style="reverse cyan")
    text.append(f" · {shown_time(message['created'])}", style="dim")
    if message["edited"] and not message["deleted"]:
        text.append(" (edited)", style="dim italic")
    quote = message["reply_to"]
    if quote is not None:
        excerpt = "(deleted)" if quote["deleted"] else quote["excerpt"]
        text.append(f"\n  ↪ {quote['author']}: {excerpt}", style="dim italic")
    if message["deleted"]:
        text.append("\n(deleted)", style="dim italic")
        return text
    if message["text"]:
        mentioned = me is not None and me in message["mentions"]
        body = formatted(message["html"]) if message["html"] else Text(message["text"])
        if mentioned:
            body.stylize("on grey23")
        text.append("\n")
        text.append_text(body)
    attachment = message["attachment"]
    if attachment is not None:
        text.append(
            f"\n📎 {attachment['name']} ({file_size(attachment['size'])})",
            style="cyan",
        )
    if message["reactions"]:
        text.append("\n")
        for index, reaction in enumerate(message["reactions"]):
            mine = me is not None and me in reaction["users"]
            if index:
                text.append("  ")
            text.append(
                f"{reaction['emoji']} {reaction['count']}",
                style="bold green" if mine else "green",
            )
    return text


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def room_label(room: Room, *, current: bool = False) -> Text:
    """Return a room as the sidebar lists it, with its unread count."""
    sign = {"public": "#", "private": "🔒", "direct": "@"}.get(room["kind"], "#")
    text = Text(f"{sign} {room['name']}", style="bold" if room["unread"] else "")
    if room["unread"] and not current:
        count = "99+" if room["unread"] > 99 else str(room["unread"])
        style = "reverse red" if room["mentions"] else "reverse"
        text.append(" ")
        text.append(f" {count} ", style=style)
    return text


# The server's sanitized HTML (docs/protocol.md, Formatting) as terminal
# styles: the few tags it can hold, nothing else.
_INLINE = {
    "strong": Style(bold=True),
    "em": Style(italic=True),
    "s": Style(strike=True),
    "code": Style(color="magenta"),
}


class _Formatter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self.styles: list[Style] = []
        self.lists: list[
            int
        ] = []  # Per open list: 0 for bullets, else the next number.
        self.quoted = 0
        self.pre = False
        self.line_start = True

    def _break(self) -> None:
        if self.text.plain and not self.text.plain.endswith("\n"):
            self.text.append("\n")
        self.line_start = True

    def _start_line(self) -> None:
        if self.line_start and self.quoted:
            self.text.append("▎ " * self.quoted, style="dim")
        self.line_start = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("p", "pre", "br", "blockquote", "li"):
            self._break()
        if tag == "pre":
            self.pre = True
        elif tag == "blockquote":
            self.quoted += 1
        elif tag in ("ul", "ol"):
            self.lists.append(int(values.get("start") or 1) if tag == "ol" else 0)
        elif tag == "li":
            self._start_line()
            number = self.lists[-1] if self.lists else 0
            self.text.append("  " * max(len(self.lists) - 1, 0))
            self.text.append(f"{number}. " if number else "• ")
            if number:
                self.lists[-1] += 1
        if tag in _INLINE:
            self.styles.append(_INLINE[tag])
        elif tag == "a":
            self.styles.append(Style(underline=True, link=values.get("href") or None))
        elif tag == "span":
            mention = "data-mention" in values
            self.styles.append(Style(bold=True, color="cyan") if mention else Style())

    def handle_endtag(self, tag: str) -> None:
        if tag in (*_INLINE, "a", "span") and self.styles:
            self.styles.pop()
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote" and self.quoted:
            self.quoted -= 1
        elif tag == "pre":
            self.pre = False

    def handle_data(self, data: str) -> None:
        style = Style.combine(self.styles) if self.styles else None
        lines = data.split("\n") if self.pre else [data.replace("\n", " ")]
        for index, line in enumerate(lines):
            if index:
                self._break()
            if self.line_start and not self.pre:
                line = line.lstrip()
            if line:
                self._start_line()
                self.text.append(line, style=style)


def formatted(html: str) -> Text:
    """Return a message's rendered HTML as styled terminal text."""
    formatter = _Formatter()
    formatter.feed(html)
    formatter.close()
    text = formatter.text
    text.rstrip()
    return text
