"""
A search as typed: words, "exact phrases" and filters, read into a Query.

Nothing typed reaches an engine as syntax: every word and phrase becomes a
plain substring to look for, so quotes, ``-``, ``*``, ``NEAR``, ``OR`` or
brackets are only text (or, alone, nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from chat.exceptions import BadRequest
from chat.search.text import TRIGRAM, WORD, fold, needle

# Longer searches are refused, not cut: what was typed is what is searched.
MAX_LENGTH = 300
MAX_TERMS = 12
# "a phrase" (an unclosed quote runs to the end), or a run without spaces.
TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
FILTER = re.compile(r"(in|from|has|before|after|is):(\S*)", re.IGNORECASE)
HAS = ("file", "image")
# Lone surrogates and control characters are never text.
UNPRINTABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Query:
    """
    What to look for: ``needles`` (each a substring of the index's text, at
    least a trigram long), ``short`` terms (1 or 2 characters, looked for
    only in recent history), and the filters.
    """

    needles: list[str] = field(default_factory=list)
    short: list[str] = field(default_factory=list)
    room: str | None = None
    author: str | None = None
    has: set[str] = field(default_factory=set)
    before: date | None = None
    after: date | None = None
    mention: bool = False

    @property
    def empty(self) -> bool:
        """Whether nothing would narrow the search."""
        return not (
            self.needles or self.short or self.author or self.has or self.mention
        ) and not (self.before or self.after)

    @property
    def highlights(self) -> list[str]:
        """What a snippet marks."""
        return [*self.needles, *self.short]


def parse(text: str) -> Query:
    """Read a typed search; raise BadRequest saying what is wrong with it."""
    text = UNPRINTABLE.sub(" ", text)
    if len(text) > MAX_LENGTH:
        raise BadRequest(
            _("A search is at most %(count)d characters.") % {"count": MAX_LENGTH}
        )
    query = Query()
    # Each term, and whether it is a phrase (looked for exactly as typed).
    terms: dict[str, bool] = {}
    for match in TOKEN.finditer(text):
        phrase, word = match.groups()
        found = FILTER.fullmatch(word) if word is not None else None
        if found:
            _apply_filter(query, found.group(1).lower(), found.group(2))
        elif phrase is not None:
            terms.setdefault(fold(" ".join(phrase.split())), True)
        else:
            terms.setdefault(_trimmed(fold(word)), False)
    wanted = [(term, exact) for term, exact in terms.items() if WORD.search(term)]
    if len(wanted) > MAX_TERMS:
        raise BadRequest(
            _("Search for at most %(count)d words at once.") % {"count": MAX_TERMS}
        )
    for term, exact in wanted:
        looked_for = term if exact else needle(term)
        if len(looked_for) >= TRIGRAM:
            query.needles.append(looked_for)
        else:
            query.short.append(looked_for)
    return query


def _trimmed(word: str) -> str:
    """A word without the punctuation around it ("(see", "this:", "x)")."""
    return re.sub(r"^[^\w@#/.]+|[^\w/]+$", "", word) or word


def _apply_filter(query: Query, name: str, value: str) -> None:
    if not value:
        raise BadRequest(_('"%(name)s:" needs a value.') % {"name": name})
    if name == "in":
        query.room = value.lower()
    elif name == "from":
        query.author = value.removeprefix("@")
    elif name == "has":
        if value.lower() not in HAS:
            raise BadRequest(_('Use "has:file" or "has:image".'))
        query.has.add(value.lower())
    elif name == "is":
        if value.lower() != "mention":
            raise BadRequest(_('Use "is:mention".'))
        query.mention = True
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise BadRequest(
                _('Write dates as YYYY-MM-DD, as in "%(name)s:2026-01-31".')
                % {"name": name}
            ) from None
        setattr(query, name, day)
