"""Creating rooms."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.validators import clean_name
from chat.exceptions import BadRequest
from chat.models import ROOM_NAME_MAX_LENGTH, ROOM_SLUG_MAX_LENGTH, Membership, Room
from chat.services.common import Actor, check_author

logger = logging.getLogger("chat.services")


# Room addresses are ASCII (they name channel-layer groups); Cyrillic names
# are transliterated so that "Котики" lives at /rooms/kotiki/.
_CYRILLIC = str.maketrans(
    {
        **dict(
            zip("абвгдезийклмнопрстуфыэіґ", "abvgdeziyklmnoprstufyeig", strict=True)
        ),
        **{"ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh"},
        **{"щ": "shch", "ъ": "", "ь": "", "ю": "yu", "я": "ya", "ї": "yi", "є": "ye"},
    }
)


def transliterate(name: str) -> str:
    """Return ``name`` lowercased, Cyrillic letters in Latin ones."""
    return name.lower().translate(_CYRILLIC)


def _unique_slug(name: str) -> str:
    base = slugify(transliterate(name))[: ROOM_SLUG_MAX_LENGTH - 8].strip("-")
    base = base or "room"
    slug, number = base, 1
    while Room.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def room_create(
    *,
    name: str,
    created_by: Actor,
    kind: str = Room.Kind.PUBLIC,
    members_can_add: bool = False,
) -> Room:
    """
    Create a room named ``name`` with a unique ASCII slug; its creator is
    its first member. In a private room, ``members_can_add`` lets every
    member add people.
    """
    creator = check_author(created_by)
    if kind not in (Room.Kind.PUBLIC, Room.Kind.PRIVATE):
        raise BadRequest(_("A room is public or private."))
    try:
        name = clean_name(name, max_length=ROOM_NAME_MAX_LENGTH)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name,
                    slug=_unique_slug(name),
                    created_by=creator,
                    kind=kind,
                    members_can_add=members_can_add,
                )
                Membership.objects.create(room=room, user=creator)
        except IntegrityError:
            continue  # Another room took the slug meanwhile; pick again.
        logger.info("%s room %s created by %s: %r", kind, room.slug, creator, room.name)
        return room
    raise BadRequest(_("Could not find a free address for the room; try another name."))
