"""The supervisor's figures: journal events in, a Report out. docs/reports.md defines each one.

Pure: no SQLite, no files, no clock. The shell (signage/reports/) reads the
journal and hands this module two streams of facts in seq order: queue facts
(issued, called, recalled, cleared) and ratings. `facts()` makes the same facts
from event objects, so tests and the hub's live state can use it too.

Everything is per service day (the local date an event carries); a range of
days adds the days up, and its percentiles are over all its samples.

Two ways of counting, on purpose:
- the **hall** counts tickets: one visitor, one ticket, however often moved;
- **services** count visits: a ticket's stay in one service's line, from its
  issue (or its transfer into the service) to done, no-show or transfer out.
  A transferred ticket is one visit to each service. **Agencies** add up their
  services; **counters** count the visits they called, served, skipped and
  transferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, NamedTuple, Sequence

from signage.core import messages as m, survey, text
from signage.core.hall import service_day

REPORT_VERSION = 1
UNKNOWN = "?"  # the agency of a service or counter no longer in config; the code of "no service"


class QueueFact(NamedTuple):
    """What the report needs of an issued/called/recalled/cleared event (a journal row, or an event).

    Time comes pre-digested, so a year's 200,000 facts need no datetime work:
    `ms` is the event's instant in whole milliseconds since 1970 (UTC), `hour`
    its local hour on the hall's clock, `day` its service day.
    """

    seq: int
    day: str  # service day, "2026-11-30"
    hour: int  # 0..23, local
    ms: int  # milliseconds since the epoch, truncated
    kind: str  # "issued" | "called" | "recalled" | "cleared"
    counter: int | None  # None for issued
    ticket: str | None
    service: str | None  # issued only: later events of a ticket are followed by the ticket
    reason: str | None  # cleared only: clear | done | no_show | transfer
    to_service: str | None  # cleared only


class RatingFact(NamedTuple):
    at: datetime
    counter: int
    ticket: str
    service: str | None
    form: str  # full | short
    scores: tuple[int, ...]
    comment: str


QUEUE_KINDS = ("issued", "called", "recalled", "cleared")


def facts(events: Iterable[m.Event]) -> tuple[list[QueueFact], list[RatingFact]]:
    """The report's facts from event objects, in the order given."""
    queue: list[QueueFact] = []
    ratings: list[RatingFact] = []
    for e in events:
        if isinstance(e, m.Rated):
            ratings.append(RatingFact(e.at, e.counter, e.ticket, e.service, e.form, tuple(e.scores), e.comment))
            continue
        if isinstance(e, m.Issued):
            kind, counter, service, reason, to_service = "issued", None, e.service, None, None
        elif isinstance(e, (m.Called, m.Recalled)):
            kind = "called" if isinstance(e, m.Called) else "recalled"
            counter, service, reason, to_service = e.counter, None, None, None
        elif isinstance(e, m.Cleared):
            kind, counter, service, reason, to_service = "cleared", e.counter, None, e.reason, e.to_service
        else:
            continue
        queue.append(QueueFact(e.seq, service_day(e.at), e.at.hour, epoch_ms(e.at), kind, counter, e.ticket,
                               service, reason, to_service))
    return queue, ratings


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def epoch_ms(at: datetime) -> int:
    """An aware time as whole milliseconds since 1970 (truncated, as the wire's times are)."""
    return (at - _EPOCH) // _MS


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Minutes:
    """A sample of durations, in minutes (two decimals); None when there are no samples."""

    n: int
    p50: float | None
    p90: float | None
    max: float | None


@dataclass(frozen=True)
class SurveyFigures:
    ikm: survey.Ikm  # full form only
    short_respondents: int
    short_mean: float | None  # mean of the one overall score, two decimals
    short_counts: tuple[int, int, int, int]  # how many gave 1, 2, 3, 4


@dataclass(frozen=True)
class Figures:
    issued: int | None  # None for counters: a counter issues nothing
    called: int
    served: int
    no_show: int
    transferred: int
    wait: Minutes  # joined the line → first call
    service: Minutes  # at the counter → done
    survey: SurveyFigures | None = None  # hall, agencies, services


@dataclass(frozen=True)
class Idle:
    """A counter's day, in minutes: busy (a ticket at the counter) and idle (between tickets)."""

    working: float  # busy + idle
    busy: float
    idle: float
    idle_while_waiting: float  # idle while someone waited for one of the counter's services


@dataclass(frozen=True)
class Entry:
    key: str | int  # agency or service code, counter number
    name: str
    agency: str | None  # services and counters
    figures: Figures
    idle: Idle | None = None  # counters
    short_name: str | None = None  # agencies: for charts


