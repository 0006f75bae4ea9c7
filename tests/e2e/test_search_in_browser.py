"""
Search as a person tries it: "/" and the header's box, results in Russian
and English with the words found marked, a click that opens the room at the
message, filters picked from the page, and the page without JavaScript.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import test_message_actions_in_browser, test_rooms_in_browser
from tests.e2e.pages import live, message, send
from tests.e2e.test_rooms_in_browser import OpenAs, create_room
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

chat_server = test_message_actions_in_browser.chat_server
logins = test_rooms_in_browser.logins
open_as = test_rooms_in_browser.open_as

RESULTS = "[data-search-results] [data-search-result]"


def search_from_header(page: Page, text: str) -> None:
    """Press "/" anywhere but a text field, type, press Enter."""
    page.locator("h1, .room-title, main").first.click()
    page.keyboard.press("/")
    box = page.locator("[data-search-input]")
    expect(box).to_be_focused()
    box.fill(text)
    box.press("Enter")
    page.wait_for_url("**/search/?q=*")


def test_search_finds_words_in_any_form_and_opens_the_message(
    chat_server: ChatServer, open_as: OpenAs
) -> None:
    ann = open_as("ann")
    url = create_room(ann, chat_server, "Поиск", private=False)
    send(ann, "Новая версия выходит в пятницу")
    send(ann, "See https://docs.example.org/guide for the running notes")
    for n in range(60):
        send(ann, f"filler {n}")
    expect(message(ann, "filler 59")).to_have_count(1)

    # Another form of the word, typed in the header's box.
    search_from_header(ann, "версии")
    found = ann.locator(RESULTS)
    expect(found).to_have_count(1)
    expect(found.locator("mark")).to_have_text("версия")
    expect(found).to_contain_text("Поиск")

    # A part of a link; English inflection.
    ann.locator("[data-search-page-input]").fill("example runs")
    ann.locator("[data-search-page-input]").press("Enter")
    expect(found).to_have_count(1)
    expect(found.locator("mark")).to_have_text(["example", "running"])

    # The result opens the room at the message, highlighted among its
    # neighbours, though it is far above the latest page.
    found.first.locator("a").click()
    ann.wait_for_url(f"{url}?around=*")
    live(ann)
    shown = message(ann, "running notes")
    expect(shown).to_have_class(re.compile(r"\bis-highlighted\b"))
    expect(shown).to_be_in_viewport()


def test_filters_are_picked_and_private_rooms_stay_private(
    chat_server: ChatServer, open_as: OpenAs
) -> None:
    bob = open_as("bob")
    create_room(bob, chat_server, "Bob's den", private=True)
    send(bob, "the secret ingredient is paprika")
    live(bob)
    search_from_header(bob, "paprika")
    expect(bob.locator(RESULTS)).to_have_count(1)

    cat = open_as("cat")
    cat.goto(chat_server.url + "/search/?q=paprika")
    expect(cat.locator("[data-search-none]")).to_be_visible()
    # Filters come from buttons; a wrong one is explained, not a crash.
    box = cat.locator("[data-search-page-input]")
    box.fill("paprika")
    cat.locator('[data-search-filter="has:image"]').click()
    assert box.input_value() == "paprika has:image"
    box.fill("before:tomorrow")
    box.press("Enter")
    expect(cat.locator("[data-search-error]")).to_contain_text("YYYY-MM-DD")


def test_the_page_works_without_javascript(
    browser: Browser, chat_server: ChatServer, open_as: OpenAs
) -> None:
    ann = open_as("ann")
    ann.goto(chat_server.url + "/rooms/general/")
    live(ann)
    send(ann, "no script needed here")
    expect(message(ann, "no script needed")).to_have_count(1)
    context = browser.new_context(java_script_enabled=False)
    try:
        guest = context.new_page()
        guest.goto(chat_server.url + "/rooms/general/")
        guest.fill("[data-search-input]", "script")
        guest.press("[data-search-input]", "Enter")
        guest.wait_for_url("**/search/?q=script")
        expect(guest.locator(RESULTS)).to_have_count(1)
        expect(guest.locator(f"{RESULTS} mark")).to_have_text("script")
    finally:
        context.close()
