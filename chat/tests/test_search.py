"""Search over HTTP: GET /api/search, the /search/ page, and their rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from chat import search
from chat.models import Room
from chat.services import block_set, message_create, room_create
from conftest import MESSAGE_KEYS

pytestmark = pytest.mark.django_db


def get(client: Client, **params: Any) -> Any:
    return client.get("/api/search", params)


@pytest.fixture
def notes(room: Room, user: User) -> list[int]:
    """Five messages of Alice's room that say "release", oldest first."""
    return [
        message_create(room=room, author=user, text=f"release note {n}")[0].pk
        for n in range(5)
    ]


class ApiTests:
    def test_results_come_newest_first_a_page_at_a_time(
        self, user_client: Client, notes: list[int]
    ) -> None:
        first = get(user_client, q="releases", limit=2).json()
        assert [r["message"]["id"] for r in first["results"]] == notes[:-3:-1]
        result = first["results"][0]
        assert set(result["message"]) == MESSAGE_KEYS
        assert result["room_name"] == "Lobby"
        assert result["snippet"] == "<mark>release</mark> note 4"
        second = get(user_client, q="releases", limit=2, before=first["next"]).json()
        third = get(user_client, q="releases", limit=2, before=second["next"]).json()
        ids = [
            r["message"]["id"]
            for page in (first, second, third)
            for r in page["results"]
        ]
        assert ids == notes[::-1]
        assert third["next"] is None

    def test_a_guest_searches_public_rooms_only(
        self, client: Client, user: User, notes: list[int]
    ) -> None:
        private = room_create(name="Hidden", created_by=user, kind=Room.Kind.PRIVATE)
        message_create(room=private, author=user, text="release secrets")
        found = get(client, q="release").json()["results"]
        assert [r["message"]["room"] for r in found] == ["lobby"] * 5
        # Naming the room reveals no more than a room that does not exist.
        for slug in (private.slug, "nowhere"):
            response = get(client, q="release", room=slug)
            assert (response.status_code, response.json()["code"]) == (404, "not_found")

    def test_blocked_people_are_not_found(
        self,
        user_client: Client,
        user: User,
        room: Room,
        make_user: Callable[..., User],
    ) -> None:
        troll = make_user("troll")
        message_create(room=room, author=troll, text="release the kraken")
        assert len(get(user_client, q="kraken").json()["results"]) == 1
        block_set(user=user, username="troll", on=True)
        assert get(user_client, q="kraken").json()["results"] == []

    @pytest.mark.parametrize(
        ("params", "said"),
        [
            ({"q": ""}, "Type a word"),
            ({"q": "   "}, "Type a word"),
            ({"q": "x" * 10_000}, "at most 300 characters"),
            ({"q": "release", "limit": "0"}, "limit must be"),
            ({"q": "release", "limit": "51"}, "limit must be"),
            ({"q": "release", "limit": "9" * 5000}, "limit must be"),
            ({"q": "release", "before": "-1"}, "before"),
            ({"q": "has:nothing"}, "has:file"),
        ],
    )
    def test_what_cannot_be_searched_is_a_clear_400(
        self, user_client: Client, params: dict[str, str], said: str
    ) -> None:
        response = get(user_client, **params)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_request"
        assert said in response.json()["detail"]

    def test_hostile_text_is_only_text(
        self, user_client: Client, room: Room, user: User
    ) -> None:
        message_create(room=room, author=user, text='say " - * NEAR ( ) OR AND :')
        for q in ['" - * NEAR ( ) OR AND :', "NEAR(a b)", "a OR b", "*", "'; --"]:
            response = get(user_client, q=q)
            assert response.status_code in (200, 400), (q, response.content)
        found = get(user_client, q='"near ( ) or"').json()["results"]
        assert len(found) == 1
        # A lone surrogate, as a broken client may encode it.
        response = user_client.get("/api/search", QUERY_STRING="q=%ED%A0%80abc")
        assert response.status_code == 200

    def test_searches_are_rate_limited_per_user(
        self, user_client: Client, settings: Any, notes: list[int]
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_SEARCH = "2/60"
        assert [get(user_client, q="release").status_code for _ in range(2)] == [
            200,
            200,
        ]
        refused = get(user_client, q="release")
        assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
        assert int(refused["Retry-After"]) > 0


class ShortTermTests:
    def test_one_or_two_characters_look_in_recent_history_only(
        self,
        user_client: Client,
        room: Room,
        user: User,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(search, "RECENT", 3)
        old = message_create(room=room, author=user, text="ok then")[0]
        newer = [
            message_create(room=room, author=user, text=t)[0] for t in ["ok", "x", "ok"]
        ]
        found = [r["message"]["id"] for r in get(user_client, q="ok").json()["results"]]
        assert found == [newer[2].pk, newer[0].pk]
        assert old.pk not in found


class PageTests:
    def test_the_page_shows_results_without_javascript(
        self, client: Client, room: Room, notes: list[int]
    ) -> None:
        page = client.get("/search/", {"q": "release", "before": str(notes[-1])})
        html = page.content.decode()
        assert page.status_code == 200
        assert html.count("data-search-result=") == 4
        assert f'href="/rooms/lobby/?around={notes[-2]}"' in html
        assert "<mark>release</mark> note 3" in html
        assert "data-search-more" not in html

    def test_an_unreadable_search_says_why(self, client: Client) -> None:
        page = client.get("/search/", {"q": "before:soon"})
        assert page.status_code == 400
        assert "YYYY-MM-DD" in page.content.decode()

    def test_every_page_has_the_search_box(self, client: Client, room: Room) -> None:
        for path in ("/", f"/rooms/{room.slug}/", "/accounts/login/"):
            assert 'action="/search/"' in client.get(path).content.decode(), path