@dataclass(frozen=True)
class Hour:
    hour: int  # 9 = 09.00–10.00 local time
    arrivals: int  # tickets issued in the hour
    served: int  # done in the hour
    wait_p50: float | None  # median wait (minutes) of the tickets issued in the hour

    @property
    def label(self) -> str:
        return hour_label(self.hour)


@dataclass(frozen=True)
class Day:
    day: str
    issued: int
    called: int
    served: int
    no_show: int
    transferred: int
    wait_p50: float | None
    wait_p90: float | None
    arrivals: tuple[int, ...]  # per hour 0..23: one row of the heatmap


@dataclass(frozen=True)
class Comment:
    at: datetime
    counter: int
    ticket: str
    service: str | None
    form: str
    text: str


@dataclass(frozen=True)
class Report:
    hall_name: str
    first_day: str
    last_day: str
    events: int  # queue facts and ratings read
    hall: Figures
    agencies: tuple[Entry, ...]
    services: tuple[Entry, ...]
    counters: tuple[Entry, ...]
    hours: tuple[Hour, ...]  # from the first to the last hour with any arrival or done
    peak_hour: Hour | None  # most arrivals; the earliest of a tie
    days: tuple[Day, ...]  # days with at least one event, oldest first
    nrr: tuple[float, ...] | None  # the hall's mean per element (full form)
    comments: tuple[Comment, ...]

    @property
    def day_count(self) -> int:
        return (date.fromisoformat(self.last_day) - date.fromisoformat(self.first_day)).days + 1

    def heatmap_hours(self) -> tuple[int, ...]:
        """The hours any day had arrivals in, as one contiguous span."""
        used = [h for h in range(24) if any(d.arrivals[h] for d in self.days)]
        return tuple(range(used[0], used[-1] + 1)) if used else ()


def hour_label(hour: int) -> str:
    return f"{hour:02d}.00–{(hour + 1) % 24:02d}.00"


