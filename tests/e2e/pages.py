"""What a person does on the chat's pages, as Playwright steps."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.server import PASSWORD, ChatServer

ROOM = "/rooms/general/"
MESSAGES = "ol[data-chat-messages]"


def fill_signup(
    page: Page, server: ChatServer, username: str, display_name: str
) -> None:
    """Fill in the sign-up form and send it, whatever the answer."""
    page.goto(f"{server.url}/accounts/signup/?next={ROOM}")
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", display_name)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()


def sign_up(page: Page, server: ChatServer, username: str, display_name: str) -> None:
    """Sign up and land in the general room."""
    fill_signup(page, server, username, display_name)
    page.wait_for_url(f"{server.url}{ROOM}")


def live(page: Page) -> None:
    expect(page.locator('[data-chat-status][data-state="live"]')).to_be_visible()


def send(page: Page, text: str) -> None:
    box = page.locator("[data-composer-input]")
    box.fill(text)
    box.press("Enter")


def message(page: Page, text: str) -> Any:
    return page.locator(f"{MESSAGES} [data-message-id]", has_text=text)
