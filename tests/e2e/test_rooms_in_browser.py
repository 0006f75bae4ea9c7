"""
Rooms have members: private rooms and direct conversations are read by their
people only, members come and go live, and a reader can block someone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Locator,
    Page,
    StorageState,
    expect,
)

from tests.e2e.pages import MESSAGES, ROOM, live, message, send, sign_up
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

# Who signs up once for the whole module: username, display name.
PEOPLE = [("ann", "Ann"), ("bob", "Bob"), ("cat", "Cat")]
ROOM_PAGE = re.compile(r"/rooms/[\w-]+/$")
NO_LONGER_MEMBER = "You are no longer a member of this room."
NO_SUCH_KEY = "00000000-0000-0000-0000-000000000000"

OpenAs = Callable[[str | None], Page]


@pytest.fixture(scope="module")
def logins(browser: Browser, chat_server: ChatServer) -> dict[str, StorageState]:
    """Each person's login, signed up once (sign-ups are rate limited)."""
    states = {}
    for username, name in PEOPLE:
        context = browser.new_context()
        sign_up(context.new_page(), chat_server, username, name)
        states[username] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def open_as(browser: Browser, logins: dict[str, StorageState]) -> Iterator[OpenAs]:
    """Open a page in a browser of its own, logged in as someone or a guest."""
    contexts: list[BrowserContext] = []

    def open_page(username: str | None) -> Page:
        if username is None:
            context = browser.new_context()
        else:
            context = browser.new_context(storage_state=logins[username])
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", accept)
        return page

    yield open_page
    for context in contexts:
        context.close()


def accept(dialog: Dialog) -> None:
    dialog.accept()


def create_room(page: Page, server: ChatServer, name: str, *, private: bool) -> str:
    """Create a room on the room list page; return its address."""
    page.goto(server.url + "/")
    page.fill("#room-name", name)
    page.check(f'[data-room-kind-choice="{"private" if private else "public"}"]')
    page.locator("[data-room-create] button[type=submit]").click()
    page.wait_for_url(ROOM_PAGE)
    live(page)
    return page.url


def add_member(page: Page, username: str) -> None:
    """Add ``username`` in the Members panel, opening it if it is closed."""
    if page.locator("[data-members-panel]").is_hidden():
        page.locator("[data-members-toggle]").click()
    page.fill("[data-member-add-input]", username)
    page.locator("[data-member-add] button[type=submit]").click()
    expect(member_entry(page, username)).to_have_count(1)


def member_entry(page: Page, username: str) -> Locator:
    return page.locator(f'[data-members-list] [data-member="{username}"]')


def member_line(page: Page, text: str) -> Locator:
    return page.locator(f"{MESSAGES} [data-member-line]", has_text=text)


def sidebar_link(page: Page, section: str, title: str) -> Locator:
    return page.locator(
        f'[data-sidebar-section="{section}"] [data-sidebar-rooms] a', has_text=title
    )


def status_of(page: Page, url: str) -> int:
    """Go to ``url`` as if typed in the address bar; return the answer's status."""
    response = page.goto(url)
    assert response is not None
    return response.status


