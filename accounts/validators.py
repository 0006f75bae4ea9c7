"""Validation of names people choose for themselves."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DISPLAY_NAME_MAX_LENGTH = 50
# Folding can lengthen a name: ß becomes ss, a username (already NFKC) at
# most triples, a display name's ligature can become 18 characters. Longer
# keys are refused rather than stored, which keeps every key well inside
# PostgreSQL's limit for an indexed value (about 2700 bytes).
NAME_KEY_MAX_LENGTH = 450

# Bidirectional overrides and isolates reorder the text around them, which
# lets a name pose as someone else's or reverse the words after it.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_name(value: str, *, max_length: int) -> str:
    """
    Return the name ``value`` normalized (NFC, trimmed), or raise ValidationError.

    Blank names, names over ``max_length`` characters and names with control
    or formatting characters (categories Cc and Cf: bidirectional overrides,
    zero-width characters) or lone surrogates (Cs) are refused.
    """
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise ValidationError(_("The name cannot be blank."), code="blank")
    if len(name) > max_length:
        raise ValidationError(
            _("The name is at most %(limit)d characters long."),
            code="too_long",
            params={"limit": max_length},
        )
    for char in name:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cf", "Cs"}:
            raise ValidationError(
                _("The name cannot contain control or formatting characters."),
                code="control",
            )
    return name


def clean_display_name(value: str) -> str:
    """Return the display name ``value`` normalized, or raise ValidationError."""
    return clean_name(value, max_length=DISPLAY_NAME_MAX_LENGTH)


def fold(name: str) -> str:
    """
    Return the key under which ``name`` equals every name that reads alike.

    Names that differ only in case (``élan``/``Élan``, ``straße``/``STRASSE``),
    in width or compatibility form (``Ｍallory``/``Mallory``, ``ﬁ``/``fi``) or in
    runs of spaces fold to the same key. Look-alikes from other scripts
    (Cyrillic ``М`` for Latin ``M``) do not: the ``@username`` shown beside
    each name is what tells those apart.
    """
    # NFKC first, because some compatibility characters only become a cased
    # letter once decomposed (ℌ has no lower case, its NFKC form H does);
    # NFKC again, because case folding can leave decomposed sequences (İ
    # folds to i and a combining dot) that NFKC composes.
    folded = unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", name).casefold()
    )
    # Browsers show a run of spaces as one space.
    return " ".join(folded.split())


class NameHolder(NamedTuple):
    """A user as the collision check sees one: id, username and display name."""

    id: int
    username: str
    display_name: str


def name_keys(username: str, display_name: str) -> set[str]:
    """Return the folded names a user holds: their username's and shown name's."""
    return {fold(username), fold(display_name or username)}


def name_collisions(users: Iterable[NameHolder]) -> dict[str, list[NameHolder]]:
    """
    Return each folded name that more than one of ``users`` holds, with them.

    A user's display name may fold to their own username (that is the
    default), never to another user's username or display name.
    """
    holders: dict[str, dict[int, NameHolder]] = defaultdict(dict)
    for user in users:
        for key in name_keys(user.username, user.display_name):
            holders[key][user.id] = user
    return {
        key: sorted(by_id.values())
        for key, by_id in sorted(holders.items())
        if len(by_id) > 1
    }


def describe_collisions(collisions: dict[str, list[NameHolder]]) -> str:
    """Return ``collisions`` as lines that name every user involved."""
    return "\n".join(
        f"  {key!r} is held by "
        + ", ".join(
            f"{user.username!r} (id {user.id}, display name {user.display_name!r})"
            for user in users
        )
        for key, users in collisions.items()
    )
