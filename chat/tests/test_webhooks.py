"""Incoming webhooks: made by a room's managers, posting as their bot."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from chat import services
from chat.exceptions import Forbidden
from chat.models import Membership, Message, Room, Webhook
from chat.services import room_create

pytestmark = pytest.mark.django_db

SECRET_HEADER = "X-Chat-Webhook-Secret"


def hook(room: Room, user: User, name: str = "Builds") -> tuple[Webhook, str]:
    return services.webhook_create(room=room, actor=user, name=name)


def post(webhook: Webhook, secret: str, body: object, **extra: str):
    return Client(enforce_csrf_checks=True).post(
        webhook.get_absolute_url(),
        json.dumps(body),
        content_type="application/json",
        headers={SECRET_HEADER: secret, **extra},
    )


class PostingTests:
    def test_a_slack_text_body_posts_as_the_webhooks_bot(
        self, room: Room, user: User
    ) -> None:
        webhook, secret = hook(room, user)
        assert secret.startswith("chatwh_")
        response = post(webhook, secret, {"text": "Build **41** passed"})
        assert response.status_code == 201
        message = response.json()["message"]
        assert message["bot"] is True
        assert message["username"] == webhook.bot.username == "builds-hook"
        assert "<strong>41</strong>" in message["html"]

    def test_slacks_form_encoded_payload_works_too(
        self, room: Room, user: User
    ) -> None:
        webhook, secret = hook(room, user)
        response = Client().post(
            webhook.get_absolute_url(),
            {"payload": json.dumps({"text": "from a form"})},
            headers={SECRET_HEADER: secret},
        )
        assert response.status_code == 201

    def test_a_wrong_or_missing_secret_or_key_is_404(
        self, room: Room, user: User
    ) -> None:
        webhook, secret = hook(room, user)
        _other, other_secret = hook(room, user, "Other")
        # The last character changed (a secret may end in "x" already).
        wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")
        for response in (
            post(webhook, other_secret, {"text": "x"}),
            post(webhook, "", {"text": "x"}),
            post(webhook, wrong, {"text": "x"}),
            Client().post(
                "/hooks/00000000-0000-0000-0000-000000000000",
                "{}",
                content_type="application/json",
                headers={SECRET_HEADER: secret},
            ),
            Client().post("/hooks/not-a-key", "{}", content_type="application/json"),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
        assert not Message.objects.filter(author__is_bot=True).exists()

    def test_the_secret_in_the_url_is_refused(self, room: Room, user: User) -> None:
        webhook, secret = hook(room, user)
        response = Client().post(
            f"{webhook.get_absolute_url()}?secret={secret}",
            json.dumps({"text": "x"}),
            content_type="application/json",
        )
        assert response.status_code == 400

    def test_retries_with_the_same_client_id_store_one_message(
        self, room: Room, user: User
    ) -> None:
        webhook, secret = hook(room, user)
        body = {"text": "deploy 7 done", "client_id": "deploy-7"}
        statuses = [post(webhook, secret, body).status_code for _ in range(3)]
        assert statuses == [201, 200, 200]
        assert Message.objects.filter(text="deploy 7 done").count() == 1

    def test_bad_bodies_are_clear_400s(self, room: Room, user: User) -> None:
        webhook, secret = hook(room, user)
        for body in (
            {},
            {"text": 5},
            {"text": ""},
            ["text"],
            {"text": "x", "client_id": " "},
        ):
            response = post(webhook, secret, body)
            assert response.status_code == 400, body
            assert response.json()["detail"]

    def test_a_webhook_is_rate_limited_like_its_bot(
        self, room: Room, user: User, settings
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_MESSAGES = "3/60"
        webhook, secret = hook(room, user)
        statuses = [
            post(webhook, secret, {"text": f"m{i}"}).status_code for i in range(5)
        ]
        assert statuses == [201, 201, 201, 429, 429]
        limited = post(webhook, secret, {"text": "again"})
        assert int(limited["Retry-After"]) > 0

    def test_a_private_rooms_webhook_bot_is_a_member(self, user: User) -> None:
        private = room_create(name="Ops", created_by=user, kind=Room.Kind.PRIVATE)
        webhook, secret = hook(private, user, "Alerts")
        assert Membership.objects.filter(room=private, user=webhook.bot).exists()
        assert post(webhook, secret, {"text": "disk full"}).status_code == 201


class ManagingTests:
    def test_only_the_creator_and_staff_make_webhooks(
        self, room: Room, user: User, other_user: User
    ) -> None:
        with pytest.raises(Forbidden):
            hook(room, other_user)
        other_user.is_staff = True
        other_user.save()
        assert hook(room, other_user)[0].room == room

    def test_revoking_stops_the_url_and_keeps_the_messages(
        self, room: Room, user: User
    ) -> None:
        webhook, secret = hook(room, user)
        post(webhook, secret, {"text": "before"})
        services.webhook_delete(room=room, actor=user, webhook_id=webhook.pk)
        assert post(webhook, secret, {"text": "after"}).status_code == 404
        message = Message.objects.get(text="before")
        assert message.author is not None and not message.author.is_active

    def test_the_page_shows_the_secret_once(
        self, room: Room, user_client: Client
    ) -> None:
        response = user_client.post(
            f"/rooms/{room.slug}/webhooks/", {"name": "Deploys"}
        )
        page = response.content.decode()
        secret = page.split("data-webhook-secret>")[1].split("<")[0]
        webhook = Webhook.objects.get(name="Deploys")
        assert post(webhook, secret, {"text": "hello"}).status_code == 201
        again = user_client.get(f"/rooms/{room.slug}/webhooks/").content.decode()
        assert secret not in again and "Deploys" in again

    def test_others_cannot_open_the_page(self, room: Room, other_user: User) -> None:
        client = Client()
        client.force_login(other_user)
        assert client.get(f"/rooms/{room.slug}/webhooks/").status_code == 403

    def test_the_api_lists_makes_and_revokes(self, room: Room, user: User) -> None:
        from accounts.services import token_create

        _t, value = token_create(user=user, name="t", scopes=["read", "write"])
        auth = {"Authorization": f"Bearer {value}"}
        client = Client()
        made = client.post(
            f"/api/v1/rooms/{room.slug}/webhooks",
            {"name": "CI"},
            content_type="application/json",
            headers=auth,
        )
        assert made.status_code == 201
        secret, webhook_id = made.json()["secret"], made.json()["webhook"]["id"]
        listed = client.get(f"/api/v1/rooms/{room.slug}/webhooks", headers=auth).json()
        assert [w["name"] for w in listed["webhooks"]] == ["CI"]
        assert secret not in json.dumps(listed)
        deleted = client.delete(
            f"/api/v1/rooms/{room.slug}/webhooks/{webhook_id}", headers=auth
        )
        assert deleted.status_code == 204
