"""API v1 over HTTP: who may do what, and the one error shape."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import token_create
from chat.models import Message, Room

pytestmark = pytest.mark.django_db

JSON = "application/json"


def bearer(user: User, scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
    _token, value = token_create(user=user, name="t", scopes=scopes)
    return {"Authorization": f"Bearer {value}"}


class AuthTests:
    def test_a_guest_reads_public_rooms(self) -> None:
        client = Client()
        assert client.get("/api/v1/rooms").status_code == 200
        assert client.get("/api/v1/rooms/general/messages").status_code == 200

    def test_a_guest_who_writes_is_asked_to_log_in(self) -> None:
        response = Client(enforce_csrf_checks=True).post(
            "/api/v1/rooms/general/messages", {"text": "hi"}, content_type=JSON
        )
        assert response.status_code == 401
        assert response.json()["code"] == "auth_required"
        assert response["WWW-Authenticate"] == "Bearer"

    def test_the_pages_session_needs_the_csrf_token_to_write(self, user: User) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(
            "/api/v1/rooms/general/messages", {"text": "hi"}, content_type=JSON
        )
        assert response.status_code == 403
        assert response.json()["code"] == "csrf_failed"
        client.get("/")  # Sets the CSRF cookie, as the page does.
        response = client.post(
            "/api/v1/rooms/general/messages",
            {"text": "hi"},
            content_type=JSON,
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
        assert response.status_code == 201

    def test_a_private_room_is_not_found_for_others(
        self, user: User, other_user: User
    ) -> None:
        created = Client().post(
            "/api/v1/rooms",
            {"name": "Secret", "kind": "private"},
            content_type=JSON,
            headers=bearer(user),
        )
        slug = created.json()["room"]["slug"]
        for client_headers in ({}, bearer(other_user)):
            response = Client().get(
                f"/api/v1/rooms/{slug}/messages", headers=client_headers
            )
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"


class MessageTests:
    def test_a_retry_with_the_same_client_id_stores_once(self, user: User) -> None:
        headers = bearer(user)
        body = {"text": "deploy done", "client_id": "build-41"}
        first = Client().post(
            "/api/v1/rooms/general/messages", body, content_type=JSON, headers=headers
        )
        again = Client().post(
            "/api/v1/rooms/general/messages", body, content_type=JSON, headers=headers
        )
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["message"]["id"] == again.json()["message"]["id"]
        assert Message.objects.filter(client_id="build-41").count() == 1

    def test_edit_react_reply_and_delete(self, user: User) -> None:
        headers, client = bearer(user), Client()
        posted = client.post(
            "/api/v1/rooms/general/messages",
            {"text": "first"},
            content_type=JSON,
            headers=headers,
        ).json()["message"]
        path = f"/api/v1/rooms/general/messages/{posted['id']}"
        edited = client.patch(
            path, {"text": "first!"}, content_type=JSON, headers=headers
        )
        assert edited.json()["message"]["edited"] is not None
        reacted = client.put(f"{path}/reactions/👍", headers=headers).json()["message"]
        assert reacted["reactions"] == [{"emoji": "👍", "count": 1, "users": ["alice"]}]
        reply = client.post(
            "/api/v1/rooms/general/messages",
            {"text": "re", "reply_to": posted["id"]},
            content_type=JSON,
            headers=headers,
        ).json()["message"]
        assert reply["reply_to"]["id"] == posted["id"]
        revisions = client.get(f"{path}/revisions", headers=headers).json()["revisions"]
        assert [r["text"] for r in revisions] == ["first", "first!"]
        assert client.delete(path, headers=headers).json()["message"]["deleted"] is True

    def test_since_gives_the_changes_in_order(self, user: User) -> None:
        headers, client = bearer(user), Client()
        room = Room.objects.get(slug="general")
        start = room.last_seq
        for text in ("a", "b"):
            client.post(
                "/api/v1/rooms/general/messages",
                {"text": text},
                content_type=JSON,
                headers=headers,
            )
        changes = client.get(
            f"/api/v1/rooms/general/messages?since={start}", headers=headers
        ).json()["messages"]
        assert [m["text"] for m in changes] == ["a", "b"]
        assert changes[0]["seq"] < changes[1]["seq"]


class ErrorShapeTests:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/rooms/general/messages?limit=0",
            "/api/v1/rooms/general/messages?limit=x",
            "/api/v1/rooms/general/messages?since=1&around=2",
            f"/api/v1/rooms/general/messages?before={10**30}",
            "/api/v1/search?q=",
        ],
    )
    def test_bad_input_is_a_clear_400(self, path: str) -> None:
        response = Client().get(path)
        assert response.status_code == 400
        body = response.json()
        assert body["type"] == "error" and body["code"] == "bad_request"
        assert body["detail"]

    def test_a_malformed_body_is_a_400(self, user: User) -> None:
        for body in ("{", "[]", '{"text": 5}', '{"text": "x", "reply_to": -1}'):
            response = Client().post(
                "/api/v1/rooms/general/messages",
                body,
                content_type=JSON,
                headers=bearer(user),
            )
            assert response.status_code == 400, body
            assert response.json()["type"] == "error"

    def test_an_unknown_path_is_a_json_404(self) -> None:
        response = Client().get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_the_unversioned_api_still_answers(self) -> None:
        assert Client().get("/api/rooms").status_code == 200
        assert Client().get("/api/rooms/general/messages").status_code == 200
