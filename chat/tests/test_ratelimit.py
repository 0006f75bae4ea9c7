from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from chat import ratelimit
from chat.exceptions import RateLimited
from chat.models import Message, Room
from chat.services import message_create


@pytest.fixture
def limits_on(settings: Any) -> Any:
    settings.RATE_LIMITS = True
    settings.RATE_LIMIT_MESSAGES = "3/60,100/3600"
    return settings


class ParseRatesTests:
    def test_rates_are_count_per_seconds(self) -> None:
        assert ratelimit.parse_rates("10/5, 60/60") == (
            ratelimit.Rate(10, 5),
            ratelimit.Rate(60, 60),
        )

    @pytest.mark.parametrize("value", ["", "10", "a/b", "0/5", "5/0", "-1/5"])
    def test_nonsense_is_refused(self, value: str) -> None:
        with pytest.raises(ValueError):
            ratelimit.parse_rates(value)


class MessageRateTests:
    def test_a_burst_past_the_limit_is_refused_with_a_wait(
        self, limits_on: Any, room: Room, user: User
    ) -> None:
        for n in range(3):
            message_create(room=room, author=user, text=f"m{n}")
        with pytest.raises(RateLimited) as caught:
            message_create(room=room, author=user, text="one too many")
        assert 1 <= caught.value.retry_after <= 60
        assert Message.objects.count() == 3

    def test_each_user_has_a_limit_of_their_own(
        self, limits_on: Any, room: Room, user: User, other_user: User
    ) -> None:
        for n in range(3):
            message_create(room=room, author=user, text=f"m{n}")
        message_create(room=room, author=other_user, text="my turn")

    def test_a_retry_of_a_stored_message_is_not_counted(
        self, limits_on: Any, room: Room, user: User
    ) -> None:
        for _ in range(5):
            message_create(room=room, author=user, text="same", client_id="same")
        assert Message.objects.count() == 1

    def test_rate_limits_off_turns_them_off(
        self, limits_on: Any, room: Room, user: User
    ) -> None:
        limits_on.RATE_LIMITS = False
        for n in range(10):
            message_create(room=room, author=user, text=f"m{n}")

    def test_uploads_count_as_messages_and_get_429(
        self, limits_on: Any, user_client: Client, room: Room
    ) -> None:
        statuses = [
            user_client.post(
                f"/api/rooms/{room.slug}/files",
                {"file": SimpleUploadedFile(f"{n}.txt", b"hello")},
            )
            for n in range(4)
        ]
        assert [r.status_code for r in statuses] == [201, 201, 201, 429]
        refused = statuses[-1]
        assert refused.json()["code"] == "rate_limited"
        assert refused.json()["retry_after"] == int(refused["Retry-After"])
