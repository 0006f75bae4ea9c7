from __future__ import annotations

from django.test import Client

from accounts.models import User
from chat.models import Room
from chat.services import message_create


class RoomListViewTests:
    def test_anonymous_visitors_see_the_rooms(self, client: Client, room: Room) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert room.name in response.content.decode()

    def test_room_names_are_escaped(self, client: Client, user: User) -> None:
        Room.objects.create(name="<script>alert(1)</script>", slug="xss")
        html = client.get("/").content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html

    def test_a_logged_in_user_creates_a_room_from_the_form(
        self, user_client: Client
    ) -> None:
        response = user_client.post("/rooms/new/", {"name": "Garden"})
        assert response.status_code == 302
        assert response["Location"] == "/rooms/garden/"
        assert Room.objects.filter(slug="garden").exists()

    def test_the_form_creates_a_private_room_its_members_may_add_to(
        self, user_client: Client
    ) -> None:
        form = {"name": "Plans", "kind": "private", "members_can_add": "on"}
        assert user_client.post("/rooms/new/", form).status_code == 302
        room = Room.objects.get(slug="plans")
        assert (room.kind, room.members_can_add) == ("private", True)
        assert room.memberships.count() == 1

    def test_anonymous_visitors_cannot_create_rooms(
        self, client: Client, db: None
    ) -> None:
        response = client.post("/rooms/new/", {"name": "Garden"})
        assert response.status_code == 302
        assert not Room.objects.filter(slug="garden").exists()


class RoomDetailViewTests:
    def test_anonymous_visitors_read_and_are_invited_to_sign_up(
        self, client: Client, room: Room, user: User
    ) -> None:
        message_create(room=room, author=user, text="hi")
        response = client.get(room.get_absolute_url())
        html = response.content.decode()
        assert response.status_code == 200
        assert "/accounts/signup/" in html
        assert "<textarea" not in html
        assert response.context["chat_config"]["canWrite"] is False

    def test_logged_in_users_get_a_composer(
        self, user_client: Client, room: Room
    ) -> None:
        response = user_client.get(room.get_absolute_url())
        assert "<textarea" in response.content.decode()
        assert response.context["chat_config"]["canWrite"] is True

    def test_an_unknown_room_is_404(self, client: Client, db: None) -> None:
        assert client.get("/rooms/nowhere/").status_code == 404

    def test_the_page_speaks_russian_to_a_russian_browser(
        self, client: Client, room: Room
    ) -> None:
        response = client.get(
            room.get_absolute_url(), headers={"Accept-Language": "ru"}
        )
        html = response.content.decode()
        assert '<html lang="ru"' in html
        assert "Регистрация" in html
        assert "Sign up" not in html
