"""The announcement queue, driven with a fake clock and no audio."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from signage.core.phrases import build_phrase
from signage.config import load_config
from signage.core.announcements import (
    AnnouncementQueue,
    CallNotice,
    QueueRules,
    enqueue,
    finish,
    planned_seconds,
    start_next,
)

ROOT = Path(__file__).resolve().parents[2]
WIB = timezone(timedelta(hours=7))
RULES = QueueRules(max_age_seconds=60, queue_size=64, burst_threshold=3, repeat=2)


class FakeClock:
    def __init__(self):
        self.now = datetime(2026, 11, 30, 8, 0, 0, tzinfo=WIB)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def notice(seq, counter, ticket=None, *, kind="call", at=None, live=True, clock=None):
    at = at or (clock.now if clock else datetime(2026, 11, 30, 8, 0, 0, tzinfo=WIB))
    return CallNotice(seq, kind, ticket or f"A-{seq:03d}", counter, at, live)


def fill(clock, notices, rules=RULES):
    queue = AnnouncementQueue()
    for n in notices:
        queue = enqueue(queue, n, clock.now, rules)
    return queue


def drain(queue, clock, rules=RULES, seconds_each=5.0):
    """Speak everything; returns the announcements in order."""
    spoken = []
    while True:
        queue, announcement = start_next(queue, clock.now, rules)
        if announcement is None:
            return spoken, queue
        spoken.append(announcement)
        clock.advance(seconds_each)
        queue = finish(queue)


# ---------------------------------------------------------------- ordering


def test_calls_are_spoken_in_arrival_order(clock):
    queue = fill(clock, [notice(1, 5, clock=clock), notice(2, 3, clock=clock)])
    spoken, _ = drain(queue, clock)
    assert [a.notice.seq for a in spoken] == [1, 2]
    assert all(a.form == "call" and a.repeats == 2 and a.chime for a in spoken)


def test_strictly_one_at_a_time(clock):
    queue = fill(clock, [notice(1, 5, clock=clock), notice(2, 3, clock=clock)])
    queue, first = start_next(queue, clock.now, RULES)
    assert first.notice.seq == 1 and queue.busy
    unchanged, second = start_next(queue, clock.now, RULES)
    assert second is None and unchanged is queue  # still playing: nothing starts
    queue, second = start_next(finish(queue), clock.now, RULES)
    assert second.notice.seq == 2


def test_parts_of_an_announcement():
    rules = replace(RULES, repeat=3)
    queue, a = start_next(fill(FakeClock(), [notice(1, 1)], rules), FakeClock().now, rules)
    assert a.parts == ("chime", "speech", "pause", "speech", "pause", "speech")


def test_empty_queue_starts_nothing(clock):
    queue, a = start_next(AnnouncementQueue(), clock.now, RULES)
    assert a is None and not queue.busy


# ---------------------------------------------------------------- recall and superseding


def test_newer_call_supersedes_the_same_counters_unspoken_call(clock):
    queue = fill(clock, [notice(1, 5, "A-001", clock=clock), notice(2, 7, "B-001", clock=clock),
                         notice(3, 5, "A-002", clock=clock)])
    spoken, queue = drain(queue, clock)
    assert [(a.notice.counter, a.notice.ticket) for a in spoken] == [(7, "B-001"), (5, "A-002")]
    assert queue.stats.superseded == 1


def test_a_call_being_spoken_is_not_superseded_and_the_new_one_follows(clock):
    queue = fill(clock, [notice(1, 5, "A-001", clock=clock)])
    queue, first = start_next(queue, clock.now, RULES)
    queue = enqueue(queue, notice(2, 5, "A-002", clock=clock), clock.now, RULES)
    assert queue.current.notice.ticket == "A-001"
    spoken, queue = drain(finish(queue), clock)
    assert [a.notice.ticket for a in spoken] == ["A-002"]
    assert queue.stats.superseded == 0


def test_recall_re_announces_with_the_recall_form(clock):
    queue = fill(clock, [notice(1, 5, "A-001", clock=clock)])
    spoken, queue = drain(queue, clock)
    queue = enqueue(queue, notice(2, 5, "A-001", kind="recall", clock=clock), clock.now, RULES)
    again, _ = drain(queue, clock)
    assert [a.form for a in spoken + again] == ["call", "recall"]


def test_recall_of_a_still_waiting_call_merges_into_it(clock):
    queue = fill(clock, [notice(1, 5, "A-001", clock=clock),
                         notice(2, 5, "A-001", kind="recall", clock=clock)])
    spoken, queue = drain(queue, clock)
    assert [(a.notice.seq, a.form) for a in spoken] == [(1, "call")]
    assert queue.stats.merged == 1


def test_same_seq_twice_is_spoken_once(clock):
    queue = fill(clock, [notice(1, 5, clock=clock), notice(1, 5, clock=clock)])
    spoken, queue = drain(queue, clock)
    assert len(spoken) == 1 and queue.stats.duplicates == 1


# ---------------------------------------------------------------- age and replay


def test_calls_older_than_max_age_are_not_spoken(clock):
    old = notice(1, 5, at=clock.now - timedelta(seconds=61))
    edge = notice(2, 6, at=clock.now - timedelta(seconds=60))
    queue = fill(clock, [old, edge])
    spoken, queue = drain(queue, clock)
    assert [a.notice.seq for a in spoken] == [2]
    assert queue.stats.stale == 1


def test_calls_that_age_while_waiting_are_skipped(clock):
    rules = replace(RULES, burst_threshold=99)
    queue = fill(clock, [notice(1, 1, clock=clock), notice(2, 2, clock=clock)], rules)
    queue, first = start_next(queue, clock.now, rules)
    clock.advance(61)  # the first one took very long (or the display stalled)
    queue, second = start_next(finish(queue), clock.now, rules)
    assert second is None and queue.stats.stale == 1 and queue.pending == ()


def test_replayed_events_are_never_spoken(clock):
    queue = fill(clock, [notice(1, 5, live=False, clock=clock), notice(2, 6, clock=clock)])
    spoken, queue = drain(queue, clock)
    assert [a.notice.seq for a in spoken] == [2]
    assert queue.stats.replayed == 1


def test_unknown_kind_is_refused_and_the_queue_is_unchanged(clock):
    queue = fill(clock, [notice(1, 5, clock=clock)])
    with pytest.raises(ValueError, match="kind"):
        enqueue(queue, notice(2, 5, kind="skip", clock=clock), clock.now, RULES)
    assert [n.seq for n in queue.pending] == [1]


# ---------------------------------------------------------------- size


def test_queue_is_bounded_and_drops_the_oldest(clock):
    rules = replace(RULES, queue_size=4, burst_threshold=99)
    queue = fill(clock, [notice(seq, seq, clock=clock) for seq in range(1, 8)], rules)
    assert [n.seq for n in queue.pending] == [4, 5, 6, 7]
    assert queue.stats.dropped == 3 and queue.stats.accepted == 7


# ---------------------------------------------------------------- bursts


def test_burst_uses_the_short_form_once_and_chimes_once_per_run(clock):
    queue = fill(clock, [notice(seq, seq, clock=clock) for seq in range(1, 6)])
    spoken, queue = drain(queue, clock, seconds_each=2)
    # 5 waiting, threshold 3: short while ≥3 wait, then the last two in full
    assert [a.form for a in spoken] == ["short", "short", "short", "call", "call"]
    assert [a.repeats for a in spoken] == [1, 1, 1, 2, 2]
    assert [a.chime for a in spoken] == [True, False, False, True, True]


def test_a_new_burst_after_idle_is_chimed_again(clock):
    first, _ = drain(fill(clock, [notice(s, s, clock=clock) for s in range(1, 4)]), clock, seconds_each=1)
    queue = AnnouncementQueue()
    for s in range(4, 7):
        queue = enqueue(queue, notice(s, s, clock=clock), clock.now, RULES)
    second, _ = drain(queue, clock, seconds_each=1)
    assert first[0].chime and second[0].chime


@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_opening_burst_of_21_drains_at_least_twice_as_fast(clock, repeat):
    """21 counters call at once. Durations model: the chime and pause lengths of the real
    assets, and speech time proportional to phrase length at the configured rate."""
    config = load_config(ROOT / "config.yaml").announcer
    rules = replace(QueueRules.from_config(config), repeat=repeat)
    chime, pause = 1.35, 0.5
    chars_per_second = config.rate * 6 / 60  # ~6 characters per spoken word

    def speech_seconds(a):
        return len(build_phrase(a.notice.ticket, f"Loket {a.notice.counter}", form=a.form,
                                config=config)) / chars_per_second

    notices = [notice(c, c, f"{chr(64 + c)}-001", clock=clock) for c in range(1, 22)]
    queue = fill(clock, notices, rules)
    bursty = 0.0
    while True:
        queue, a = start_next(queue, clock.now, rules)
        if a is None:
            break
        seconds = planned_seconds(a, chime=chime, speech=speech_seconds(a), pause=pause)
        bursty += seconds
        clock.advance(seconds)
        queue = finish(queue)

    naive = 0.0
    for n in notices:
        full = replace(start_next(fill(FakeClock(), [n], rules), n.at, rules)[1], notice=n)
        naive += planned_seconds(full, chime=chime, speech=speech_seconds(full), pause=pause)

    assert queue.stats.started == 21 and queue.stats.stale == 0
    print(f"repeat={repeat}: naive {naive:.1f} s, burst rules {bursty:.1f} s")
    assert naive / bursty >= 2.0, (naive, bursty)
