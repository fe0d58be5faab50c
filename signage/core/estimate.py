"""An honest wait estimate: how long until a ticket is called, as a range, or "not yet known". Pure.

Built from the day's events alone, so the hub rebuilds it from the journal after
a restart. Two parts:

- `ServiceTimes`, a fold over events: for each counter, how long its recent
  tickets took (call → done/skip/transfer, or call → the next call when the
  operator pressed Next without Done), plus the turnaround to the next call when
  that came within TURNAROUND_MAX; and when each counter was last active.
- `estimate_wait(...)`: for one waiting ticket (or a ticket taken now) of a
  service, from
    * the robust recent service time of each open counter serving it: the median
      of its last MAX_SAMPLES tickets of the last RECENT (not the mean of the day:
      one 40-minute case must not move everyone's estimate);
    * the people ahead who compete for those counters: same-service tickets
      ahead count 1, another service's ticket counts by the share of its open
      counters that also serve this service;
    * the counters that are open: serving now, or active within OPEN_WINDOW.

The model: with n open counters finishing tickets at a combined rate r (the
sum of 1/robust mean), a ticket with k competing people ahead and i idle counters
starts at the (k - i + 1)-th completion, so the wait is ≈ (k - i + ¾)/r;
the spread grows with √(k + 1) and the service times' own dispersion (IQR), and
with how few samples there are. The range is that centre ± Z spreads, rounded
outwards to 5 minutes (10 above an hour). With fewer than MIN_SAMPLES recent
tickets at those counters, or no open counter, the answer is None: "belum dapat
diperkirakan". bench/bench_estimate.py measures how often the real wait falls in
the range shown at issue (target ≥ 80%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Mapping

from signage.core import messages as m, queue as q
from signage.core.config import Config
from signage.core.hall import service_day

MAX_SAMPLES = 12  # per counter
RECENT = timedelta(minutes=90)  # older service times are not "recent"
OPEN_WINDOW = timedelta(minutes=20)  # a counter idle for longer is taken as closed
MIN_SAMPLES = 3  # recent service times needed before any estimate is shown
TURNAROUND_MAX = 180.0  # seconds from a clear to the next call that still count as work, not idling
MAX_SERVICE_SECONDS = 3 * 3600  # longer "services" are a counter left open over lunch: not a sample
Z = 1.45  # spreads each side of the centre (≈ 85% of a normal), before rounding outwards
CAP = 4.0  # samples above CAP × the median count as CAP × the median
MIN_SPREAD_SECONDS = 90.0  # operator reaction, walking to the counter
UNKNOWN_TEXT = "belum dapat diperkirakan"


@dataclass(frozen=True)
class Estimate:
    low: int  # minutes, a multiple of the step
    high: int
    centre: float  # minutes, unrounded: for the accuracy benchmark

    def text(self) -> str:
        return f"{self.low}–{self.high} menit"


def estimate_text(estimate: Estimate | None) -> str:
    return estimate.text() if estimate is not None else UNKNOWN_TEXT


@dataclass(frozen=True)
class CounterLog:
    started: datetime | None = None  # when the counter's current ticket was called
    samples: tuple[tuple[datetime, float], ...] = ()  # (ended, seconds), oldest first
    cleared: tuple[datetime, float] | None = None  # the last ticket's clear, until the next call adds the turnaround
    last_active: datetime | None = None


@dataclass(frozen=True)
class ServiceTimes:
    day: str | None = None
    counters: Mapping[int, CounterLog] = field(default_factory=dict)


def apply(times: ServiceTimes, event: m.Event) -> ServiceTimes:
    day = service_day(event.at)
    if times.day != day:
        times = ServiceTimes(day=day)
    log = times.counters.get(getattr(event, "counter", 0), CounterLog())
    if isinstance(event, m.Called):
        log = _commit(_finish(log, event.at), event.at)
        return _put(times, event.counter, replace(log, started=event.at, last_active=event.at))
    if isinstance(event, m.Recalled):
        return _put(times, event.counter, replace(log, last_active=event.at))
    if isinstance(event, m.Cleared):
        return _put(times, event.counter, replace(_finish(log, event.at), last_active=event.at))
    return times


def _finish(log: CounterLog, at: datetime) -> CounterLog:
    """The current ticket ends at `at` (a clear, or the next call without one)."""
    if log.started is None:
        return log
    seconds = (at - log.started).total_seconds()
    log = _commit(log, at)
    if not 0 <= seconds <= MAX_SERVICE_SECONDS:
        return replace(log, started=None)
    return replace(log, started=None, cleared=(at, seconds))


def _commit(log: CounterLog, at: datetime) -> CounterLog:
    """Store the last cleared ticket's time; a call soon after it adds the turnaround (it is throughput too)."""
    if log.cleared is None:
        return log
    ended, seconds = log.cleared
    gap = (at - ended).total_seconds()
    if 0 <= gap <= TURNAROUND_MAX:
        seconds += gap
    return replace(log, cleared=None, samples=(log.samples + ((ended, seconds),))[-MAX_SAMPLES:])


def _put(times: ServiceTimes, counter: int, log: CounterLog) -> ServiceTimes:
    return replace(times, counters={**times.counters, counter: log})


