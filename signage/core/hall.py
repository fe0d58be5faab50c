"""What the hall shows: fold events into a Snapshot.

The hub keeps one to answer `welcome`; every display keeps its own copy and
applies the same events, so both always agree. Pure: no I/O, time comes from
the events themselves.

Rules:
- `seq` must rise by exactly one; the session rules (core/session.py) hand
  over only the next event and resync on a gap.
- A service day is the event's local date (events carry the hall's offset).
  The first event of a new day starts from an empty board; history stays in
  the journal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from signage.core import messages as m

EMPTY = m.Snapshot()


def service_day(at: datetime) -> str:
    """The service day of an aware time, in the offset it carries."""
    return at.date().isoformat()


def apply(state: m.Snapshot, event: m.Event, history_limit: int = 20) -> m.Snapshot:
    """Return the state after `event`. The caller has checked the seq (see accept)."""
    day = service_day(event.at)
    if state.day != day:
        state = replace(EMPTY, seq=state.seq, day=day)
    counters = state.counters
    history = state.history
    waiting = state.waiting
    ticker = state.ticker

    if isinstance(event, m.Called):
        counters = {**counters, event.counter: m.CounterNow(
            event.counter, event.ticket, event.service, event.at, event.seq)}
        entry = m.HistoryEntry(event.seq, event.at, event.counter, event.ticket, event.service)
        history = (entry,) + history[: max(history_limit - 1, 0)]
    elif isinstance(event, m.Recalled):
        current = counters.get(event.counter)
        counters = {**counters, event.counter: m.CounterNow(
            event.counter, event.ticket, event.service or (current.service if current else None),
            event.at, event.seq)}
        entry = m.HistoryEntry(event.seq, event.at, event.counter, event.ticket, event.service, recall=True)
        history = (entry,) + history[: max(history_limit - 1, 0)]
    elif isinstance(event, m.Cleared):
        counters = {**counters, event.counter: m.CounterNow(event.counter, None, None, event.at, event.seq)}
    elif isinstance(event, m.TickerSet):
        ticker = event.text or None
    if getattr(event, "waiting", None):
        waiting = {**waiting, **event.waiting}
    return m.Snapshot(event.seq, day, counters, history, ticker, waiting)


def fold(events, history_limit: int = 20, state: m.Snapshot = EMPTY) -> m.Snapshot:
    for event in events:
        state = apply(state, event, history_limit)
    return state


def for_day(state: m.Snapshot, day: str) -> m.Snapshot:
    """The state as it should be shown on `day`: empty if it belongs to an earlier day."""
    if state.day == day:
        return state
    return replace(EMPTY, seq=state.seq, day=day)
