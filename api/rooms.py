"""API v1: rooms, membership, read cursors, presence, direct conversations."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from api import schemas
from api.auth import ANYONE, ANYONE_SECURITY, LOGIN
from api.params import ERRORS
from chat import access, presence, selectors, services
from chat.models import Room
from chat.payloads import person_payload, room_payload

router = Router(tags=["rooms"])


def _room(request: HttpRequest, room: Room) -> dict[str, object]:
    return {"room": room_payload(selectors.room_entry(room, request.user))}


@router.get(
    "/rooms",
    response={200: schemas.RoomList, **ERRORS},
    auth=ANYONE,
    openapi_extra=ANYONE_SECURITY,
)
def room_list(request: HttpRequest) -> dict[str, object]:
    """The rooms one may read: those joined first, then public ones to browse."""
    return {"rooms": [room_payload(e) for e in selectors.room_list(request.user)]}


@router.post("/rooms", response={201: schemas.RoomOut, **ERRORS}, auth=LOGIN)
def room_create(request: HttpRequest, body: schemas.RoomIn) -> Status:
    """Make a room (its maker is its first member)."""
    room = services.room_create(
        name=body.name,
        created_by=request.user,
        kind=body.kind,
        members_can_add=body.members_can_add,
    )
    return Status(201, _room(request, room))


@router.get(
    "/rooms/{slug}",
    response={200: schemas.RoomOut, **ERRORS},
    auth=ANYONE,
    openapi_extra=ANYONE_SECURITY,
)
def room_detail(request: HttpRequest, slug: str) -> dict[str, object]:
    """One room, as the reader's room list shows it."""
    return _room(request, access.readable_room(request.user, slug))


@router.post(
    "/rooms/{slug}/join",
    response={200: schemas.RoomOut, 201: schemas.RoomOut, **ERRORS},
    auth=LOGIN,
)
def room_join(request: HttpRequest, slug: str) -> Status:
    """Join a public room (200 if one was a member already)."""
    room = access.readable_room(request.user, slug)
    joined = services.room_join(room=room, user=request.user)
    return Status(201 if joined else 200, _room(request, room))


@router.get(
    "/rooms/{slug}/members", response={200: schemas.MemberList, **ERRORS}, auth=LOGIN
)
def member_list(request: HttpRequest, slug: str) -> dict[str, object]:
    """A private room's or conversation's members (those who manage it may ask)."""
    room = access.managed_room(request.user, slug)
    return {"members": [person_payload(u) for u in selectors.room_members(room)]}


@router.post(
    "/rooms/{slug}/members",
    response={200: schemas.MemberOut, 201: schemas.MemberOut, **ERRORS},
    auth=LOGIN,
)
def member_add(request: HttpRequest, slug: str, body: schemas.UsernameIn) -> Status:
    """Add someone to a private room (201; 200 if they were a member)."""
    room = access.managed_room(request.user, slug)
    member, added = services.member_add(
        room=room, actor=request.user, username=body.username
    )
    return Status(201 if added else 200, {"member": person_payload(member)})


@router.delete(
    "/rooms/{slug}/members/{username}", response={204: None, **ERRORS}, auth=LOGIN
)
def member_remove(request: HttpRequest, slug: str, username: str) -> Status:
    """Take someone out of a room; one's own username: leave it."""
    room = access.managed_room(request.user, slug)
    services.member_remove(room=room, actor=request.user, username=username)
    return Status(204, None)


@router.get(
    "/rooms/{slug}/presence",
    response={200: schemas.Presence, **ERRORS},
    auth=ANYONE,
    openapi_extra=ANYONE_SECURITY,
)
def room_presence(request: HttpRequest, slug: str) -> dict[str, object]:
    """Who is in a room now: the people online, each active or idle, and guests."""
    room = access.readable_room(request.user, slug)
    return {"room": room.slug, **presence.room_view(room.slug).payload()}


@router.post(
    "/rooms/{slug}/read", response={200: schemas.RoomOut, **ERRORS}, auth=LOGIN
)
def room_read(
    request: HttpRequest, slug: str, body: schemas.ReadIn
) -> dict[str, object]:
    """Move one's read cursor forward to ``id``, or back with ``unread``."""
    room = access.readable_room(request.user, slug)
    services.read_set(
        user=request.user, room=room, message_id=body.id, unread=body.unread
    )
    return _room(request, room)


@router.put("/rooms/{slug}/mute", response={200: schemas.RoomOut, **ERRORS}, auth=LOGIN)
def room_mute(request: HttpRequest, slug: str) -> dict[str, object]:
    """Mute a room one joined: its messages count, but grey, and never notify."""
    room = access.readable_room(request.user, slug)
    services.mute_set(user=request.user, room=room, on=True)
    return _room(request, room)


@router.delete(
    "/rooms/{slug}/mute", response={200: schemas.RoomOut, **ERRORS}, auth=LOGIN
)
def room_unmute(request: HttpRequest, slug: str) -> dict[str, object]:
    """Unmute a room."""
    room = access.readable_room(request.user, slug)
    services.mute_set(user=request.user, room=room, on=False)
    return _room(request, room)


@router.post("/read-all", response={200: schemas.ReadAllOut, **ERRORS}, auth=LOGIN)
def read_all(request: HttpRequest) -> dict[str, object]:
    """Mark every room one joined as read."""
    return {"moved": services.read_all(user=request.user)}


@router.post(
    "/direct",
    response={200: schemas.RoomOut, 201: schemas.RoomOut, **ERRORS},
    auth=LOGIN,
)
def direct_open(request: HttpRequest, body: schemas.UsernamesIn) -> Status:
    """Open the direct conversation with these people (201 when new)."""
    room, created = services.direct_open(actor=request.user, usernames=body.usernames)
    return Status(201 if created else 200, _room(request, room))
