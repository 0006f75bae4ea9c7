"""HTML pages and the gated file downloads."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.throttle import client_address
from chat import access, search, selectors, services
from chat.exceptions import ChatError, NotFound
from chat.models import Attachment, Room, Webhook
from chat.protocol import parse_message_id


@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    """List the rooms one may read, joined first; anyone may look."""
    rooms = selectors.room_list(request.user)
    return render(request, "chat/room_list.html", _sidebar(rooms))


def _sidebar(rooms: list[selectors.RoomEntry]) -> dict[str, object]:
    """Split a room list the way the sidebar shows it."""
    return {
        "rooms": rooms,
        "joined_rooms": [e for e in rooms if e.joined and e.kind != Room.Kind.DIRECT],
        "direct_rooms": [e for e in rooms if e.kind == Room.Kind.DIRECT],
        "browse_rooms": [e for e in rooms if not e.joined],
    }


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The results of a search, a page at a time, without JavaScript."""
    text = request.GET.get("q", "")
    context: dict[str, object] = {"q": text, "room": request.GET.get("room", "")}
    status = 200
    if text.strip():
        try:
            search.throttle(request.user, client_address(request))
            before = request.GET.get("before") or None
            context["results"] = search.search(
                request.user,
                text,
                room=request.GET.get("room") or None,
                before=None
                if before is None
                else parse_message_id(before, name="before"),
            )
        except ChatError as error:
            context["error"], status = error.detail, error.status
    return render(request, "chat/search.html", context, status=status)


@login_required
@require_POST
def room_create(request: HttpRequest) -> HttpResponse:
    try:
        room = services.room_create(
            name=request.POST.get("name", ""),
            created_by=request.user,
            kind=request.POST.get("kind", Room.Kind.PUBLIC),
            members_can_add=request.POST.get("members_can_add") == "on",
        )
    except ChatError as error:
        messages.error(request, error.detail)
        return redirect("chat:room_list")
    return redirect(room)


@require_GET
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a room; anonymous visitors read, logged-in users also write."""
    try:
        room = access.readable_room(request.user, slug)
    except NotFound:
        raise Http404 from None
    user = access.user_of(request.user)
    rooms = selectors.room_list(request.user)
    entry = next(
        (e for e in rooms if e.room.pk == room.pk), None
    ) or selectors.room_entry(room, request.user)
    config = {
        "room": room.slug,
        "roomKind": room.kind,
        "joined": entry.joined,
        "messagesUrl": reverse("chat:message_list_api", kwargs={"slug": room.slug}),
        "uploadUrl": reverse("chat:attachment_upload_api", kwargs={"slug": room.slug}),
        "joinUrl": reverse("chat:room_join_api", kwargs={"slug": room.slug}),
        "membersUrl": reverse("chat:member_list_api", kwargs={"slug": room.slug}),
        "directUrl": reverse("chat:direct_api"),
        "blocksUrl": reverse("chat:block_list_api"),
        "readUrl": reverse("chat:read_api", kwargs={"slug": room.slug}),
        "readAllUrl": reverse("chat:read_all_api"),
        "muteUrl": reverse("chat:mute_api", kwargs={"slug": room.slug}),
        "roomsUrl": reverse("chat:rooms_api"),
        # The reader's place in the room (a guest keeps theirs in the browser).
        "lastReadId": entry.place.last_read_id if entry.place else None,
        "muted": entry.place.muted if entry.place else False,
        "maxRooms": settings.SOCKET_MAX_ROOMS,
        "canWrite": user is not None,
        "canAdd": user is not None and access.can_add(user, room),
        # "@room" in a room of more members is for staff only.
        "roomNoticeMax": access.ROOM_NOTICE_MAX_MEMBERS,
        "canManage": user is not None and access.can_manage(user, room),
        "blocked": [u.username for u in selectors.blocked_users(user)],
        "author": user.shown_name if user is not None else None,
        "maxUploadBytes": settings.MAX_UPLOAD_MB * 1024 * 1024,
        "maxLength": settings.MESSAGE_MAX_LENGTH,
        "pageSize": settings.HISTORY_PAGE_SIZE,
    }
    return render(
        request,
        "chat/room_detail.html",
        {
            "room": room,
            "entry": entry,
            "chat_config": config,
            **_sidebar(rooms),
        },
    )


def _serve(field: FieldFile, *, name: str, content_type: str) -> FileResponse:
    inline = content_type.startswith("image/") and content_type != "image/svg+xml"
    response = FileResponse(
        field.open("rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Whatever the file holds, it may not run script or load anything.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _attachment(request: HttpRequest, key: str) -> Attachment:
    if not request.user.is_authenticated:
        raise PermissionDenied
    attachment = get_object_or_404(
        Attachment.objects.select_related("message__room"), key=key
    )
    if not access.can_fetch(request.user, attachment):
        raise Http404  # The same as for a file that does not exist.
    return attachment


@require_GET
def attachment_download(request: HttpRequest, key: str) -> FileResponse:
    """Send a shared file's bytes to a logged-in user."""
    attachment = _attachment(request, key)
    return _serve(
        attachment.file, name=attachment.name, content_type=attachment.content_type
    )


@require_GET
def attachment_thumbnail(request: HttpRequest, key: str) -> FileResponse:
    """Send an image's thumbnail to a logged-in user."""
    attachment = _attachment(request, key)
    if not attachment.thumbnail:
        raise Http404
    return _serve(
        attachment.thumbnail,
        name=f"{attachment.name}.webp",
        content_type="image/webp",
    )


def _managed(request: HttpRequest, slug: str) -> Room:
    """The room ``slug``, if the user manages it (its creator, or staff)."""
    try:
        room = access.managed_room(request.user, slug)
    except NotFound:
        raise Http404 from None
    user = access.user_of(request.user)
    if user is None or not access.can_manage(user, room):
        raise PermissionDenied
    return room


def _webhooks_page(
    request: HttpRequest, room: Room, *, new: tuple[Webhook, str] | None = None
) -> HttpResponse:
    response = render(
        request,
        "chat/room_webhooks.html",
        {
            "room": room,
            "webhooks": selectors.room_webhooks(room),
            # Shown on this one page only: only its hash is stored.
            "new_webhook": new[0] if new else None,
            "new_secret": new[1] if new else None,
            "new_url": request.build_absolute_uri(new[0].get_absolute_url())
            if new
            else None,
        },
    )
    if new:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def room_webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """A room's incoming webhooks: list them, make one (its secret shown once)."""
    room = _managed(request, slug)
    if request.method == "POST":
        try:
            new = services.webhook_create(
                room=room, actor=request.user, name=request.POST.get("name", "")
            )
        except ChatError as error:
            messages.error(request, error.detail)
            return redirect("chat:room_webhooks", slug=room.slug)
        return _webhooks_page(request, room, new=new)
    return _webhooks_page(request, room)


@login_required
@require_POST
def room_webhook_delete(
    request: HttpRequest, slug: str, webhook_id: int
) -> HttpResponse:
    """Revoke a webhook."""
    room = _managed(request, slug)
    try:
        services.webhook_delete(room=room, actor=request.user, webhook_id=webhook_id)
    except ChatError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The webhook is revoked."))
    return redirect("chat:room_webhooks", slug=room.slug)
