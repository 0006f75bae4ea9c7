from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from chat import access, events
from chat.models import Message, Reaction, Room
from chat.services import message_create, message_edit, reaction_set, room_create

# The management forms of the message page's inlines, as the browser sends them.
NO_INLINES = {
    f"{prefix}-{field}": "0"
    for prefix in ("attachment", "revisions", "reactions")
    for field in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def staff(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


class AdminTests:
    def test_a_message_posted_in_the_admin_goes_through_the_service(
        self, user: User, room: Room
    ) -> None:
        response = staff(user).post(
            "/admin/chat/message/add/",
            {"room": room.pk, "text": "Maintenance at 6", **NO_INLINES},
        )
        assert response.status_code == 302
        message = Message.objects.get()
        assert (message.author, message.text) == (user, "Maintenance at 6")
        room.refresh_from_db()
        assert room.last_message_id == message.pk
        assert message.seq == room.last_seq

    def test_a_room_added_in_the_admin_gets_a_slug(self, user: User) -> None:
        response = staff(user).post(
            "/admin/chat/room/add/",
            {
                "name": "Ops Desk",
                "kind": "public",
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302
        assert Room.objects.get(name="Ops Desk").slug == "ops-desk"

    def test_only_staff_can_delete_others_messages(
        self, user: User, other_user: User, room: Room
    ) -> None:
        message, _ = message_create(room=room, author=other_user, text="rude")
        url = f"/admin/chat/message/{message.pk}/delete/"
        ordinary = Client()
        ordinary.force_login(user)
        assert ordinary.post(url, {"post": "yes"}).status_code == 302
        assert Message.objects.get(pk=message.pk).deleted is False
        assert staff(user).post(url, {"post": "yes"}).status_code == 302
        tombstone = Message.objects.get(pk=message.pk)
        assert (tombstone.deleted, tombstone.text) == (True, "")

    def test_deleting_in_the_admin_leaves_a_tombstone_everyone_hears_of(
        self,
        user: User,
        other_user: User,
        room: Room,
        monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Callable[..., Any],
    ) -> None:
        message, _ = message_create(room=room, author=other_user, text="spam")
        reaction_set(room=room, user=user, message_id=message.pk, emoji="👎", on=True)
        sent: list[dict[str, Any]] = []
        monkeypatch.setattr(events, "change_broadcast", lambda **e: sent.append(e))
        client = staff(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/admin/chat/message/{message.pk}/delete/", {"post": "yes"}
            )
        assert response.status_code == 302
        tombstone = Message.objects.get(pk=message.pk)
        assert (tombstone.deleted, tombstone.text, tombstone.html) == (True, "", "")
        assert not Reaction.objects.filter(message=tombstone).exists()
        [change] = sent
        assert change["message_id"] == message.pk
        assert change["seq"] == tombstone.seq == Room.objects.get(pk=room.pk).last_seq
        assert json.loads(change["message"])["deleted"] is True

    def test_deleting_selected_messages_leaves_tombstones(
        self, user: User, other_user: User, room: Room
    ) -> None:
        ids = [
            message_create(room=room, author=other_user, text=f"spam {n}")[0].pk
            for n in range(3)
        ]
        response = staff(user).post(
            "/admin/chat/message/",
            {"action": "delete_selected", "_selected_action": ids[:2], "post": "yes"},
        )
        assert response.status_code == 302
        deleted = dict(Message.objects.values_list("pk", "deleted"))
        assert deleted == {ids[0]: True, ids[1]: True, ids[2]: False}

    def test_a_posted_text_is_not_rewritten_in_the_admin(
        self, user: User, room: Room
    ) -> None:
        message, _ = message_create(room=room, author=user, text="as written")
        response = staff(user).post(
            f"/admin/chat/message/{message.pk}/change/",
            {"room": room.pk, "text": "rewritten", **NO_INLINES},
        )
        assert response.status_code == 302
        stored = Message.objects.get(pk=message.pk)
        assert (stored.text, stored.seq) == ("as written", message.seq)

    def test_the_change_page_shows_revisions_and_reactions(
        self, user: User, other_user: User, room: Room
    ) -> None:
        message, _ = message_create(room=room, author=user, text="first words")
        message_edit(room=room, editor=user, message_id=message.pk, text="second")
        reaction_set(
            room=room, user=other_user, message_id=message.pk, emoji="🎉", on=True
        )
        page = staff(user).get(f"/admin/chat/message/{message.pk}/change/")
        assert page.status_code == 200
        content = page.content.decode()
        assert "first words" in content
        assert "🎉" in content


class MembershipAdminTests:
    def test_members_added_and_removed_in_the_admin_go_through_the_services(
        self, user: User, other_user: User, make_user: Callable[..., User]
    ) -> None:
        owner = make_user("olga", "Olga")
        room = room_create(name="Ops", created_by=owner, kind=Room.Kind.PRIVATE)
        [own] = room.memberships.all()
        client = staff(user)
        form = {
            "name": "Ops",
            "slug": room.slug,
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(own.pk),
            "memberships-0-room": str(room.pk),
            "memberships-0-user": str(owner.pk),
            "memberships-1-room": str(room.pk),
            "memberships-1-user": str(other_user.pk),
        }
        response = client.post(f"/admin/chat/room/{room.pk}/change/", form)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert access.is_member(other_user, room)
        added = room.messages.get(member_action="add")
        assert (added.member, added.author) == (other_user, user)
        # The operator who added bob is not a member, and still reads nothing.
        assert not access.can_read(user, room)

        bob = room.memberships.get(user=other_user)
        form.update(
            {
                "memberships-INITIAL_FORMS": "2",
                "memberships-1-id": str(bob.pk),
                "memberships-1-DELETE": "on",
            }
        )
        response = client.post(f"/admin/chat/room/{room.pk}/change/", form)
        assert response.status_code == 302
        assert not access.is_member(other_user, room)
        assert room.messages.filter(member_action="remove").count() == 1

    def test_the_admin_says_it_shows_every_room(self, user: User) -> None:
        page = staff(user).get("/admin/").content.decode()
        assert "every room, private ones included" in page
