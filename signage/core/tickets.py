"""Tickets: how they are spelled, read, and said. The one home for it. Pure.

A ticket is a series prefix of 1-3 capital letters (a service's `prefix` in
config) and a number, written the way the hub issues them: "A-023" (at least
three digits). Bare numbers ("42") come from outside queue systems and stay
as they are.

    format_ticket("A", 23)  -> "A-023"            what the hub issues
    is_ticket(" a23 ")      -> True               what the protocol accepts
    normalize("A-0023")     -> "A-023"            one spelling per ticket
    prefix_of("A-023")      -> "A"                its series
    split("AB-7")           -> ("AB", 7)          letters and number, for speech
"""

from __future__ import annotations

import re

PREFIX = re.compile(r"^[A-Z]{1,3}$")
# Accepted from clients (after strip and upper-casing): a series prefix and up to 5 digits, or digits only.
# ASCII digits only: \d would also take "١٢" (Arabic-Indic), which the board would then show as sent.
PATTERN = re.compile(r"^(?:[A-Z]{1,3}-?)?[0-9]{1,5}$")
DIGITS = 3  # "A-007": numbers are padded to this width

_PREFIXED = re.compile(r"([A-Z]{1,3})-?([0-9]+)")
_LENIENT = re.compile(r"^\s*([A-Za-z]*)\s*-?\s*(\d*)\s*$")


def format_ticket(prefix: str, number: int) -> str:
    """The ticket the hub issues as `number` of series `prefix`: ("A", 23) -> "A-023"."""
    return f"{prefix}-{number:0{DIGITS}d}"


def is_ticket(text: str) -> bool:
    """True for what clients may send as a ticket: 'A-023', 'a23', ' A-0023 ', '42'."""
    return PATTERN.fullmatch(text.strip().upper()) is not None


def normalize(ticket: str) -> str:
    """One spelling per ticket, as the hub issues them: 'a23', 'A023', 'A-0023' -> 'A-023'."""
    text = ticket.strip().upper()
    match = _PREFIXED.fullmatch(text)
    return format_ticket(match.group(1), int(match.group(2))) if match else text


def prefix_of(ticket: str) -> str:
    """The series of a ticket: 'A-023' -> 'A', 'AB7' -> 'AB', '42' -> ''."""
    return split(ticket)[0]


def split(ticket: str) -> tuple[str, int | None]:
    """"A-023" / "A023" / "AB-7" -> ("A", 23) / ("A", 23) / ("AB", 7).

    Anything else is split leniently (letters, then the digits found), because a
    malformed ticket must still be announced rather than crash the announcer.
    """
    match = _LENIENT.match(ticket)
    if match:
        letters, digits = match.groups()
    else:
        letters = "".join(ch for ch in ticket if ch.isalpha())
        digits = "".join(ch for ch in ticket if ch.isdecimal())  # int() reads every decimal digit
    return letters.upper(), (int(digits) if digits else None)