def days_between(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- the fold
# Mutable accumulators, private to one call of build(); what leaves is frozen.


class _Tally:
    __slots__ = ("issued", "called", "served", "no_show", "transferred", "waits", "services")

    def __init__(self) -> None:
        self.issued = self.called = self.served = self.no_show = self.transferred = 0
        self.waits: list[int] = []  # milliseconds
        self.services: list[int] = []

    def add(self, other: "_Tally") -> None:
        self.issued += other.issued
        self.called += other.called
        self.served += other.served
        self.no_show += other.no_show
        self.transferred += other.transferred
        self.waits += other.waits
        self.services += other.services


class _Visit:
    __slots__ = ("service", "joined", "called", "first")

    def __init__(self, service: str | None, joined: int | None, first: bool) -> None:
        self.service = service
        self.joined = joined  # ms; None for a ticket called from outside the hub's queue
        self.called = False
        self.first = first  # the ticket's first visit (its issue), which the hall's wait counts


class _Ticket:
    __slots__ = ("visit", "issue_hour", "counter", "since", "skipped_by", "served", "transferred")

    def __init__(self, visit: _Visit, issue_hour: int | None) -> None:
        self.visit = visit
        self.issue_hour = issue_hour
        self.counter: int | None = None  # the counter it stands at
        self.since = 0  # when it came to that counter (ms)
        self.skipped_by: int | None = None  # a no-show, skipped by this counter, not called back (yet)
        self.served = False
        self.transferred = False


class _Desk:
    """One counter during one day. Times in ms."""

    __slots__ = ("ticket", "busy_since", "idle_since", "idle_mark", "busy", "idle", "idle_waiting",
                 "waiting", "waited", "waited_since")

    def __init__(self) -> None:
        self.ticket: str | None = None
        self.busy_since = 0
        self.idle_since: int | None = None  # set between tickets (not before the first call)
        self.idle_mark = 0  # waited_at(idle_since)
        self.busy = self.idle = self.idle_waiting = 0
        self.waiting = 0  # people waiting for this counter's services
        self.waited = 0  # time with waiting > 0, up to waited_since
        self.waited_since = 0

    def waited_at(self, t: int) -> int:
        return self.waited + (t - self.waited_since if self.waiting > 0 else 0)


class _Survey:
    __slots__ = ("full", "sums", "short", "short_counts")

    def __init__(self) -> None:
        self.full = 0
        self.sums = [0] * len(survey.ELEMENTS)
        self.short = 0
        self.short_counts = [0, 0, 0, 0]

    def add(self, other: "_Survey") -> None:
        self.full += other.full
        self.sums = [a + b for a, b in zip(self.sums, other.sums)]
        self.short += other.short
        self.short_counts = [a + b for a, b in zip(self.short_counts, other.short_counts)]


class Partial:
    """The folded days of part of a range: counts and samples, not yet percentiles.

    Partials of disjoint days merge exactly (counts add up, samples join), so a
    shell may fold a long range in pieces, e.g. one per core, and `combine` them.
    Plain data: it pickles.
    """

    def __init__(self) -> None:
        self.hall = _Tally()
        self.services: defaultdict[str | None, _Tally] = defaultdict(_Tally)
        self.counters: defaultdict[int, _Tally] = defaultdict(_Tally)
        self.idle: dict[int, list[int]] = {}  # counter → [busy, idle, idle while waiting] ms
        self.arrivals = [0] * 24
        self.served_by_hour = [0] * 24
        self.waits_by_hour: list[list[int]] = [[] for _ in range(24)]
        self.days: list[Day] = []
        self.events = 0
        self.surveys: dict[str | None, _Survey] = {}  # ratings, per service (fold_ratings)
        self.comments: list[Comment] = []

    def merge(self, other: "Partial") -> None:
        overlap = {d.day for d in self.days} & {d.day for d in other.days}
        if overlap:
            raise ValueError(f"partials overlap on {min(overlap)}: fold each day in one piece")
        self._add(other)
        self.days = sorted(self.days + other.days, key=lambda d: d.day)

    def _add(self, other: "Partial") -> None:
        """Everything of `other` but its days (merge and merged check and sort those)."""
        self.hall.add(other.hall)
        for code, tally in other.services.items():
            self.services[code].add(tally)
        for number, tally in other.counters.items():
            self.counters[number].add(tally)
        for number, totals in other.idle.items():
            mine = self.idle.setdefault(number, [0, 0, 0])
            for i, value in enumerate(totals):
                mine[i] += value
        for hour in range(24):
            self.arrivals[hour] += other.arrivals[hour]
            self.served_by_hour[hour] += other.served_by_hour[hour]
            self.waits_by_hour[hour] += other.waits_by_hour[hour]
        for code, tally in other.surveys.items():
            mine = self.surveys.get(code)
            if mine is None:
                mine = self.surveys[code] = _Survey()
            mine.add(tally)
        self.comments += other.comments
        self.events += other.events


def merged(partials: Iterable[Partial]) -> Partial:
    """One new Partial from partials of disjoint days (ValueError if two hold the same day)."""
    whole = Partial()
    days: list[Day] = []
    for part in partials:
        if isinstance(part, Packed):
            part.add_to(whole)
        else:
            whole._add(part)
        days += part.days
    seen: set[str] = set()
    for d in days:
        if d.day in seen:
            raise ValueError(f"partials overlap on {d.day}: fold each day in one piece")
        seen.add(d.day)
    whole.days = sorted(days, key=lambda d: d.day)
    return whole


class _Builder(Partial):
    def __init__(self, config: Any):
        super().__init__()
        self.service_counters = {s.code: s.counters for s in config.services}
        self.counter_numbers = tuple(c.number for c in config.counters)

    def partial(self) -> Partial:
        out = Partial()
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k in out.__dict__})
        return out

    # -- one service day; the hot loop of a year's report, hence the local names

    def run_day(self, day: str, day_facts: list) -> None:
        tickets: dict[str, _Ticket] = {}
        desks: dict[int, _Desk] = {n: _Desk() for n in self.counter_numbers}
        # Who waits for a service matters to the desks that serve it: idle while someone waited.
        lines = {code: tuple(desks[n] for n in numbers if n in desks)
                 for code, numbers in self.service_counters.items()}
        today = _Tally()  # the hall on this day
        arrivals = [0] * 24
        services, counters = self.services, self.counters
        served_by_hour, waits_by_hour = self.served_by_hour, self.waits_by_hour
        no_desks: tuple = ()

        def desk_of(number: int) -> _Desk:
            desk = desks.get(number)
            if desk is None:  # a counter no longer in config
                desk = desks[number] = _Desk()
            return desk

        def line_changed(service: str | None, t: int, delta: int) -> None:
            for desk in lines.get(service, no_desks):
                if desk.waiting > 0:
                    desk.waited += t - desk.waited_since
                desk.waited_since = t
                desk.waiting += delta

        def leave_desk(tk: _Ticket, t: int) -> None:
            """The ticket is no longer at its counter (cleared, or called elsewhere)."""
            desk = desks.get(tk.counter)
            tk.counter = None
            if desk is None:
                return
            desk.ticket = None
            desk.busy += t - desk.busy_since
            desk.idle_since = t
            desk.idle_mark = desk.waited_at(t)

        def come_to_desk(tk: _Ticket, ticket: str, number: int, t: int) -> None:
            if tk.counter is not None and tk.counter != number:
                leave_desk(tk, t)
            desk = desk_of(number)
            if desk.ticket is None:
                if desk.idle_since is not None:
                    desk.idle += t - desk.idle_since
                    desk.idle_waiting += desk.waited_at(t) - desk.idle_mark
                desk.busy_since = t
            elif desk.ticket != ticket:
                other = tickets.get(desk.ticket)
                if other is not None:
                    other.counter = None  # replaced at the counter without done: no outcome
            desk.ticket = ticket
            tk.counter = number
            tk.since = t

        for _seq, _day, hour, t, kind, counter, ticket, service, reason, to_service in day_facts:
            if kind == "issued":
                tickets[ticket] = _Ticket(_Visit(service, t, True), hour)
                services[service].issued += 1
                today.issued += 1
                arrivals[hour] += 1
                line_changed(service, t, +1)
                continue
            if ticket is None:
                if kind == "cleared" and counter in desks and desks[counter].ticket is not None:
                    tk = tickets.get(desks[counter].ticket)
                    if tk is not None:
                        leave_desk(tk, t)
                continue
            tk = tickets.get(ticket)
            if tk is None:  # called from outside the hub's queue: no issue time, no service, no wait
                tk = tickets[ticket] = _Ticket(_Visit(None, None, True), None)
            visit = tk.visit
            if kind == "called" or (kind == "recalled" and tk.counter != counter):
                if not visit.called:
                    visit.called = True
                    in_service, at_counter = services[visit.service], counters[counter]
                    if visit.joined is not None:
                        wait = t - visit.joined
                        in_service.waits.append(wait)
                        at_counter.waits.append(wait)
                        line_changed(visit.service, t, -1)
                        if visit.first:
                            today.waits.append(wait)
                            if tk.issue_hour is not None:
                                waits_by_hour[tk.issue_hour].append(wait)
                    in_service.called += 1
                    at_counter.called += 1
                    if visit.first:
                        today.called += 1
                tk.skipped_by = None
                come_to_desk(tk, ticket, counter, t)
            elif kind == "cleared":
                here = tk.counter == counter
                since = tk.since
                if here:
                    leave_desk(tk, t)
                if reason == "done":
                    in_service, at_counter = services[visit.service], counters[counter]
                    in_service.served += 1
                    at_counter.served += 1
                    served_by_hour[hour] += 1
                    if not tk.served:
                        tk.served = True
                        today.served += 1
                    if here:
                        duration = t - since
                        in_service.services.append(duration)
                        at_counter.services.append(duration)
                        today.services.append(duration)
                elif reason == "no_show":
                    tk.skipped_by = counter
                elif reason == "transfer":
                    services[visit.service].transferred += 1
                    counters[counter].transferred += 1
                    if not tk.transferred:
                        tk.transferred = True
                        today.transferred += 1
                    tk.visit = _Visit(to_service, t, False)
                    line_changed(to_service, t, +1)

        for tk in tickets.values():
            if tk.skipped_by is not None:
                services[tk.visit.service].no_show += 1
                counters[tk.skipped_by].no_show += 1
                today.no_show += 1
        for number, desk in desks.items():
            if desk.busy or desk.idle:
                totals = self.idle.setdefault(number, [0, 0, 0])
                totals[0] += desk.busy
                totals[1] += desk.idle
                totals[2] += desk.idle_waiting
        for hour in range(24):
            self.arrivals[hour] += arrivals[hour]
        waits = sorted(today.waits)
        self.days.append(Day(day, today.issued, today.called, today.served, today.no_show, today.transferred,
                             _minutes(_percentile(waits, 0.5)), _minutes(_percentile(waits, 0.9)), tuple(arrivals)))
        self.hall.add(today)


