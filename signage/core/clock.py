"""A board's clock, corrected to the hub's. Pure: every time is passed in.

    offset = skew(welcome.server_time, sent_at, received_at)   # link thread, at each welcome
    now = corrected(system_now, offset)                        # render thread, every frame

`sent_at` and `received_at` are read from the uncorrected system clock around the
hello → welcome round trip, so the offset is absolute (hub clock minus system clock),
never a residual against a clock already corrected: applying it twice, or after a
later one, changes nothing. Measured against the corrected clock and then assigned,
the correction flipped off at every second reconnect (issue 10). The hub stamped
server_time somewhere inside the round trip; taking its midpoint, as NTP does,
bounds the error by half the round trip.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def skew(server_time: datetime, sent_at: datetime, received_at: datetime) -> float:
    """Seconds to add to the system clock to read the hub's clock (all three aware)."""
    midpoint = sent_at + (received_at - sent_at) / 2
    return (server_time - midpoint).total_seconds()


def corrected(system_now: datetime, offset: float) -> datetime:
    """The hub's time, as the board should show it."""
    return system_now + timedelta(seconds=offset)
