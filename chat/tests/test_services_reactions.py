from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from chat import selectors, services
from chat.exceptions import AuthRequired, BadRequest, NotFound, RateLimited
from chat.models import Message, Reaction, Room
from chat.payloads import message_payload
from chat.tests.conftest import Broadcasts


@pytest.fixture
def message(room: Room, other_user: User) -> Message:
    message, _ = services.message_create(
        room=room, author=other_user, text="react to me"
    )
    return message


def react(
    message: Message, user: User, emoji: str, on: bool = True, **kwargs: Any
) -> tuple[Message, bool]:
    return services.reaction_set(
        room=message.room,
        user=user,
        message_id=message.pk,
        emoji=emoji,
        on=on,
        **kwargs,
    )


def reactions(message: Message) -> list[dict[str, Any]]:
    stored = selectors.message_get(room=message.room, message_id=message.pk)
    return message_payload(stored)["reactions"]


def seq_of(message: Message) -> int:
    return Message.objects.get(pk=message.pk).seq


class ReactionSetTests:
    def test_a_reaction_is_put_on_and_shown_with_who_put_it(
        self, message: Message, user: User
    ) -> None:
        reacted, changed = react(message, user, "👍")
        assert changed is True
        assert message_payload(reacted)["reactions"] == [
            {"emoji": "👍", "count": 1, "users": ["alice"]}
        ]
        assert reactions(message) == [{"emoji": "👍", "count": 1, "users": ["alice"]}]

    def test_a_reaction_is_taken_off(self, message: Message, user: User) -> None:
        react(message, user, "👍")
        reacted, changed = react(message, user, "👍", on=False)
        assert changed is True
        assert message_payload(reacted)["reactions"] == []
        assert not Reaction.objects.exists()

    def test_putting_on_twice_or_taking_off_twice_changes_nothing(
        self, message: Message, user: User
    ) -> None:
        react(message, user, "👍")
        seq = seq_of(message)
        assert react(message, user, "👍")[1] is False
        assert Reaction.objects.count() == 1
        assert seq_of(message) == seq
        react(message, user, "👍", on=False)
        seq = seq_of(message)
        again, changed = react(message, user, "👍", on=False)
        assert changed is False
        assert message_payload(again)["reactions"] == []
        assert seq_of(message) == seq

    def test_taking_off_a_reaction_never_put_on_changes_nothing(
        self, message: Message, user: User
    ) -> None:
        seq = seq_of(message)
        assert react(message, user, "👍", on=False)[1] is False
        assert seq_of(message) == seq

    def test_each_user_has_one_of_each_emoji_counted_in_order(
        self, message: Message, user: User, other_user: User, make_user: Any
    ) -> None:
        carol = make_user("carol", "Carol")
        react(message, other_user, "🎉")
        react(message, user, "👍")
        react(message, carol, "👍")
        react(message, user, "🎉")
        react(message, user, "👍")
        assert reactions(message) == [
            {"emoji": "🎉", "count": 2, "users": ["bob", "alice"]},
            {"emoji": "👍", "count": 2, "users": ["alice", "carol"]},
        ]

    def test_each_change_shows_every_reaction_as_stored(
        self, message: Message, user: User, other_user: User, make_user: Any
    ) -> None:
        """The broadcast of a reaction carries all of the message's reactions,
        the others' included, as a reader loading the message sees them."""
        carol = make_user("carol", "Carol")
        for person, emoji, on in [
            (other_user, "🎉", True),
            (user, "👍", True),
            (carol, "👍", True),
            (user, "🎉", True),
            (other_user, "🎉", False),
            (carol, "👍", False),
        ]:
            changed, _ = react(message, person, emoji, on=on)
            assert message_payload(changed)["reactions"] == reactions(message)
        assert reactions(message) == [
            {"emoji": "👍", "count": 1, "users": ["alice"]},
            {"emoji": "🎉", "count": 1, "users": ["alice"]},
        ]

    @pytest.mark.parametrize(
        "emoji",
        ["a", "👍👍", "", "👍" * 40, "x" * 40, ":thumbsup:", "👍 ", "<b>"],
        ids=[
            "letter",
            "two",
            "empty",
            "40 emoji",
            "40 chars",
            "alias",
            "space",
            "html",
        ],
    )
    def test_anything_but_one_emoji_is_refused(
        self, message: Message, user: User, emoji: str
    ) -> None:
        with pytest.raises(BadRequest):
            react(message, user, emoji)
        assert not Reaction.objects.exists()

    @pytest.mark.parametrize(
        "emoji",
        ["👍🏽", "🇫🇷", "👩\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "#️⃣"],
        ids=["skin tone", "flag", "family", "rainbow flag", "heart", "keycap"],
    )
    def test_one_emoji_of_several_code_points_is_accepted(
        self, message: Message, user: User, emoji: str
    ) -> None:
        reacted, changed = react(message, user, emoji)
        assert changed is True
        assert message_payload(reacted)["reactions"] == [
            {"emoji": emoji, "count": 1, "users": ["alice"]}
        ]

    def test_a_deleted_message_takes_no_reactions(
        self, message: Message, user: User, other_user: User
    ) -> None:
        services.message_delete(
            room=message.room, actor=other_user, message_id=message.pk
        )
        with pytest.raises(BadRequest):
            react(message, user, "👍")
        assert not Reaction.objects.exists()

    def test_a_guest_cannot_react(self, message: Message) -> None:
        with pytest.raises(AuthRequired):
            services.reaction_set(
                room=message.room,
                user=AnonymousUser(),
                message_id=message.pk,
                emoji="👍",
                on=True,
            )

    def test_an_unknown_message_is_not_found(self, room: Room, user: User) -> None:
        with pytest.raises(NotFound):
            services.reaction_set(
                room=room, user=user, message_id=10**9, emoji="👍", on=True
            )

    def test_reactions_count_against_the_message_rate_limit(
        self, message: Message, user: User, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "2/60"
        services.message_create(room=message.room, author=user, text="one")
        react(message, user, "👍")
        with pytest.raises(RateLimited):
            react(message, user, "🎉")
        assert reactions(message) == [{"emoji": "👍", "count": 1, "users": ["alice"]}]


class ReactionBroadcastTests:
    def test_a_real_change_takes_the_next_seq_and_is_broadcast(
        self,
        message: Message,
        user: User,
        broadcasts: Broadcasts,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        before = Room.objects.get(pk=message.room.pk).last_seq
        with django_capture_on_commit_callbacks(execute=True):
            reacted, _ = react(message, user, "👍", client_id="r-1")
        assert reacted.seq == seq_of(message) == before + 1
        assert Room.objects.get(pk=message.room.pk).last_seq == before + 1
        [sent] = broadcasts
        assert (sent["seq"], sent["prev_seq"]) == (before + 1, before)
        assert (sent["message_id"], sent["client_id"]) == (message.pk, "r-1")
        assert sent["message"]["reactions"] == [
            {"emoji": "👍", "count": 1, "users": ["alice"]}
        ]
        with django_capture_on_commit_callbacks(execute=True):
            react(message, user, "👍", on=False, client_id="r-2")
        assert [b["client_id"] for b in broadcasts] == ["r-1", "r-2"]
        assert broadcasts[1]["seq"] == before + 2
        assert broadcasts[1]["message"]["reactions"] == []

    def test_no_change_is_neither_numbered_nor_broadcast(
        self,
        message: Message,
        user: User,
        broadcasts: Broadcasts,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        react(message, user, "👍")
        before = Room.objects.get(pk=message.room.pk).last_seq
        with django_capture_on_commit_callbacks(execute=True):
            react(message, user, "👍")
            react(message, user, "🎉", on=False)
        assert broadcasts == []
        assert Room.objects.get(pk=message.room.pk).last_seq == before
