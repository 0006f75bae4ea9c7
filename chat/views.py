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
from django.views.decorators.http import require_GET, require_POST

from chat import access, selectors, services
from chat.exceptions import ChatError, NotFound
from chat.models import Attachment


@require_GET
def room_list(request: HttpRequest) -> HttpResponse:
    """List every room with its last activity; anyone may look."""
    rooms = selectors.room_list(request.user)
    return render(request, "chat/room_list.html", {"rooms": rooms})


@login_required
@require_POST
def room_create(request: HttpRequest) -> HttpResponse:
    try:
        room = services.room_create(
            name=request.POST.get("name", ""), created_by=request.user
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
    config = {
        "room": room.slug,
        "messagesUrl": reverse("chat:message_list_api", kwargs={"slug": room.slug}),
        "uploadUrl": reverse("chat:attachment_upload_api", kwargs={"slug": room.slug}),
        "canWrite": request.user.is_authenticated,
        "author": request.user.shown_name if request.user.is_authenticated else None,
        "maxUploadBytes": settings.MAX_UPLOAD_MB * 1024 * 1024,
        "maxLength": settings.MESSAGE_MAX_LENGTH,
        "pageSize": settings.HISTORY_PAGE_SIZE,
    }
    return render(
        request,
        "chat/room_detail.html",
        {
            "room": room,
            "rooms": access.readable_rooms(request.user).order_by("name"),
            "chat_config": config,
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
