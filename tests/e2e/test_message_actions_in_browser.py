"""Messages that live: people edit, delete, reply and react; every reader sees it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from tests.e2e.pages import MESSAGES, ROOM, live, send, sign_up
from tests.e2e.sockets import post
from tests.server import ChatServer, running

pytestmark = pytest.mark.timeout(180)

PENDING = re.compile(r"\bis-pending\b")
HIGHLIGHTED = re.compile(r"\bis-highlighted\b")
MENTIONS_ME = re.compile(r"\bmentions-me\b")


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """
    This module's server: its people sign up, post and react more often from
    one address than the rate limits let anyone.
    """
    with running(
        Path(tmp_path_factory.mktemp("chat-server")), RATE_LIMITS="off"
    ) as server:
        yield server


def said(page: Page, text: str) -> Locator:
    """The message whose own text (not a quote of another) contains ``text``."""
    return page.locator(f"{MESSAGES} [data-message-id]").filter(
        has=page.locator("[data-message-text]", has_text=text)
    )


def act(page: Page, text: str, action: str) -> None:
    """Point at a message and press one of its buttons."""
    item = said(page, text)
    item.hover()
    item.locator(f'[data-action="{action}"]').click()


def chips(page: Page, text: str) -> Locator:
    return said(page, text).locator("[data-reaction]")


def chip(page: Page, text: str, emoji: str) -> Locator:
    return said(page, text).locator(f'[data-reaction="{emoji}"]')


def composer_bar(page: Page) -> Locator:
    return page.locator("[data-composer-context]")


def accept_dialogs(page: Page) -> list[str]:
    """Answer OK to every confirmation; return what they asked."""
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return asked


def contexts(browser: Browser, count: int) -> list[BrowserContext]:
    return [browser.new_context() for _ in range(count)]


def id_of(item: Locator) -> str:
    value = item.get_attribute("data-message-id")
    assert value is not None
    return value


def shown_ids(page: Page) -> list[str]:
    return page.locator(f"{MESSAGES} [data-message-id]").evaluate_all(
        "items => items.map(item => item.dataset.messageId)"
    )


class LiveChangesTests:
    def test_two_writers_edit_reply_react_mention_and_delete_and_a_guest_sees_it(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        ada_context, bo_context, guest_context = contexts(browser, 3)
        ada, bo, guest = (
            c.new_page() for c in (ada_context, bo_context, guest_context)
        )
        asked = accept_dialogs(ada)
        sign_up(ada, chat_server, "ada", "Ada")
        sign_up(bo, chat_server, "bo", "Bo")
        guest.goto(chat_server.url + ROOM)
        for page in (ada, bo, guest):
            live(page)

        send(ada, "first draft by ada")
        expect(said(guest, "first draft by ada")).to_have_count(1)

        # Ada edits her message in the composer; everyone sees the new text.
        act(ada, "first draft by ada", "edit")
        expect(composer_bar(ada)).to_contain_text("Editing message")
        box = ada.locator("[data-composer-input]")
        expect(box).to_have_value("first draft by ada")
        box.fill("the **final** words of ada")
        box.press("Enter")
        expect(composer_bar(ada)).to_be_hidden()
        expect(box).to_have_value("")
        for page in (ada, bo, guest):
            original = said(page, "words of ada")
            expect(original.locator("strong")).to_have_text("final")
            expect(original.locator("[data-message-edited]")).to_have_text("edited")
            expect(original.locator("[data-message-edited]")).to_have_attribute(
                "title", re.compile(r"\d")
            )
            expect(said(page, "first draft")).to_have_count(0)
        original_id = id_of(said(guest, "words of ada"))

        # Bo replies to it, mentioning Ada.
        act(bo, "words of ada", "reply")
        expect(composer_bar(bo)).to_contain_text("Replying to Ada")
        # Quoted as it reads, without its Markdown.
        expect(composer_bar(bo)).to_contain_text("the final words of ada")
        send(bo, "@ada I agree with every word")
        expect(composer_bar(bo)).to_be_hidden()
        for page in (ada, bo, guest):
            quote = said(page, "I agree").locator("[data-reply-quote]")
            expect(quote).to_contain_text("Ada")
            expect(quote).to_contain_text("the final words of ada")
        expect(said(ada, "I agree")).to_have_class(MENTIONS_ME)
        expect(said(ada, "I agree").locator(".mention.is-me")).to_have_text("@ada")
        for page in (bo, guest):
            expect(said(page, "I agree")).not_to_have_class(MENTIONS_ME)
            expect(said(page, "I agree").locator(".mention")).to_have_text("@ada")

        # Only the author may edit or delete; a guest may do nothing.
        said(bo, "words of ada").hover()
        expect(said(bo, "words of ada").locator("[data-action]")).to_have_count(2)
        expect(said(bo, "words of ada").locator('[data-action="edit"]')).to_have_count(
            0
        )
        said(guest, "words of ada").hover()
        expect(guest.locator(f"{MESSAGES} [data-action]")).to_have_count(0)

        # Bo picks 👍; Ada types an emoji of her own, then adds hers to 👍.
        act(bo, "words of ada", "react")
        bo.locator('[data-reaction-picker] [data-reaction-choice="👍"]').click()
        expect(bo.locator("[data-reaction-picker]")).to_be_hidden()
        expect(chip(ada, "words of ada", "👍")).to_have_text("👍 1")
        act(ada, "words of ada", "react")
        ada.locator("[data-reaction-input]").fill("🦄")
        ada.locator("[data-reaction-input]").press("Enter")
        chip(ada, "words of ada", "👍").click()
        expect(chips(guest, "words of ada")).to_have_text(["👍 2", "🦄 1"])
        expect(chip(guest, "words of ada", "👍")).to_have_attribute("title", "bo, ada")
        expect(chip(ada, "words of ada", "👍")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(chip(ada, "words of ada", "🦄")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(chip(bo, "words of ada", "🦄")).to_have_attribute(
            "aria-pressed", "false"
        )

        # Bo takes his 👍 off again.
        chip(bo, "words of ada", "👍").click()
        expect(chip(guest, "words of ada", "👍")).to_have_text("👍 1")
        expect(chip(guest, "words of ada", "👍")).to_have_attribute("title", "ada")
        expect(chip(bo, "words of ada", "👍")).to_have_attribute(
            "aria-pressed", "false"
        )

        # Ada deletes her message: a tombstone stays in its place, and the
        # reply's quote says so.
        act(ada, "words of ada", "delete")
        for page in (ada, bo, guest):
            tombstone = page.locator(f'[data-message-id="{original_id}"]')
            expect(tombstone).to_contain_text("message deleted")
            expect(tombstone.locator("[data-reaction]")).to_have_count(0)
            expect(said(page, "words of ada")).to_have_count(0)
            quote = said(page, "I agree").locator("[data-reply-quote]")
            expect(quote).to_contain_text("message deleted")
            expect(quote).not_to_contain_text("words of ada")
        assert asked == ["Delete this message?"]
        tombstone = ada.locator(f'[data-message-id="{original_id}"]')
        tombstone.hover()
        expect(tombstone.locator("[data-action]")).to_have_count(0)
        reply_id = id_of(said(guest, "I agree"))
        ids = shown_ids(guest)
        assert ids.index(original_id) < ids.index(reply_id)

        # The quote leads to what it quotes.
        said(guest, "I agree").locator("[data-reply-quote]").click()
        tombstone = guest.locator(f'[data-message-id="{original_id}"]')
        expect(tombstone).to_have_class(HIGHLIGHTED)
        expect(tombstone).to_be_focused()
        for context in (ada_context, bo_context, guest_context):
            context.close()

    def test_a_reader_offline_meanwhile_catches_up_without_a_reload(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        cy_context, dee_context, reader_context = contexts(browser, 3)
        cy, dee, reader = (
            c.new_page() for c in (cy_context, dee_context, reader_context)
        )
        accept_dialogs(cy)
        sign_up(cy, chat_server, "cy", "Cy")
        sign_up(dee, chat_server, "dee", "Dee")
        reader.goto(chat_server.url + ROOM)
        for page in (cy, dee, reader):
            live(page)
        for text in ("one by cy", "two by cy", "three by cy"):
            send(cy, text)
        send(dee, "a note by dee")
        expect(said(reader, "a note by dee")).to_have_count(1)
        expect(said(reader, "two by cy")).to_have_count(1)
        reader.evaluate("() => { window.stillTheSamePage = true; }")

        reader_context.set_offline(True)
        expect(reader.locator('[data-chat-status][data-state="live"]')).to_have_count(0)

        act(cy, "one by cy", "edit")
        cy.locator("[data-composer-input]").fill("one by cy, revised")
        cy.locator("[data-composer-input]").press("Enter")
        act(cy, "two by cy", "delete")
        act(cy, "three by cy", "react")
        cy.locator('[data-reaction-choice="🎉"]').click()
        act(dee, "three by cy", "react")
        dee.locator('[data-reaction-choice="🎉"]').click()
        act(dee, "three by cy", "react")
        dee.locator('[data-reaction-choice="👀"]').click()
        act(dee, "a note by dee", "edit")
        dee.locator("[data-composer-input]").fill("a note by dee, revised")
        dee.locator("[data-composer-input]").press("Enter")
        # Stored: the writers see all of it.
        for page in (cy, dee):
            expect(said(page, "one by cy, revised")).not_to_have_class(PENDING)
            expect(said(page, "two by cy")).to_have_count(0)
            expect(chips(page, "three by cy")).to_have_text(["🎉 2", "👀 1"])
            expect(said(page, "a note by dee, revised")).not_to_have_class(PENDING)
        expect(said(reader, "two by cy")).to_have_count(1)

        reader_context.set_offline(False)
        live(reader)
        expect(
            said(reader, "one by cy, revised").locator("[data-message-edited]")
        ).to_be_visible()
        expect(said(reader, "two by cy")).to_have_count(0)
        expect(reader.locator(f"{MESSAGES} [data-deleted]")).to_contain_text(
            ["message deleted"]
        )
        expect(chips(reader, "three by cy")).to_have_text(["🎉 2", "👀 1"])
        expect(chip(reader, "three by cy", "🎉")).to_have_attribute("title", "cy, dee")
        expect(said(reader, "a note by dee, revised")).to_have_count(1)
        expect(said(reader, "one by cy")).to_have_count(1)
        assert reader.evaluate("() => window.stillTheSamePage") is True
        for context in (cy_context, dee_context, reader_context):
            context.close()


class OwnEditsTests:
    def test_up_edits_the_last_message_escape_cancels_and_an_edit_shows_at_once(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        eve_context, reader_context = contexts(browser, 2)
        eve, reader = eve_context.new_page(), reader_context.new_page()
        sign_up(eve, chat_server, "eve", "Eve")
        reader.goto(chat_server.url + ROOM)
        live(eve)
        live(reader)
        send(eve, "an older one by eve")
        send(eve, "a typo by eve: teh")
        expect(said(reader, "teh")).to_have_count(1)
        box = eve.locator("[data-composer-input]")

        # Up in the empty box edits the last message; Escape gives it up.
        box.press("ArrowUp")
        expect(composer_bar(eve)).to_contain_text("Editing message")
        expect(box).to_have_value("a typo by eve: teh")
        box.press("Escape")
        expect(composer_bar(eve)).to_be_hidden()
        expect(box).to_have_value("")

        # A draft waits while a message is edited.
        box.fill("a draft")
        act(eve, "an older one", "edit")
        expect(box).to_have_value("an older one by eve")
        box.press("Escape")
        expect(box).to_have_value("a draft")
        box.fill("")

        # Offline, an edit shows at once, waiting; online, it is stored.
        eve_context.set_offline(True)
        expect(eve.locator('[data-chat-status][data-state="live"]')).to_have_count(0)
        box.press("ArrowUp")
        box.fill("a typo by eve: the")
        box.press("Enter")
        waiting = said(eve, "a typo by eve: the")
        expect(waiting).to_have_class(PENDING)
        expect(waiting).to_contain_text("Saving…")
        expect(said(reader, "a typo by eve: teh")).to_have_count(1)
        eve_context.set_offline(False)
        live(eve)
        for page in (eve, reader):
            fixed = said(page, "a typo by eve: the")
            expect(fixed).not_to_have_class(PENDING)
            expect(fixed.locator("[data-message-edited]")).to_be_visible()
            expect(said(page, "teh")).to_have_count(0)

        # From the keyboard: back from the box (past Attach) to the message
        # last used, Up and Down between messages, Tab to a message's
        # buttons; Escape cancels a reply.
        eve.mouse.move(0, 0)  # Pointing at no message: no buttons shown.
        box.focus()
        eve.keyboard.press("Shift+Tab")
        eve.keyboard.press("Shift+Tab")
        expect(said(eve, "an older one")).to_be_focused()
        eve.keyboard.press("ArrowDown")
        expect(said(eve, "a typo by eve")).to_be_focused()
        eve.keyboard.press("Tab")
        expect(
            said(eve, "a typo by eve").locator('[data-action="reply"]')
        ).to_be_focused()
        eve.keyboard.press("Enter")
        expect(composer_bar(eve)).to_contain_text("Replying to Eve")
        expect(box).to_be_focused()
        box.press("Escape")
        expect(composer_bar(eve)).to_be_hidden()
        send(eve, "not a reply")
        expect(said(reader, "not a reply").locator("[data-reply-quote]")).to_have_count(
            0
        )
        eve_context.close()
        reader_context.close()

    def test_a_refused_edit_is_taken_back_and_the_reason_shown(
        self, browser: Browser, tmp_path: Path
    ) -> None:
        # Messages may be edited for 60 ms: longer than any edit here takes.
        with running(tmp_path, EDIT_WINDOW_MINUTES="0.001") as server:
            context = browser.new_context()
            page = context.new_page()
            sign_up(page, server, "flo", "Flo")
            live(page)
            send(page, "said too soon")
            expect(said(page, "said too soon")).not_to_have_class(PENDING)
            act(page, "said too soon", "edit")
            page.locator("[data-composer-input]").fill("said too late")
            page.locator("[data-composer-input]").press("Enter")
            expect(page.locator("[data-composer-error]")).to_contain_text(
                "can be edited for"
            )
            kept = said(page, "said too soon")
            expect(kept).not_to_have_class(PENDING)
            expect(kept.locator("[data-message-edited]")).to_have_count(0)
            expect(said(page, "said too late")).to_have_count(0)
            context.close()


class DeletedFilesTests:
    def test_staff_delete_an_image_and_its_file_is_gone(
        self, browser: Browser, chat_server: ChatServer, tmp_path: Path
    ) -> None:
        gil_context, mod_context = contexts(browser, 2)
        gil, mod = gil_context.new_page(), mod_context.new_page()
        asked = accept_dialogs(mod)
        sign_up(gil, chat_server, "gil", "Gil")
        sign_up(mod, chat_server, "mod", "Mod")
        chat_server.manage(
            "shell",
            "-c",
            "from accounts.models import User; "
            "User.objects.filter(username='mod').update(is_staff=True)",
        )
        mod.reload()
        live(gil)
        live(mod)

        picture = tmp_path / "lake.png"
        Image.new("RGB", (120, 80), (40, 110, 160)).save(picture)
        gil.locator("[data-file-input]").set_input_files(str(picture))
        shared = gil.locator(f"{MESSAGES} [data-message-id]", has_text="lake.png")
        image = shared.locator("img[data-attachment-image]")
        expect(image).to_be_visible()
        # The picture and its thumbnail, as the page links them.
        urls: list[str] = shared.evaluate(
            "item => [item.querySelector('a.attachment-image-link').href, "
            "item.querySelector('img[data-attachment-image]').src]"
        )
        for url in urls:
            assert gil_context.request.get(url).status == 200

        # Gil's own page offers to delete it; the moderator deletes it.
        shared.hover()
        expect(shared.locator('[data-action="delete"]')).to_have_count(1)
        on_mod = mod.locator(f"{MESSAGES} [data-message-id]", has_text="lake.png")
        on_mod.hover()
        expect(on_mod.locator('[data-action="edit"]')).to_have_count(0)
        on_mod.locator('[data-action="delete"]').click()
        assert asked == ["Delete this message?"]
        gone = gil.locator(f"{MESSAGES} [data-deleted]")
        expect(gone).to_contain_text(["message deleted"])
        expect(gil.locator(f"{MESSAGES} img[data-attachment-image]")).to_have_count(0)
        for url in urls:
            assert gil_context.request.get(url).status == 404
        gil_context.close()
        mod_context.close()


class FarRepliesTests:
    def test_a_quote_loads_its_original_from_far_back_and_the_gap_fills(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        hal_context, ivy_context, guest_context = contexts(browser, 3)
        hal, ivy, guest = (
            c.new_page() for c in (hal_context, ivy_context, guest_context)
        )
        sign_up(hal, chat_server, "hal", "Hal")
        sign_up(ivy, chat_server, "ivy", "Ivy")
        live(hal)
        live(ivy)
        send(hal, "the question from long ago")
        expect(said(ivy, "the question from long ago")).to_have_count(1)
        # More than the latest page and the page around the question hold.
        fillers = [f"filler {n:03}" for n in range(120)]
        post(chat_server, hal_context, fillers)
        expect(said(ivy, "filler 119")).to_have_count(1)
        act(ivy, "the question from long ago", "reply")
        send(ivy, "the answer, much later")
        expect(said(hal, "the answer, much later")).to_have_count(1)

        # A new reader holds the latest page: the answer, not the question.
        guest.goto(chat_server.url + ROOM)
        live(guest)
        expect(said(guest, "the answer, much later")).to_have_count(1)
        expect(said(guest, "the question from long ago")).to_have_count(0)
        said(guest, "the answer").locator("[data-reply-quote]").click()
        question = said(guest, "the question from long ago")
        expect(question).to_have_class(HIGHLIGHTED)
        expect(question).to_be_in_viewport()
        expect(question).to_be_focused()
        expect(said(guest, "filler 000")).to_have_count(1)

        # What lies between the two parts loads on demand.
        gap = guest.locator(f"{MESSAGES} [data-gap]")
        expect(gap).to_have_count(1)
        gap.locator("button").click()
        expect(gap).to_have_count(0)
        expect(
            guest.locator(f"{MESSAGES} [data-message-id]", has_text="filler")
        ).to_have_count(len(fillers))
        ids = [int(i) for i in shown_ids(guest)]
        assert ids == sorted(ids)
        for context in (hal_context, ivy_context, guest_context):
            context.close()


class TouchTests:
    def test_a_long_press_shows_the_buttons_on_a_phone(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        context = browser.new_context(
            viewport={"width": 390, "height": 760}, has_touch=True, is_mobile=True
        )
        page = context.new_page()
        sign_up(page, chat_server, "jo", "Jo")
        live(page)
        send(page, "pressed for a while")
        item = said(page, "pressed for a while")
        expect(item).not_to_have_class(PENDING)
        expect(item.locator('[data-action="react"]')).not_to_be_visible()

        # A finger held on the message, as the phone sends it.
        touch = context.new_cdp_session(page)
        box = item.locator("[data-message-text]").bounding_box()
        assert box is not None
        point = {"x": box["x"] + 5, "y": box["y"] + box["height"] / 2}
        touch.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]}
        )
        expect(item).to_have_attribute("data-actions-open", "")
        expect(item.locator('[data-action="react"]')).to_be_visible()
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        item.locator('[data-action="react"]').tap()
        page.locator('[data-reaction-choice="😂"]').tap()
        expect(chip(page, "pressed for a while", "😂")).to_have_text("😂 1")
        context.close()
