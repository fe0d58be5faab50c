"""signage.core.clock: the board's offset to the hub's clock, measured against the system clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from signage.core.clock import corrected, skew

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def test_skew_is_taken_at_the_midpoint_of_the_round_trip():
    sent, received = T0, T0 + timedelta(milliseconds=200)
    server = T0 + timedelta(seconds=300, milliseconds=100)  # stamped half-way, 300 s ahead
    assert skew(server, sent, received) == 300.0


def test_time_zones_do_not_matter_only_instants():
    server = (T0 + timedelta(seconds=42)).astimezone(WIB)
    assert skew(server, T0, T0) == 42.0
    assert corrected(T0.astimezone(WIB), 42.0) == T0 + timedelta(seconds=42)