class DaysOutOfOrder(ValueError):
    """A day's facts were not contiguous (a hub clock set back across midnight): sort them by day."""


def build(queue_facts: Iterable[Sequence], ratings: Iterable[Sequence], config: Any,
          first_day: str, last_day: str) -> Report:
    """The report for the service days first_day..last_day (ISO dates, inclusive).

    `queue_facts` are QueueFacts (or plain tuples in that order), each day's in
    seq order and the days in order; facts outside the range are ignored.
    `config` is the hall's Config: only hall.name, agencies, services and
    counters are read, for names and for which counters serve which services.
    """
    return combine([fold(queue_facts, config, first_day, last_day)], ratings, config, first_day, last_day)


def fold(queue_facts: Iterable[Sequence], config: Any, first_day: str, last_day: str) -> Partial:
    """The days of first_day..last_day in `queue_facts`, folded (see build)."""
    return _fold(queue_facts, config, first_day, last_day, per_day=False)[0]


def fold_days(queue_facts: Iterable[Sequence], config: Any, first_day: str, last_day: str) -> list[Partial]:
    """Like fold, but one Partial per service day met (in the order met), each holding that day only:
    what a shell may keep for a closed day and merge again later. Facts outside the range are only
    counted (`events`), in one more Partial without a day."""
    return _fold(queue_facts, config, first_day, last_day, per_day=True)


