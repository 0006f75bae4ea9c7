"""A person looks after their account from the profile page, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import live, message, send, sign_up
from tests.server import PASSWORD, ChatServer

pytestmark = pytest.mark.timeout(180)

NEW_PASSWORD = "another-long-pass-456"


def open_profile(page: Page) -> None:
    page.locator("[data-user-name]").click()
    expect(page.locator("[data-security-section]")).to_be_visible()


def log_in(page: Page, server: ChatServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next=/rooms/general/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("[data-login-form] button[type=submit]").click()


class AccountInBrowserTests:
    def test_a_password_changed_on_the_profile_page_ends_the_other_session(
        self, browser: Browser, chat_server: ChatServer, artifacts: Path
    ) -> None:
        here = browser.new_context()
        there = browser.new_context()
        page, other_page = here.new_page(), there.new_page()
        sign_up(page, chat_server, "changer", "Charlie")
        log_in(other_page, chat_server, "changer", PASSWORD)
        live(other_page)
        expect(other_page.locator("[data-composer-input]")).to_be_visible()

        open_profile(page)
        page.screenshot(path=str(artifacts / "profile.png"), full_page=True)
        page.locator("[data-password-change-link]").click()
        page.fill("input[name=old_password]", PASSWORD)
        page.fill("input[name=new_password1]", NEW_PASSWORD)
        page.fill("input[name=new_password2]", NEW_PASSWORD)
        page.locator("[data-password-change-form] button[type=submit]").click()
        page.wait_for_url(f"{chat_server.url}/accounts/profile/")
        expect(page.locator("[data-flash]")).to_be_visible()

        # The other browser's socket is closed (4401), and its page reloads
        # as a guest's: well before the hub's 15-second tick.
        expect(other_page.locator("[data-guest-notice]")).to_be_visible(timeout=10_000)
        expect(other_page.locator("[data-composer-input]")).to_have_count(0)

        page.goto(f"{chat_server.url}/rooms/general/")
        live(page)
        page.locator("[data-logout]").click()
        log_in(page, chat_server, "changer", PASSWORD)
        expect(page.locator("[data-form-errors]")).to_be_visible()
        log_in(page, chat_server, "changer", NEW_PASSWORD)
        page.wait_for_url(f"{chat_server.url}/rooms/general/")
        live(page)
        here.close()
        there.close()

    def test_a_deleted_accounts_messages_stay_as_a_deleted_users(
        self, browser: Browser, chat_server: ChatServer
    ) -> None:
        leaving = browser.new_context()
        reader = browser.new_context(locale="ru-RU")
        page, reader_page = leaving.new_page(), reader.new_page()
        sign_up(page, chat_server, "leaver", "Lee")
        reader_page.goto(f"{chat_server.url}/rooms/general/")
        live(page)
        live(reader_page)
        send(page, "goodbye, all")
        said = message(reader_page, "goodbye, all")
        expect(said.locator("[data-message-author]")).to_have_text("Lee")

        open_profile(page)
        page.locator("[data-account-delete-link]").click()
        page.fill("input[name=password]", "not my password")
        page.locator("[data-account-delete-form] button[type=submit]").click()
        expect(page.locator("[data-field-errors=password]")).to_be_visible()
        page.fill("input[name=password]", PASSWORD)
        page.locator("[data-account-delete-form] button[type=submit]").click()
        page.wait_for_url(f"{chat_server.url}/")
        expect(page.locator("[data-flash]")).to_be_visible()
        expect(page.locator("[data-header-login]")).to_be_visible()

        reader_page.reload()
        live(reader_page)
        expect(said.locator("[data-message-author]")).to_have_text(
            "удалённый пользователь"
        )
        page.goto(f"{chat_server.url}/rooms/general/")
        live(page)
        expect(
            message(page, "goodbye, all").locator("[data-message-author]")
        ).to_have_text("deleted user")

        log_in(page, chat_server, "leaver", PASSWORD)
        expect(page.locator("[data-form-errors]")).to_be_visible()
        leaving.close()
        reader.close()
