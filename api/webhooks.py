"""API v1: a room's incoming webhooks (its creator and staff manage them)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from api import schemas
from api.auth import LOGIN
from api.params import ERRORS
from chat import access, selectors, services
from chat.payloads import webhook_payload

router = Router(tags=["webhooks"])


@router.get(
    "/rooms/{slug}/webhooks", response={200: schemas.WebhookList, **ERRORS}, auth=LOGIN
)
def webhook_list(request: HttpRequest, slug: str) -> dict[str, object]:
    """A room's incoming webhooks."""
    room = access.managed_room(request.user, slug)
    services.webhooks_check_manager(actor=request.user, room=room)
    return {"webhooks": [webhook_payload(w) for w in selectors.room_webhooks(room)]}


@router.post(
    "/rooms/{slug}/webhooks",
    response={201: schemas.NewWebhookOut, **ERRORS},
    auth=LOGIN,
)
def webhook_create(request: HttpRequest, slug: str, body: schemas.WebhookIn) -> Status:
    """Make an incoming webhook; its secret is in this answer only."""
    room = access.managed_room(request.user, slug)
    webhook, secret = services.webhook_create(
        room=room, actor=request.user, name=body.name
    )
    return Status(201, {"webhook": webhook_payload(webhook), "secret": secret})


@router.delete(
    "/rooms/{slug}/webhooks/{webhook_id}", response={204: None, **ERRORS}, auth=LOGIN
)
def webhook_delete(request: HttpRequest, slug: str, webhook_id: schemas.Id) -> Status:
    """Revoke a webhook: its URL stops working; its messages stay."""
    room = access.managed_room(request.user, slug)
    services.webhook_delete(room=room, actor=request.user, webhook_id=webhook_id)
    return Status(204, None)
