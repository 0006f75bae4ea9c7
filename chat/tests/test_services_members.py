"""Joining, adding, leaving, removing; direct conversations; blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from chat import access, selectors
from chat.exceptions import BadRequest, Forbidden, NotFound
from chat.models import Membership, Message, Room
from chat.services import (
    block_set,
    direct_open,
    member_add,
    member_remove,
    message_create,
    message_delete,
    message_edit,
    reaction_set,
    room_create,
    room_join,
)
from chat.services.messages import Post, messages_create
from chat.tests.conftest import Broadcasts

pytestmark = pytest.mark.django_db

Commit = Callable[[], Any]


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    staff = make_user("stan", "Stan")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    return staff


@pytest.fixture
def private(user: User) -> Room:
    return room_create(name="Secret", created_by=user, kind=Room.Kind.PRIVATE)


def member_lines(room: Room) -> list[tuple[str, str | None, str | None]]:
    """Return each member line of ``room``: (action, whom, by whom)."""
    return [
        (m.member_action, m.member.username if m.member else None, m.author.username)
        for m in Message.objects.filter(room=room)
        .exclude(member_action="")
        .select_related("member", "author")
        .order_by("seq")
    ]


class JoinTests:
    def test_joining_a_public_room_is_a_change_of_its_stream(
        self, room: Room, other_user: User, broadcasts: Broadcasts, committed: Commit
    ) -> None:
        with committed():
            assert room_join(room=room, user=other_user) is True
        assert access.is_member(other_user, room)
        assert member_lines(room) == [("join", "bob", "bob")]
        [event] = broadcasts
        assert event["member"].action == "join"
        assert event["message"]["member"] == {
            "action": "join",
            "username": "bob",
            "name": "Bob",
        }
        assert event["seq"] == Room.objects.get(pk=room.pk).last_seq

    def test_joining_again_changes_nothing(
        self, room: Room, other_user: User, broadcasts: Broadcasts, committed: Commit
    ) -> None:
        with committed():
            room_join(room=room, user=other_user)
            assert room_join(room=room, user=other_user) is False
        assert len(broadcasts) == 1

    def test_a_private_room_is_not_joined_but_added_to(
        self, private: Room, other_user: User
    ) -> None:
        with pytest.raises(NotFound):
            room_join(room=private, user=other_user)
        assert not access.is_member(other_user, private)

    def test_the_creator_of_a_room_is_its_first_member(
        self, room: Room, private: Room, user: User
    ) -> None:
        assert access.is_member(user, room) and access.is_member(user, private)


class AddTests:
    def test_the_creator_adds_people_to_a_private_room(
        self, private: Room, user: User, other_user: User
    ) -> None:
        added, new = member_add(room=private, actor=user, username="BOB")
        assert (added, new) == (other_user, True)
        assert access.can_read(other_user, private)
        assert member_lines(private) == [("add", "bob", "alice")]
        assert member_add(room=private, actor=user, username="bob")[1] is False

    def test_members_add_people_only_where_the_room_allows_it(
        self,
        private: Room,
        user: User,
        other_user: User,
        make_user: Callable[..., User],
    ) -> None:
        make_user("carol", "Carol")
        member_add(room=private, actor=user, username="bob")
        with pytest.raises(Forbidden):
            member_add(room=private, actor=other_user, username="carol")
        Room.objects.filter(pk=private.pk).update(members_can_add=True)
        private.refresh_from_db()
        assert member_add(room=private, actor=other_user, username="carol")[1]

    def test_staff_add_people_without_being_members_and_join_like_anyone(
        self, private: Room, staff: User, other_user: User
    ) -> None:
        assert not access.can_read(staff, private)
        member_add(room=private, actor=staff, username="bob")
        assert not access.can_read(staff, private)
        member_add(room=private, actor=staff, username="stan")
        assert access.can_read(staff, private)
        assert member_lines(private) == [
            ("add", "bob", "stan"),
            ("join", "stan", "stan"),
        ]

    def test_an_unknown_username_is_a_clear_404(
        self, private: Room, user: User
    ) -> None:
        with pytest.raises(NotFound, match="nobody"):
            member_add(room=private, actor=user, username="nobody")
        with pytest.raises(BadRequest):
            member_add(room=private, actor=user, username=["bob"])


class RemoveTests:
    def test_anyone_leaves_and_the_creator_removes(
        self,
        private: Room,
        user: User,
        other_user: User,
        make_user: Callable[..., User],
    ) -> None:
        carol = make_user("carol", "Carol")
        member_add(room=private, actor=user, username="bob")
        member_add(room=private, actor=user, username="carol")
        with pytest.raises(Forbidden):
            member_remove(room=private, actor=other_user, username="carol")
        member_remove(room=private, actor=other_user, username="bob")
        member_remove(room=private, actor=user, username="carol")
        assert not access.can_read(other_user, private)
        assert not access.can_read(carol, private)
        assert member_lines(private)[-2:] == [
            ("leave", "bob", "bob"),
            ("remove", "carol", "alice"),
        ]

    def test_removing_someone_who_is_not_a_member_is_a_404(
        self, private: Room, user: User, other_user: User
    ) -> None:
        with pytest.raises(NotFound, match="not a member"):
            member_remove(room=private, actor=user, username="bob")
        assert member_lines(private) == []

    def test_a_removal_is_broadcast_as_a_member_change_that_ends_reading(
        self,
        private: Room,
        user: User,
        other_user: User,
        broadcasts: Broadcasts,
        committed: Commit,
    ) -> None:
        with committed():
            member_add(room=private, actor=user, username="bob")
            member_remove(room=private, actor=user, username="bob")
        removal = broadcasts[-1]["member"]
        assert (removal.action, removal.user_id, removal.by) == (
            "remove",
            other_user.pk,
            "alice",
        )
        assert removal.ends_reading(private)

    def test_leaving_a_public_room_takes_it_out_of_the_sidebar_only(
        self, room: Room, other_user: User, broadcasts: Broadcasts, committed: Commit
    ) -> None:
        with committed():
            room_join(room=room, user=other_user)
            member_remove(room=room, actor=other_user, username="bob")
        assert access.can_read(other_user, room)
        assert not broadcasts[-1]["member"].ends_reading(room)
        [entry] = [e for e in selectors.room_list(other_user) if e.room == room]
        assert entry.joined is False


class MemberLineTests:
    def test_a_member_line_is_not_edited_deleted_reacted_to_or_replied_to(
        self, room: Room, user: User, other_user: User, staff: User
    ) -> None:
        room_join(room=room, user=other_user)
        line = Message.objects.get(room=room, member_action="join")
        with pytest.raises(NotFound):
            message_edit(room=room, editor=other_user, message_id=line.pk, text="x")
        with pytest.raises(NotFound):
            message_delete(room=room, actor=staff, message_id=line.pk)
        with pytest.raises(NotFound):
            reaction_set(room=room, user=user, message_id=line.pk, emoji="👍", on=True)
        [result] = messages_create(
            room=room, author=user, posts=[Post("re", reply_to=line.pk)]
        )
        assert isinstance(result, NotFound)


class DirectTests:
    def test_the_same_people_always_get_the_same_conversation(
        self, user: User, other_user: User, make_user: Callable[..., User]
    ) -> None:
        make_user("carol", "Carol")
        room, new = direct_open(actor=user, usernames=["bob"])
        assert new and room.kind == Room.Kind.DIRECT
        assert direct_open(actor=other_user, usernames=["alice"]) == (room, False)
        assert direct_open(actor=user, usernames=["bob", "alice", "Bob"])[0] == room
        trio, new = direct_open(actor=user, usernames=["bob", "carol"])
        assert new and trio != room
        assert selectors.room_entry(trio, user).title == "Bob, Carol"
        assert selectors.room_entry(trio, other_user).title == "Alice, Carol"

    def test_a_conversation_has_two_to_eight_people(
        self, user: User, make_user: Callable[..., User]
    ) -> None:
        names = [make_user(f"user{n}").username for n in range(8)]
        with pytest.raises(BadRequest):
            direct_open(actor=user, usernames=[])
        with pytest.raises(BadRequest):
            direct_open(actor=user, usernames=["alice"])
        with pytest.raises(BadRequest):
            direct_open(actor=user, usernames=names)
        assert direct_open(actor=user, usernames=names[:7])[1]

    def test_its_people_never_change(
        self, user: User, other_user: User, staff: User
    ) -> None:
        room, _ = direct_open(actor=user, usernames=["bob"])
        for actor in (user, staff):
            with pytest.raises(BadRequest):
                member_add(room=room, actor=actor, username="stan")
        with pytest.raises(Forbidden):
            member_remove(room=room, actor=user, username="bob")
        assert room.memberships.count() == 2

    def test_leaving_hides_it_until_a_new_message_comes(
        self, user: User, other_user: User
    ) -> None:
        room, _ = direct_open(actor=user, usernames=["bob"])
        member_remove(room=room, actor=other_user, username="bob")
        assert access.can_read(other_user, room)
        assert room not in [e.room for e in selectors.room_list(other_user)]
        message_create(room=room, author=user, text="still there?")
        assert room in [e.room for e in selectors.room_list(other_user)]
        assert not Membership.objects.filter(room=room, hidden=True).exists()

    def test_a_blocked_user_cannot_open_a_conversation(
        self, user: User, other_user: User
    ) -> None:
        assert block_set(user=other_user, username="alice", on=True) == (user, True)
        with pytest.raises(Forbidden, match="bob"):
            direct_open(actor=user, usernames=["bob"])
        # The blocker still may.
        assert direct_open(actor=other_user, usernames=["alice"])[1]
        assert block_set(user=other_user, username="alice", on=False)[1] is True
        assert block_set(user=other_user, username="alice", on=False)[1] is False


class BlockTests:
    def test_blocks_are_listed_and_oneself_is_not_blocked(
        self, user: User, other_user: User
    ) -> None:
        block_set(user=user, username="bob", on=True)
        assert block_set(user=user, username="bob", on=True)[1] is False
        assert selectors.blocked_users(user) == [other_user]
        with pytest.raises(BadRequest):
            block_set(user=user, username="alice", on=True)
