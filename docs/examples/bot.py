"""A bot: answers "!ping" in a room with "pong" and a reaction, live."""

import asyncio
import os

from chat_client import Change, Client

URL, ROOM = os.environ.get("CHAT_URL", "http://127.0.0.1:8080"), "general"


async def main() -> None:
    client = Client(URL, os.environ["CHAT_TOKEN"])
    async with client, client.stream([ROOM]) as stream:
        async for event in stream:
            if not isinstance(event, Change) or event.kind != "message":
                continue
            if event.message["text"].strip() == "!ping":
                await stream.react(ROOM, event.message["id"], "🏓")
                await stream.send(ROOM, "pong", reply_to=event.message["id"])


asyncio.run(main())
