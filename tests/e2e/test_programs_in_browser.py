"""
What a person does for programs, in the browser: make and revoke tokens
and bots on the profile page, make a room's webhook, see a bot's messages
tagged, and try the API in its interactive docs.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts import tokens
from tests.e2e.pages import live, message, sign_up
from tests.e2e.test_rooms_in_browser import create_room
from tests.server import ChatServer, running

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    with running(
        Path(tmp_path_factory.mktemp("chat-server")), RATE_LIMITS="off"
    ) as server:
        yield server


@pytest.fixture
def page(browser: Browser, chat_server: ChatServer) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def post(url: str, body: dict[str, str], headers: dict[str, str]) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def make_token(page: Page, name: str, *, owner: str | None = None) -> str:
    form = page.locator("[data-token-form]")
    if owner is not None:
        form.locator("select[name=owner]").select_option(label=owner)
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    shown = page.locator("[data-token-value]")
    expect(shown).to_be_visible()
    return shown.inner_text().strip()


def test_a_token_is_shown_once_and_revoked(page: Page, chat_server: ChatServer) -> None:
    sign_up(page, chat_server, "tess", "Tess")
    page.goto(chat_server.url + "/accounts/profile/")
    page.locator("[data-token-form] input[value=read]").check()
    token = make_token(page, "laptop")
    assert tokens.well_formed(token)
    page.goto(chat_server.url + "/accounts/profile/")
    listed = page.locator("[data-token-list] [data-token]")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("laptop")
    expect(listed).to_contain_text("read only")
    assert token not in page.content()
    listed.locator("[data-token-revoke]").click()
    expect(page.locator("[data-token-list] [data-token]")).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            urllib.request.Request(
                chat_server.url + "/api/v1/me",
                headers={"Authorization": f"Bearer {token}"},
            )
        )
    assert refused.value.code == 401


def test_a_bots_messages_carry_a_bot_tag(page: Page, chat_server: ChatServer) -> None:
    sign_up(page, chat_server, "otto", "Otto")
    page.goto(chat_server.url + "/accounts/profile/")
    page.locator("[data-bot-form] input[name=username]").fill("deploybot")
    page.locator("[data-bot-form] button[type=submit]").click()
    expect(page.locator("[data-bot-list] [data-bot=deploybot]")).to_be_visible()
    token = make_token(page, "ci", owner="Bot deploybot")
    page.goto(chat_server.url + "/rooms/general/")
    live(page)
    post(
        chat_server.url + "/api/v1/rooms/general/messages",
        {"text": "Deployed **v2**"},
        {"Authorization": f"Bearer {token}"},
    )
    posted = message(page, "Deployed v2")
    expect(posted.locator("[data-bot-tag]")).to_have_text("bot")
    expect(posted.locator("strong")).to_have_text("v2")


def test_a_rooms_creator_makes_a_webhook(page: Page, chat_server: ChatServer) -> None:
    sign_up(page, chat_server, "wren", "Wren")
    room = create_room(page, chat_server, "Builds", private=True)
    page.locator("[data-members-toggle]").click()
    page.locator("[data-webhooks-link]").click()
    page.fill("#webhook-name", "CI")
    page.locator("[data-webhook-form] button[type=submit]").click()
    url = page.locator("[data-webhook-url]").inner_text().strip()
    secret = page.locator("[data-webhook-secret]").inner_text().strip()
    assert url.startswith(chat_server.url + "/hooks/")
    page.goto(room)
    live(page)
    post(
        url,
        {"text": "Build 7 passed", "client_id": "b7"},
        {"X-Chat-Webhook-Secret": secret},
    )
    post(
        url,
        {"text": "Build 7 passed", "client_id": "b7"},
        {"X-Chat-Webhook-Secret": secret},
    )
    posted = message(page, "Build 7 passed")
    expect(posted).to_have_count(1)
    expect(posted.locator("[data-bot-tag]")).to_be_visible()
    expect(posted).to_contain_text("ci-hook")


def test_the_api_docs_load_nothing_from_elsewhere(
    page: Page, chat_server: ChatServer
) -> None:
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda entry: problems.append(entry.text) if entry.type == "error" else None,
    )
    page.goto(chat_server.url + "/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() == len(
        [
            method
            for path in json.loads(
                urllib.request.urlopen(chat_server.url + "/api/v1/openapi.json").read()
            )["paths"].values()
            for method in path
        ]
    )
    # Try one call from the page, as a guest: GET /api/v1/rooms.
    room_list = operations.filter(
        has=page.locator(
            ".opblock-summary-path", has_text=re.compile(r"^/api/v1/rooms$")
        )
    ).filter(has=page.locator(".opblock-summary-method", has_text="GET"))
    room_list.locator(".opblock-summary").click()
    room_list.locator("button.try-out__btn").click()
    room_list.locator("button.execute").click()
    answered = room_list.locator(
        ".live-responses-table tr.response .response-col_status"
    )
    expect(answered).to_contain_text("200")
    expect(room_list.locator(".live-responses-table")).to_contain_text('"general"')
    assert requests and all(url.startswith(chat_server.url) for url in requests)
    assert not problems, problems
