"""
A reader's unread messages show live: counts beside their rooms and in the
tab's title, cleared by reading in any of their tabs; a "New messages" line
where they stopped reading; mark all as read, mark unread, and mute.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e import test_message_actions_in_browser, test_rooms_in_browser
from tests.e2e.pages import MESSAGES, live, message, send
from tests.e2e.test_rooms_in_browser import OpenAs, create_room
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

# The rooms' tests' people, signed up once for this module too, on a server
# that lets them post in bursts.
chat_server = test_message_actions_in_browser.chat_server
logins = test_rooms_in_browser.logins
open_as = test_rooms_in_browser.open_as

# A tab's title while anything is unread: "(3) Room · Chat".
COUNTED_TITLE = re.compile(r"^\(\d+\+?\) ")
DIVIDER = f"{MESSAGES} [data-unread-divider]"
# Another tab hears a read within a second; this much leaves room to spare.
OTHER_TAB_MS = 5000


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def entry(page: Page, slug: str) -> Locator:
    """Room ``slug`` in the page's sidebar."""
    return page.locator(f'[data-sidebar-room="{slug}"]')


def unread(page: Page, slug: str) -> Locator:
    return entry(page, slug).locator("[data-sidebar-unread]")


def mentions(page: Page, slug: str) -> Locator:
    return entry(page, slug).locator("[data-sidebar-mentions]")


def count_of(badge: Locator) -> Locator:
    return badge.locator("[data-count]")


def open_room(page: Page, url: str) -> None:
    page.goto(url)
    live(page)


def read_up_to(page: Page, slug: str, text: str) -> None:
    """Wait until the server has the reader's cursor at message ``text``."""
    item = message(page, text)
    expect(item).to_have_count(1)
    message_id = item.get_attribute("data-message-id")
    assert message_id is not None
    expect(entry(page, slug)).to_have_attribute("data-last-read-id", message_id)


