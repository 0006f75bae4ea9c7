"""The JSON API: thin adapters from HTTP to selectors and services."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from accounts.throttle import client_address
from chat import access, presence, search, selectors, services
from chat.exceptions import (
    AuthRequired,
    BadRequest,
    ChatError,
    NotFound,
    RateLimited,
)
from chat.models import Message, Room
from chat.payloads import (
    message_payload,
    person_payload,
    room_payload,
    search_payload,
)
from chat.protocol import error_payload, parse_client_id, parse_message_id

View = Callable[..., HttpResponse]


def error_response(error: ChatError) -> JsonResponse:
    response = JsonResponse(error_payload(error), status=error.status)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def json_errors(view: View) -> View:
    """Turn a ChatError raised by ``view`` into the contract's error body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ChatError as error:
            return error_response(error)

    return wrapper


def _id_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return None
    return parse_message_id(value, name=name)


def _limit_param(
    request: HttpRequest,
    default: int = settings.HISTORY_PAGE_SIZE,
    maximum: int = settings.HISTORY_MAX_PAGE_SIZE,
) -> int:
    value = request.GET.get("limit")
    if value is None or value == "":
        return default
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > 10
        or not 1 <= int(value) <= maximum
    ):
        raise BadRequest(
            _("limit must be a number from 1 to %(max)d.") % {"max": maximum}
        )
    return int(value)