def _fold(queue_facts: Iterable[Sequence], config: Any, first_day: str, last_day: str,
          per_day: bool) -> list[Partial]:
    if first_day > last_day:
        raise ValueError(f"the range starts on {first_day}, after its end on {last_day}")
    b = _Builder(config)
    out: list[Partial] = []
    day_facts: list = []
    current: str | None = None
    done: set[str] = set()
    stray = 0

    def finish() -> None:
        nonlocal b
        b.run_day(current, day_facts)
        b.events += len(day_facts)
        done.add(current)
        if per_day:
            out.append(b.partial())
            b = _Builder(config)

    for fact in queue_facts:
        day = fact[1]
        if not first_day <= day <= last_day:
            stray += 1
            continue
        if day != current:
            if day_facts:
                finish()
            if day in done:
                raise DaysOutOfOrder(f"facts of {day} came again after {current}'s")
            current, day_facts = day, []
        day_facts.append(fact)
    if day_facts:
        finish()
    if not per_day:
        b.events += stray
        return [b.partial()]
    if stray:
        b.events += stray
        out.append(b.partial())
    return out


def fold_ratings(ratings: Iterable[Sequence], first_day: str, last_day: str) -> Partial:
    """The ratings (RatingFacts, in seq order) as a Partial without days; those whose local date is
    outside first_day..last_day are only counted (`events`)."""
    out = Partial()
    _ratings(ratings, first_day, last_day, out)
    return out


def combine(partials: Sequence[Partial], ratings: Iterable[Sequence], config: Any,
            first_day: str, last_day: str) -> Report:
    """One report from the partials of disjoint days within first_day..last_day, and the ratings."""
    if first_day > last_day:
        raise ValueError(f"the range starts on {first_day}, after its end on {last_day}")
    whole = merged(partials)
    _ratings(ratings, first_day, last_day, whole)
    return _assemble(whole, config, whole.surveys, whole.comments, first_day, last_day)


def _ratings(ratings, first_day: str, last_day: str, b: Partial) -> None:
    surveys, comments = b.surveys, b.comments
    for at, counter, ticket, service, form, scores, comment in ratings:
        b.events += 1
        if not first_day <= at.date().isoformat() <= last_day:
            continue
        tally = surveys.get(service)
        if tally is None:
            tally = surveys[service] = _Survey()
        if form == survey.FULL:
            tally.full += 1
            tally.sums = [a + s for a, s in zip(tally.sums, scores)]
        else:
            tally.short += 1
            tally.short_counts[scores[0] - 1] += 1
        if comment:
            comments.append(Comment(at, counter, ticket, service, form, comment))


def _assemble(b: Partial, config: Any, surveys: dict, comments: list, first_day: str, last_day: str) -> Report:
    service_agency = {s.code: s.agency for s in config.services}

    def agency_of(service: str | None) -> str:
        return service_agency.get(service, UNKNOWN)

    # Every configured service, agency and counter appears (zeros included), then unknown ones seen.
    service_rows = []
    agency_tallies: dict[str, _Tally] = {a.code: _Tally() for a in config.agencies}
    agency_surveys: dict[str, _Survey] = {a.code: _Survey() for a in config.agencies}
    hall_survey = _Survey()
    names = {s.code: s.name for s in config.services}
    codes = [s.code for s in config.services] + sorted(
        (c for c in set(b.services) | set(surveys) if c not in names), key=lambda c: c or "")
    for code in codes:
        tally = b.services.get(code, _Tally())
        ratings = surveys.get(code, _Survey())
        agency = agency_of(code)
        agency_tallies.setdefault(agency, _Tally()).add(tally)
        agency_surveys.setdefault(agency, _Survey()).add(ratings)
        hall_survey.add(ratings)
        service_rows.append(Entry(code if code is not None else UNKNOWN,
                                  names.get(code, code or "(tanpa layanan)"), agency, _figures(tally, ratings)))
    agencies = {a.code: a for a in config.agencies}
    agency_rows = tuple(
        Entry(code, agencies[code].name if code in agencies else "(tidak ada di konfigurasi)", None,
              _figures(agency_tallies[code], agency_surveys[code]),
              short_name=agencies[code].short_name if code in agencies else code)
        for code in agency_tallies)

    counter_rows = []
    known = {c.number: c for c in config.counters}
    for number in list(known) + sorted(n for n in b.counters if n not in known):
        c = known.get(number)
        totals = b.idle.get(number, [0, 0, 0])
        idle = Idle(_minutes(totals[0] + totals[1]), _minutes(totals[0]), _minutes(totals[1]), _minutes(totals[2]))
        tally = b.counters.get(number, _Tally())
        f = _figures(tally, None)
        counter_rows.append(Entry(number, c.name if c else f"Loket {number}", c.agency if c else UNKNOWN,
                                  Figures(None, f.called, f.served, f.no_show, f.transferred, f.wait, f.service),
                                  idle))

    used = [h for h in range(24) if b.arrivals[h] or b.served_by_hour[h]]
    hours = tuple(
        Hour(h, b.arrivals[h], b.served_by_hour[h], _minutes(_percentile(sorted(b.waits_by_hour[h]), 0.5)))
        for h in (range(used[0], used[-1] + 1) if used else ()))
    peak = max((h for h in hours if h.arrivals), key=lambda h: (h.arrivals, -h.hour), default=None)
    hall = _figures(b.hall, hall_survey)
    return Report(config.hall.name, first_day, last_day, b.events, hall, agency_rows, tuple(service_rows),
                  tuple(counter_rows), hours, peak, tuple(b.days), hall.survey.ikm.nrr,
                  tuple(sorted(comments, key=lambda c: c.at)))


