"""
Who is in a room shows live: "N online" beside Members and the people online
(active or idle) in the Members panel; who is typing shows above the
composer; a message that concerns a reader the page cannot show them raises
a browser notification; a text for everyone asks first in a big room.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

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

from tests.e2e import test_message_actions_in_browser, test_rooms_in_browser
from tests.e2e.pages import live, message, send
from tests.e2e.test_rooms_in_browser import create_room, sidebar_link
from tests.server import PASSWORD, ChatServer

pytestmark = pytest.mark.timeout(180)

# The rooms' tests' people (ann, bob and cat), signed up once for this
# module too, on a server that lets them post in bursts.
chat_server = test_message_actions_in_browser.chat_server
logins = test_rooms_in_browser.logins

# How soon the others see a change: presence goes out in batches of half a
# second, typing notices at once.
PRESENCE_MS = 2000
GONE_MS = 3000
TYPING_MS = 1000
PENDING = re.compile(r"\bis-pending\b")

# A Notification that records what the page raises, with the permission the
# test gives (the browser's own may not show anything headless); none at all
# for a browser without notifications.
RECORDING_NOTIFICATION = """
(() => {
  window.__notes = [];
  window.__asked = 0;
  let permission = %s;
  class RecordingNotification {
    constructor(title, options = {}) {
      this.title = title;
      this.body = options.body;
      this.tag = options.tag;
      this.closed = false;
      window.__notes.push(this);
    }
    close() {
      this.closed = true;
    }
    static get permission() {
      return permission;
    }
    static requestPermission() {
      window.__asked += 1;
      permission = "granted";
      return Promise.resolve(permission);
    }
  }
  if (permission === "unsupported") delete window.Notification;
  else window.Notification = RecordingNotification;
})();
"""
NOTES = """() => window.__notes.map(
  ({ title, body, tag, closed }) => ({ title, body, tag, closed })
)"""
# The page's sockets, to close one as a lost connection would.
RECORDING_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
    }
  };
})();
"""

Open = Callable[..., Page]


@pytest.fixture
def open_page(
    browser: Browser, chat_server: ChatServer, logins: dict[str, StorageState]
) -> Iterator[Open]:
    """
    Open a page in a browser of its own, logged in as someone or a guest, in
    ``locale``; with its notifications recorded, under ``permission``
    ("granted", "default", "denied" or "unsupported"), and its sockets
    recorded if ``sockets``.
    """
    contexts: list[BrowserContext] = []

    def open_one(
        username: str | None,
        *,
        locale: str = "en-US",
        permission: str | None = None,
        sockets: bool = False,
    ) -> Page:
        state = logins[username] if username else None
        context = browser.new_context(storage_state=state, locale=locale)
        contexts.append(context)
        if permission == "granted":
            context.grant_permissions(["notifications"], origin=chat_server.url)
        if permission is not None:
            context.add_init_script(RECORDING_NOTIFICATION % json.dumps(permission))
        if sockets:
            context.add_init_script(RECORDING_SOCKETS)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def open_room(page: Page, url: str) -> None:
    page.goto(url)
    live(page)


def online(page: Page) -> Locator:
    """The "N online" beside the Members button."""
    return page.locator("[data-room-online]")


def person(page: Page, username: str) -> Locator:
    """``username`` in the Members panel's list of people online."""
    return page.locator(f'[data-online-list] [data-online-person="{username}"]')


def open_members(page: Page) -> None:
    page.locator("[data-members-toggle]").click()
    expect(page.locator("[data-members-panel]")).to_be_visible()


def typing_line(page: Page) -> Locator:
    return page.locator("[data-typing]")


