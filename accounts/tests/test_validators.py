from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import clean_display_name


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
