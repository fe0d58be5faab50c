"""The report fold, pure: a morning at two counters worked out by hand, minute by minute."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from signage.core import messages as m, report
from support import hall_config

WIB = ZoneInfo("Asia/Jakarta")
OPEN = datetime(2026, 11, 30, 8, 0, tzinfo=WIB)
FULL = (4, 3, 4, 4, 3, 4, 4, 3, 4)
POOR = (2, 3, 3, 4, 3, 3, 3, 2, 1)


class Log:
    def __init__(self, start: datetime = OPEN):
        self.start, self.events = start, []

    def at(self, hh_mm: str) -> datetime:
        hours, minutes = map(int, hh_mm.split(":"))
        return self.start.replace(hour=hours, minute=minutes)

    def add(self, cls, when: str, **fields):
        self.events.append(cls(seq=len(self.events) + 1, at=self.at(when), id=f"c{len(self.events)}", **fields))

    def issue(self, when, ticket, service):
        self.add(m.Issued, when, ticket=ticket, service=service, number=int(ticket[-3:]))

    def call(self, when, counter, ticket, service=None):
        self.add(m.Called, when, counter=counter, ticket=ticket, service=service)

    def recall(self, when, counter, ticket):
        self.add(m.Recalled, when, counter=counter, ticket=ticket)

    def clear(self, when, counter, ticket, reason, service=None, to_service=None):
        self.add(m.Cleared, when, counter=counter, ticket=ticket, reason=reason, service=service,
                 to_service=to_service)

    def rate(self, when, counter, ticket, service, scores, comment=""):
        self.add(m.Rated, when, counter=counter, ticket=ticket, service=service, scores=scores,
                 form="full" if len(scores) == 9 else "short", comment=comment)


def a_morning() -> Log:
    """Two counters, five visitors; every figure below is worked out from these lines."""
    log = Log()
    log.issue("08:00", "A-001", "DUKCAPIL-01")
    log.issue("08:02", "A-002", "DUKCAPIL-02")
    log.issue("08:05", "B-001", "DPMPTSP-01")
    log.call("08:10", 1, "A-001", "DUKCAPIL-01")  # waited 10
    log.call("08:12", 2, "B-001", "DPMPTSP-01")  # waited 7
    log.clear("08:20", 1, "A-001", "done", "DUKCAPIL-01")  # served in 10
    log.rate("08:21", 1, "A-001", "DUKCAPIL-01", FULL)
    log.call("08:21", 1, "A-002", "DUKCAPIL-02")  # waited 19
    log.clear("08:22", 1, "A-002", "no_show", "DUKCAPIL-02")
    log.clear("08:25", 2, "B-001", "transfer", "DPMPTSP-01", "DUKCAPIL-03")  # joins DUKCAPIL-03's line
    log.call("08:30", 1, "B-001", "DUKCAPIL-03")  # a second visit: waited 5 in the new line
    log.clear("08:40", 1, "B-001", "done", "DUKCAPIL-03")  # served in 10
    log.rate("08:41", 1, "B-001", "DUKCAPIL-03", (4,))
    log.recall("08:45", 1, "A-002")  # the no-show turns up after all
    log.clear("08:50", 1, "A-002", "done", "DUKCAPIL-02")  # served in 5, from the recall
    log.rate("08:51", 1, "A-002", "DUKCAPIL-02", POOR, "Antre lama")
    log.issue("09:05", "A-003", "DUKCAPIL-01")
    log.call("09:10", 1, "A-003", "DUKCAPIL-01")  # waited 5
    log.recall("09:11", 1, "A-003")  # called again at the counter: not a new call
    log.clear("09:12", 1, "A-003", "no_show", "DUKCAPIL-01")  # and never called back
    log.issue("09:15", "A-004", "DUKCAPIL-04")  # still waiting at the end
    return log


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return hall_config(tmp_path_factory.mktemp("cfg"))


@pytest.fixture(scope="module")
def morning(cfg) -> report.Report:
    queue, ratings = report.facts(a_morning().events)
    return report.build(queue, ratings, cfg, "2026-11-30", "2026-11-30")


def counts(f: report.Figures) -> tuple:
    return (f.issued, f.called, f.served, f.no_show, f.transferred)


def by_key(entries, key):
    return next(e for e in entries if e.key == key)


def test_hall_counts_tickets(morning):
    assert counts(morning.hall) == (5, 4, 3, 1, 1)


def test_hall_wait_and_service_percentiles(morning):
    # First-visit waits 5, 7, 10, 19: median 8.5; p90 at rank 2.7 = 10 + 0.7 × 9 = 16.3; max 19.
    assert morning.hall.wait == report.Minutes(4, 8.5, 16.3, 19.0)
    # Services 5, 10, 10 minutes.
    assert morning.hall.service == report.Minutes(3, 10.0, 10.0, 10.0)


def test_services_count_visits(morning):
    services = {e.key: e.figures for e in morning.services}
    assert counts(services["DUKCAPIL-01"]) == (2, 2, 1, 1, 0)
    assert counts(services["DUKCAPIL-02"]) == (1, 1, 1, 0, 0)  # recalled and served: not a no-show
    assert counts(services["DPMPTSP-01"]) == (1, 1, 0, 0, 1)
    assert counts(services["DUKCAPIL-03"]) == (0, 1, 1, 0, 0)  # reached only by the transfer
    assert counts(services["DUKCAPIL-04"]) == (1, 0, 0, 0, 0)
    assert services["DUKCAPIL-03"].wait.p50 == 5.0  # 08:25 transfer → 08:30 call
    assert services["DUKCAPIL-02"].service.p50 == 5.0  # from the recall, not the first call
    assert counts(services["POLRES-01"]) == (0, 0, 0, 0, 0)  # every configured service is listed


def test_agencies_add_up_their_services(morning):
    dukcapil = by_key(morning.agencies, "DUKCAPIL").figures
    assert counts(dukcapil) == (4, 4, 3, 1, 0)
    assert dukcapil.wait == report.Minutes(4, 7.5, 16.3, 19.0)  # 5, 5, 10, 19: p90 = 10 + 0.7 × 9
    assert counts(by_key(morning.agencies, "DPMPTSP").figures) == (1, 1, 0, 0, 1)
    assert len(morning.agencies) == 21


def test_counters_and_their_idle_time(morning):
    one = by_key(morning.counters, 1)
    assert counts(one.figures) == (None, 4, 3, 1, 0)
    # Busy 08:10–20, 21–22, 30–40, 45–50, 09:10–12 = 28 min; idle between tickets 1 + 8 + 5 + 20 = 34.
    # Idle while a DUKCAPIL ticket waited: 08:20–21, 08:25–30 (B-001 transferred in), 09:05–10.
    assert one.idle == report.Idle(62.0, 28.0, 34.0, 11.0)
    two = by_key(morning.counters, 2)
    assert counts(two.figures) == (None, 1, 0, 0, 1)
    assert two.idle == report.Idle(13.0, 13.0, 0.0, 0.0)
    assert by_key(morning.counters, 9).idle == report.Idle(0.0, 0.0, 0.0, 0.0)


def test_per_hour_and_the_peak(morning):
    assert [(h.hour, h.arrivals, h.served, h.wait_p50) for h in morning.hours] == [(8, 3, 3, 10.0), (9, 2, 0, 5.0)]
    assert morning.peak_hour.hour == 8 and morning.peak_hour.label == "08.00–09.00"


def test_day_row_and_heatmap(morning):
    (day,) = morning.days
    assert (day.day, day.issued, day.called, day.served, day.no_show, day.transferred) == (
        "2026-11-30", 5, 4, 3, 1, 1)
    assert (day.wait_p50, day.wait_p90) == (8.5, 16.3)
    assert day.arrivals[8] == 3 and day.arrivals[9] == 2 and sum(day.arrivals) == 5
    assert morning.heatmap_hours() == (8, 9)


def test_ikm_per_hall_agency_and_service(morning):
    # Hall: FULL + POOR → element sums 6 6 7 8 6 7 7 5 5 → NRR Σ 28.5 → 28.5 / 9 × 25 = 79.17, B.
    hall = morning.hall.survey
    assert (hall.ikm.value, hall.ikm.grade, hall.ikm.respondents) == (79.17, "B", 2)
    assert morning.nrr == (3.0, 3.0, 3.5, 4.0, 3.0, 3.5, 3.5, 2.5, 2.5)
    assert (hall.short_respondents, hall.short_mean, hall.short_counts) == (1, 4.0, (0, 0, 0, 1))
    services = {e.key: e.figures.survey for e in morning.services}
    assert (services["DUKCAPIL-01"].ikm.value, services["DUKCAPIL-01"].ikm.grade) == (91.67, "A")  # Σ 33
    assert (services["DUKCAPIL-02"].ikm.value, services["DUKCAPIL-02"].ikm.grade) == (66.67, "C")  # Σ 24
    assert services["DUKCAPIL-03"].ikm.value is None and services["DUKCAPIL-03"].short_respondents == 1
    agency = by_key(morning.agencies, "DUKCAPIL").figures.survey
    assert (agency.ikm.value, agency.ikm.respondents, agency.short_respondents) == (79.17, 2, 1)
    assert [c.text for c in morning.comments] == ["Antre lama"]


def test_document_has_the_documented_top_level_keys(morning):
    doc = report.to_document(morning, OPEN)
    assert {"hall", "agencies", "services", "counters"} <= set(doc)
    for entry in [doc["hall"], *doc["agencies"], *doc["services"]]:
        assert {"issued", "called", "served", "no_show", "transferred", "wait_minutes", "service_minutes",
                "ikm", "grade", "respondents"} <= set(entry)
    assert doc["counters"][0]["idle_minutes"] == {"working": 62.0, "busy": 28.0, "idle": 34.0,
                                                 "idle_while_waiting": 11.0}
    assert doc["hall"]["grade"] == "B" and doc["hall"]["grade_label"] == "Baik"
    assert doc["peak_hour"]["label"] == "08.00–09.00"
    assert doc["heatmap"] == {"hours": [8, 9], "rows": [{"day": "2026-11-30", "arrivals": [3, 2]}]}


def test_a_range_adds_days_and_tickets_restart_each_day(cfg):
    first = a_morning()
    second = Log(OPEN + timedelta(days=1))
    second.issue("10:00", "A-001", "DUKCAPIL-01")  # the same number, another visitor
    second.call("10:30", 1, "A-001", "DUKCAPIL-01")
    second.clear("10:31", 1, "A-001", "done", "DUKCAPIL-01")
    events = first.events + [e.__class__(**{**e.__dict__, "seq": e.seq + 100}) for e in second.events]
    queue, ratings = report.facts(events)
    both = report.build(queue, ratings, cfg, "2026-11-30", "2026-12-01")
    assert counts(both.hall) == (6, 5, 4, 1, 1)
    assert both.hall.wait.max == 30.0 and both.hall.wait.n == 5
    assert [d.day for d in both.days] == ["2026-11-30", "2026-12-01"]
    assert both.heatmap_hours() == (8, 9, 10)
    assert [(h.hour, h.arrivals) for h in both.hours] == [(8, 3), (9, 2), (10, 1)]
    only_second = report.build(queue, ratings, cfg, "2026-12-01", "2026-12-01")
    assert counts(only_second.hall) == (1, 1, 1, 0, 0) and only_second.hall.survey.ikm.respondents == 0


def test_an_empty_day(cfg):
    empty = report.build([], [], cfg, "2026-11-30", "2026-11-30")
    assert counts(empty.hall) == (0, 0, 0, 0, 0)
    assert empty.hall.wait == report.Minutes(0, None, None, None)
    assert empty.hours == () and empty.peak_hour is None and empty.days == ()


def test_calls_from_an_outside_queue_system_count_without_a_wait(cfg):
    log = Log()
    log.call("08:00", 5, "X-900")  # never issued by the hub
    log.clear("08:06", 5, "X-900", "done")
    queue, ratings = report.facts(log.events)
    built = report.build(queue, ratings, cfg, "2026-11-30", "2026-11-30")
    assert counts(built.hall) == (0, 1, 1, 0, 0)
    assert built.hall.wait.n == 0 and built.hall.service == report.Minutes(1, 6.0, 6.0, 6.0)
    assert by_key(built.services, "?").name == "(tanpa layanan)"


def test_next_without_done_leaves_the_ticket_unfinished(cfg):
    log = Log()
    log.issue("08:00", "A-001", "DUKCAPIL-01")
    log.issue("08:01", "A-002", "DUKCAPIL-01")
    log.call("08:05", 1, "A-001", "DUKCAPIL-01")
    log.call("08:09", 1, "A-002", "DUKCAPIL-01")  # Next pressed without Done
    log.clear("08:15", 1, "A-002", "done", "DUKCAPIL-01")
    queue, ratings = report.facts(log.events)
    built = report.build(queue, ratings, cfg, "2026-11-30", "2026-11-30")
    assert counts(built.hall) == (2, 2, 1, 0, 0)
    assert built.hall.service == report.Minutes(1, 6.0, 6.0, 6.0)
    assert by_key(built.counters, 1).idle == report.Idle(10.0, 10.0, 0.0, 0.0)  # busy from 08:05 to 08:15


def test_range_must_be_in_order(cfg):
    with pytest.raises(ValueError):
        report.build([], [], cfg, "2026-12-01", "2026-11-30")


def test_journal_projection_knows_only_wire_fields():
    from signage.core import protocol

    assert protocol.journal_projection(("ticket", "scores[0]")) == (
        "json_extract(body, '$.ticket'), json_extract(body, '$.scores[0]')")
    with pytest.raises(ValueError):
        protocol.journal_projection(("tiket",))
    assert protocol.decode_projected("[4,3]") == [4, 3] and protocol.decode_projected(None) is None


def test_facts_carry_day_hour_and_exact_milliseconds():
    at = OPEN.replace(hour=9, minute=41, second=5, microsecond=123_999)
    (fact,), _ = report.facts([m.Called(7, at, "c", 5, "E-023", "POLRES-01")])
    assert fact == report.QueueFact(7, "2026-11-30", 9, 1796006465123, "called", 5, "E-023", None, None, None)
    assert report.epoch_ms(at) == int(at.timestamp()) * 1000 + 123  # truncated, as the wire's times are
