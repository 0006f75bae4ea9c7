"""The terminal client, driven by Textual's pilot against a real server process."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widget import Widget

from chat_client import Client, Message
from chat_tui.app import ChatApp
from chat_tui.widgets import EmojiPicker, RoomItem
from tests.server import ChatServer
from tests.tui import prepared_server, seed, until

pytestmark = pytest.mark.timeout(180)

SIZE = (120, 40)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """General holds 10,000 messages of bob's; the room "random" five."""
    server = prepared_server(Path(tmp_path_factory.mktemp("tui")), ["alice", "bob"])
    seed(server, slug="general", author="bob", count=10_000)
    seed(server, slug="random", author="bob", count=5, prefix="random")
    server.start()
    yield server
    server.stop()


def shown(app: ChatApp) -> list[Message]:
    """The messages on screen, top to bottom."""
    return [app.view.items[i].message for i in app.view.ids]


def texts(app: ChatApp) -> list[str]:
    return [m["text"] for m in shown(app)]


def status(app: ChatApp) -> str:
    return str(app.query_one("#status").render())


def the(app: ChatApp, text: str) -> Message:
    """The one message on screen with ``text``."""
    [message] = [m for m in shown(app) if m["text"] == text]
    return message


async def focus(widget: Widget) -> None:
    """Focus ``widget`` and wait until it has it (Textual moves focus later)."""
    widget.focus()
    await until(lambda: widget.has_focus)


async def opened(app: ChatApp, room: str = "general") -> None:
    await until(lambda: app.current == room and app.view.ids)
    await until(lambda: app.connection == "connected")


class FirstScreenTests:
    async def test_guest_sees_the_latest_page_read_only(
        self, server: ChatServer
    ) -> None:
        app = ChatApp(server.url)
        async with app.run_test(size=SIZE):
            await opened(app)
            assert texts(app) == [f"seed {n}" for n in range(9950, 10_000)]
            assert app.composer.disabled
            assert "guest" in status(app)
            assert app.rooms["general"]["unread"] == 0

    async def test_scrolling_up_loads_older_pages(self, server: ChatServer) -> None:
        app = ChatApp(server.url)
        async with app.run_test(size=SIZE) as pilot:
            await opened(app)
            await focus(app.view)
            app.view.index = 1
            await pilot.press("up")
            await until(lambda: len(app.view.ids) == 100)
            assert texts(app) == [f"seed {n}" for n in range(9900, 10_000)]
            assert app.view.selected is not None
            assert app.view.selected["text"] == "seed 9950"


class RoomTests:
    async def test_switching_rooms_by_key_and_by_mouse(
        self, server: ChatServer, tokens: dict[str, str]
    ) -> None:
        app = ChatApp(server.url, tokens["alice"])
        async with app.run_test(size=SIZE) as pilot:
            await opened(app)
            await pilot.press("ctrl+n")
            await until(lambda: app.current != "general" and app.view.ids)
            await pilot.press("ctrl+p")
            await opened(app)
            await pilot.click(app.sidebar.item("random"))
            await until(lambda: texts(app)[-1:] == ["random 4"])
            assert app.current == "random"
            assert isinstance(app.sidebar.highlighted_child, RoomItem)
            assert app.sidebar.highlighted_child.slug == "random"

    async def test_unread_counts_grow_for_rooms_not_on_screen(
        self, server: ChatServer, tokens: dict[str, str]
    ) -> None:
        app = ChatApp(server.url, tokens["alice"], room="random")
        async with (
            app.run_test(size=SIZE),
            Client(server.url, tokens["bob"]) as bob,
            bob.stream(["general"]) as stream,
        ):
            await opened(app, "random")
            before = app.rooms["general"]["unread"]
            await stream.send("general", "while alice reads random")
            await until(lambda: app.rooms["general"]["unread"] == before + 1)


