"""Validation of names people choose for themselves."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DISPLAY_NAME_MAX_LENGTH = 50

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
