"""Accuracy of the wait estimate over simulated service days. Not a test; no timing involved.

    .venv/bin/python bench/bench_estimate.py [--days 10]

Each scenario of bench/_waitsim.py (arrival and service-time distributions, breaks, mixed services)
is replayed for --days seeds through the hub's own rules. For every ticket the range the kiosk
would show at issue is compared with the real wait until it was called:
- inside: share of estimated tickets whose real wait fell in the range (target ≥ 80%);
- median absolute error: |real wait − middle of the range|, minutes;
- range width: high − low of the range shown (a wide range is easy to hit; this says how wide);
- unknown: share of tickets shown "belum dapat diperkirakan" (too little data yet: the first
  tickets of the day).

Baseline in the same run, on the same tickets: the estimate a typical queue system shows,
people ahead × the day's mean service time so far ÷ the counters of the service, ±25%.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import header, percentile, table  # noqa: E402
from _waitsim import SCENARIOS, config, simulate  # noqa: E402

from signage.core import estimate as est  # noqa: E402


class NaiveBaseline:
    """People ahead × the mean service time of the day so far ÷ the service's counter count, ±25%."""

    def __init__(self, cfg):
        self.cfg = cfg

    def estimate(self, times: est.ServiceTimes, service: str, ahead: int):
        samples = [s for log in times.counters.values() for _, s in log.samples]
        if len(samples) < est.MIN_SAMPLES:
            return None
        centre = (ahead + 1) * statistics.mean(samples) / len(self.cfg.service(service).counters) / 60
        return centre * 0.75, centre * 1.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10, help="simulated days (seeds) per scenario")
    args = parser.parse_args()
    cfg = config()
    baseline = NaiveBaseline(cfg)
    rows, all_inside, all_base = [], [], []
    for scenario in SCENARIOS:
        inside = unknown = 0
        abs_errors, base_errors, waits, widths = [], [], [], []
        base_inside = base_n = 0
        count = 0
        for seed in range(args.days):
            result = simulate(scenario, seed, cfg, observe=True)
            for s in result.samples:
                if s.waited_min is None:
                    continue
                waits.append(s.waited_min)
                if s.estimate is None:
                    unknown += 1
                else:
                    count += 1
                    inside += s.estimate.low <= s.waited_min <= s.estimate.high
                    widths.append(s.estimate.high - s.estimate.low)
                    abs_errors.append(abs(s.waited_min - (s.estimate.low + s.estimate.high) / 2))
                naive = baseline.estimate(s.times, s.service, s.ahead)
                if naive is not None:
                    base_n += 1
                    base_inside += naive[0] <= s.waited_min <= naive[1]
                    base_errors.append(abs(s.waited_min - (naive[0] + naive[1]) / 2))
        share = inside / count
        base_share = base_inside / base_n
        all_inside.append(share)
        all_base.append(base_share)
        rows.append([scenario.name, scenario.describe, count + unknown,
                     f"{statistics.median(waits):.0f} / {percentile(waits, 90):.0f}",
                     f"**{share:.1%}**", f"{statistics.median(abs_errors):.1f}",
                     f"{statistics.median(widths):.0f}", f"{unknown / (count + unknown):.1%}",
                     f"{base_share:.1%}", f"{statistics.median(base_errors):.1f}"])
    print(header("Wait estimate accuracy (simulated days)"))
    print(f"{args.days} simulated days per scenario; hall of 6 counters, 5 services (two sharing counters 1-3, "
          "one overlapping 5-6); 5% no-shows; counters react in 5-40 s.\n")
    print(table(["scenario", "distributions", "tickets", "real wait p50 / p90 (min)", "inside range",
                 "median abs error (min)", "range width p50 (min)", "unknown", "baseline inside", "baseline median abs error (min)"],
                rows))
    worst = min(all_inside)
    print(f"\nWorst scenario: {worst:.1%} inside (target ≥ 80%): {'met' if worst >= 0.8 else 'NOT met'}. "
          f"Baseline worst: {min(all_base):.1%}.")


if __name__ == "__main__":
    main()