def _figures(tally: _Tally, ratings: _Survey | None) -> Figures:
    waits = sorted(tally.waits)
    services = sorted(tally.services)
    return Figures(
        tally.issued, tally.called, tally.served, tally.no_show, tally.transferred,
        Minutes(len(waits), _minutes(_percentile(waits, 0.5)), _minutes(_percentile(waits, 0.9)),
                _minutes(waits[-1] if waits else None)),
        Minutes(len(services), _minutes(_percentile(services, 0.5)), _minutes(_percentile(services, 0.9)),
                _minutes(services[-1] if services else None)),
        _survey_figures(ratings) if ratings is not None else None,
    )


def _survey_figures(s: _Survey) -> SurveyFigures:
    short_total = sum((i + 1) * n for i, n in enumerate(s.short_counts))
    short_mean = survey.round_half_up(short_total, s.short, 2) if s.short else None
    return SurveyFigures(survey.ikm(s.sums, s.full), s.short, short_mean, tuple(s.short_counts))


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default, statistics' 'inclusive')."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _minutes(ms: float | None) -> float | None:
    return None if ms is None else round(ms / 60_000, 2)


# ---------------------------------------------------------------- a day's Partial as plain data (a cache entry)
# A shell may keep the Partial of a closed service day (see signage/reports/cache.py). Its plain
# form is a head (a dict of lists, strings and numbers, for any codec) and one flat list of
# integers (every count and sample, in a fixed order, so a shell can store them packed).
# from_plain checks every value: a cache file is input like any other.

PLAIN_VERSION = 1  # the plain form and the fold's meaning: change it when either changes
MAX_CODE = 200  # characters of a service code or a ticket in a cache entry
MAX_COMMENT = 5000
_INT64 = 1 << 63


def fold_inputs(config: Any) -> list:
    """What of config a fold reads (which counters exist, which serve which service): a cached
    Partial is valid only for the same. Plain data, in a canonical order."""
    return [sorted(c.number for c in config.counters),
            sorted([s.code, sorted(s.counters)] for s in config.services)]


def partial_to_plain(p: Partial) -> tuple[dict, list[int]]:
    """(head, ints): the Partial as plain data; partial_from_plain reads it back.

    ints, in order: events; 7 per tally (issued, called, served, no_show, transferred, number of
    waits, number of service times) for the hall, then each service and counter of the head; their
    samples, tally by tally (waits, then service times); 3 per idle counter; arrivals, served and
    the number of waits per hour (24 each), then those waits; 29 per day (5 counts, 24 arrivals);
    15 per survey tally (full, 9 sums, short, 4 counts)."""
    tallies = [p.hall, *p.services.values(), *p.counters.values()]
    ints: list[int] = [p.events]
    for t in tallies:
        ints.extend((t.issued, t.called, t.served, t.no_show, t.transferred, len(t.waits), len(t.services)))
    for t in tallies:
        ints.extend(t.waits)
        ints.extend(t.services)
    for totals in p.idle.values():
        ints.extend(totals)
    ints.extend(p.arrivals)
    ints.extend(p.served_by_hour)
    ints.extend(len(w) for w in p.waits_by_hour)
    for w in p.waits_by_hour:
        ints.extend(w)
    for d in p.days:
        ints.extend((d.issued, d.called, d.served, d.no_show, d.transferred, *d.arrivals))
    for sv in p.surveys.values():
        ints.extend((sv.full, *sv.sums, sv.short, *sv.short_counts))
    head = {
        "v": PLAIN_VERSION,
        "services": list(p.services),
        "counters": list(p.counters),
        "idle": list(p.idle),
        "days": [[d.day, d.wait_p50, d.wait_p90] for d in p.days],
        "surveys": list(p.surveys),
        "comments": [[c.at.isoformat(), c.counter, c.ticket, c.service, c.form, c.text] for c in p.comments],
    }
    return head, ints


_HEAD_KEYS = frozenset(("v", "services", "counters", "idle", "days", "surveys", "comments"))