def _require_user(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise AuthRequired(_("Log in to do this."))


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        raise BadRequest(_("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadRequest(_("The body must be a JSON object."))
    return body


def _message_response(message: Message, room: Room) -> JsonResponse:
    return JsonResponse({"message": message_payload(message, room_slug=room.slug)})


@require_GET
@json_errors
def message_list_api(request: HttpRequest, slug: str) -> JsonResponse:
    """
    Return a page of a room's messages: oldest first, or in change order
    with ``since``.
    """
    room = access.readable_room(request.user, slug)
    messages = selectors.message_page(
        room=room,
        limit=_limit_param(request),
        since=_id_param(request, "since"),
        around=_id_param(request, "around"),
        before=_id_param(request, "before"),
        after=_id_param(request, "after"),
    )
    return JsonResponse(
        {"messages": [message_payload(m, room_slug=room.slug) for m in messages]}
    )


@require_GET
@json_errors
def search_api(request: HttpRequest) -> JsonResponse:
    """Find messages: ``q``, optional ``room``, ``limit`` and ``before``."""
    search.throttle(request.user, client_address(request))
    results = search.search(
        request.user,
        request.GET.get("q", ""),
        room=request.GET.get("room") or None,
        limit=_limit_param(request, search.PAGE_SIZE, search.PAGE_MAX),
        before=_id_param(request, "before"),
    )
    return JsonResponse(search_payload(results))


@require_http_methods(["PATCH", "DELETE"])
@json_errors
def message_api(request: HttpRequest, slug: str, message_id: int) -> JsonResponse:
    """Edit a message's text (``PATCH {"text"}``) or delete it."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    if request.method == "DELETE":
        message, _changed = services.message_delete(
            room=room, actor=request.user, message_id=message_id
        )
        return _message_response(message, room)
    text = _json_body(request).get("text")
    if not isinstance(text, str):
        raise BadRequest(_('Send {"text": "..."}.'))
    message, _changed = services.message_edit(
        room=room, editor=request.user, message_id=message_id, text=text
    )
    return _message_response(message, room)


@require_http_methods(["PUT", "DELETE"])
@json_errors
def reaction_api(
    request: HttpRequest, slug: str, message_id: int, emoji: str
) -> JsonResponse:
    """Put one's ``emoji`` on a message (``PUT``) or take it off."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    message, _changed = services.reaction_set(
        room=room,
        user=request.user,
        message_id=message_id,
        emoji=emoji,
        on=request.method == "PUT",
    )
    return _message_response(message, room)


@require_GET
@json_errors
def revision_list_api(request: HttpRequest, slug: str, message_id: int) -> JsonResponse:
    """Return every text a message had, oldest first (author and staff)."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    revisions = selectors.message_revisions_for(
        request.user, room=room, message_id=message_id
    )
    return JsonResponse(
        {
            "revisions": [
                {"text": text, "written": written.isoformat()}
                for text, written in revisions
            ]
        }
    )


@require_POST
@json_errors
def attachment_upload_api(request: HttpRequest, slug: str) -> JsonResponse:
    """Share an uploaded file, with optional text, in a room."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    upload = request.FILES.get("file")
    if upload is None:
        raise BadRequest(_("Send the file in the multipart field 'file'."))
    message, created = services.attachment_create(
        room=room,
        author=request.user,
        upload=upload,
        text=request.POST.get("text", ""),
        client_id=parse_client_id(request.POST.get("client_id") or None),
    )
    return JsonResponse(
        {"message": message_payload(message)}, status=201 if created else 200
    )


def _room_response(room: Room, request: HttpRequest, status: int) -> JsonResponse:
    entry = selectors.room_entry(room, request.user)
    return JsonResponse({"room": room_payload(entry)}, status=status)


@require_http_methods(["GET", "POST"])
@json_errors
def rooms_api(request: HttpRequest) -> JsonResponse:
    """
    List the rooms one may read (joined first, then those to browse), or
    create one from ``{"name", "kind"}``.
    """
    if request.method == "GET":
        rooms = selectors.room_list(request.user)
        return JsonResponse({"rooms": [room_payload(entry) for entry in rooms]})
    _require_user(request)
    body = _json_body(request)
    if not isinstance(body.get("name"), str):
        raise BadRequest(_('Send {"name": "..."}.'))
    room = services.room_create(
        name=body["name"],
        created_by=request.user,
        kind=str(body.get("kind", Room.Kind.PUBLIC)),
        members_can_add=body.get("members_can_add") is True,
    )
    return _room_response(room, request, 201)


@require_POST
@json_errors
def room_join_api(request: HttpRequest, slug: str) -> JsonResponse:
    """Join a public room."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    joined = services.room_join(room=room, user=request.user)
    return _room_response(room, request, 201 if joined else 200)


@require_http_methods(["GET", "POST"])
@json_errors
def member_list_api(request: HttpRequest, slug: str) -> JsonResponse:
    """List a room's members, or add one from ``{"username"}``."""
    room = access.managed_room(request.user, slug)
    if request.method == "GET":
        return JsonResponse(
            {"members": [person_payload(u) for u in selectors.room_members(room)]}
        )
    _require_user(request)
    member, added = services.member_add(
        room=room, actor=request.user, username=_json_body(request).get("username")
    )
    return JsonResponse(
        {"member": person_payload(member)}, status=201 if added else 200
    )


@require_GET
@json_errors
def presence_api(request: HttpRequest, slug: str) -> JsonResponse:
    """Who is in a room now: the people online, each active or idle, and guests."""
    room = access.readable_room(request.user, slug)
    return JsonResponse({"room": room.slug, **presence.room_view(room.slug).payload()})


@require_http_methods(["DELETE"])
@json_errors
def member_api(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    """Take someone out of a room (oneself: leave)."""
    _require_user(request)
    room = access.managed_room(request.user, slug)
    services.member_remove(room=room, actor=request.user, username=username)
    return HttpResponse(status=204)


@require_POST
@json_errors
def read_api(request: HttpRequest, slug: str) -> JsonResponse:
    """Move one's read cursor: ``{"id"}`` forward, ``{"id", "unread": true}`` back."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    body = _json_body(request)
    message_id, unread = body.get("id"), body.get("unread", False)
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise BadRequest(_('Send {"id": <message id>}.'))
    if not isinstance(unread, bool):
        raise BadRequest(_('"unread" is true or false.'))
    services.read_set(
        user=request.user, room=room, message_id=message_id, unread=unread
    )
    return _room_response(room, request, 200)


@require_POST
@json_errors
def read_all_api(request: HttpRequest) -> JsonResponse:
    """Mark every room one joined as read."""
    _require_user(request)
    return JsonResponse({"rooms": services.read_all(user=request.user)})


@require_http_methods(["PUT", "DELETE"])
@json_errors
def mute_api(request: HttpRequest, slug: str) -> JsonResponse:
    """Mute a room one joined (``PUT``) or unmute it."""
    _require_user(request)
    room = access.readable_room(request.user, slug)
    services.mute_set(user=request.user, room=room, on=request.method == "PUT")
    return _room_response(room, request, 200)


@require_POST
@json_errors
def direct_api(request: HttpRequest) -> JsonResponse:
    """Open the direct conversation with ``{"usernames": [...]}``."""
    _require_user(request)
    room, created = services.direct_open(
        actor=request.user, usernames=_json_body(request).get("usernames")
    )
    return _room_response(room, request, 201 if created else 200)


@require_http_methods(["GET", "POST"])
@json_errors
def block_list_api(request: HttpRequest) -> JsonResponse:
    """List whom one blocked, or block ``{"username"}``."""
    _require_user(request)
    if request.method == "GET":
        return JsonResponse(
            {
                "blocks": [
                    person_payload(u) for u in selectors.blocked_users(request.user)
                ]
            }
        )
    blocked, created = services.block_set(
        user=request.user, username=_json_body(request).get("username"), on=True
    )
    return JsonResponse(
        {"blocked": person_payload(blocked)}, status=201 if created else 200
    )


@require_http_methods(["DELETE"])
@json_errors
def block_api(request: HttpRequest, username: str) -> HttpResponse:
    """Unblock someone."""
    _require_user(request)
    services.block_set(user=request.user, username=username, on=False)
    return HttpResponse(status=204)


def _api_error(request: HttpRequest, error: ChatError) -> JsonResponse | None:
    return error_response(error) if request.path.startswith("/api/") else None


def not_found(request: HttpRequest, exception: Exception) -> Any:
    """Answer 404 in JSON on the API, with Django's page elsewhere."""
    return _api_error(request, NotFound(_("Not found."))) or defaults.page_not_found(
        request, exception
    )


def bad_request(request: HttpRequest, exception: Exception) -> Any:
    """Answer 400 in JSON on the API (e.g. a malformed multipart body)."""
    return _api_error(
        request, BadRequest(_("The request is malformed."))
    ) or defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    """Answer a failed CSRF check in JSON on the API, in HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"type": "error", "code": "csrf_failed", "detail": reason}, status=403
        )
    return html_csrf_failure(request, reason)


# The header an incoming webhook's secret comes in (never the URL).
WEBHOOK_SECRET_HEADER = "X-Chat-Webhook-Secret"


@csrf_exempt
@require_POST
@json_errors
def webhook_post_api(request: HttpRequest, key: str) -> JsonResponse:
    """
    Post through an incoming webhook: Slack's ``{"text": ...}`` (JSON, or a
    form's ``payload``), with an optional ``client_id`` that makes retries
    store one message. A wrong key or secret answers 404.
    """
    secret = request.headers.get(WEBHOOK_SECRET_HEADER, "")
    if request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        try:
            body = json.loads(request.POST.get("payload", ""))
        except ValueError:
            raise BadRequest(_("The payload is not valid JSON.")) from None
        if not isinstance(body, dict):
            raise BadRequest(_("The body must be a JSON object."))
    else:
        body = _json_body(request)
    message, created = services.webhook_post(
        key=key,
        secret=secret,
        text=body.get("text"),
        client_id=parse_client_id(body.get("client_id")),
    )
    return JsonResponse(
        {"message": message_payload(message)}, status=201 if created else 200
    )
