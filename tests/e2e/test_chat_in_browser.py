"""A person signs up and writes; a guest in another browser reads along."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Dialog, expect

from tests.e2e.pages import MESSAGES, live, message, send, sign_up
from tests.e2e.sockets import post
from tests.server import ChatServer

pytestmark = pytest.mark.timeout(180)

XSS = "<img src=x onerror=alert(1)>"


class ChatInBrowserTests:
    def test_a_writer_and_a_guest_share_text_and_images(
        self,
        browser: Browser,
        chat_server: ChatServer,
        artifacts: Path,
        tmp_path: Path,
    ) -> None:
        dialogs: list[str] = []
        writer = browser.new_context(viewport={"width": 1100, "height": 760})
        guest = browser.new_context(viewport={"width": 390, "height": 760})
        writer_page, guest_page = writer.new_page(), guest.new_page()

        def refuse(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        for page in (writer_page, guest_page):
            page.on("dialog", refuse)

        sign_up(writer_page, chat_server, "writer", "Wanda Writer")
        guest_page.goto(f"{chat_server.url}/rooms/general/")
        live(writer_page)
        live(guest_page)
        expect(guest_page.locator("[data-composer-input]")).to_have_count(0)
        expect(guest_page.locator("[data-signup-link]")).to_be_visible()

        send(writer_page, "Hello, guests!")
        expect(message(guest_page, "Hello, guests!")).to_have_count(1)
        expect(message(guest_page, "Hello, guests!")).to_contain_text("Wanda Writer")

        writer_page.locator("[data-composer-input]").fill("line one")
        writer_page.locator("[data-composer-input]").press("Shift+Enter")
        writer_page.locator("[data-composer-input]").type("line two")
        writer_page.locator("[data-composer-input]").press("Enter")
        expect(message(guest_page, "line one")).to_contain_text("line one\nline two")

        send(writer_page, XSS)
        shown = message(guest_page, XSS)
        expect(shown).to_have_count(1)
        assert guest_page.locator(f"{MESSAGES} img[src=x]").count() == 0

        picture = tmp_path / "sunset.png"
        sunset(picture)
        writer_page.locator("[data-file-input]").set_input_files(str(picture))
        expect(message(guest_page, "sunset.png")).to_have_count(1)
        writer_image = message(writer_page, "sunset.png").locator("img")
        expect(writer_image).to_be_visible()
        writer_page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=writer_image.element_handle(),
        )
        assert message(guest_page, "sunset.png").locator("img").count() == 0

        hostile = tmp_path / "<img src=x onerror=alert(2)>.txt"
        hostile.write_text("not a picture")
        writer_page.locator("[data-file-input]").set_input_files(str(hostile))
        expect(message(guest_page, "<img src=x onerror=alert(2)>.txt")).to_have_count(1)
        assert guest_page.locator(f"{MESSAGES} img[src=x]").count() == 0

        payload = guest_page.evaluate(
            "url => fetch(url).then(r => r.json())",
            "/api/rooms/general/messages?limit=2",
        )
        attachment = payload["messages"][0]["attachment"]
        assert attachment["name"] == "sunset.png"
        for url in (attachment["url"], attachment["thumbnail_url"]):
            assert guest.request.get(chat_server.url + url).status == 403
            response = writer.request.get(chat_server.url + url)
            assert response.status == 200
        assert writer.request.get(chat_server.url + attachment["url"]).body() == (
            picture.read_bytes()
        )

        expect(message(writer_page, "Hello, guests!")).to_have_count(1)
        assert dialogs == []
        writer_page.screenshot(path=str(artifacts / "writer.png"))
        guest_page.screenshot(path=str(artifacts / "guest.png"))
        writer.close()
        guest.close()

    def test_a_restart_loses_nothing_and_the_page_catches_up(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        context = browser.new_context()
        page = context.new_page()
        sign_up(page, chat_server, "phoenix", "Phoenix")
        live(page)
        send(page, "before the restart")
        expect(message(page, "before the restart")).to_have_count(1)

        chat_server.stop()
        expect(page.locator('[data-chat-status][data-state="live"]')).to_have_count(0)
        chat_server.start()
        post(chat_server, context, ["while you were away"])

        live(page)
        expect(message(page, "while you were away")).to_have_count(1)
        expect(message(page, "before the restart")).to_have_count(1)
        page.reload()
        live(page)
        expect(message(page, "before the restart")).to_have_count(1)
        expect(message(page, "while you were away")).to_have_count(1)
        context.close()


class DeadConnectionTests:
    def test_the_page_notices_a_silent_server_and_comes_back(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        """A frozen server sends nothing, not even a close: the page must notice."""
        page = browser.new_page()
        page.goto(f"{chat_server.url}/rooms/general/")
        live(page)
        assert chat_server.process is not None
        chat_server.process.send_signal(signal.SIGSTOP)
        try:
            # Heartbeats come every 15 s; silence for 30 s means dead.
            expect(page.locator('[data-chat-status][data-state="live"]')).to_have_count(
                0, timeout=45_000
            )
        finally:
            chat_server.process.send_signal(signal.SIGCONT)
        live(page)
        page.close()


def sunset(path: Path) -> None:
    """Write a small evening-sky picture: an orange-to-violet gradient."""
    sky = Image.linear_gradient("L").resize((800, 500))
    Image.merge(
        "RGB",
        (sky.point(lambda v: 255 - v // 3), sky.point(lambda v: 140 - v // 3), sky),
    ).save(path)
