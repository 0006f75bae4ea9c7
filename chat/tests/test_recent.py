from __future__ import annotations

import json
from typing import Any

from chat import protocol
from chat.recent import RecentPage


def encoded(message_id: int, text: str = "") -> str:
    return protocol.encode({"id": message_id, "text": text or f"m{message_id}"})


def history(page: RecentPage, seq: int = 1) -> dict[str, Any]:
    return json.loads(page.history_frame("lobby", seq))


def ids(page: RecentPage) -> list[int]:
    return [m["id"] for m in history(page)["messages"]]


class RecentPageTests:
    def test_fill_keeps_the_latest_messages_oldest_first(self) -> None:
        page = RecentPage(3)
        page.fill((n, encoded(n)) for n in range(1, 6))
        assert ids(page) == [3, 4, 5]

    def test_a_new_message_joins_and_the_oldest_leaves(self) -> None:
        page = RecentPage(3)
        page.fill((n, encoded(n)) for n in (1, 2, 3))
        page.put(7, encoded(7))
        assert ids(page) == [2, 3, 7]

    def test_a_change_of_a_message_on_the_page_replaces_it_in_place(self) -> None:
        page = RecentPage(3)
        page.fill((n, encoded(n)) for n in (1, 2, 3))
        page.put(2, encoded(2, "edited"))
        messages = history(page)["messages"]
        assert [m["id"] for m in messages] == [1, 2, 3]
        assert messages[1]["text"] == "edited"

    def test_a_change_of_an_older_message_leaves_the_page_alone(self) -> None:
        page = RecentPage(3)
        page.fill((n, encoded(n)) for n in (4, 5, 6))
        before = page.history_frame("lobby", 9)
        page.put(2, encoded(2, "edited long ago"))
        assert page.history_frame("lobby", 9) == before
        assert ids(page) == [4, 5, 6]

    def test_the_history_frame_names_the_room_and_its_seq(self) -> None:
        page = RecentPage(50)
        page.fill([(1, encoded(1))])
        frame = json.loads(page.history_frame("lobby", 42))
        assert frame == {
            "type": "history",
            "room": "lobby",
            "seq": 42,
            "messages": [{"id": 1, "text": "m1"}],
        }

    def test_the_history_frame_follows_every_change(self) -> None:
        page = RecentPage(3)
        page.fill([(1, encoded(1))])
        assert ids(page) == [1]
        page.put(2, encoded(2))
        assert ids(page) == [1, 2]
        page.put(1, encoded(1, "changed"))
        assert history(page)["messages"][0]["text"] == "changed"
        # The same page at a later seq says the later seq.
        assert history(page, seq=5)["seq"] == 5

    def test_an_empty_page_has_an_empty_history(self) -> None:
        page = RecentPage(3)
        assert history(page)["messages"] == []

    def test_fill_starts_over(self) -> None:
        page = RecentPage(3)
        page.fill((n, encoded(n)) for n in (1, 2))
        assert ids(page) == [1, 2]
        page.fill([])
        assert ids(page) == []
