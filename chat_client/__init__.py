"""
A client of the chat: its HTTP API and its live stream, for asyncio.

    async with Client("http://127.0.0.1:8080", token) as client:
        for room in await client.rooms():
            print(room["name"], room["unread"])
        async with client.stream(["general"]) as stream:
            await stream.send("general", "Hello")
            async for event in stream:
                print(event)

See docs/terminal.md.
"""

from __future__ import annotations

from chat_client.client import API_PREFIX, Client
from chat_client.errors import ChatApiError, ChatError, StreamClosed
from chat_client.ids import new_client_id
from chat_client.stream import Change, Event, History, Notice, Status, Stream
from chat_client.types import Attachment, Frame, Message, Quote, Reaction, Room, User

__all__ = [
    "API_PREFIX",
    "Attachment",
    "Change",
    "ChatApiError",
    "ChatError",
    "Client",
    "Event",
    "Frame",
    "History",
    "Message",
    "Notice",
    "Quote",
    "Reaction",
    "Room",
    "Status",
    "Stream",
    "StreamClosed",
    "User",
    "new_client_id",
]
