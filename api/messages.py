"""API v1: messages (history, posting, edits, deletes, reactions, files) and search."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status, UploadedFile

from accounts.throttle import client_address
from api import schemas
from api.auth import ANYONE, ANYONE_SECURITY, LOGIN
from api.params import ERRORS, PageSize
from api.schemas import ClientId, Id
from chat import access, search, selectors, services
from chat.models import Message
from chat.payloads import message_payload, search_payload

router = Router(tags=["messages"])

MessagePath = Id


def _message(message: Message, slug: str) -> dict[str, object]:
    return {"message": message_payload(message, room_slug=slug)}


@router.get(
    "/rooms/{slug}/messages",
    response={200: schemas.MessageList, **ERRORS},
    auth=ANYONE,
    openapi_extra=ANYONE_SECURITY,
)
def message_list(
    request: HttpRequest,
    slug: str,
    limit: PageSize,
    since: Annotated[Id | None, Query(description="Changes after this seq.")] = None,
    around: Annotated[Id | None, Query(description="Messages around this id.")] = None,
    before: Annotated[Id | None, Query(description="Messages before this id.")] = None,
    after: Annotated[Id | None, Query(description="Messages after this id.")] = None,
) -> dict[str, object]:
    """
    A page of a room's messages, oldest first: the latest, or ``before`` /
    ``after`` an id, or ``around`` one; or with ``since`` a seq, every
    change after it (new, edited, deleted messages) in change order.
    """
    room = access.readable_room(request.user, slug)
    messages = selectors.message_page(
        room=room, limit=limit, since=since, around=around, before=before, after=after
    )
    return {"messages": [message_payload(m, room_slug=room.slug) for m in messages]}


@router.post(
    "/rooms/{slug}/messages",
    response={200: schemas.MessageOut, 201: schemas.MessageOut, **ERRORS},
    auth=LOGIN,
)
def message_create(request: HttpRequest, slug: str, body: schemas.MessageIn) -> Status:
    """
    Post a message (201). A retry with the same ``client_id`` stores nothing
    new and answers the stored message (200).
    """
    room = access.readable_room(request.user, slug)
    message, created = services.message_create(
        room=room,
        author=request.user,
        text=body.text,
        client_id=body.client_id,
        reply_to=body.reply_to,
    )
    return Status(201 if created else 200, _message(message, room.slug))


@router.patch(
    "/rooms/{slug}/messages/{message_id}",
    response={200: schemas.MessageOut, **ERRORS},
    auth=LOGIN,
)
def message_edit(
    request: HttpRequest, slug: str, message_id: MessagePath, body: schemas.EditIn
) -> dict[str, object]:
    """Change one's message's text (the author; staff may not)."""
    room = access.readable_room(request.user, slug)
    message, _changed = services.message_edit(
        room=room, editor=request.user, message_id=message_id, text=body.text
    )
    return _message(message, room.slug)


@router.delete(
    "/rooms/{slug}/messages/{message_id}",
    response={200: schemas.MessageOut, **ERRORS},
    auth=LOGIN,
)
def message_delete(
    request: HttpRequest, slug: str, message_id: MessagePath
) -> dict[str, object]:
    """Delete a message (its author, or staff); its place stays, as "deleted"."""
    room = access.readable_room(request.user, slug)
    message, _changed = services.message_delete(
        room=room, actor=request.user, message_id=message_id
    )
    return _message(message, room.slug)


@router.get(
    "/rooms/{slug}/messages/{message_id}/revisions",
    response={200: schemas.RevisionList, **ERRORS},
    auth=LOGIN,
)
def revision_list(
    request: HttpRequest, slug: str, message_id: MessagePath
) -> dict[str, object]:
    """Every text a message had, oldest first (its author and staff)."""
    room = access.readable_room(request.user, slug)
    revisions = selectors.message_revisions_for(
        request.user, room=room, message_id=message_id
    )
    return {
        "revisions": [
            {"text": text, "written": written.isoformat()}
            for text, written in revisions
        ]
    }


@router.put(
    "/rooms/{slug}/messages/{message_id}/reactions/{emoji}",
    response={200: schemas.MessageOut, **ERRORS},
    auth=LOGIN,
)
def reaction_add(
    request: HttpRequest, slug: str, message_id: MessagePath, emoji: str
) -> dict[str, object]:
    """Put one's ``emoji`` on a message (once; again changes nothing)."""
    return _react(request, slug, message_id, emoji, on=True)


@router.delete(
    "/rooms/{slug}/messages/{message_id}/reactions/{emoji}",
    response={200: schemas.MessageOut, **ERRORS},
    auth=LOGIN,
)
def reaction_remove(
    request: HttpRequest, slug: str, message_id: MessagePath, emoji: str
) -> dict[str, object]:
    """Take one's ``emoji`` off a message."""
    return _react(request, slug, message_id, emoji, on=False)


def _react(
    request: HttpRequest, slug: str, message_id: int, emoji: str, *, on: bool
) -> dict[str, object]:
    room = access.readable_room(request.user, slug)
    message, _changed = services.reaction_set(
        room=room, user=request.user, message_id=message_id, emoji=emoji, on=on
    )
    return _message(message, room.slug)


@router.post(
    "/rooms/{slug}/files",
    response={
        200: schemas.MessageOut,
        201: schemas.MessageOut,
        413: schemas.Error,
        **ERRORS,
    },
    auth=LOGIN,
)
def attachment_upload(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    text: Form[str] = "",
    client_id: Form[ClientId | None] = None,
    reply_to: Form[Id | None] = None,
) -> Status:
    """Share a file (multipart ``file``), with optional text, in a room."""
    room = access.readable_room(request.user, slug)
    message, created = services.attachment_create(
        room=room,
        author=request.user,
        upload=file,
        text=text,
        client_id=client_id,
        reply_to=reply_to,
    )
    return Status(201 if created else 200, _message(message, room.slug))


@router.get(
    "/search",
    response={200: schemas.SearchResults, **ERRORS},
    auth=ANYONE,
    openapi_extra=ANYONE_SECURITY,
)
def message_search(
    request: HttpRequest,
    q: Annotated[str, Query(description='Words, "phrases" and filters.')],
    room: Annotated[str | None, Query(description="Only this room's slug.")] = None,
    limit: Annotated[int, Query(ge=1, le=search.PAGE_MAX)] = search.PAGE_SIZE,
    before: Annotated[Id | None, Query(description="The `next` of a page.")] = None,
) -> dict[str, object]:
    """
    Find messages one may read, newest first: words in any form, "phrases",
    ``in:``, ``from:``, ``has:file``, ``has:image``, ``before:``, ``after:``,
    ``is:mention`` (docs/protocol.md, Search).
    """
    search.throttle(request.user, client_address(request))
    results = search.search(request.user, q, room=room, limit=limit, before=before)
    return search_payload(results)
