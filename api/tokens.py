"""API v1: one's personal access tokens (made on the profile page only)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.models import AccessToken, User
from accounts.services import token_revoke, tokens_managed
from api import schemas
from api.auth import LOGIN
from api.params import ERRORS
from chat.exceptions import NotFound

router = Router(tags=["tokens"])


def token_payload(token: AccessToken) -> dict[str, object]:
    return {
        "id": token.pk,
        "name": token.name,
        "user": token.user.username,
        "hint": token.hint,
        "scopes": list(token.scopes),
        "created": token.created.isoformat(),
        "expires": token.expires.isoformat() if token.expires else None,
        "last_used": token.last_used.isoformat() if token.last_used else None,
    }


@router.get("/tokens", response={200: schemas.TokenList, **ERRORS}, auth=LOGIN)
def token_list(request: HttpRequest) -> dict[str, object]:
    """One's tokens and one's bots' (never the tokens themselves)."""
    assert isinstance(request.user, User)
    return {"tokens": [token_payload(t) for t in tokens_managed(request.user)]}


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, auth=LOGIN)
def token_delete(request: HttpRequest, token_id: schemas.Id) -> Status:
    """Revoke a token: requests with it fail, and its sockets close at once."""
    assert isinstance(request.user, User)
    if not token_revoke(user=request.user, token_id=token_id):
        raise NotFound(_("There is no such token."))
    return Status(204, None)