class PrivateRoomTests:
    def test_a_private_room_is_read_by_its_members_only(
        self,
        open_as: OpenAs,
        chat_server: ChatServer,
        tmp_path: Path,
    ) -> None:
        ann, bob, cat, guest = (open_as(who) for who in ("ann", "bob", "cat", None))
        room_url = create_room(ann, chat_server, "Plans", private=True)
        lock = ann.locator('[data-room-name] [data-room-kind-icon="private"]')
        expect(lock).to_be_visible()
        ann.locator("[data-members-toggle]").click()
        expect(ann.locator("[data-member-add-note]")).to_have_text(
            "New members see the whole history of this room."
        )
        ann.locator("[data-members-close]").click()
        add_member(ann, "bob")
        expect(member_line(ann, "Ann added Bob")).to_have_count(1)
        expect(ann.locator("[data-member-count]")).to_have_text("2")
        send(ann, "the plan is secret")
        notes = tmp_path / "plan.txt"
        notes.write_text("the secret plan")
        ann.locator("[data-file-input]").set_input_files(str(notes))
        chip = message(ann, "plan.txt").locator("a[data-attachment-chip]")
        expect(chip).to_be_visible()
        file_url = chip.evaluate("link => link.href")
        assert ann.context.request.get(file_url).status == 200

        # Bob finds it among his rooms, marked private, and reads it.
        bob.goto(chat_server.url + ROOM)
        live(bob)
        link = sidebar_link(bob, "joined", "Plans")
        expect(link.locator('[data-room-kind-icon="private"]')).to_have_count(1)
        link.click()
        bob.wait_for_url(room_url)
        live(bob)
        expect(message(bob, "the plan is secret")).to_have_count(1)
        added = member_line(bob, "Ann added Bob")
        expect(added).to_have_count(1)
        added.hover()
        expect(added.locator("[data-action]")).to_have_count(0)

        # Cat and a guest do not see it, nor reach it or its file by address.
        missing_file = re.sub(r"/files/[^/]+/", f"/files/{NO_SUCH_KEY}/", file_url)
        for page in (cat, guest):
            page.goto(chat_server.url + "/")
            expect(page.locator("[data-room-list]").first).to_be_visible()
            expect(page.locator("[data-room-list]", has_text="Plans")).to_have_count(0)
            page.goto(chat_server.url + ROOM)
            live(page)
            expect(page.locator("[data-room-sidebar]")).not_to_contain_text("Plans")
            assert status_of(page, room_url) == 404
            # Exactly what a file that never existed answers (403 for guests).
            assert status_of(page, file_url) == status_of(page, missing_file)
        assert status_of(cat, file_url) == 404


