"""The board state fold shared by hub and displays."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from signage.core import hall, messages as m

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 28, 9, 0, tzinfo=WIB)


def called(seq, counter, ticket, at=AT):
    return m.Called(seq, at, f"c{seq}", counter, ticket)


def test_call_sets_counter_and_history_newest_first():
    state = hall.fold([called(1, 5, "A-001"), called(2, 6, "B-001"), called(3, 5, "A-002")])
    assert state.seq == 3 and state.day == "2026-11-28"
    assert state.counters[5].ticket == "A-002" and state.counters[6].ticket == "B-001"
    assert [h.ticket for h in state.history] == ["A-002", "B-001", "A-001"]


def test_history_is_bounded():
    state = hall.fold([called(i, 1, f"A-{i:03d}") for i in range(1, 51)], history_limit=6)
    assert len(state.history) == 6 and state.history[0].ticket == "A-050"


def test_recall_marks_history_and_keeps_ticket():
    state = hall.fold([called(1, 5, "A-001"), m.Recalled(2, AT, "r", 5, "A-001")])
    assert state.history[0].recall and state.counters[5].ticket == "A-001"


def test_clear_idles_counter():
    state = hall.fold([called(1, 5, "A-001"), m.Cleared(2, AT, "x", 5, "A-001")])
    assert state.counters[5].ticket is None


def test_waiting_counts_merge():
    state = hall.fold([
        m.Issued(1, AT, "i", "A-001", "S1", 1, waiting={"S1": 1}),
        m.Issued(2, AT, "i2", "B-001", "S2", 1, waiting={"S2": 1}),
        m.Called(3, AT, "n", 1, "A-001", "S1", {"S1": 0}),
    ])
    assert state.waiting == {"S1": 0, "S2": 1}


def test_new_day_starts_empty_but_seq_continues():
    state = hall.fold([called(1, 5, "A-001"), m.TickerSet(2, AT, "t", "hari ini")])
    state = hall.apply(state, called(3, 7, "G-001", AT + timedelta(days=1)))
    assert state.day == "2026-11-29" and state.seq == 3
    assert set(state.counters) == {7} and state.ticker is None and len(state.history) == 1


def test_for_day():
    state = hall.fold([called(1, 5, "A-001")])
    assert hall.for_day(state, "2026-11-28") is state
    tomorrow = hall.for_day(state, "2026-11-29")
    assert tomorrow.counters == {} and tomorrow.seq == 1
