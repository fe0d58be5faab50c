"""Tickets and counters → the words the announcer speaks. Pure code, no I/O.

Theory of operation: a phrase is a config template (AnnouncerConfig.templates,
short_templates or recall_templates) filled with spoken forms, never with raw
symbols, so espeak-ng (or a voice pack of recorded words) reads it the way a
person in the hall expects:

* numbers become number words with leading zeros dropped: A-007 → "a, tujuh";
* ticket letters become their Indonesian (or English) letter names: B → "be";
* counter names have digits read as words and acronyms spelled out through
  AnnouncerConfig.pronunciations: "Loket 12" → "loket dua belas",
  "BPJS" → "be pe je es".

Forms: "call" (templates), "recall" (recall_templates), "short" (short_templates,
used while a burst drains).
"""

from __future__ import annotations

import re
from typing import Mapping

from signage.core import tickets
from signage.core.config import AnnouncerConfig

FORMS = ("call", "recall", "short")

# ---------------------------------------------------------------- numbers

_ID_ONES = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Largest first; "se-" (one) is fused only for ribu: seribu, but satu juta.
_ID_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu"))

_EN_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

_LIMIT = 10**15


def number_words(n: int, locale: str = "id") -> str:
    """0 → "nol"; 23 → "dua puluh tiga"; 1000 → "seribu"; in English 115 → "one hundred and fifteen"."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < _LIMIT:
        raise ValueError(f"number_words: expected an integer 0 <= n < {_LIMIT}, got {n!r}")
    if locale == "en":
        return _en_number(n)
    return _id_number(n)


def _id_below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("seratus")
    elif hundreds > 1:
        words += [_ID_ONES[hundreds], "ratus"]
    if rest == 0:
        return words
    if rest < 10:
        words.append(_ID_ONES[rest])
    elif rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif rest < 20:
        words += [_ID_ONES[rest - 10], "belas"]
    else:
        tens, ones = divmod(rest, 10)
        words += [_ID_ONES[tens], "puluh"]
        if ones:
            words.append(_ID_ONES[ones])
    return words


def _id_number(n: int) -> str:
    if n == 0:
        return _ID_ONES[0]
    words: list[str] = []
    for scale, name in _ID_SCALES:
        count, n = divmod(n, scale)
        if count == 1 and scale == 1000:
            words.append("seribu")
        elif count:
            words += _id_below_thousand(count) + [name]
    words += _id_below_thousand(n)
    return " ".join(words)


def _en_below_hundred(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    tens, ones = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def _en_below_thousand(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [_EN_ONES[hundreds], "hundred"] if hundreds else []
    if rest:
        if hundreds:
            words.append("and")  # British usage, as taught in Indonesian schools
        words.append(_en_below_hundred(rest))
    return words


def _en_number(n: int) -> str:
    if n == 0:
        return _EN_ONES[0]
    words: list[str] = []
    for scale, name in _EN_SCALES:
        count, n = divmod(n, scale)
        if count:
            words += _en_below_thousand(count) + [name]
    if n:
        if words and n < 100:
            words.append("and")  # "two thousand and twenty-five"
        words += _en_below_thousand(n)
    return " ".join(words)


# ---------------------------------------------------------------- letters

# Spelled the way espeak-ng's Indonesian voice then says the letter's name.
ID_LETTERS = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge", "H": "ha",
    "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en", "O": "o", "P": "pe",
    "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u", "V": "fe", "W": "we", "X": "eks",
    "Y": "ye", "Z": "zet",
}
EN_LETTERS = {
    "A": "ay", "B": "bee", "C": "see", "D": "dee", "E": "ee", "F": "ef", "G": "jee", "H": "aitch",
    "I": "eye", "J": "jay", "K": "kay", "L": "el", "M": "em", "N": "en", "O": "oh", "P": "pee",
    "Q": "cue", "R": "ar", "S": "ess", "T": "tee", "U": "you", "V": "vee", "W": "double you",
    "X": "ex", "Y": "why", "Z": "zed",
}


def letter_words(letters: str, locale: str = "id") -> str:
    """"AB" → "a be" (Indonesian) or "ay bee" (English); other characters are skipped."""
    names = EN_LETTERS if locale == "en" else ID_LETTERS
    return " ".join(names[ch] for ch in letters.upper() if ch in names)


# ---------------------------------------------------------------- counters

# Words of a counter name that change with the spoken language (names are configured in Indonesian).
_NAME_WORDS = {"en": {"loket": "counter"}}

_NAME_TOKEN = re.compile(r"\d+|[^\W\d_]+")


def spoken_name(name: str, locale: str = "id", pronunciations: Mapping[str, str] | None = None) -> str:
    """"Loket 12" → "loket dua belas"; "Loket BPJS" → "loket be pe je es" (with BPJS in pronunciations)."""
    table = {key.upper(): value for key, value in (pronunciations or {}).items()}
    words = _NAME_WORDS.get(locale, {})

    def speak(match: re.Match) -> str:
        token = match.group(0)
        if token.isdigit():
            return number_words(int(token), locale)
        if token.upper() in table:
            return table[token.upper()]
        return words.get(token.lower(), token.lower())

    spoken = _NAME_TOKEN.sub(speak, name)
    return re.sub(r"\s*-\s*", " ", spoken).strip()  # "KTP-el" → "ka te pe el"


def build_phrase(ticket: str, counter_name: str, *, form: str = "call", locale: str = "id",
                 config: AnnouncerConfig) -> str:
    """The sentence to speak, e.g. "Nomor antrian, a, dua puluh tiga, silakan menuju, loket lima."."""
    if form not in FORMS:
        raise ValueError(f"build_phrase: form must be one of {', '.join(FORMS)}, got {form!r}")
    templates = {"call": config.templates, "recall": config.recall_templates,
                 "short": config.short_templates}[form]
    template = templates.get(locale) or templates["id"]
    letters, number = tickets.split(ticket)
    letter = letter_words(letters, locale)
    number_text = number_words(number, locale) if number is not None else ""
    counter = spoken_name(counter_name, locale, config.pronunciations)
    spoken_ticket = ", ".join(part for part in (letter, number_text) if part)
    text = template.format(letter=letter, number=number_text, counter=counter, ticket=spoken_ticket)
    return _tidy(text)


def _tidy(text: str) -> str:
    """Drop the empty slots a ticket without letters leaves (", ,") and doubled spaces."""
    text = re.sub(r"(,\s*)+,", ",", text)
    text = re.sub(r"^\s*,\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()
