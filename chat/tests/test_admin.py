from __future__ import annotations

from django.test import Client

from accounts.models import User
from chat.models import Message, Room
from chat.services import message_create


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
            {
                "room": room.pk,
                "text": "Maintenance at 6",
                "attachment-TOTAL_FORMS": "0",
                "attachment-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302
        message = Message.objects.get()
        assert (message.author, message.text) == (user, "Maintenance at 6")
        room.refresh_from_db()
        assert room.last_message_id == message.pk

    def test_a_room_added_in_the_admin_gets_a_slug(self, user: User) -> None:
        response = staff(user).post("/admin/chat/room/add/", {"name": "Ops Desk"})
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
        assert Message.objects.filter(pk=message.pk).exists()
        assert staff(user).post(url, {"post": "yes"}).status_code == 302
        assert not Message.objects.filter(pk=message.pk).exists()
