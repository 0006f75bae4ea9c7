"""
Personal access tokens: their form (stored ones: accounts.models.AccessToken).

A token reads ``chat_`` + 30 random characters + a 6-character checksum
(CRC32 of the random part), all in base 62, as GitHub's ``ghp_`` tokens:
the prefix lets secret scanners recognise a leaked one, the checksum lets
them (and this module) tell a token from a typo without a database lookup.
Only the SHA-256 of a token is stored: a token is 178 random bits, which
no one guesses, so a slow password hash would only slow every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib
from datetime import timedelta

PREFIX = "chat_"
# An incoming webhook's secret has the same form, with a prefix of its own.
WEBHOOK_PREFIX = "chatwh_"
PREFIXES = (PREFIX, WEBHOOK_PREFIX)
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
HINT_LENGTH = len(PREFIX) + 4
_ALPHABET = string.digits + string.ascii_letters
# "Last used" is written at most this often per token, not on every request.
LAST_USED_STEP = timedelta(minutes=1)


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate(prefix: str = PREFIX) -> str:
    """Return a new token (not yet stored)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_LENGTH))
    return prefix + body + _checksum(body)


def well_formed(value: str, prefix: str = PREFIX) -> bool:
    """Return whether ``value`` has a token's form and a matching checksum."""
    if len(value) != len(prefix) + RANDOM_LENGTH + CHECKSUM_LENGTH:
        return False
    if not value.startswith(prefix):
        return False
    body = value[len(prefix) : len(prefix) + RANDOM_LENGTH]
    if not all(char in _ALPHABET for char in value[len(prefix) :]):
        return False
    return secrets.compare_digest(_checksum(body), value[-CHECKSUM_LENGTH:])


def digest(value: str) -> str:
    """Return what is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(value.encode("ascii")).hexdigest()


def bearer(authorization: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header value."""
    if not authorization:
        return None
    scheme, _space, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


# Anything shaped like a token or a webhook's secret, in any text.
SHAPED = re.compile(
    "(" + "|".join(map(re.escape, PREFIXES)) + ")"
    f"[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}(?![0-9A-Za-z])"
)


def contains_token(text: str) -> bool:
    """Return whether ``text`` holds a token or secret (its checksum right)."""
    return any(
        well_formed(match.group(0), match.group(1)) for match in SHAPED.finditer(text)
    )


def mask(text: str) -> str:
    """Return ``text`` with every token-shaped string cut to its prefix."""
    return SHAPED.sub(r"\1…", text)
