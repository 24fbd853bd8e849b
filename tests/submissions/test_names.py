"""File names: what is refused, and what an accepted name becomes."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from core.uploads import name_problem
from submissions.uploads import ascii_fallback, display_name


@given(st.text(min_size=1, max_size=400))
def test_an_accepted_name_is_displayed_without_paths_or_control_characters(raw):
    if name_problem(raw):
        return
    shown = display_name(raw)
    assert "/" not in shown and "\\" not in shown and ".." not in shown
    assert not any(unicodedata.category(ch)[0] == "C" for ch in shown)
    assert 0 < len(shown) <= 255


@given(st.text(max_size=300))
def test_the_ascii_fallback_is_always_a_safe_header_value(name):
    fallback = ascii_fallback(name)
    fallback.encode("ascii")
    assert fallback and '"' not in fallback and ";" not in fallback


def test_names_with_paths_nul_or_too_long_are_refused():
    assert "path" in name_problem("../secret.pdf")
    assert "path" in name_problem("C:\\temp\\a.pdf")
    assert "control" in name_problem("a\x00b.pdf")
    assert "longer than 255" in name_problem("a" * 256)
    assert name_problem("Plan – 計画 ü.pdf") == ""