def set_hidden(page: Page, hidden: bool) -> None:
    """Hide or show the tab, as far as the page can tell."""
    page.evaluate(
        """(hidden) => {
          const hiding = { value: hidden, configurable: true };
          Object.defineProperty(document, "hidden", hiding);
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def notes(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(NOTES)
    return result


def note_count(page: Page, count: int) -> None:
    """Wait until the page raised ``count`` notifications in all."""
    page.wait_for_function(
        "(count) => window.__notes.length >= count", arg=count, timeout=5000
    )
    assert len(notes(page)) == count, notes(page)


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


class OnlineTests:
    def test_each_sees_the_other_online_and_a_leaver_goes(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann, bob, guest = open_page("ann"), open_page("bob"), open_page(None)
        url = create_room(ann, chat_server, "Lounge", private=False)
        expect(online(ann)).to_have_text("1 online", timeout=PRESENCE_MS)

        open_room(bob, url)
        for page, other in ((ann, "bob"), (bob, "ann")):
            expect(online(page)).to_have_text("2 online", timeout=PRESENCE_MS)
            open_members(page)
            expect(person(page, other)).to_be_visible(timeout=PRESENCE_MS)
            expect(person(page, other)).to_have_attribute("data-state", "active")
        expect(person(ann, "ann")).to_contain_text("Ann")
        expect(person(ann, "ann")).to_contain_text("(you)")
        expect(person(ann, "bob")).to_contain_text("Bob")

        open_room(guest, url)
        for page in (ann, guest):
            expect(online(page)).to_have_text("2 online · 1 guest", timeout=PRESENCE_MS)

        bob.close()
        expect(person(ann, "bob")).to_have_count(0, timeout=GONE_MS)
        expect(online(ann)).to_have_text("1 online · 1 guest")
        expect(person(ann, "ann")).to_be_visible()

    def test_a_hidden_tab_shows_idle_and_stays_idle_after_a_reconnect(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann, bob = open_page("ann"), open_page("bob", sockets=True)
        url = create_room(ann, chat_server, "Quiet", private=False)
        open_room(bob, url)
        open_members(ann)
        bob_there = person(ann, "bob")
        expect(bob_there).to_have_attribute("data-state", "active", timeout=PRESENCE_MS)

        set_hidden(bob, True)
        expect(bob_there).to_have_attribute("data-state", "idle", timeout=PRESENCE_MS)
        expect(bob_there.locator(".presence-dot")).to_have_attribute(
            "data-state", "idle"
        )

        # The connection drops; the new one tells the server at once.
        bob.evaluate("() => window.__sockets.at(-1).close()")
        bob.wait_for_function(
            "() => window.__sockets.length === 2"
            " && window.__sockets[1].readyState === WebSocket.OPEN"
        )
        live(bob)
        # Were the new socket taken for active, Ann would hear it within
        # half a second.
        ann.wait_for_timeout(1500)
        expect(bob_there).to_have_attribute("data-state", "idle")

        set_hidden(bob, False)
        expect(bob_there).to_have_attribute("data-state", "active", timeout=PRESENCE_MS)


class TypingTests:
    def test_who_is_typing_shows_and_goes_when_their_message_comes(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann, bob, cat = open_page("ann"), open_page("bob"), open_page("cat")
        guest = open_page(None, locale="ru-RU")
        url = create_room(ann, chat_server, "Chatter", private=False)
        for page in (bob, cat, guest):
            open_room(page, url)
        expect(online(ann)).to_have_text("3 online · 1 guest", timeout=PRESENCE_MS)

        bob.locator("[data-composer-input]").press_sequentially("hel")
        expect(typing_line(ann)).to_have_text("Bob is typing…", timeout=TYPING_MS)
        expect(typing_line(guest)).to_have_text("Bob печатает…", timeout=TYPING_MS)
        cat.locator("[data-composer-input]").press_sequentially("hm")
        expect(typing_line(ann)).to_have_text(
            "Bob and Cat are typing…", timeout=TYPING_MS
        )
        ann.locator("[data-composer-input]").press_sequentially("so")
        expect(typing_line(guest)).to_have_text(
            "Bob и ещё 2 человека печатают…", timeout=TYPING_MS
        )
        # One's own notice comes back, and is not shown.
        expect(typing_line(ann)).to_have_text("Bob and Cat are typing…")
        expect(typing_line(bob)).to_have_text("Cat and Ann are typing…")

        bob.locator("[data-composer-input]").press("Enter")
        expect(message(ann, "hel")).to_have_count(1)
        expect(typing_line(ann)).to_have_text("Cat is typing…", timeout=TYPING_MS)
        # Someone who goes offline stops typing.
        cat.close()
        expect(typing_line(ann)).to_have_text("", timeout=GONE_MS)
        expect(typing_line(guest)).to_have_text("Ann печатает…", timeout=GONE_MS)

    def test_editing_a_message_is_not_typing_one(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann, bob = open_page("ann"), open_page("bob")
        url = create_room(ann, chat_server, "Drafts", private=False)
        open_room(bob, url)
        expect(online(ann)).to_have_text("2 online", timeout=PRESENCE_MS)
        send(bob, "a first draft")
        expect(message(ann, "a first draft")).to_have_count(1)

        test_message_actions_in_browser.act(bob, "a first draft", "edit")
        box = bob.locator("[data-composer-input]")
        box.fill("a first draft, edited")
        ann.wait_for_timeout(TYPING_MS)
        expect(typing_line(ann)).to_have_text("")
        box.press("Enter")
        expect(message(ann, "a first draft, edited")).to_have_count(1)
        # A new message is typing, at once.
        box.press_sequentially("and a second")
        expect(typing_line(ann)).to_have_text("Bob is typing…", timeout=TYPING_MS)


class NotificationTests:
    def test_the_reader_is_told_of_mentions_and_direct_messages_only(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann = open_page("ann", permission="granted")
        bob = open_page("bob", permission="granted")
        url = create_room(ann, chat_server, "Notes", private=False)
        slug = slug_of(url)
        # Granted already: nothing to ask.
        expect(ann.locator("[data-notify]")).to_be_hidden()
        open_room(bob, url)
        expect(online(ann)).to_have_text("2 online", timeout=PRESENCE_MS)
        set_hidden(ann, True)

        send(bob, "@ann hi")
        note_count(ann, 1)
        assert notes(ann)[0] == {
            "title": "Notes",
            "body": "Bob: @ann hi",
            "tag": slug,
            "closed": False,
        }
        # Not for one's own message, nor for a message that mentions nobody.
        send(bob, "just chatting")
        expect(message(ann, "just chatting")).to_have_count(1)
        assert len(notes(ann)) == 1
        expect(message(bob, "just chatting")).not_to_have_class(PENDING)
        assert notes(bob) == []

        # "@room" is for everyone; the room's earlier notification goes.
        send(bob, "@room lunch?")
        note_count(ann, 2)
        first, second = notes(ann)
        assert first["closed"] is True
        assert second["body"] == "Bob: @room lunch?"

        # Nor for a mention the reader has before their eyes.
        set_hidden(ann, False)
        send(bob, "@ann look here")
        expect(message(ann, "look here")).to_be_in_viewport()
        assert len(notes(ann)) == 2

        # A muted room raises none.
        set_hidden(ann, True)
        ann.locator("[data-room-mute]").click()
        expect(ann.locator("[data-room-mute]")).to_have_text("Unmute")
        send(bob, "@ann are you there?")
        expect(message(ann, "are you there?")).to_have_count(1)
        assert len(notes(ann)) == 2

        # A direct conversation: every message, even while Ann reads another
        # room in a tab that shows.
        set_hidden(ann, False)
        bob.get_by_role("button", name="New direct message").click()
        bob.locator("[data-direct-input]").fill("ann")
        bob.locator("[data-direct-input]").press("Enter")
        bob.wait_for_url(lambda address: "/rooms/dm-" in address)
        direct_url = bob.url
        live(bob)
        # Bob's own messages raise nothing, even in a tab of his that hides.
        set_hidden(bob, True)
        conversation = sidebar_link(ann, "direct", "Bob")
        expect(conversation).to_have_count(1)
        send(bob, "psst")
        expect(conversation.locator("[data-sidebar-unread] [data-count]")).to_have_text(
            "1"
        )
        send(bob, "a secret")
        ann.wait_for_function(
            "() => window.__notes.some((note) => note.body === 'Bob: a secret')",
            timeout=5000,
        )
        last = notes(ann)[-1]
        assert last["title"] == "Bob"
        assert last["tag"] == slug_of(direct_url)
        assert notes(bob) == []

        # The notification opens the conversation.
        ann.evaluate("() => window.__notes.at(-1).onclick()")
        ann.wait_for_url(direct_url)
        live(ann)
        expect(message(ann, "a secret")).to_have_count(1)

    def test_permission_is_asked_from_the_button_only(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        cat = open_page("cat", permission="default")
        open_room(cat, chat_server.url + "/rooms/general/")
        enable = cat.get_by_role("button", name="Enable notifications")
        expect(enable).to_be_visible()
        assert cat.evaluate("() => window.__asked") == 0
        enable.click()
        expect(enable).to_be_hidden()
        expect(cat.locator("[data-notify]")).to_be_hidden()
        assert cat.evaluate("() => window.__asked") == 1

        refused = open_page("cat", permission="denied")
        open_room(refused, chat_server.url + "/rooms/general/")
        expect(refused.locator("[data-notify-denied]")).to_be_visible()
        expect(refused.locator("[data-notify-enable]")).to_be_hidden()

        for who, permission in ((None, "default"), ("cat", "unsupported")):
            page = open_page(who, permission=permission)
            open_room(page, chat_server.url + "/rooms/general/")
            expect(page.locator("[data-notify-enable]")).to_have_count(
                0 if who is None else 1
            )
            expect(page.locator("[data-notify-enable]")).to_be_hidden()


class EveryoneTests:
    def test_a_text_for_everyone_asks_first_in_a_room_of_more_than_five(
        self, open_page: Open, chat_server: ChatServer
    ) -> None:
        ann = open_page("ann")
        asked: list[str] = []
        answers: list[bool] = []

        def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            if answers.pop(0):
                dialog.accept()
            else:
                dialog.dismiss()

        ann.on("dialog", answer)
        # Among a few people, it goes without asking.
        create_room(ann, chat_server, "Few", private=False)
        box = ann.locator("[data-composer-input]")
        box.fill("hello @")
        options = ann.locator("[data-mention-list] [data-mention-option]")
        expect(options.first).to_contain_text("@room")
        box.press("Enter")
        assert box.input_value() == "hello @room "
        box.press("Enter")
        sent = message(ann, "hello @room")
        expect(sent).to_have_count(1)
        expect(sent.locator('.mention[data-mention="@room"]')).to_have_count(1)
        assert asked == []

        url = create_room(ann, chat_server, "Crowd", private=False)
        join = "\n".join(
            [
                "from accounts.services import user_create",
                "from chat.models import Room",
                "from chat.services import room_join",
                f"room = Room.objects.get(slug={slug_of(url)!r})",
                "for n in range(5):",
                "    name = f'crowd{n}'",
                f"    user = user_create(username=name, password={PASSWORD!r})",
                "    room_join(room=room, user=user)",
            ]
        )
        # Another process: the server's sockets hear of it on the next page.
        chat_server.manage("shell", "-c", join)
        ann.reload()
        live(ann)
        expect(ann.locator("[data-member-count]")).to_have_text("6")

        # A word that only starts so is no "@room".
        box.fill("see @roomy")
        box.press("Enter")
        expect(message(ann, "see @roomy")).to_have_count(1)
        assert asked == []

        # Cancelled, the text stays to be changed; confirmed, it goes.
        answers.append(False)
        box.fill("@room meeting now")
        box.press("Enter")
        assert asked == ["This will notify all 6 members of the room. Send?"]
        assert box.input_value() == "@room meeting now"
        expect(message(ann, "meeting now")).to_have_count(0)

        answers.append(True)
        box.press("Enter")
        expect(message(ann, "meeting now")).to_have_count(1)
        assert box.input_value() == ""
        assert len(asked) == 2
