"""What a reader sees: text that cannot pose as something else, and sizes in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages import live, message, send, sign_up
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

# The x positions of each character of an element's first text, in logical
# order.
CHARACTER_X = """
element => {
  const node = document.createTreeWalker(element, NodeFilter.SHOW_TEXT).nextNode();
  const range = document.createRange();
  const xs = [];
  for (let i = 0; i < node.length; i += 1) {
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    xs.push(range.getBoundingClientRect().x);
  }
  return xs;
}
"""


class BidiTextTests:
    def test_an_override_cannot_reverse_what_a_message_shows(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        writer = browser.new_context()
        reader = browser.new_context()
        writer_page, reader_page = writer.new_page(), reader.new_page()
        sign_up(writer_page, chat_server, "bidi", "Bidi")
        reader_page.goto(f"{chat_server.url}/rooms/general/")
        live(writer_page)
        live(reader_page)

        send(writer_page, "pay \u202egpj.exe")
        send(writer_page, "שלום עולם")
        shown = message(reader_page, "pay").locator("[data-message-text]")
        expect(shown).to_have_count(1)
        assert "\u202e" not in shown.inner_text()
        xs = shown.evaluate(CHARACTER_X)
        text = shown.evaluate("element => element.textContent.trim()")
        assert text == "pay gpj.exe"
        # Left to right as written: "g" of "gpj" stands left of the last "e".
        assert xs[text.index("g")] < xs[text.rindex("e")]

        hebrew = message(reader_page, "שלום").locator("[data-message-text]")
        assert hebrew.evaluate("e => getComputedStyle(e).direction") == "rtl"
        xs = hebrew.evaluate(CHARACTER_X)
        # Right to left, as Hebrew reads: the first letter is the rightmost.
        assert xs[0] > xs[-1]
        writer.close()
        reader.close()


class FileSizeTests:
    @pytest.mark.parametrize(
        ("locale", "small", "large"),
        [("en-US", "13 bytes", "1.5 MB"), ("ru-RU", "13 байт", "1,5 МБ")],
    )
    def test_sizes_are_words_and_decimal_units_in_the_readers_language(
        self,
        browser: Browser,
        chat_server: ChatServer,
        tmp_path: Path,
        locale: str,
        small: str,
        large: str,
    ) -> None:
        writer = browser.new_context(locale=locale)
        page = writer.new_page()
        sign_up(page, chat_server, f"sizes{locale[:2]}", f"Sizes {locale}")
        live(page)
        note = tmp_path / f"note-{locale}.txt"
        note.write_bytes(b"thirteen byte")
        page.locator("[data-file-input]").set_input_files(str(note))
        expect(message(page, note.name).locator(".chip-size")).to_have_text(small)
        blob = tmp_path / f"blob-{locale}.bin"
        blob.write_bytes(bytes(range(256)) * 5859 + bytes(96))  # 1,500,000 bytes
        page.locator("[data-file-input]").set_input_files(str(blob))
        expect(message(page, blob.name).locator(".chip-size")).to_have_text(large)
        writer.close()


class FormattingTests:
    def test_markdown_is_formatted_live_and_in_history_and_stays_inert(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        dialogs: list[str] = []
        writer = browser.new_context()
        reader = browser.new_context()
        writer_page, reader_page = writer.new_page(), reader.new_page()
        for page in (writer_page, reader_page):
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        sign_up(writer_page, chat_server, "marks", "Marks")
        reader_page.goto(f"{chat_server.url}/rooms/general/")
        live(writer_page)
        live(reader_page)

        send(writer_page, "**bold** and `code` and ~~old~~ https://example.org/x")
        writer_page.locator("[data-composer-input]").fill("> quoted")
        writer_page.locator("[data-composer-input]").press("Shift+Enter")
        writer_page.locator("[data-composer-input]").type(
            "[click](javascript:alert(1))"
        )
        writer_page.locator("[data-composer-input]").press("Enter")

        for page in (reader_page, writer_page):
            shown = message(page, "bold")
            expect(shown.locator("strong")).to_have_text("bold")
            expect(shown.locator("code")).to_have_text("code")
            expect(shown.locator("s")).to_have_text("old")
            link = shown.locator("a.message-link")
            expect(link).to_have_attribute("href", "https://example.org/x")
            expect(link).to_have_attribute("target", "_blank")
            hostile = message(page, "quoted")
            expect(hostile.locator("blockquote")).to_have_count(1)
            expect(hostile).to_contain_text("[click](javascript:alert(1))")
            assert hostile.locator("a").count() == 0

        reader_page.reload()
        live(reader_page)
        expect(message(reader_page, "bold").locator("strong")).to_have_text("bold")
        message(reader_page, "quoted").click()
        assert dialogs == []
        writer.close()
        reader.close()


class MentionTests:
    def test_the_composer_completes_a_name_and_the_mentioned_reader_sees_it(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        nina_context, omar_context, guest_context = (
            browser.new_context(),
            browser.new_context(),
            browser.new_context(),
        )
        nina, omar, guest = (
            nina_context.new_page(),
            omar_context.new_page(),
            guest_context.new_page(),
        )
        sign_up(nina, chat_server, "nina", "Nina")
        sign_up(omar, chat_server, "omar", "Omar")
        guest.goto(f"{chat_server.url}/rooms/general/")
        for page in (nina, omar, guest):
            live(page)
        send(nina, "hello from nina")
        expect(message(omar, "hello from nina")).to_have_count(1)

        box = omar.locator("[data-composer-input]")
        box.fill("thanks @NI")
        options = omar.locator("[data-mention-list] [data-mention-option]")
        expect(options).to_have_text(["@nina"])
        box.press("Enter")  # Takes the name; does not send.
        assert box.input_value() == "thanks @nina "
        box.type("see `@nina` too")
        box.press("Enter")

        for page in (nina, omar, guest):
            shown = message(page, "thanks")
            expect(shown.locator(".mention")).to_have_count(1)
            expect(shown.locator(".mention")).to_have_text("@nina")
            expect(shown.locator("code")).to_have_text("@nina")
        expect(message(nina, "thanks")).to_have_class(re.compile(r"\bmentions-me\b"))
        expect(message(nina, "thanks").locator(".mention.is-me")).to_have_count(1)
        for page in (omar, guest):
            expect(message(page, "thanks")).not_to_have_class(
                re.compile(r"\bmentions-me\b")
            )
        for context in (nina_context, omar_context, guest_context):
            context.close()
