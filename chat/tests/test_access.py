from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from chat import access, services
from chat.models import Message, Room


@pytest.fixture
def message(room: Room, user: User) -> Message:
    message, _ = services.message_create(room=room, author=user, text="mine")
    return message


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    moderator = make_user("mod", "Moderator")
    moderator.is_staff = True
    return moderator


class AccessTests:
    def test_the_author_may_edit_delete_and_see_revisions(
        self, message: Message, user: User
    ) -> None:
        assert access.can_edit(user, message) is True
        assert access.can_delete(user, message) is True
        assert access.can_see_revisions(user, message) is True

    def test_another_user_may_do_none_of_it(
        self, message: Message, other_user: User
    ) -> None:
        assert access.can_edit(other_user, message) is False
        assert access.can_delete(other_user, message) is False
        assert access.can_see_revisions(other_user, message) is False

    def test_staff_delete_and_see_revisions_but_do_not_edit(
        self, message: Message, staff: User
    ) -> None:
        assert access.can_edit(staff, message) is False
        assert access.can_delete(staff, message) is True
        assert access.can_see_revisions(staff, message) is True

    def test_nobody_edits_a_message_whose_author_left(
        self, message: Message, user: User, other_user: User, staff: User
    ) -> None:
        services.messages_disown(author=user)
        message.refresh_from_db()
        for someone in (user, other_user, staff):
            assert access.can_edit(someone, message) is False
        assert access.can_delete(other_user, message) is False
        assert access.can_delete(staff, message) is True