class Packed:
    """A Partial still in its plain form, checked: merging it (merged, combine) adds its numbers
    straight into the whole, without making an object per tally. `unpack()` gives the Partial."""

    __slots__ = ("events", "days", "services", "counters", "idle", "surveys", "comments", "ints", "_samples")

    def __init__(self, head: Any, ints: Any):
        if type(head) is not dict or head.keys() != _HEAD_KEYS:
            raise ValueError("not a folded day: wrong keys")
        if type(head["v"]) is not int or head["v"] != PLAIN_VERSION:
            raise ValueError(f"folded day of version {head['v']!r}, this reads {PLAIN_VERSION}")
        if type(ints) is not list or not ints:
            raise ValueError("not a folded day: no numbers")
        self.services = [_code(c, none=True) for c in _list(head["services"])]
        self.counters = [_count(n) for n in _list(head["counters"])]
        self.idle = [_count(n) for n in _list(head["idle"])]
        self.surveys = [_code(c, none=True) for c in _list(head["surveys"])]
        for codes in (self.services, self.counters, self.idle, self.surveys):
            if len(set(codes)) != len(codes):
                raise ValueError("not a folded day: a code twice")
        self.comments = [_comment(row) for row in _list(head["comments"])]
        if type(ints[0]) is not int:  # the shell unpacks ints from int64s: nothing else is in the list
            raise ValueError("not a folded day: no numbers")
        self.events = _count(ints[0])
        self.ints = ints
        n_tallies = 1 + len(self.services) + len(self.counters)
        end = 1 + 7 * n_tallies
        counts = ints[1:end]
        if len(counts) != 7 * n_tallies or min(counts) < 0:
            raise ValueError("not a folded day: bad counts")
        self._samples = end
        at = end + sum(counts[5::7]) + sum(counts[6::7]) + 3 * len(self.idle)
        hours = ints[at:at + 72]
        if len(hours) != 72 or min(hours) < 0:
            raise ValueError("not a folded day: numbers cut short")
        at += 72 + sum(hours[48:])
        rows = _list(head["days"])
        tail = ints[at:]
        if len(tail) != 29 * len(rows) + 15 * len(self.surveys) or min(tail, default=0) < 0:
            raise ValueError("not a folded day: numbers cut short, or left over")
        self.days = []
        for i, row in enumerate(rows):
            day, p50, p90 = _list(row, 3)
            if type(day) is not str or len(day) != 10 or date.fromisoformat(day).isoformat() != day:
                raise ValueError("not a folded day: bad day")
            c = tail[29 * i:29 * (i + 1)]
            self.days.append(Day(day, c[0], c[1], c[2], c[3], c[4], _float(p50), _float(p90), tuple(c[5:])))

    def add_to(self, whole: Partial) -> None:
        ints = self.ints
        whole.events += ints[0]
        services, counters = whole.services, whole.counters
        targets = [whole.hall, *(services[c] for c in self.services), *(counters[n] for n in self.counters)]
        base, at = 1, self._samples
        for t in targets:
            issued, called, served, no_show, transferred, n_waits, n_services = ints[base:base + 7]
            base += 7
            t.issued += issued
            t.called += called
            t.served += served
            t.no_show += no_show
            t.transferred += transferred
            if n_waits:
                t.waits += ints[at:at + n_waits]
                at += n_waits
            if n_services:
                t.services += ints[at:at + n_services]
                at += n_services
        for number in self.idle:
            mine = whole.idle.get(number)
            if mine is None:
                mine = whole.idle[number] = [0, 0, 0]
            mine[0] += ints[at]
            mine[1] += ints[at + 1]
            mine[2] += ints[at + 2]
            at += 3
        arrivals, served_by_hour, waits_by_hour = whole.arrivals, whole.served_by_hour, whole.waits_by_hour
        lengths = ints[at + 48:at + 72]
        for hour in range(24):
            arrivals[hour] += ints[at + hour]
            served_by_hour[hour] += ints[at + 24 + hour]
        at += 72
        for hour, n in enumerate(lengths):
            if n:
                waits_by_hour[hour] += ints[at:at + n]
                at += n
        at += 29 * len(self.days)
        for code in self.surveys:
            mine = whole.surveys.get(code)
            if mine is None:
                mine = whole.surveys[code] = _Survey()
            mine.full += ints[at]
            mine.sums = [a + b for a, b in zip(mine.sums, ints[at + 1:at + 10])]
            mine.short += ints[at + 10]
            mine.short_counts = [a + b for a, b in zip(mine.short_counts, ints[at + 11:at + 15])]
            at += 15
        whole.comments += self.comments

    def unpack(self) -> Partial:
        out = Partial()
        self.add_to(out)
        out.days = list(self.days)
        return out


def partial_from_plain(head: Any, ints: Any) -> Packed:
    """What partial_to_plain made, checked (ValueError for anything else, however it differs), ready
    to merge. `ints` must be a list of ints (a shell unpacking them gets nothing else): their number
    and every length and count among them is checked here."""
    return Packed(head, ints)


