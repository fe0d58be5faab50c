"""The wait estimate (signage.core.estimate): service times folded from events, and the range shown."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from _waitsim import SCENARIOS, config as sim_config, simulate  # noqa: E402

from signage.core import estimate as est, messages as m  # noqa: E402
from signage.core.rules import HubState, decide  # noqa: E402

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 12, 2, 8, 0, tzinfo=WIB)


class Hall:
    """Drives the real rules; `times` follows every event, as the hub's does."""

    def __init__(self):
        self.config = sim_config()
        self.actor = self.config.tokens[0]
        self.state = HubState()
        self.times = est.ServiceTimes()
        self.seq = 0
        self.now = T0

    def run(self, cmd, minutes: float = 0):
        self.now += timedelta(minutes=minutes)
        event = decide(self.state.for_day(self.now.date().isoformat()), cmd, self.actor, self.config, self.now,
                       self.seq + 1)
        self.seq += 1
        self.state = self.state.apply(event)
        self.times = est.apply(self.times, event)
        return event

    def issue(self, service="PKB", minutes: float = 0):
        return self.run(m.Issue(f"i{self.seq}", service), minutes)

    def serve(self, counter: int, minutes: float):
        """Call the next ticket at `counter` now, done after `minutes`."""
        self.run(m.Next(f"n{self.seq}", counter))
        return self.run(m.Done(f"d{self.seq}", counter), minutes)

    def estimate(self, service="PKB", ticket=None):
        return est.estimate_wait(self.times, self.state.queue, self.config, service, ticket, self.now)


def test_no_estimate_before_enough_service_times():
    hall = Hall()
    for _ in range(6):
        hall.issue()
    assert hall.estimate() is None
    hall.serve(4, 5)
    hall.serve(4, 5)
    assert hall.estimate() is None  # two samples are not enough
    assert est.estimate_text(hall.estimate()) == "belum dapat diperkirakan"
    hall.serve(4, 5)
    assert hall.estimate() is not None


def test_range_scales_with_people_ahead_and_open_counters():
    hall = Hall()
    for _ in range(20):
        hall.issue()
    for _ in range(4):
        hall.serve(4, 6)
    # one counter open (5 never worked): 16 ahead × 6 min ≈ 96 min
    one = hall.estimate()
    assert one.low <= 96 <= one.high
    for _ in range(3):
        hall.serve(5, 6)
    two = hall.estimate()  # two open counters: about half
    assert two.low <= 13 * 6 / 2 <= two.high
    assert two.centre < one.centre * 0.7


def test_ticket_estimate_counts_only_those_ahead_of_it():
    hall = Hall()
    first = hall.issue()
    for _ in range(10):
        hall.issue()
    for _ in range(3):
        hall.serve(4, 6)
    # tickets 1-3 were served; the waiting line starts at ticket 4
    ticket_4 = hall.state.queue.waiting[0].ticket
    ticket_last = hall.state.queue.waiting[-1].ticket
    assert hall.estimate(ticket=ticket_4).centre < hall.estimate(ticket=ticket_last).centre
    assert hall.estimate(ticket=first.ticket) is None  # already served: nothing to estimate


def test_one_very_long_case_does_not_double_the_estimate():
    hall = Hall()
    for _ in range(30):
        hall.issue()
    for _ in range(8):
        hall.serve(4, 5)
    before = hall.estimate()
    hall.serve(4, 60)  # an operator forgot to press Done
    after = hall.estimate()
    assert after.centre < before.centre * 1.6


def test_counter_idle_too_long_is_taken_as_closed():
    hall = Hall()
    for _ in range(10):
        hall.issue()
    for _ in range(3):
        hall.serve(4, 5)
    assert hall.estimate() is not None
    hall.now += est.OPEN_WINDOW + timedelta(minutes=1)
    assert hall.estimate() is None  # nobody is at the PKB counters: no honest answer


def test_turnaround_to_next_call_counts_as_service_time():
    times = est.ServiceTimes()
    events = [
        m.Called(1, T0, "a", 4, "C-001", "PKB"),
        m.Cleared(2, T0 + timedelta(minutes=5), "b", 4, "C-001", "done", "PKB"),
        m.Called(3, T0 + timedelta(minutes=6), "c", 4, "C-002", "PKB"),  # 1 min to call the next: work
        m.Cleared(4, T0 + timedelta(minutes=10), "d", 4, "C-002", "done", "PKB"),
        m.Called(5, T0 + timedelta(minutes=40), "e", 4, "C-003", "PKB"),  # 30 min idle: not work
    ]
    for event in events:
        times = est.apply(times, event)
    assert [s for _, s in times.counters[4].samples] == [360.0, 240.0]


def test_new_day_forgets_yesterday():
    times = est.apply(est.ServiceTimes(), m.Called(1, T0, "a", 4, "C-001", "PKB"))
    times = est.apply(times, m.Cleared(2, T0 + timedelta(minutes=5), "b", 4, "C-001", "done", "PKB"))
    tomorrow = T0 + timedelta(days=1)
    times = est.apply(times, m.Called(3, tomorrow, "c", 4, "C-001", "PKB"))
    assert times.day == tomorrow.date().isoformat() and times.counters[4].samples == ()


def test_text_uses_an_en_dash_range_in_minutes():
    assert est.Estimate(10, 15, 12.0).text() == "10–15 menit"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_a_simulated_day_mostly_falls_inside_the_range(scenario):
    # One day per scenario as a regression check; bench/bench_estimate.py has the figures over many days.
    result = simulate(scenario, seed=7)
    assert len(result.estimated) > 200
    assert result.inside() >= 0.75, f"{scenario.name}: {result.inside():.1%} inside"
    assert result.unknown_share() < 0.15


def test_agency_waits_spans_its_waiting_services_and_matches_the_kiosks_ranges():
    hall = Hall()
    for service in ("KTP", "KK", "KTP", "KTP", "KK", "PKB", "PKB", "PKB", "PKB"):
        hall.issue(service)
    for counter in (1, 2, 1, 2):
        hall.serve(counter, 4)  # DUK: four KTP/KK tickets served, four service times
    for _ in range(3):
        hall.issue("KTP")
    waits = est.agency_waits(hall.times, hall.state.queue, hall.config, hall.now)
    assert set(waits) == {"DUK"}  # SAM has people waiting but no service time yet: no estimate, no row value
    ranges = [hall.estimate(s) for s in ("KTP", "KK")]  # what the kiosk would tell a ticket of each, now
    assert waits["DUK"].low == min(r.low for r in ranges if r) and waits["DUK"].high == max(r.high for r in ranges if r)
    for _ in range(3):
        hall.serve(4, 5)
    waits = est.agency_waits(hall.times, hall.state.queue, hall.config, hall.now)
    assert waits["SAM"] == hall.estimate("PKB")


def test_agency_waits_is_empty_when_nobody_waits():
    hall = Hall()
    assert est.agency_waits(hall.times, hall.state.queue, hall.config, hall.now) == {}
