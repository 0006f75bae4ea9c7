"""Reading a typed search: words, phrases, filters, and what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from chat.exceptions import BadRequest
from chat.search.query import MAX_LENGTH, parse


class ParseTests:
    def test_words_phrases_and_filters(self) -> None:
        query = parse(
            'Сообщения "Exact  phrase" in:General from:@ann has:file has:image '
            "before:2026-02-01 after:2026-01-01 is:mention"
        )
        assert query.needles == ["сообщен", "exact phrase"]
        assert (query.room, query.author) == ("general", "ann")
        assert query.has == {"file", "image"}
        assert (query.before, query.after) == (date(2026, 2, 1), date(2026, 1, 1))
        assert query.mention is True

    def test_short_terms_are_kept_apart(self) -> None:
        query = parse("ok is a go")
        assert (query.needles, query.short) == ([], ["ok", "is", "a", "go"])

    def test_other_engines_syntax_is_only_text(self) -> None:
        assert parse("- * ( ) :").empty
        query = parse("NEAR OR AND")
        assert (query.needles, query.short) == (["near", "and"], ["or"])
        assert parse('"unclosed phrase').needles == ["unclosed phrase"]

    def test_a_link_is_a_term_not_a_filter(self) -> None:
        assert parse("https://docs.example.org/x").needles == [
            "https://docs.example.org/x"
        ]

    def test_unprintable_characters_are_dropped(self) -> None:
        assert parse("\ud800версия\x00").needles == ["верс"]

    @pytest.mark.parametrize(
        ("text", "said"),
        [
            ("x" * (MAX_LENGTH + 1), "at most 300 characters"),
            (" ".join(f"word{n}" for n in range(13)), "at most 12 words"),
            ("has:pdf", '"has:file" or "has:image"'),
            ("is:starred", '"is:mention"'),
            ("before:yesterday", "YYYY-MM-DD"),
            ("from:", '"from:" needs a value'),
        ],
    )
    def test_what_cannot_be_read_is_said(self, text: str, said: str) -> None:
        with pytest.raises(BadRequest) as raised:
            parse(text)
        assert said in raised.value.detail
