"""API v1: one's own account, and whom one blocked."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from accounts.models import User
from accounts.services import user_set_display_name
from api import schemas
from api.auth import LOGIN, token_of
from api.params import ERRORS
from chat import selectors, services
from chat.payloads import person_payload

router = Router(tags=["people"])


def _me(request: HttpRequest, user: User) -> dict[str, object]:
    token = token_of(request)
    return {
        "user": {
            "username": user.username,
            "name": user.shown_name,
            "display_name": user.display_name,
            "is_bot": user.is_bot,
            "is_staff": user.is_staff,
            "scopes": list(token.scopes) if token is not None else None,
        }
    }


@router.get("/me", response={200: schemas.MeOut, **ERRORS}, auth=LOGIN)
def me(request: HttpRequest) -> dict[str, object]:
    """The account the request acts as (and its token's scopes)."""
    assert isinstance(request.user, User)  # LOGIN lets only users through.
    return _me(request, request.user)


@router.patch("/me", response={200: schemas.MeOut, **ERRORS}, auth=LOGIN)
def me_update(request: HttpRequest, body: schemas.ProfileIn) -> dict[str, object]:
    """Change the name shown on one's messages (old ones included)."""
    assert isinstance(request.user, User)
    user = user_set_display_name(user=request.user, display_name=body.display_name)
    return _me(request, user)


@router.get("/blocks", response={200: schemas.BlockList, **ERRORS}, auth=LOGIN)
def block_list(request: HttpRequest) -> dict[str, object]:
    """Whom one blocked: their messages and mentions are hidden from one."""
    return {
        "blocks": [person_payload(u) for u in selectors.blocked_users(request.user)]
    }


@router.post(
    "/blocks",
    response={200: schemas.BlockedOut, 201: schemas.BlockedOut, **ERRORS},
    auth=LOGIN,
)
def block_add(request: HttpRequest, body: schemas.UsernameIn) -> Status:
    """Block someone (201; 200 if they were blocked already)."""
    blocked, created = services.block_set(
        user=request.user, username=body.username, on=True
    )
    return Status(201 if created else 200, {"blocked": person_payload(blocked)})


@router.delete("/blocks/{username}", response={204: None, **ERRORS}, auth=LOGIN)
def block_remove(request: HttpRequest, username: str) -> Status:
    """Unblock someone."""
    services.block_set(user=request.user, username=username, on=False)
    return Status(204, None)