def rebuild(events) -> ServiceTimes:
    times = ServiceTimes()
    for event in events:
        times = apply(times, event)
    return times


# ---------------------------------------------------------------- the estimate


def open_counters(times: ServiceTimes, queue: q.QueueState, counters: tuple[int, ...], now: datetime) -> list[int]:
    out = []
    for number in counters:
        log = times.counters.get(number)
        if number in queue.serving or (log and log.last_active and now - log.last_active <= OPEN_WINDOW):
            out.append(number)
    return out


def recent_samples(times: ServiceTimes, counter: int, now: datetime) -> list[float]:
    log = times.counters.get(counter)
    if log is None:
        return []
    samples = log.samples + ((log.cleared,) if log.cleared else ())
    return [seconds for ended, seconds in samples if now - ended <= RECENT]


def competing_ahead(queue: q.QueueState, config: Config, service: str, ticket: str | None,
                    open_by_service: Mapping[str, list[int]]) -> float:
    """People ahead of `ticket` (or of a ticket taken now) who will take this service's counters."""
    mine = set(open_by_service[service])
    me = queue.find_waiting(ticket) if ticket else None
    ahead = 0.0
    for w in queue.waiting:
        if me is not None and w.ticket == me.ticket:
            break
        if w.service == service:
            ahead += 1
            continue
        theirs = open_by_service.get(w.service)
        if theirs is None:
            svc = config.service(w.service)
            theirs = list(svc.counters) if svc else []
        if theirs:
            ahead += len(mine.intersection(theirs)) / len(theirs)
    return ahead


def estimate_wait(times: ServiceTimes, queue: q.QueueState, config: Config, service: str, ticket: str | None,
                  now: datetime) -> Estimate | None:
    """The wait of `ticket` (waiting in `service`), or of a ticket of `service` issued at `now`."""
    svc = config.service(service)
    if svc is None:
        return None
    if ticket is not None and queue.find_waiting(ticket) is None:
        return None  # called, skipped or done: no wait left to estimate
    open_by_service: dict[str, list[int]] = {}
    for w in queue.waiting:
        other = config.service(w.service)
        if other is not None and w.service not in open_by_service:
            open_by_service[w.service] = open_counters(times, queue, other.counters, now)
    mine = open_by_service.get(service) or open_counters(times, queue, svc.counters, now)
    open_by_service[service] = mine
    if not mine:
        return None
    per_counter = {number: recent_samples(times, number, now) for number in mine}
    pooled = [seconds for samples in per_counter.values() for seconds in samples]
    if len(pooled) < MIN_SAMPLES:
        return None
    fallback = robust_mean(pooled)  # a counter just opened: like its neighbours
    rate = sum(1 / max(30.0, robust_mean(samples) if samples else fallback) for samples in per_counter.values())

    ahead = competing_ahead(queue, config, service, ticket, open_by_service)
    idle = sum(1 for number in mine if number not in queue.serving)
    turns = max(0.0, ahead - idle)  # completions to wait for beyond the idle counters
    centre = (turns + 0.75) / rate if ahead >= idle else 0.0
    dispersion = min(1.5, max(0.35, _iqr(pooled) / 1.349 / max(1.0, _median(pooled))))
    spread = math.sqrt(turns + 1) * dispersion / rate  # completions are a sum of noisy service times
    spread = math.hypot(spread, centre * dispersion / math.sqrt(len(pooled)), MIN_SPREAD_SECONDS)
    spread += 0.1 * centre  # counters open and close, people give up: drift no sample shows
    low_s, high_s = max(0.0, centre - Z * spread), centre + Z * spread
    step = 10 if high_s > 3600 else 5
    low = int(low_s // 60 // step * step)
    high = max(low + step, int(math.ceil(high_s / 60 / step) * step))
    return Estimate(low, high, round(centre / 60, 1))


def agency_waits(times: ServiceTimes, queue: q.QueueState, config: Config, now: datetime) -> dict[str, Estimate]:
    """What a ticket taken now would wait, per agency with people waiting (the board's waiting panel).

    The span of the agency's waiting services' estimates: the kiosk gives each of them one of these
    ranges, so the board never contradicts a ticket. Agencies with no estimate yet are absent.
    """
    out: dict[str, Estimate] = {}
    for service in sorted({w.service for w in queue.waiting}):
        svc = config.service(service)
        found = estimate_wait(times, queue, config, service, None, now) if svc is not None else None
        if found is None:
            continue
        old = out.get(svc.agency)
        out[svc.agency] = found if old is None else Estimate(min(old.low, found.low), max(old.high, found.high),
                                                             max(old.centre, found.centre))
    return out


def robust_mean(values: list[float]) -> float:
    """The mean with each sample capped at CAP × the median: throughput follows the mean (a median
    would say 4 min for exponential 6-min service), but one forgotten Done must not double it."""
    cap = CAP * _median(values)
    return sum(min(v, cap) for v in values) / len(values)


def _median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _iqr(values: list[float]) -> float:
    s = sorted(values)
    if len(s) < 4:
        return _median(s)  # too few for quartiles: assume the spread is as large as the value
    return _quantile(s, 0.75) - _quantile(s, 0.25)


def _quantile(s: list[float], p: float) -> float:
    pos = p * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)