class WritingTests:
    async def test_enter_sends_and_others_arrive_live(
        self, server: ChatServer, tokens: dict[str, str]
    ) -> None:
        app = ChatApp(server.url, tokens["alice"])
        async with (
            app.run_test(size=SIZE) as pilot,
            Client(server.url, tokens["bob"]) as bob,
            bob.stream(["general"]) as stream,
        ):
            await opened(app)
            app.composer.text = "first line"
            app.composer.move_cursor(app.composer.document.end)
            await pilot.press("ctrl+j")
            app.composer.insert("second line")
            await pilot.press("enter")
            await until(lambda: "first line\nsecond line" in texts(app))
            assert app.composer.text == ""
            await stream.send("general", "from bob, live")
            await until(lambda: texts(app)[-1:] == ["from bob, live"])
            assert texts(app).count("first line\nsecond line") == 1

    async def test_reply_react_and_edit_last(
        self, server: ChatServer, tokens: dict[str, str]
    ) -> None:
        app = ChatApp(server.url, tokens["alice"])
        async with app.run_test(size=SIZE) as pilot:
            await opened(app)
            app.composer.text = "a message to answer"
            await pilot.press("enter")
            await until(lambda: texts(app)[-1:] == ["a message to answer"])
            original = the(app, "a message to answer")
            # Escape leaves the composer for the newest message: reply to it.
            await pilot.press("escape")
            assert app.view.has_focus
            assert app.view.selected == original
            await pilot.press("r")
            assert app.composer.has_focus and app.replying == original
            app.composer.text = "the answer"
            await pilot.press("enter")
            await until(lambda: texts(app)[-1:] == ["the answer"])
            quote = the(app, "the answer")["reply_to"]
            assert quote is not None and quote["id"] == original["id"]
            # A quick thumbs-up, then any emoji through the picker.
            await focus(app.view)
            app.view.index = app.view.ids.index(original["id"])
            await pilot.press("plus")
            await until(lambda: the(app, "a message to answer")["reactions"])
            await pilot.press("e")
            await until(lambda: isinstance(app.screen, EmojiPicker))
            await pilot.click(app.screen.query("Button.emoji")[1])
            await until(
                lambda: (
                    [r["emoji"] for r in the(app, "a message to answer")["reactions"]]
                    == ["👍", "❤️"]
                )
            )
            # Up in the empty composer edits one's last message.
            await focus(app.composer)
            await pilot.press("up")
            assert app.editing is not None
            assert app.composer.text == "the answer"
            app.composer.text = "the answer, edited"
            await pilot.press("enter")
            await until(lambda: "the answer, edited" in texts(app))
            edited = the(app, "the answer, edited")
            assert edited["edited"] is not None
            assert "the answer" not in texts(app)

    async def test_upload_by_path(
        self, server: ChatServer, tokens: dict[str, str], tmp_path: Path
    ) -> None:
        path = tmp_path / "report.txt"
        path.write_text("numbers")
        app = ChatApp(server.url, tokens["alice"])
        async with app.run_test(size=SIZE) as pilot:
            await opened(app)
            app.composer.text = f"/upload {path}"
            await pilot.press("enter")
            await until(
                lambda: any(
                    m["attachment"] and m["attachment"]["name"] == "report.txt"
                    for m in shown(app)
                )
            )


class RestartTests:
    async def test_kill_9_loses_and_doubles_nothing_on_screen(
        self, tmp_path: Path
    ) -> None:
        server = prepared_server(tmp_path, ["alice", "bob"])
        seed(server, slug="general", author="bob", count=30, prefix="before")
        server.start()
        try:
            tokens = {name: server.create_token(name) for name in ("alice", "bob")}
            app = ChatApp(server.url, tokens["alice"])
            async with (
                app.run_test(size=SIZE) as pilot,
                Client(server.url, tokens["bob"]) as bob,
                bob.stream(["general"]) as stream,
            ):
                await opened(app)
                sends = [
                    asyncio.create_task(stream.send("general", f"bob {n}"))
                    for n in range(20)
                ]
                await until(lambda: "bob 4" in texts(app))
                await asyncio.to_thread(server.stop, signal.SIGKILL)
                await until(lambda: app.connection != "connected")
                assert "reconnecting" in status(app) or "connecting" in status(app)
                # Written while the server is down: sent once it is back.
                app.composer.text = "alice while down"
                await pilot.press("enter")
                sends += [
                    asyncio.create_task(stream.send("general", f"bob {n}"))
                    for n in range(20, 30)
                ]
                await asyncio.to_thread(server.start)
                await asyncio.wait_for(asyncio.gather(*sends), 90)
                await until(lambda: "bob 29" in texts(app) and not app.sending, 60)
                await until(lambda: "alice while down" in texts(app), 60)
                await until(lambda: app.connection == "connected")
                on_screen = texts(app)
                ids = app.view.ids
            assert ids == sorted(set(ids))
            bobs = [t for t in on_screen if t.startswith("bob ")]
            assert bobs == [f"bob {n}" for n in range(30)]
            assert on_screen.count("alice while down") == 1
            assert on_screen[0] == "before 0"
        finally:
            server.stop()