class DirectMessageTests:
    def test_a_direct_conversation_is_opened_from_the_sidebar(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob, cat, guest = (open_as(who) for who in ("ann", "bob", "cat", None))
        ann.goto(chat_server.url + ROOM)
        live(ann)
        expect(guest.locator("[data-direct-toggle]")).to_have_count(0)
        ann.get_by_role("button", name="New direct message").click()
        ann.locator("[data-direct-input]").fill("@bob")
        ann.locator("[data-direct-input]").press("Enter")
        ann.wait_for_url(re.compile(r"/rooms/dm-[\w-]+/$"))
        direct_url = ann.url
        live(ann)
        expect(ann.locator("[data-room-name]")).to_have_text("Bob")
        expect(ann.locator("[data-room-join]")).to_have_count(0)
        expect(ann.locator("[data-room-leave]")).to_have_text("Hide conversation")
        expect(sidebar_link(ann, "direct", "Bob")).to_have_attribute(
            "aria-current", "page"
        )
        send(ann, "just between us")

        bob.goto(chat_server.url + ROOM)
        live(bob)
        sidebar_link(bob, "direct", "Ann").click()
        bob.wait_for_url(direct_url)
        live(bob)
        expect(bob.locator("[data-room-name]")).to_have_text("Ann")
        expect(message(bob, "just between us")).to_have_count(1)
        bob.locator("[data-members-toggle]").click()
        expect(bob.locator("[data-members-list] [data-member]")).to_have_count(2)
        expect(bob.locator("[data-member-add]")).to_have_count(0)

        slug = direct_url.rstrip("/").rsplit("/", 1)[1]
        for page in (cat, guest):
            page.goto(chat_server.url + "/")
            expect(page.locator("[data-room-list]").first).to_be_visible()
            assert slug not in page.content()
            assert status_of(page, direct_url) == 404


class RemovalTests:
    def test_a_member_taken_out_stops_reading_at_once(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob, cat = (open_as(who) for who in ("ann", "bob", "cat"))
        room_url = create_room(ann, chat_server, "Ops", private=True)
        add_member(ann, "bob")
        add_member(ann, "cat")
        for page in (bob, cat):
            page.goto(room_url)
            live(page)
        send(ann, "before bob was removed")
        for page in (bob, cat):
            expect(message(page, "before bob was removed")).to_have_count(1)
        expect(sidebar_link(bob, "joined", "Ops")).to_have_count(1)

        member_entry(ann, "bob").get_by_role("button", name="Remove Bob").click()
        expect(member_entry(ann, "bob")).to_have_count(0)
        expect(member_line(bob, "Ann removed Bob")).to_have_count(1)
        expect(bob.locator("[data-room-notice]")).to_have_text(NO_LONGER_MEMBER)
        expect(bob.locator("[data-composer-input]")).to_be_disabled()
        expect(sidebar_link(bob, "joined", "Ops")).to_have_count(0)
        expect(member_line(cat, "Ann removed Bob")).to_have_count(1)
        expect(cat.locator("[data-member-count]")).to_have_text("2")

        send(ann, "after bob was removed")
        expect(message(cat, "after bob was removed")).to_have_count(1)
        # Cat has it, so it went out to every socket; Bob's had time too.
        bob.wait_for_timeout(1000)
        expect(message(bob, "after bob was removed")).to_have_count(0)
        expect(bob.locator("[data-room-notice]")).to_have_text(NO_LONGER_MEMBER)
        assert status_of(bob, room_url) == 404

        # Cat leaves on her own, after a warning, for the room list.
        with cat.expect_event("dialog") as asked:
            cat.locator("[data-room-leave]").click()
        assert "You will need to be added again" in asked.value.message
        cat.wait_for_url(chat_server.url + "/")
        expect(cat.locator("[data-room-list]").first).to_be_visible()
        expect(cat.locator("[data-room-list]", has_text="Ops")).to_have_count(0)
        expect(member_line(ann, "Cat left")).to_have_count(1)
        expect(ann.locator("[data-member-count]")).to_have_text("1")


class PublicMembershipTests:
    def test_joining_and_leaving_a_public_room_shows_live(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, bob = open_as("ann"), open_as("bob")
        room_url = create_room(ann, chat_server, "Lobby", private=False)
        expect(ann.locator("[data-member-count]")).to_have_text("1")
        bob.goto(room_url)
        live(bob)
        expect(sidebar_link(bob, "browse", "Lobby")).to_have_count(1)
        expect(bob.locator("[data-room-leave]")).to_be_hidden()

        bob.locator("[data-room-join]").click()
        for page in (ann, bob):
            expect(member_line(page, "Bob joined")).to_have_count(1)
        expect(ann.locator("[data-member-count]")).to_have_text("2")
        expect(bob.locator("[data-room-join]")).to_be_hidden()
        expect(sidebar_link(bob, "joined", "Lobby")).to_have_count(1)
        expect(sidebar_link(bob, "browse", "Lobby")).to_have_count(0)

        bob.locator("[data-room-leave]").click()
        expect(member_line(ann, "Bob left")).to_have_count(1)
        expect(ann.locator("[data-member-count]")).to_have_text("1")
        expect(bob.locator("[data-room-join]")).to_be_visible()
        expect(sidebar_link(bob, "browse", "Lobby")).to_have_count(1)
        # A public room stays readable after leaving it.
        send(ann, "still readable")
        expect(message(bob, "still readable")).to_have_count(1)


class BlockTests:
    def test_a_blocked_persons_messages_fold_and_they_cannot_write_directly(
        self, open_as: OpenAs, chat_server: ChatServer
    ) -> None:
        ann, cat = open_as("ann"), open_as("cat")
        for page in (ann, cat):
            page.goto(chat_server.url + ROOM)
            live(page)
        send(ann, "ann talks to everyone")
        said = message(cat, "ann talks to everyone")
        said.hover()
        said.get_by_role("button", name="More actions").click()
        said.get_by_role("menuitem", name="Block Ann").click()
        folded = cat.locator(f"{MESSAGES} [data-blocked-message]")
        expect(folded).to_contain_text(["Message from a blocked user"])
        expect(message(cat, "ann talks to everyone")).to_have_count(0)

        # Shown on demand; folded again on the next visit.
        folded.last.get_by_role("button", name="Show").click()
        expect(message(cat, "ann talks to everyone")).to_have_count(1)
        cat.reload()
        live(cat)
        expect(message(cat, "ann talks to everyone")).to_have_count(0)
        expect(folded.last).to_be_visible()

        # Ann cannot open a direct conversation with Cat.
        ann.get_by_role("button", name="New direct message").click()
        ann.locator("[data-direct-input]").fill("cat")
        ann.locator("[data-direct-input]").press("Enter")
        expect(ann.locator("[data-direct-error]")).to_contain_text("cat")
        expect(ann).to_have_url(chat_server.url + ROOM)

        folded.last.get_by_role("button", name="Unblock").click()
        expect(message(cat, "ann talks to everyone")).to_have_count(1)
        expect(folded).to_have_count(0)
