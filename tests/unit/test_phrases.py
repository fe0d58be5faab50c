"""Phrase building: number words, letters, counter names, templates. Pure code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from signage.core.phrases import build_phrase, letter_words, number_words, spoken_name
from signage.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def announcer_config():
    return load_config(ROOT / "config.yaml").announcer


# (n, Indonesian, English) — written out by hand from the grammar, not generated.
NUMBERS = [
    (0, "nol", "zero"),
    (1, "satu", "one"),
    (2, "dua", "two"),
    (3, "tiga", "three"),
    (4, "empat", "four"),
    (5, "lima", "five"),
    (6, "enam", "six"),
    (7, "tujuh", "seven"),
    (8, "delapan", "eight"),
    (9, "sembilan", "nine"),
    (10, "sepuluh", "ten"),
    (11, "sebelas", "eleven"),
    (12, "dua belas", "twelve"),
    (13, "tiga belas", "thirteen"),
    (14, "empat belas", "fourteen"),
    (15, "lima belas", "fifteen"),
    (16, "enam belas", "sixteen"),
    (17, "tujuh belas", "seventeen"),
    (18, "delapan belas", "eighteen"),
    (19, "sembilan belas", "nineteen"),
    (20, "dua puluh", "twenty"),
    (21, "dua puluh satu", "twenty-one"),
    (99, "sembilan puluh sembilan", "ninety-nine"),
    (100, "seratus", "one hundred"),
    (101, "seratus satu", "one hundred and one"),
    (110, "seratus sepuluh", "one hundred and ten"),
    (111, "seratus sebelas", "one hundred and eleven"),
    (115, "seratus lima belas", "one hundred and fifteen"),
    (199, "seratus sembilan puluh sembilan", "one hundred and ninety-nine"),
    (200, "dua ratus", "two hundred"),
    (999, "sembilan ratus sembilan puluh sembilan", "nine hundred and ninety-nine"),
    (1000, "seribu", "one thousand"),
    (1001, "seribu satu", "one thousand and one"),
    (1100, "seribu seratus", "one thousand one hundred"),
    (1999, "seribu sembilan ratus sembilan puluh sembilan",
     "one thousand nine hundred and ninety-nine"),
    (2025, "dua ribu dua puluh lima", "two thousand and twenty-five"),
    (9999, "sembilan ribu sembilan ratus sembilan puluh sembilan",
     "nine thousand nine hundred and ninety-nine"),
    (11000, "sebelas ribu", "eleven thousand"),
    (100000, "seratus ribu", "one hundred thousand"),
    (101000, "seratus satu ribu", "one hundred and one thousand"),
    (1000000, "satu juta", "one million"),
    (1001000, "satu juta seribu", "one million one thousand"),
    (2000000000, "dua miliar", "two billion"),
    (3000000000000, "tiga triliun", "three trillion"),
]


@pytest.mark.parametrize("n, indonesian, english", NUMBERS)
def test_number_words(n, indonesian, english):
    assert number_words(n, "id") == indonesian
    assert number_words(n, "en") == english


def test_indonesian_is_the_default_locale():
    assert number_words(23) == "dua puluh tiga"


@pytest.mark.parametrize("bad", [-1, 10**15, 1.5, "7", True])
def test_number_words_rejects_what_it_cannot_say(bad):
    with pytest.raises(ValueError, match="number_words"):
        number_words(bad)


def test_every_number_below_ten_thousand_uses_only_known_words():
    vocabulary = {"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
                  "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu"}
    for n in range(10000):
        words = number_words(n).split()
        assert set(words) <= vocabulary, n
        assert "satu ribu" not in number_words(n) and "satu ratus" not in number_words(n), n
        assert n == 0 or "nol" not in words, n


@pytest.mark.parametrize("letters, indonesian, english", [
    ("A", "a", "ay"), ("B", "be", "bee"), ("C", "ce", "see"), ("H", "ha", "aitch"), ("J", "je", "jay"),
    ("K", "ka", "kay"), ("Q", "ki", "cue"), ("V", "fe", "vee"), ("W", "we", "double you"),
    ("X", "eks", "ex"), ("Y", "ye", "why"), ("Z", "zet", "zed"), ("AB", "a be", "ay bee"),
    ("ab", "a be", "ay bee"),
])
def test_letter_words(letters, indonesian, english):
    assert letter_words(letters, "id") == indonesian
    assert letter_words(letters, "en") == english


def test_every_letter_has_a_name_in_both_languages():
    for locale in ("id", "en"):
        names = [letter_words(chr(c), locale) for c in range(ord("A"), ord("Z") + 1)]
        assert all(names) and len(set(names)) == 26, locale


@pytest.mark.parametrize("name, locale, expected", [
    ("Loket 5", "id", "loket lima"),
    ("Loket 12", "id", "loket dua belas"),
    ("Loket 21", "id", "loket dua puluh satu"),
    ("Loket 12", "en", "counter twelve"),
    ("Loket BPJS", "id", "loket be pe je es"),
    ("Perekaman KTP-el", "id", "perekaman ka te pe el"),
    ("loket bpjs 3", "id", "loket be pe je es tiga"),
    ("Samsat", "id", "samsat"),
])
def test_spoken_name(name, locale, expected):
    pronunciations = {"BPJS": "be pe je es", "KTP": "ka te pe"}
    assert spoken_name(name, locale, pronunciations) == expected


def test_default_templates_make_the_documented_phrase(announcer_config):
    phrase = build_phrase("A-023", "Loket 5", config=announcer_config)
    assert phrase == "Nomor antrian, a, dua puluh tiga, silakan menuju, loket lima."


def test_leading_zeros_are_dropped(announcer_config):
    phrase = build_phrase("A-007", "Loket 1", form="short", config=announcer_config)
    assert phrase == "a, tujuh, loket satu."


def test_english_phrase(announcer_config):
    phrase = build_phrase("AB-7", "Loket 12", locale="en", config=announcer_config)
    assert phrase == "Ticket number, ay bee, seven, please proceed to, counter twelve."


def test_recall_phrase(announcer_config):
    phrase = build_phrase("B-110", "Loket 3", form="recall", config=announcer_config)
    assert phrase == ("Panggilan ulang, nomor antrian, be, seratus sepuluh, silakan menuju, "
                      "loket tiga.")


def test_templates_and_pronunciations_come_from_config(announcer_config):
    custom = dataclasses.replace(
        announcer_config,
        templates={"id": "Tiket {ticket} ke {counter}", "en": "Ticket {ticket} to {counter}"},
        pronunciations={"PLN": "pe el en"},
    )
    assert build_phrase("D-1001", "PLN 2", config=custom) == "Tiket de, seribu satu ke pe el en dua"
    assert build_phrase("D-1001", "PLN 2", locale="en", config=custom) == \
        "Ticket dee, one thousand and one to pe el en two"


def test_ticket_without_letters_leaves_no_empty_slot(announcer_config):
    assert build_phrase("42", "Loket 2", form="short", config=announcer_config) == \
        "empat puluh dua, loket dua."


def test_unknown_form_is_refused(announcer_config):
    with pytest.raises(ValueError, match="form must be one of"):
        build_phrase("A-1", "Loket 1", form="shout", config=announcer_config)
