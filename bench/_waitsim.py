"""Simulated service days for the wait estimate: real rules, simulated visitors and counters.

Every ticket is issued, called and cleared through `signage.core.rules.decide`
and folded with `HubState.apply`, exactly as in the hub; only the visitors
(arrival times) and the staff (service times, breaks, reaction time) are drawn
from distributions. At each issue the estimate the kiosk would show is taken
from `signage.core.estimate`; when the ticket is called, its real wait is known.

Used by bench/bench_estimate.py (the figures) and tests/unit/test_estimate.py (a
small day as a regression check).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from signage.config import parse_config
from signage.core import estimate as est, messages as m
from signage.core.rules import HubState, decide
from signage.errors import CommandRejected

WIB = timezone(timedelta(hours=7))
DAY = datetime(2026, 12, 2, 0, 0, tzinfo=WIB)

# Three agencies: services sharing all their counters, a service of its own, and one overlapping two.
HALL = {
    "hall": {"name": "MPP Simulasi", "timezone": "+07:00"},
    "hub": {"journal": "unused.sqlite"},
    "agencies": [{"code": "DUK", "name": "Dukcapil"}, {"code": "SAM", "name": "Samsat"},
                 {"code": "BPJ", "name": "BPJS"}],
    "counters": [{"number": n, "agency": a} for n, a in
                 [(1, "DUK"), (2, "DUK"), (3, "DUK"), (4, "SAM"), (5, "SAM"), (6, "BPJ")]],
    "services": [
        {"code": "KTP", "name": "KTP-el", "agency": "DUK", "prefix": "A", "counters": [1, 2, 3]},
        {"code": "KK", "name": "Kartu Keluarga", "agency": "DUK", "prefix": "B", "counters": [1, 2, 3]},
        {"code": "PKB", "name": "Pajak kendaraan", "agency": "SAM", "prefix": "C", "counters": [4, 5]},
        {"code": "KES", "name": "BPJS Kesehatan", "agency": "BPJ", "prefix": "D", "counters": [6]},
        {"code": "TK", "name": "BPJS Ketenagakerjaan", "agency": "BPJ", "prefix": "E", "counters": [5, 6]},
    ],
    "tokens": [{"name": "sim", "role": "operator", "token": "simulation-token-0001"}],
}
SHARE = {"KTP": 0.35, "KK": 0.15, "PKB": 0.25, "KES": 0.15, "TK": 0.10}  # of the day's visitors


@dataclass(frozen=True)
class Scenario:
    name: str
    describe: str
    service_seconds: Callable[[random.Random, str], float]  # service code -> seconds
    visitors: int = 420  # expected arrivals in the day
    rush: float = 1.0  # arrival rate 08.00-10.00 relative to the rest
    skip: float = 0.05  # share of called visitors who don't show
    breaks: bool = False  # each counter takes one 30-min break, one opens at 10.00
    open_at: float = 8.0
    issue_until: float = 14.0


def _exp(mean: float):
    return lambda rng, service: rng.expovariate(1 / mean)


def _lognormal(median: float, sigma: float):
    return lambda rng, service: median * math.exp(rng.gauss(0, sigma))


def _regular(mean: float, sd: float):
    return lambda rng, service: max(60.0, rng.gauss(mean, sd))


def _by_service(means: dict[str, float]):
    return lambda rng, service: rng.gammavariate(2.0, means[service] / 2.0)


SCENARIOS = (
    Scenario("steady", "exponential service, mean 6 min; Poisson arrivals, flat", _exp(360)),
    Scenario("regular", "near-constant service 7±1.5 min", _regular(420, 90), visitors=360),
    Scenario("heavy-tail", "log-normal service, median 5 min, σ 0.9 (some 30-min cases)", _lognormal(300, 0.9),
             visitors=340),
    Scenario("rush", "exponential 6 min; arrivals ×2.5 from 08.00 to 10.00 (long morning queue)", _exp(360),
             visitors=460, rush=2.5),
    Scenario("breaks", "gamma service 6 min; every counter takes a 30-min break, counter 3 opens at 10.00",
             _by_service({k: 360 for k in SHARE}), visitors=380, breaks=True),
    Scenario("mixed", "services of one counter group differ: KTP 3 min, KK 12 min, PKB 5, KES 9, TK 4",
             _by_service({"KTP": 180, "KK": 720, "PKB": 300, "KES": 540, "TK": 240}), visitors=380),
)


@dataclass
class Sample:
    ticket: str
    service: str
    issued: datetime
    estimate: est.Estimate | None
    ahead: int
    waited_min: float | None = None  # filled when called
    times: est.ServiceTimes | None = None  # what the estimator knew at issue (observe=True), for baselines


@dataclass
class Result:
    scenario: Scenario
    samples: list[Sample] = field(default_factory=list)

    @property
    def estimated(self) -> list[Sample]:
        return [s for s in self.samples if s.estimate is not None and s.waited_min is not None]

    def inside(self) -> float:
        rows = self.estimated
        return sum(1 for s in rows if s.estimate.low <= s.waited_min <= s.estimate.high) / len(rows) if rows else 0.0

    def abs_errors(self) -> list[float]:
        return [abs(s.waited_min - (s.estimate.low + s.estimate.high) / 2) for s in self.estimated]

    def unknown_share(self) -> float:
        called = [s for s in self.samples if s.waited_min is not None]
        return sum(1 for s in called if s.estimate is None) / len(called) if called else 0.0

    def waits(self) -> list[float]:
        return [s.waited_min for s in self.samples if s.waited_min is not None]


def config():
    return parse_config(HALL)


def simulate(scenario: Scenario, seed: int, cfg=None, observe: bool = False) -> Result:
    cfg = cfg or config()
    rng = random.Random(seed)
    actor = cfg.tokens[0]
    state = HubState()
    times = est.ServiceTimes()
    result = Result(scenario)
    pending: dict[str, Sample] = {}
    heap: list[tuple[float, int, str, object]] = []
    order = iter(range(10**9))
    seq = 0

    def at(seconds: float) -> datetime:
        return DAY + timedelta(seconds=seconds)

    def push(t: float, kind: str, data: object = None) -> None:
        heapq.heappush(heap, (t, next(order), kind, data))

    def run(cmd, now: float):
        nonlocal state, times, seq
        event = decide(state.for_day(DAY.date().isoformat()), cmd, actor, cfg, at(now), seq + 1)
        seq += 1
        state = state.apply(event)
        times = est.apply(times, event)
        return event

    # Arrivals: a Poisson process whose rate is `rush` times higher in the first two hours.
    open_s, until_s = scenario.open_at * 3600, scenario.issue_until * 3600
    hours = (until_s - open_s) / 3600
    weight = min(2.0, hours) * scenario.rush + max(0.0, hours - 2.0)
    base = scenario.visitors / weight / 3600  # per second outside the rush
    t = open_s
    while True:
        rate = base * (scenario.rush if t < open_s + 7200 else 1.0)
        t += rng.expovariate(rate)
        if t >= until_s:
            break
        push(t, "arrive", rng.choices(list(SHARE), weights=list(SHARE.values()))[0])

    # Counters: open at opening time (3 at 10.00 when breaks), each may take one 30-min break.
    counters = [c.number for c in cfg.counters]
    off: dict[int, tuple[float, float]] = {}
    for n in counters:
        start = open_s + rng.uniform(0, 300)
        if scenario.breaks and n == 3:
            start = 10 * 3600
        push(start, "free", n)
        if scenario.breaks:
            b = rng.uniform(11 * 3600, 13 * 3600)
            off[n] = (b, b + 1800)
    busy: set[int] = set()
    idle: set[int] = set()

    while heap:
        now, _, kind, data = heapq.heappop(heap)
        if kind == "arrive":
            event = run(m.Issue(f"i{seq}", data), now)
            estimate = est.estimate_wait(times, state.queue, cfg, event.service, event.ticket, at(now))
            sample = Sample(event.ticket, event.service, at(now), estimate, event.position - 1,
                            times=times if observe else None)
            pending[event.ticket] = sample
            result.samples.append(sample)
            for n in sorted(idle):  # idle counters notice the new visitor after a moment
                if n in cfg.service(event.service).counters:
                    idle.discard(n)
                    push(now + rng.uniform(5, 30), "free", n)
        elif kind == "free":
            n = data
            if n in off and off[n][0] <= now < off[n][1]:
                push(off[n][1], "free", n)
                continue
            try:
                event = run(m.Next(f"n{seq}", n), now)
            except CommandRejected:
                idle.add(n)
                continue
            sample = pending.pop(event.ticket, None)
            if sample is not None:
                sample.waited_min = (at(now) - sample.issued).total_seconds() / 60
            busy.add(n)
            no_show = rng.random() < scenario.skip
            duration = rng.uniform(40, 90) if no_show else scenario.service_seconds(rng, event.service)
            push(now + duration, "skip" if no_show else "done", n)
        elif kind in ("done", "skip"):
            n = data
            run(m.Skip(f"s{seq}", n) if kind == "skip" else m.Done(f"d{seq}", n), now)
            busy.discard(n)
            push(now + rng.uniform(5, 40), "free", n)
    return result
