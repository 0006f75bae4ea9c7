"""
The text search reads: one normalised form shared by both engines.

A message is indexed as its text (and its file's name) casefolded with
``ё`` read as ``е``, followed by the Snowball stems (Russian for Cyrillic
words, English for Latin ones) that are not already part of their word:
"studies" adds "studi", "сообщения" needs nothing ("сообщен" is in it). A
search term matches where its stem (or itself, when that is shorter than a
trigram) is a substring of that text, so one rule finds inflections
("сообщения" finds "сообщение", "running" finds "runs"), parts of words
("верси", "sess" in "sess.foo"), fragments of links and identifiers in
code, and both engines, trigram indexes over the same text, agree.

PyStemmer (the Snowball stemmers in C) stems: a million messages index in
minutes, not the hour a pure-Python stemmer would take.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable

import Stemmer

# Words as the stemmers take them: letters and digits (and "_", so that an
# identifier stays one word).
WORD = re.compile(r"\w+")
CYRILLIC = re.compile(r"[а-я]")
LATIN = re.compile(r"[a-z]")
# A trigram index finds nothing shorter.
TRIGRAM = 3

# Stemmer objects keep a cache and are not safe to share between threads.
_local = threading.local()


def fold(text: str) -> str:
    """Return ``text`` as the index reads it: casefolded, ``ё`` as ``е``."""
    return text.casefold().replace("ё", "е")


def stem(word: str) -> str:
    """Return the stem of a folded ``word``: Russian, English, or the word."""
    if not hasattr(_local, "stemmers"):
        _local.stemmers = (Stemmer.Stemmer("russian"), Stemmer.Stemmer("english"))
    russian, english = _local.stemmers
    if CYRILLIC.search(word):
        return str(russian.stemWord(word))
    if LATIN.search(word):
        return str(english.stemWord(word))
    return word


def document(text: str, file_name: str = "") -> str:
    """Return what the index holds for a message of ``text`` and ``file_name``."""
    folded = fold(f"{text}\n{file_name}" if file_name else text)
    extra = dict.fromkeys(
        root for word in WORD.findall(folded) if (root := stem(word)) not in word
    )
    return f"{folded}\n{' '.join(extra)}" if extra else folded


def needle(term: str) -> str:
    """
    Return what a folded search ``term`` is looked for as in the index: its
    stem for a word (unless that is shorter than a trigram), else itself.
    """
    if WORD.fullmatch(term):
        root = stem(term)
        if len(root) >= TRIGRAM:
            return root
    return term


def snippet(text: str, needles: Iterable[str], width: int = 160) -> str:
    """
    Return HTML of up to ``width`` characters of ``text`` around its first
    match, escaped, each match in ``<mark>``: the words a needle is part of
    in the folded text, and each word whose stem holds one.
    """
    folded, origin = _folded_with_origin(text)
    words = [(w.start(), w.end(), stem(w.group())) for w in WORD.finditer(folded)]
    spans: list[tuple[int, int]] = []
    for wanted in {n for n in needles if n}:
        found = folded.find(wanted)
        while found >= 0:
            # The whole words the match is part of.
            start, stop = found, found + len(wanted)
            for first, last, _root in words:
                if first < start < last:
                    start = first
                if first < stop < last:
                    stop = last
            spans.append((origin[start], origin[stop - 1] + 1))
            found = folded.find(wanted, found + len(wanted))
        spans += [
            (origin[first], origin[last - 1] + 1)
            for first, last, root in words
            if wanted in root
        ]
    marks = _merged(spans)
    first = marks[0][0] if marks else 0
    begin = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), begin + width)
    parts = ["…" if begin else ""]
    at = begin
    for start, stop in marks:
        start, stop = max(start, begin), min(stop, end)
        if start >= stop:
            continue
        parts += [html.escape(text[at:start]), "<mark>"]
        parts += [html.escape(text[start:stop]), "</mark>"]
        at = stop
    parts += [html.escape(text[at:end]), "…" if end < len(text) else ""]
    return "".join(parts)


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """Return ``fold(text)`` and, for each of its characters, where it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        part = fold(char)
        folded.append(part)
        origin.extend([index] * len(part))
    return "".join(folded), origin


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged
