"""The HTTP side of the chat's API v1, and the door to its live stream."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx

from chat_client.errors import ChatApiError
from chat_client.ids import new_client_id
from chat_client.stream import Stream
from chat_client.types import Message, Room, User

# Every API path starts here.
API_PREFIX = "/api/v1"

# A post whose answer never came is sent again (same client_id) this often.
POST_ATTEMPTS = 4
RETRY_DELAY = 0.5


class Client:
    """
    A chat client: ``base_url`` is the server (``http://127.0.0.1:8080``),
    ``token`` an API token (sent as ``Authorization: Bearer``); without one
    the client reads what guests read.
    """

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.auth_headers(),
            timeout=timeout,
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def auth_headers(self) -> dict[str, str]:
        """Return the headers that carry the token (none without one)."""
        if self.token is None:
            return {}
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        """Return the multi-room socket's URL."""
        scheme, rest = self.base_url.split("://", 1)
        return ("wss" if scheme == "https" else "ws") + "://" + rest + "/ws/"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send ``method`` to ``API_PREFIX + path``; return the JSON answer."""
        response = await self._http.request(
            method,
            API_PREFIX + path,
            params={k: v for k, v in (params or {}).items() if v is not None},
            json=json,
            files=files,
            data=data,
        )
        if response.status_code >= 400:
            raise _api_error(response)
        if response.status_code == 204 or not response.content:
            return {}
        return cast(dict[str, Any], response.json())

    async def me(self) -> User:
        """Return the user behind the token."""
        answer = await self.request("GET", "/me")
        return cast(User, answer["user"])

    async def rooms(self) -> list[Room]:
        """Return the rooms one reads: joined ones first, then public ones."""
        answer = await self.request("GET", "/rooms")
        return cast(list[Room], answer["rooms"])

    async def join(self, room: str) -> Room:
        answer = await self.request("POST", f"/rooms/{_slug(room)}/join")
        return cast(Room, answer["room"])

    async def messages(
        self,
        room: str,
        *,
        limit: int | None = None,
        before: int | None = None,
        after: int | None = None,
        since: int | None = None,
        around: int | None = None,
    ) -> list[Message]:
        """
        Return a page of ``room``'s messages, oldest first: the latest
        (older than ``before``), those newer than ``after``, those around
        ``around``, or (``since``) those changed after that ``seq``.
        """
        answer = await self.request(
            "GET",
            f"/rooms/{_slug(room)}/messages",
            params={
                "limit": limit,
                "before": before,
                "after": after,
                "since": since,
                "around": around,
            },
        )
        return cast(list[Message], answer["messages"])

    async def post_message(
        self,
        room: str,
        text: str,
        *,
        reply_to: int | None = None,
        client_id: str | None = None,
    ) -> Message:
        """
        Post ``text`` to ``room``; return the stored message.

        A request whose answer is lost is sent again with the same
        ``client_id``, so the message is stored once whatever happens.
        """
        body: dict[str, Any] = {"text": text, "client_id": client_id or new_client_id()}
        if reply_to is not None:
            body["reply_to"] = reply_to
        answer = await self._retried(
            "POST", f"/rooms/{_slug(room)}/messages", json=body
        )
        return cast(Message, answer["message"])

    async def edit_message(self, room: str, message_id: int, text: str) -> Message:
        answer = await self.request(
            "PATCH", f"/rooms/{_slug(room)}/messages/{message_id}", json={"text": text}
        )
        return cast(Message, answer["message"])

    async def delete_message(self, room: str, message_id: int) -> Message:
        answer = await self.request(
            "DELETE", f"/rooms/{_slug(room)}/messages/{message_id}"
        )
        return cast(Message, answer["message"])

    async def react(
        self, room: str, message_id: int, emoji: str, *, on: bool = True
    ) -> Message:
        """Put the reaction ``emoji`` on the message, or (``on=False``) take it off."""
        path = f"/rooms/{_slug(room)}/messages/{message_id}/reactions/" + quote(
            emoji, safe=""
        )
        answer = await self.request("PUT" if on else "DELETE", path)
        return cast(Message, answer["message"])

    async def upload(
        self,
        room: str,
        path: str | Path,
        *,
        text: str = "",
        client_id: str | None = None,
    ) -> Message:
        """Share the file at ``path`` in ``room``, with an optional ``text``."""
        name, content = await asyncio.to_thread(_read_file, path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        answer = await self._retried(
            "POST",
            f"/rooms/{_slug(room)}/files",
            files={"file": (name, content, content_type)},
            data={"text": text, "client_id": client_id or new_client_id()},
        )
        return cast(Message, answer["message"])

    async def mark_read(self, room: str, message_id: int) -> Room:
        """Move one's read cursor in ``room`` to ``message_id``."""
        answer = await self.request(
            "POST", f"/rooms/{_slug(room)}/read", json={"id": message_id}
        )
        return cast(Room, answer["room"])

    def stream(
        self,
        rooms: Iterable[str] | Mapping[str, int | None] = (),
        *,
        heartbeat_timeout: float = 30.0,
    ) -> Stream:
        """
        Return the live stream of ``rooms`` (slugs, or slugs with the ``seq``
        to resume after); use it as ``async with client.stream(...) as s``.
        """
        since = rooms if isinstance(rooms, Mapping) else dict.fromkeys(rooms)
        return Stream(
            self.ws_url,
            headers=self.auth_headers(),
            since=since,
            heartbeat_timeout=heartbeat_timeout,
        )

    async def _retried(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # Only requests carrying a client_id come here: a repeat is stored
        # once, so a lost answer is safe to ask again.
        for attempt in range(POST_ATTEMPTS):
            try:
                return await self.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == POST_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(RETRY_DELAY * 2**attempt)
        raise AssertionError("unreachable")


def _read_file(path: str | Path) -> tuple[str, bytes]:
    file = Path(path).expanduser()
    return file.name, file.read_bytes()


def _slug(room: str) -> str:
    return quote(room, safe="")


def _api_error(response: httpx.Response) -> ChatApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return ChatApiError(
            response.status_code, str(body["code"]), str(body.get("detail", ""))
        )
    return ChatApiError(
        response.status_code, "http_error", response.reason_phrase or "error"
    )