def _comment(row: Any) -> Comment:
    when, counter, ticket, service, form, comment = _list(row, 6)
    if type(when) is not str or len(when) > 40:
        raise ValueError("not a folded day: bad time")
    when = datetime.fromisoformat(when)
    if when.utcoffset() is None or form not in survey.FORMS or type(comment) is not str \
            or not comment or len(comment) > MAX_COMMENT or text.problem(comment, multiline=True):
        raise ValueError("not a folded day: bad comment")
    return Comment(when, _count(counter), _code(ticket), _code(service, none=True), form, comment)


def _list(value: Any, n: int | None = None) -> list:
    if type(value) is not list or (n is not None and len(value) != n):
        raise ValueError("not a folded day: bad list")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value < _INT64:
        raise ValueError("not a folded day: bad count")
    return value


def _float(value: Any) -> float | None:
    if value is not None and (type(value) is not float or value != value or abs(value) > 1e12):
        raise ValueError("not a folded day: bad minutes")
    return value


def _code(value: Any, none: bool = False) -> str | None:
    if value is None and none:
        return None
    if type(value) is not str or not value or len(value) > MAX_CODE or text.problem(value):
        raise ValueError("not a folded day: bad code")
    return value


# ---------------------------------------------------------------- the json document (docs/reports.md)


def to_document(report: Report, generated_at: datetime | None = None) -> dict:
    """The report as plain data, in the documented schema (the codec turns it into JSON)."""
    heatmap_hours = report.heatmap_hours()  # once: it looks at every day
    return {
        "report": {
            "version": REPORT_VERSION,
            "hall": report.hall_name,
            "from": report.first_day,
            "to": report.last_day,
            "days": report.day_count,
            "service_days": len(report.days),
            "events": report.events,
            "generated_at": generated_at.isoformat(timespec="seconds") if generated_at else None,
        },
        "hall": _figures_doc(report.hall),
        "agencies": [{"code": e.key, "name": e.name, "short_name": e.short_name, **_figures_doc(e.figures)}
                     for e in report.agencies],
        "services": [{"code": e.key, "name": e.name, "agency": e.agency, **_figures_doc(e.figures)}
                     for e in report.services],
        "counters": [{"number": e.key, "name": e.name, "agency": e.agency, **_figures_doc(e.figures),
                      "idle_minutes": _idle_doc(e.idle)} for e in report.counters],
        "hours": [_hour_doc(h) for h in report.hours],
        "peak_hour": _hour_doc(report.peak_hour) if report.peak_hour else None,
        "days": [{"day": d.day, "issued": d.issued, "called": d.called, "served": d.served,
                  "no_show": d.no_show, "transferred": d.transferred, "wait_p50_minutes": d.wait_p50,
                  "wait_p90_minutes": d.wait_p90, "arrivals_by_hour": list(d.arrivals)} for d in report.days],
        "heatmap": {
            "hours": list(heatmap_hours),
            "rows": [{"day": d.day, "arrivals": [d.arrivals[h] for h in heatmap_hours]} for d in report.days],
        },
        "survey": {
            "elements": [{"code": code, "name": name, "nrr": report.nrr[i] if report.nrr else None}
                         for i, (code, name) in enumerate(survey.ELEMENTS)],
            "comments": [{"at": c.at.isoformat(timespec="seconds"), "counter": c.counter, "ticket": c.ticket,
                          "service": c.service, "form": c.form, "comment": c.text} for c in report.comments],
        },
    }


def _minutes_doc(x: Minutes) -> dict:
    return {"n": x.n, "p50": x.p50, "p90": x.p90, "max": x.max}


def _figures_doc(f: Figures) -> dict:
    out = {"issued": f.issued, "called": f.called, "served": f.served, "no_show": f.no_show,
           "transferred": f.transferred, "wait_minutes": _minutes_doc(f.wait),
           "service_minutes": _minutes_doc(f.service)}
    if f.survey is not None:
        ikm = f.survey.ikm
        out.update({
            "ikm": ikm.value, "grade": ikm.grade, "grade_label": ikm.label, "respondents": ikm.respondents,
            "nrr": list(ikm.nrr) if ikm.nrr else None,
            "short_form": {"respondents": f.survey.short_respondents, "mean": f.survey.short_mean,
                           "counts": list(f.survey.short_counts)},
        })
    return out


def _idle_doc(idle: Idle | None) -> dict | None:
    if idle is None:
        return None
    return {"working": idle.working, "busy": idle.busy, "idle": idle.idle,
            "idle_while_waiting": idle.idle_while_waiting}


def _hour_doc(h: Hour) -> dict:
    return {"hour": h.hour, "label": h.label, "arrivals": h.arrivals, "served": h.served,
            "wait_p50_minutes": h.wait_p50}
