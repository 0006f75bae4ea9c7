from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.validators import (
    NameHolder,
    clean_display_name,
    describe_collisions,
    fold,
    name_collisions,
)


class CleanDisplayNameTests:
    def test_a_name_is_trimmed_and_normalized(self) -> None:
        assert clean_display_name("  Zoe\u0301 ") == "Zoé"

    @pytest.mark.parametrize(
        "name",
        [
            "",
            "   ",
            "x" * 51,
            "ad\u202emin",
            "zero\u200bwidth",
            "new\nline",
            "bell\x07",
        ],
    )
    def test_bad_names_are_refused(self, name: str) -> None:
        with pytest.raises(ValidationError):
            clean_display_name(name)

    def test_non_latin_names_are_welcome(self) -> None:
        assert clean_display_name("Лена 🌸") == "Лена 🌸"


class FoldTests:
    @pytest.mark.parametrize(
        ("one", "other"),
        [
            ("élan", "Élan"),
            ("e\u0301lan", "ÉLAN"),  # Decomposed and composed accents.
            ("straße", "STRASSE"),
            ("Ｍallory", "mallory"),  # Fullwidth M.
            ("ﬁnn", "FINN"),  # The fi ligature.
            ("ℌal", "hal"),  # Black-letter H: no lower case of its own.
            ("İrem", "i\u0307rem"),
            ("Alice  Cooper", "alice cooper"),
            ("Alice\u00a0Cooper", "alice cooper"),  # No-break space.
        ],
    )
    def test_names_that_read_alike_fold_alike(self, one: str, other: str) -> None:
        assert fold(one) == fold(other)

    @pytest.mark.parametrize(
        ("one", "other"),
        [("elan", "élan"), ("Mallory", "Мallory"), ("alice", "alicе")],
    )
    def test_different_letters_stay_different(self, one: str, other: str) -> None:
        """Other scripts' look-alikes are left to the @username tag."""
        assert fold(one) != fold(other)

    @hypothesis_settings(max_examples=500)
    @given(st.text())
    def test_folding_twice_changes_nothing(self, name: str) -> None:
        assert fold(fold(name)) == fold(name)

    @hypothesis_settings(max_examples=500)
    @given(st.text())
    def test_normal_forms_case_and_doubled_spaces_fold_alike(self, name: str) -> None:
        variants = [
            unicodedata.normalize(form, name) for form in ("NFC", "NFD", "NFKD")
        ]
        variants += [name.casefold(), name.replace(" ", "  ")]
        assert {fold(variant) for variant in variants} == {fold(name)}


class NameCollisionsTests:
    def test_users_whose_names_fold_alike_collide(self) -> None:
        elan = NameHolder(1, "élan", "élan")
        other_elan = NameHolder(2, "Élan", "")
        bob = NameHolder(3, "bob", "Mallory")
        mallory = NameHolder(4, "Ｍallory", "M.")
        carol = NameHolder(5, "carol", "CAROL")
        collisions = name_collisions([elan, other_elan, bob, mallory, carol])
        assert collisions == {
            "élan": [elan, other_elan],
            "mallory": [bob, mallory],
        }

    def test_a_display_name_may_be_the_users_own_username(self) -> None:
        assert name_collisions([NameHolder(1, "dana", "Dana")]) == {}

    def test_the_description_names_every_user_involved(self) -> None:
        text = describe_collisions(
            name_collisions(
                [NameHolder(1, "bob", "Mallory"), NameHolder(4, "Ｍallory", "")]
            )
        )
        assert "'mallory'" in text
        assert "'bob' (id 1, display name 'Mallory')" in text
        assert "'Ｍallory' (id 4, display name '')" in text
