"""Hub decisions and the queue engine, pure: state + command + actor + now → event."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

import pytest

from signage.config import Config
from signage.core import hall, messages as m
from signage.core.rules import HubState, decide, rebuild
from signage.errors import CommandRejected

T0 = datetime(2026, 11, 28, 8, 0)


class Desk:
    """Drives decide/apply like the hub does, without any I/O."""

    def __init__(self, config: Config, start: datetime | None = None):
        self.config = config
        self.now = (start or T0).replace(tzinfo=config.hall.timezone)
        self.state = HubState()
        self.events: list[m.Event] = []
        self.n = 0

    def token(self, name: str):
        return next(t for t in self.config.tokens if t.name == name)

    def send(self, who: str, cmd_type, *args, **kw) -> m.Event:
        self.n += 1
        cmd = cmd_type(f"id{self.n}", *args, **kw)
        state = self.state.for_day(hall.service_day(self.now))
        event = decide(state, cmd, self.token(who), self.config, self.now, len(self.events) + 1)
        self.state = state.apply(event, self.config.hub.history)
        self.events.append(event)
        self.now += timedelta(seconds=5)
        return event

    def refused(self, who: str, cmd_type, *args, **kw) -> CommandRejected:
        before = self.state
        with pytest.raises(CommandRejected) as info:
            self.send(who, cmd_type, *args, **kw)
        assert self.state == before  # a refusal changes nothing
        return info.value


@pytest.fixture
def desk(config) -> Desk:
    return Desk(config)


class TestAccess:
    def test_display_cannot_call(self, desk):
        err = desk.refused("tv-semua", m.Call, 5, "A-023")
        assert err.code == "forbidden" and "display" in err.message

    def test_kiosk_can_only_issue(self, desk):
        assert desk.refused("anjungan-1", m.Next, 1).code == "forbidden"

    def test_operator_scoped_to_counter(self, desk):
        err = desk.refused("loket-05", m.Call, 6, "A-023")
        assert err.code == "forbidden"
        assert err.message == "token 'loket-05' may act on counter(s) 5, not counter 6"

    def test_unknown_counter(self, desk):
        err = desk.refused("supervisor", m.Call, 99, "A-023")
        assert (err.code, err.message) == ("unknown_counter", "counter 99 is not in config")

    def test_supervisor_any_counter(self, desk):
        assert desk.send("supervisor", m.Call, 21, "U-001").counter == 21

    def test_the_hall_wide_ticker_needs_an_all_counter_operator(self, desk):
        err = desk.refused("loket-05", m.Ticker, "Loket 5 tutup")
        assert err.code == "forbidden"
        assert err.message == ("token 'loket-05' may act on counter(s) 5; the hall-wide ticker needs an operator "
                               "token for every counter (counters: all)")
        assert desk.refused("anjungan-1", m.Ticker, "x").code == "forbidden"
        assert desk.refused("tv-semua", m.Ticker, "x").code == "forbidden"
        assert desk.send("supervisor", m.Ticker, "Loket 5 tutup").text == "Loket 5 tutup"


class TestCalls:
    def test_call_recall_clear(self, desk):
        called = desk.send("loket-05", m.Call, 5, "E-023")
        assert isinstance(called, m.Called) and called.seq == 1
        recalled = desk.send("loket-05", m.Recall, 5)
        assert isinstance(recalled, m.Recalled) and recalled.ticket == "E-023"
        cleared = desk.send("loket-05", m.Clear, 5)
        assert (cleared.ticket, cleared.reason) == ("E-023", "clear")
        assert desk.state.hall.counters[5].ticket is None
        assert [h.ticket for h in desk.state.hall.history] == ["E-023", "E-023"]

    def test_recall_idle_counter(self, desk):
        assert desk.refused("loket-05", m.Recall, 5).code == "no_current_ticket"

    def test_ticker(self, desk):
        desk.send("supervisor", m.Ticker, "  Loket 3 istirahat  ")
        assert desk.state.hall.ticker == "Loket 3 istirahat"
        desk.send("supervisor", m.Ticker, "")
        assert desk.state.hall.ticker is None


class TestQueue:
    def issue(self, desk, service, priority=False) -> m.Issued:
        return desk.send("anjungan-1", m.Issue, service, priority)

    def test_numbers_per_prefix_and_positions(self, desk):
        a = self.issue(desk, "DUKCAPIL-01")
        b = self.issue(desk, "DUKCAPIL-01")
        c = self.issue(desk, "DUKCAPIL-02")  # same agency letter, shared series
        d = self.issue(desk, "SAMSAT-01")
        assert [a.ticket, b.ticket, c.ticket, d.ticket] == ["A-001", "A-002", "A-003", "C-001"]
        assert [a.position, b.position, c.position] == [1, 2, 1]
        assert b.waiting == {"DUKCAPIL-01": 2}
        assert desk.state.hall.waiting == {"DUKCAPIL-01": 2, "DUKCAPIL-02": 1, "SAMSAT-01": 1}

    def test_unknown_service(self, desk):
        err = desk.refused("anjungan-1", m.Issue, "NOPE")
        assert (err.code, err.message) == ("unknown_service", "service 'NOPE' is not in config")

    def test_next_takes_the_oldest_across_the_counters_services(self, desk):
        self.issue(desk, "DUKCAPIL-02")
        self.issue(desk, "DUKCAPIL-01")
        self.issue(desk, "SAMSAT-01")  # not counter 1's
        first = desk.send("loket-01", m.Next, 1)
        second = desk.send("loket-01", m.Next, 1)
        assert (first.ticket, first.service) == ("A-001", "DUKCAPIL-02")
        assert (second.ticket, second.service) == ("A-002", "DUKCAPIL-01")
        assert desk.refused("loket-01", m.Next, 1).code == "queue_empty"
        assert desk.state.hall.waiting["DUKCAPIL-01"] == 0

    def test_priority_goes_first(self, desk):
        self.issue(desk, "DUKCAPIL-01")
        vip = self.issue(desk, "DUKCAPIL-01", priority=True)
        assert vip.position == 1
        assert desk.send("loket-01", m.Next, 1).ticket == vip.ticket

    def test_priority_disabled(self, config):
        cfg = dataclasses.replace(config, queue=dataclasses.replace(config.queue, priority=False))
        assert Desk(cfg).refused("anjungan-1", m.Issue, "DUKCAPIL-01", True).code == "forbidden"

    def test_calling_a_ticket_of_another_service_is_forbidden(self, desk):
        ticket = self.issue(desk, "SAMSAT-01").ticket
        err = desk.refused("supervisor", m.Call, 1, ticket)
        assert err.code == "forbidden" and "does not serve SAMSAT-01" in err.message

    def test_calling_a_waiting_ticket_removes_it_from_the_line(self, desk):
        ticket = self.issue(desk, "SAMSAT-01").ticket
        called = desk.send("supervisor", m.Call, 3, ticket)
        assert called.service == "SAMSAT-01" and called.waiting == {"SAMSAT-01": 0}
        assert desk.state.queue.waiting == ()

    def test_skip_then_recall_within_window(self, desk):
        self.issue(desk, "DUKCAPIL-01")
        desk.send("loket-01", m.Next, 1)
        skipped = desk.send("loket-01", m.Skip, 1)
        assert (skipped.reason, skipped.ticket) == ("no_show", "A-001")
        assert desk.state.queue.no_shows[0].ticket == "A-001"
        back = desk.send("loket-01", m.Recall, 1, "A-001")
        assert isinstance(back, m.Recalled) and back.ticket == "A-001"
        assert desk.state.queue.no_shows == ()
        assert desk.state.queue.serving[1].ticket == "A-001"

    def test_recall_after_window_is_refused(self, desk):
        self.issue(desk, "DUKCAPIL-01")
        desk.send("loket-01", m.Next, 1)
        desk.send("loket-01", m.Skip, 1)
        desk.now += timedelta(minutes=31)
        err = desk.refused("loket-01", m.Recall, 1, "A-001")
        assert err.code == "unknown_ticket" and "more than 30 minutes ago" in err.message

    def test_recall_unknown_no_show(self, desk):
        assert desk.refused("loket-01", m.Recall, 1, "A-009").code == "unknown_ticket"

    def test_transfer_keeps_place(self, desk):
        self.issue(desk, "DUKCAPIL-01")  # A-001, will be transferred
        self.issue(desk, "DPMPTSP-01")  # B-001, issued after A-001
        desk.send("loket-01", m.Next, 1)
        moved = desk.send("loket-01", m.Transfer, 1, "DPMPTSP-01")
        assert (moved.reason, moved.to_service, moved.keep_place) == ("transfer", "DPMPTSP-01", True)
        assert desk.send("loket-02", m.Next, 2).ticket == "A-001"  # ahead of B-001

    def test_transfer_to_the_back(self, config):
        cfg = dataclasses.replace(config, queue=dataclasses.replace(config.queue, transfer="back"))
        desk = Desk(cfg)
        self.issue(desk, "DUKCAPIL-01")
        self.issue(desk, "DPMPTSP-01")
        desk.send("loket-01", m.Next, 1)
        desk.send("loket-01", m.Transfer, 1, "DPMPTSP-01")
        assert desk.send("loket-02", m.Next, 2).ticket == "B-001"

    def test_done(self, desk):
        self.issue(desk, "DUKCAPIL-01")
        desk.send("loket-01", m.Next, 1)
        assert desk.send("loket-01", m.Done, 1).reason == "done"
        assert desk.refused("loket-01", m.Done, 1).code == "no_current_ticket"

    def test_new_day_restarts_numbers_and_empties_the_board(self, desk):
        self.issue(desk, "DUKCAPIL-01")
        desk.send("loket-01", m.Next, 1)
        self.issue(desk, "DUKCAPIL-01")
        desk.now += timedelta(days=1)
        fresh = self.issue(desk, "DUKCAPIL-01")
        assert fresh.ticket == "A-001" and fresh.position == 1
        assert desk.state.hall.counters == {} and desk.state.hall.day == "2026-11-29"
        assert fresh.seq == 4  # seq carries on across days

    def test_rebuild_from_events_gives_the_same_state(self, desk):
        rng = random.Random(7)
        services = [s.code for s in desk.config.services]
        for _ in range(300):
            kind = rng.random()
            counter = rng.randint(1, 21)
            try:
                if kind < 0.45:
                    self.issue(desk, rng.choice(services), priority=rng.random() < 0.1)
                elif kind < 0.75:
                    desk.send("supervisor", m.Next, counter)
                elif kind < 0.85:
                    desk.send("supervisor", m.Skip, counter)
                elif kind < 0.92:
                    desk.send("supervisor", m.Transfer, counter, rng.choice(services))
                else:
                    desk.send("supervisor", m.Done, counter)
            except CommandRejected:
                pass
        assert len(desk.events) > 150
        assert rebuild(desk.events, desk.config.hub.history) == desk.state
        # and every ticket was called at most once by `next`
        nexted = [e.ticket for e in desk.events if isinstance(e, m.Called)]
        issued = {e.ticket for e in desk.events if isinstance(e, m.Issued)}
        assert set(nexted) <= issued