class LiveCountTests:
    def test_a_message_in_another_room_counts_live_and_a_mention_stands_out(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        alpha_url = create_room(ann, chat_server, "Alpha", private=False)
        create_room(ann, chat_server, "Beta", private=False)
        alpha = slug_of(alpha_url)
        expect(entry(ann, alpha)).to_have_attribute("data-joined", "")
        expect(unread(ann, alpha)).to_be_hidden()
        expect(ann).not_to_have_title(COUNTED_TITLE)

        open_room(bob, alpha_url)
        send(bob, "hello there")
        expect(count_of(unread(ann, alpha))).to_have_text("1")
        expect(unread(ann, alpha)).to_be_visible()
        expect(entry(ann, alpha)).to_have_class(re.compile(r"\bhas-unread\b"))
        expect(ann).to_have_title(re.compile(r"^\(1\) Beta"))
        expect(mentions(ann, alpha)).to_be_hidden()

        send(bob, "@ann have a look")
        expect(count_of(unread(ann, alpha))).to_have_text("2")
        expect(count_of(mentions(ann, alpha))).to_have_text("1")
        expect(mentions(ann, alpha)).to_be_visible()
        expect(entry(ann, alpha)).to_have_class(re.compile(r"\bhas-mentions\b"))
        expect(ann).to_have_title(re.compile(r"^\(2\) Beta"))

        # Opening the room reads it.
        entry(ann, alpha).locator("a").click()
        ann.wait_for_url(alpha_url)
        live(ann)
        expect(unread(ann, alpha)).to_be_hidden()
        expect(mentions(ann, alpha)).to_be_hidden()
        expect(ann).not_to_have_title(COUNTED_TITLE)

    def test_reading_in_one_tab_clears_the_count_in_another(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        gamma_url = create_room(ann, chat_server, "Gamma", private=False)
        delta_url = create_room(ann, chat_server, "Delta", private=False)
        create_room(ann, chat_server, "Epsilon", private=False)
        gamma = slug_of(gamma_url)
        other_tab = ann.context.new_page()
        open_room(other_tab, delta_url)

        open_room(bob, gamma_url)
        send(bob, "news for ann")
        for page in (ann, other_tab):
            expect(count_of(unread(page, gamma))).to_have_text("1")
            expect(page).to_have_title(COUNTED_TITLE)

        entry(ann, gamma).locator("a").click()
        ann.wait_for_url(gamma_url)
        live(ann)
        expect(unread(ann, gamma)).to_be_hidden()
        expect(unread(other_tab, gamma)).to_be_hidden(timeout=OTHER_TAB_MS)
        expect(other_tab).not_to_have_title(COUNTED_TITLE)


class DividerTests:
    def test_the_new_messages_line_opens_where_reading_stopped(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        eta_url = create_room(ann, chat_server, "Eta", private=False)
        eta = slug_of(eta_url)
        open_room(bob, eta_url)
        send(bob, "old news")
        read_up_to(ann, eta, "old news")

        # Ann is elsewhere while more comes than a page of history holds.
        create_room(ann, chat_server, "Theta", private=False)
        for n in range(1, 61):
            send(bob, f"fresh news {n}")
        expect(count_of(unread(ann, eta))).to_have_text("60")

        open_room(ann, eta_url)
        divider = ann.locator(DIVIDER)
        expect(divider).to_have_count(1)
        expect(divider).to_have_text("New messages")
        after = ann.locator(f"{DIVIDER} + [data-message-id]")
        expect(after).to_contain_text("fresh news 1")
        last_read = f"{MESSAGES} [data-message-id]:has(+ [data-unread-divider])"
        expect(ann.locator(last_read)).to_contain_text("old news")
        # It opens at the line, not at the bottom.
        expect(divider).to_be_in_viewport()
        expect(message(ann, "fresh news 60")).not_to_be_in_viewport()

        # Going down to the newest reads the rest; the line stays.
        ann.locator("[data-new-messages]").click()
        expect(message(ann, "fresh news 60")).to_be_in_viewport()
        expect(unread(ann, eta)).to_be_hidden()
        expect(divider).to_have_count(1)

    def test_a_guest_keeps_their_place_in_the_browser(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, guest = open_as("ann"), open_as(None)
        iota_url = create_room(ann, chat_server, "Iota", private=False)
        iota = slug_of(iota_url)
        send(ann, "seen by the guest")
        open_room(guest, iota_url)
        seen = message(guest, "seen by the guest")
        expect(seen).to_have_count(1)
        guest.wait_for_function(
            "([key, id]) => Number(localStorage.getItem(key)) >= Number(id)",
            arg=[f"chat:read:{iota}", seen.get_attribute("data-message-id")],
        )
        # Guests have no counts.
        expect(guest.locator("[data-sidebar-unread]:visible")).to_have_count(0)

        # Read live, then the page reloaded at once: read all the same.
        send(ann, "read live by the guest")
        expect(message(guest, "read live by the guest")).to_have_count(1)
        guest.reload()
        live(guest)
        expect(message(guest, "read live by the guest")).to_have_count(1)
        expect(guest.locator(DIVIDER)).to_have_count(0)

        guest.goto(chat_server.url + "/")
        send(ann, "new for the guest")
        expect(message(ann, "new for the guest")).to_have_count(1)
        open_room(guest, iota_url)
        expect(guest.locator(f"{DIVIDER} + [data-message-id]")).to_contain_text(
            "new for the guest"
        )


class MarkReadTests:
    def test_mark_all_as_read_clears_every_count(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        kappa_url = create_room(ann, chat_server, "Kappa", private=False)
        lambda_url = create_room(ann, chat_server, "Lambda", private=False)
        create_room(ann, chat_server, "Omicron", private=False)
        kappa, lambda_ = slug_of(kappa_url), slug_of(lambda_url)
        open_room(bob, kappa_url)
        send(bob, "kappa news")
        expect(count_of(unread(ann, kappa))).to_have_text("1")
        open_room(bob, lambda_url)
        send(bob, "lambda news for @ann")
        expect(count_of(mentions(ann, lambda_))).to_have_text("1")
        expect(ann).to_have_title(COUNTED_TITLE)

        ann.locator("[data-read-all]").click()
        for slug in (kappa, lambda_):
            expect(unread(ann, slug)).to_be_hidden()
            expect(mentions(ann, slug)).to_be_hidden()
        expect(ann).not_to_have_title(COUNTED_TITLE)
        ann.reload()
        live(ann)
        expect(ann.locator("[data-sidebar-unread]:visible")).to_have_count(0)

    def test_mark_unread_brings_the_count_back_until_the_reader_moves_on(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        mu_url = create_room(ann, chat_server, "Mu", private=False)
        mu = slug_of(mu_url)
        open_room(bob, mu_url)
        send(bob, "first words")
        send(bob, "second words")
        read_up_to(ann, mu, "second words")
        expect(ann.locator(DIVIDER)).to_have_count(0)

        first = message(ann, "first words")
        first.hover()
        first.get_by_role("button", name="More actions").click()
        first.get_by_role("menuitem", name="Mark unread").click()
        expect(count_of(unread(ann, mu))).to_have_text("2")
        expect(ann).to_have_title(re.compile(r"^\(2\) Mu"))
        expect(ann.locator(f"{DIVIDER} + [data-message-id]")).to_contain_text(
            "first words"
        )
        # Only others' messages can be marked unread.
        send(ann, "my own words")
        own = message(ann, "my own words")
        own.hover()
        expect(own.get_by_role("button", name="More actions")).to_have_count(0)
        # Writing is reading on.
        expect(unread(ann, mu)).to_be_hidden()

    def test_a_muted_room_counts_in_grey_and_stays_out_of_the_title(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        nu_url = create_room(ann, chat_server, "Nu", private=False)
        nu = slug_of(nu_url)
        ann.locator("[data-room-mute]").click()
        expect(ann.locator("[data-room-mute]")).to_have_text("Unmute")
        expect(entry(ann, nu)).to_have_attribute("data-muted", "")
        create_room(ann, chat_server, "Xi", private=False)
        expect(entry(ann, nu)).to_have_attribute("data-muted", "")

        open_room(bob, nu_url)
        send(bob, "quiet news")
        expect(count_of(unread(ann, nu))).to_have_text("1")
        expect(ann).not_to_have_title(COUNTED_TITLE)

        entry(ann, nu).locator("a").click()
        ann.wait_for_url(nu_url)
        live(ann)
        ann.locator("[data-room-mute]").click()
        expect(ann.locator("[data-room-mute]")).to_have_text("Mute")
        expect(entry(ann, nu)).not_to_have_attribute("data-muted", "")
        expect(unread(ann, nu)).to_be_hidden()


class RoomListChangeTests:
    def test_a_room_one_is_added_to_appears_and_counts_without_a_reload(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        home_url = create_room(bob, chat_server, "Bob's desk", private=False)
        secret_url = create_room(ann, chat_server, "Gamma plans", private=True)
        secret = slug_of(secret_url)
        open_room(bob, home_url)
        expect(entry(bob, secret)).to_have_count(0)
        test_rooms_in_browser.add_member(ann, "bob")
        # Bob's open page lists the room he was added to, and follows it.
        expect(entry(bob, secret)).to_have_attribute("data-joined", "")
        send(ann, "welcome aboard")
        expect(count_of(unread(bob, secret))).to_have_text("1")
