"""Display names can look alike; the @username beside each one cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages import ROOM, fill_signup, live, message, send
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

TAKEN = "Another user already goes by this name."


def expect_written_by(item: Any, display_name: str, username: str) -> None:
    author = item.locator("[data-message-author]")
    expect(author).to_have_text(display_name)
    expect(author).to_have_attribute("title", f"@{username}")
    expect(item.locator("[data-message-username]")).to_have_text(f"@{username}")


class NamesInBrowserTests:
    def test_each_message_shows_who_wrote_it_beside_the_display_name(
        self, browser: Browser, chat_server: ChatServer, artifacts: Path
    ) -> None:
        writer, impostor, guest = (browser.new_context() for _ in range(3))
        wanda, mallory, reader = (
            writer.new_page(),
            impostor.new_page(),
            guest.new_page(),
        )

        fill_signup(wanda, chat_server, "wanda", "Wanda Writer")
        wanda.wait_for_url(f"{chat_server.url}{ROOM}")

        # The same name in other case and spacing is refused on the page...
        fill_signup(mallory, chat_server, "mallory", "WANDA  writer")
        expect(mallory.locator('[data-field-errors="display_name"]')).to_have_text(
            TAKEN
        )
        # ...a look-alike from another script (Cyrillic а) is not: the
        # @username is what tells the two apart.
        fill_signup(mallory, chat_server, "mallory", "W\u0430nda Writer")
        mallory.wait_for_url(f"{chat_server.url}{ROOM}")

        reader.goto(f"{chat_server.url}{ROOM}")
        for page in (wanda, mallory, reader):
            live(page)
        send(wanda, "I am the real Wanda")
        expect(message(reader, "I am the real Wanda")).to_have_count(1)
        send(mallory, "No, I am")
        expect(message(reader, "No, I am")).to_have_count(1)

        expect_written_by(
            message(reader, "I am the real Wanda"), "Wanda Writer", "wanda"
        )
        expect_written_by(message(reader, "No, I am"), "W\u0430nda Writer", "mallory")
        # The writer's own message has it too, before and after the echo.
        expect_written_by(
            message(wanda, "I am the real Wanda"), "Wanda Writer", "wanda"
        )
        # And so does the history a fresh page loads.
        reader.reload()
        live(reader)
        expect_written_by(message(reader, "No, I am"), "W\u0430nda Writer", "mallory")
        tag = message(reader, "No, I am").locator("[data-message-username]")
        # Muted: the display name leads, the username is a quiet tag.
        assert tag.evaluate("e => getComputedStyle(e).color") != message(
            reader, "No, I am"
        ).locator("[data-message-author]").evaluate("e => getComputedStyle(e).color")

        reader.screenshot(path=str(artifacts / "names.png"))
        for context in (writer, impostor, guest):
            context.close()
