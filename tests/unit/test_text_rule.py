"""The text rule (signage.core.text): what text from outside may hold."""

from __future__ import annotations

import pytest

from signage.core import text


@pytest.mark.parametrize("value", ["A-023", "Nomor antrean", "Loket 5 — Disdukcapil", "日本", "😀", ""])
def test_ordinary_text_passes(value):
    assert text.problem(value) is None


@pytest.mark.parametrize("value, found", [
    ("\ud800", "lone surrogate U+D800 at index 0"),
    ("ab\udfffc", "lone surrogate U+DFFF at index 2"),
    ("a\x00", "control character U+0000 at index 1"),
    ("a\nb", "control character U+000A at index 1"),
    ("\x7f", "control character U+007F"),
    ("x\x85", "control character U+0085"),
    ("\x9f", "control character U+009F"),
])
def test_refused_text_names_the_character_and_place(value, found):
    assert found in text.problem(value)


def test_multiline_allows_newlines_and_tabs_only():
    assert text.problem("Persyaratan:\n\t- Fotokopi KK\r\n- KTP", multiline=True) is None
    assert "U+0000" in text.problem("a\n\x00", multiline=True)
    assert "U+D83D" in text.problem("a\n\ud83d", multiline=True)


def test_sanitize_replaces_only_what_is_refused():
    assert text.sanitize("A\x00B\ud800C") == "A\ufffdB\ufffdC"
    assert text.sanitize("a\nb", multiline=True) == "a\nb"
    assert text.problem(text.sanitize("\x01\ud800\x9f")) is None


def test_for_log_escapes_newlines_so_lines_cannot_be_forged():
    assert text.for_log("evil\n2026-12-01 INFO hub: fake") == "evil\\u000a2026-12-01 INFO hub: fake"
    assert "\n" not in text.for_log("\r\n" * 100)
    assert len(text.for_log("x" * 1000)) == 120
