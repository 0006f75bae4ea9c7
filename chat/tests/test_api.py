from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from chat.models import Attachment, Message, Room
from chat.services import attachment_create, message_create
from conftest import MESSAGE_KEYS, image_bytes


def messages_url(room: Room) -> str:
    return f"/api/rooms/{room.slug}/messages"


class MessageListApiTests:
    def test_anonymous_visitors_read_the_latest_page_oldest_first(
        self, client: Client, room: Room, user: User
    ) -> None:
        for n in range(3):
            message_create(room=room, author=user, text=f"m{n}")
        response = client.get(messages_url(room))
        assert response.status_code == 200
        messages = response.json()["messages"]
        assert [m["text"] for m in messages] == ["m0", "m1", "m2"]
        assert set(messages[0]) == MESSAGE_KEYS
        assert messages[0]["created"].endswith("+00:00")

    def test_before_after_and_limit_page_through_history(
        self, client: Client, room: Room, user: User
    ) -> None:
        ids = [
            message_create(room=room, author=user, text=str(n))[0].pk for n in range(10)
        ]
        older = client.get(messages_url(room), {"before": ids[5], "limit": 3}).json()
        assert [m["id"] for m in older["messages"]] == ids[2:5]
        newer = client.get(messages_url(room), {"after": ids[5], "limit": 2}).json()
        assert [m["id"] for m in newer["messages"]] == ids[6:8]

    @pytest.mark.parametrize(
        "query",
        [
            {"before": "x"},
            {"after": "-1"},
            {"after": "²"},
            {"limit": "0"},
            {"limit": "9999"},
            {"limit": "9" * 5000},
        ],
    )
    def test_bad_parameters_get_a_clear_400(
        self, client: Client, room: Room, query: dict[str, str]
    ) -> None:
        response = client.get(messages_url(room), query)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_request"
        assert response.json()["detail"]

    def test_an_unknown_room_is_404(self, client: Client, db: None) -> None:
        response = client.get("/api/rooms/nowhere/messages")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_an_unknown_api_path_is_404_in_json(self, client: Client, db: None) -> None:
        response = client.get("/api/rooms//messages")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert client.get("/no/such/page/")["Content-Type"].startswith("text/html")


class AttachmentUploadApiTests:
    def test_a_logged_in_user_uploads_an_image(
        self, user_client: Client, room: Room
    ) -> None:
        response = user_client.post(
            f"/api/rooms/{room.slug}/files",
            {
                "file": SimpleUploadedFile("cat.png", image_bytes()),
                "text": "my cat",
                "client_id": "u-1",
            },
        )
        assert response.status_code == 201
        message = response.json()["message"]
        assert message["text"] == "my cat"
        assert message["attachment"]["name"] == "cat.png"
        assert message["attachment"]["content_type"] == "image/png"
        assert message["attachment"]["thumbnail_url"]

    def test_anonymous_upload_is_403_and_stores_nothing(
        self, client: Client, room: Room
    ) -> None:
        response = client.post(
            f"/api/rooms/{room.slug}/files",
            {"file": SimpleUploadedFile("cat.png", image_bytes())},
        )
        assert response.status_code == 403
        assert response.json()["code"] == "auth_required"
        assert not Message.objects.exists()

    def test_upload_needs_a_csrf_token(self, user: User, room: Room) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        url = f"/api/rooms/{room.slug}/files"
        response = client.post(url, {"file": SimpleUploadedFile("a.txt", b"a")})
        assert response.status_code == 403
        assert not Message.objects.exists()
        client.get(f"/rooms/{room.slug}/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            url,
            {"file": SimpleUploadedFile("a.txt", b"a")},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 201

    def test_a_missing_file_is_a_bad_request(
        self, user_client: Client, room: Room
    ) -> None:
        response = user_client.post(f"/api/rooms/{room.slug}/files", {"text": "hi"})
        assert response.status_code == 400
        assert response.json()["code"] == "bad_request"

    def test_a_too_large_file_is_413(
        self, user_client: Client, room: Room, settings: object
    ) -> None:
        settings.MAX_UPLOAD_MB = 1  # type: ignore[attr-defined]
        response = user_client.post(
            f"/api/rooms/{room.slug}/files",
            {"file": SimpleUploadedFile("big.bin", b"\x01" * (1024 * 1024 + 10))},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "too_large"


class RoomCreateApiTests:
    def test_a_logged_in_user_creates_a_room(self, user_client: Client) -> None:
        response = user_client.post(
            "/api/rooms", {"name": "Plants"}, content_type="application/json"
        )
        assert response.status_code == 201
        assert response.json()["room"]["slug"] == "plants"

    def test_anonymous_cannot_create_rooms(self, client: Client, db: None) -> None:
        response = client.post(
            "/api/rooms", {"name": "Plants"}, content_type="application/json"
        )
        assert response.status_code == 403

    def test_a_body_without_a_name_is_a_bad_request(self, user_client: Client) -> None:
        response = user_client.post("/api/rooms", "[]", content_type="application/json")
        assert response.status_code == 400


class AttachmentAccessTests:
    @pytest.fixture
    def attachment(self, room: Room, user: User) -> Attachment:
        message, _ = attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
        )
        return message.attachment

    def test_anonymous_visitors_get_neither_bytes_nor_thumbnail(
        self, client: Client, attachment: Attachment
    ) -> None:
        for url in (attachment.get_absolute_url(), str(attachment.get_thumbnail_url())):
            response = client.get(url)
            assert response.status_code == 403
            assert image_bytes() not in response.content

    def test_anonymous_visitors_see_the_name_and_size_in_history(
        self, client: Client, attachment: Attachment
    ) -> None:
        room = attachment.message.room
        shared = client.get(messages_url(room)).json()["messages"][0]["attachment"]
        assert shared["name"] == "cat.png"
        assert shared["size"] == len(image_bytes())

    def test_a_logged_in_user_gets_the_same_bytes(
        self, client: Client, attachment: Attachment, other_user: User
    ) -> None:
        client.force_login(other_user)
        response = client.get(attachment.get_absolute_url())
        assert response.status_code == 200
        assert response.getvalue() == image_bytes()
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("inline")
        thumbnail = client.get(str(attachment.get_thumbnail_url()))
        assert thumbnail.status_code == 200
        assert thumbnail["Content-Type"] == "image/webp"

    def test_a_non_image_is_served_as_a_download(
        self, user_client: Client, room: Room, user: User
    ) -> None:
        message, _ = attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("page.html", b"<script>alert(1)</script>"),
        )
        response = user_client.get(message.attachment.get_absolute_url())
        assert response["Content-Disposition"].startswith("attachment")
        assert 'filename="page.html"' in response["Content-Disposition"]
        assert response["Content-Type"] == "text/plain"

    def test_an_unknown_key_is_404(self, user_client: Client) -> None:
        response = user_client.get("/files/00000000-0000-0000-0000-000000000000/")
        assert response.status_code == 404
