"""Tickets have one home (signage.core.tickets): format, accept, normalise, split."""

from __future__ import annotations

import pytest

from signage.core import tickets


def test_the_hub_issues_three_digits_at_least():
    assert tickets.format_ticket("A", 23) == "A-023"
    assert tickets.format_ticket("AB", 7) == "AB-007"
    assert tickets.format_ticket("C", 12345) == "C-12345"


@pytest.mark.parametrize("given, expected", [
    ("a23", "A-023"), ("A023", "A-023"), ("A-0023", "A-023"), (" a-23 ", "A-023"), ("AB7", "AB-007"),
    ("A-023", "A-023"), ("42", "42"),  # bare numbers from other queue systems stay as they are
])
def test_one_spelling_per_ticket(given, expected):
    assert tickets.normalize(given) == expected
    assert tickets.normalize(expected) == expected  # idempotent


@pytest.mark.parametrize("text", ["A-023", "a23", " A-0023 ", "ABC-99999", "42"])
def test_accepted_tickets(text):
    assert tickets.is_ticket(text)


@pytest.mark.parametrize("text", ["", "A-", "ABCD-1", "A-123456", "A--1", "A-1a", "Ä-1", "A-١٢", "A 12"])
def test_refused_tickets(text):
    assert not tickets.is_ticket(text)


@pytest.mark.parametrize("ticket, prefix", [("A-023", "A"), ("AB7", "AB"), ("42", ""), ("ABC-001", "ABC")])
def test_prefix_is_the_series(ticket, prefix):
    assert tickets.prefix_of(ticket) == prefix


@pytest.mark.parametrize("ticket, expected", [
    ("A-023", ("A", 23)), ("A023", ("A", 23)), ("AB-7", ("AB", 7)), ("a-007", ("A", 7)),
    ("C-000", ("C", 0)), ("B 12", ("B", 12)), ("123", ("", 123)), ("A", ("A", None)),
    ("A-0x1", ("AX", 1)),  # malformed: letters and digits gathered instead of failing
    ("A²-1", ("A", 1)),  # "²" is a digit to str.isdigit but not to int(): skipped, not a crash
])
def test_split_for_speech(ticket, expected):
    assert tickets.split(ticket) == expected


def test_a_formatted_ticket_round_trips():
    for prefix in ("A", "BC", "XYZ"):
        for number in (0, 1, 23, 999, 1000, 99999):
            ticket = tickets.format_ticket(prefix, number)
            assert tickets.is_ticket(ticket) and tickets.normalize(ticket) == ticket
            assert tickets.split(ticket) == (prefix, number) and tickets.prefix_of(ticket) == prefix
