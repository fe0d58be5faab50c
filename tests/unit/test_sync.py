"""The display's state sync (signage.core.sync), reconnect backoff and call notices: pure parts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from signage.core import hall, messages as m, sync
from signage.core.announcements import notice_for
from signage.core.backoff import BACKOFF_MAX, backoff_delay

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=WIB)


def called(seq, counter=1, ticket="A-001", replay=False):
    return m.Called(seq, T0 + timedelta(seconds=seq), f"c{seq}", counter, ticket, replay=replay)


def welcome(seq, state, replaying=0):
    return m.Welcome(seq, state, "display", "tv", replaying=replaying)


def board_at(seq):
    return sync.Board(hall.fold(called(i) for i in range(1, seq + 1)), True)


class TestFold:
    """Which snapshot to adopt and which event to apply is the session's rule (tests/unit/test_session.py)."""

    def test_adopt_takes_the_hub_snapshot_with_the_hub_seq(self):
        hub_state = hall.fold([called(1), called(2, 2, "B-001")])
        board = sync.adopt(welcome(2, hub_state))
        assert board.synced and board.seq == 2 and board.state.counters[2].ticket == "B-001"

    def test_apply_folds_the_next_event(self):
        board = sync.apply(board_at(3), called(4, 7, "G-004"), 20)
        assert board.seq == 4 and board.state.counters[7].ticket == "G-004"


class TestBackoff:
    def test_grows_with_attempts_and_stays_capped(self):
        lowest = [backoff_delay(a, rng=lambda: 0.0) for a in range(10)]
        highest = [backoff_delay(a, rng=lambda: 0.999999) for a in range(10)]
        assert lowest[0] < lowest[3] and highest == sorted(highest)
        assert max(highest) <= BACKOFF_MAX and min(lowest) > 0

    def test_jitter_spreads_displays_apart(self):
        import random
        rng = random.Random(7)
        delays = {round(backoff_delay(4, rng=rng.random), 3) for _ in range(20)}
        assert len(delays) > 10


class TestNotices:
    def test_calls_and_recalls_become_notices_replays_are_not_live(self):
        live = notice_for(called(4, 5, "E-004"))
        assert (live.seq, live.kind, live.ticket, live.counter, live.live) == (4, "call", "E-004", 5, True)
        assert notice_for(called(4, 5, "E-004", replay=True)).live is False
        recall = notice_for(m.Recalled(6, T0, "r", 5, "E-004", replay=True))
        assert (recall.kind, recall.live) == ("recall", False)
        assert notice_for(m.Cleared(7, T0, "x", 5, "E-004")) is None
        assert notice_for(m.TickerSet(8, T0, "t", "hi")) is None
