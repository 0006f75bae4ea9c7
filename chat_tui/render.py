"""How a message reads in a terminal: pure functions of its current state."""

from __future__ import annotations

from datetime import datetime

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
        text.append("\n" + message["text"], style="bold yellow" if mentioned else "")
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
