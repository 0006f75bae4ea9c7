"""What search indexes and looks for: one normalised text, and the snippet."""

from __future__ import annotations

from chat.search.text import document, fold, needle, snippet


class DocumentTests:
    def test_text_is_casefolded_with_yo_as_ye(self) -> None:
        assert fold("Ёлка СТОИТ Straße") == "елка стоит strasse"

    def test_stems_that_are_not_part_of_their_word_are_added(self) -> None:
        # "studi" is not in "study"; "run" is in "running" already.
        assert document("Study running") == "study running\nstudi"

    def test_a_file_name_is_indexed_with_the_text(self) -> None:
        assert document("Numbers", "Report-2026.PDF") == "numbers\nreport-2026.pdf"


class NeedleTests:
    def test_a_word_is_looked_for_by_its_stem(self) -> None:
        assert needle("сообщения") == "сообщен"
        assert needle("running") == "run"

    def test_a_stem_shorter_than_a_trigram_keeps_the_word(self) -> None:
        assert needle("его") == "его"

    def test_anything_but_a_word_is_looked_for_as_typed(self) -> None:
        assert needle("sess.foo") == "sess.foo"
        assert needle("get_user_model") == "get_user_model"


class SnippetTests:
    def test_whole_words_are_marked_and_the_rest_escaped(self) -> None:
        assert snippet("<i>Версия</i> 2 & more", ["верс"]) == (
            "&lt;i&gt;<mark>Версия</mark>&lt;/i&gt; 2 &amp; more"
        )

    def test_a_word_whose_stem_matches_is_marked(self) -> None:
        assert snippet("one study", ["studi"]) == "one <mark>study</mark>"

    def test_a_long_text_is_cut_around_the_first_match(self) -> None:
        text = "a" * 300 + " needle " + "b" * 300
        shown = snippet(text, ["needle"], width=60)
        assert shown.startswith("…") and shown.endswith("…")
        assert "<mark>needle</mark>" in shown
        assert len(shown.replace("<mark>", "").replace("</mark>", "")) == 62

    def test_characters_that_fold_longer_keep_their_place(self) -> None:
        assert snippet("Straße ok", ["ok"]) == "Straße <mark>ok</mark>"
