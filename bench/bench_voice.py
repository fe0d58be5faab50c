"""Voice zones: failover time, duplicates/missing over N failovers, silence between announcements.

    .venv/bin/python bench/bench_voice.py [--failovers 20] [--lease 3]

Real processes (tests/integration/voice_rig.py): one hub, three `signage announcer`s in one
zone, each capturing its audio with SDL's disk driver. Calls stream (3 per round, 3 s
apart); after each round the holder is SIGKILLed and started again.

1. failover: kill → the successor's "holding" line (it may speak from then on), p50/p99.
2. duplicates / missing: each call's speech searched verbatim in every capture; a duplicate
   is a call heard in two captures (the declared re-speak of a call the killed holder was
   speaking, or had spoken without its receipt reaching the hub), missing is heard nowhere.
3. silence between consecutive announcements in one capture (end of one → start of the
   next, the next already waiting), three candidates with the lease vs a single announcer
   in the same run (baseline), failover gaps excluded.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import header, percentile, table  # noqa: E402
from voice_rig import VoiceRig, failover_run, overlaps  # noqa: E402


def gaps(results, backlog_only=True) -> list[float]:
    out = []
    for spans in results.intervals.values():
        for (s1, e1, _), (s2, _, _) in zip(spans, spans[1:]):
            if s2 - e1 < 2.0:  # the next was waiting (a failover or an idle wait is longer)
                out.append(s2 - e1)
    return out


def single_speaker(tmp: Path, lease: float, calls: int) -> list[float]:
    rig = VoiceRig(tmp, announcers=1, lease_seconds=lease)
    try:
        rig.start()
        queued = {}
        for n in range(1, calls + 1):
            queued[rig.call(n, f"S-{n:03d}")] = (n, f"S-{n:03d}")
            time.sleep(3.0)
        rig.wait_receipts(queued, 120)
        rig.stop_announcers()
        return gaps(rig.results(rig.speech(queued)))
    finally:
        rig.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--failovers", type=int, default=20)
    parser.add_argument("--lease", type=float, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    (base / "three").mkdir()
    (base / "one").mkdir()
    rig = VoiceRig(base / "three", announcers=3, lease_seconds=args.lease)
    try:
        rig.start()
        # A call every 3 s: about one announcement's length, so the backlog stays small and no call is
        # superseded by the next call at its counter (that would be a legitimate `skipped`).
        report = failover_run(rig, failovers=args.failovers, calls_per_round=3, pause=3.0)
    finally:
        rig.stop()
    baseline = single_speaker(base / "one", args.lease, 12)
    zone_gaps = gaps(report.results)
    f = report.failover_seconds
    print(header(f"Voice zones: {args.failovers} failovers, lease_seconds {args.lease:g}"))
    print(table(["measure", "p50", "p99", "max", "n"], [
        ["failover (kill → successor holds)", f"{percentile(f, 50):.2f} s", f"{percentile(f, 99):.2f} s",
         f"{max(f):.2f} s", len(f)],
        ["silence between announcements, 3 candidates + lease", f"{percentile(zone_gaps, 50) * 1000:.1f} ms",
         f"{percentile(zone_gaps, 99) * 1000:.1f} ms", f"{max(zone_gaps) * 1000:.1f} ms", len(zone_gaps)],
        ["silence between announcements, single announcer (baseline)", f"{percentile(baseline, 50) * 1000:.1f} ms",
         f"{percentile(baseline, 99) * 1000:.1f} ms", f"{max(baseline) * 1000:.1f} ms", len(baseline)],
    ]))
    print()
    skipped = {seq: reason for seq, (status, reason) in report.receipts.items() if status == "skipped"}
    print(f"- skipped with a receipt (queue rules, not losses): {skipped}")
    print(f"- calls: {len(report.calls)}; missing: {len(report.missing)} {report.missing}; heard twice: "
          f"{len(report.duplicates)} {report.duplicates} (≤ 1 per failover is the declared re-speak); "
          f"overlapping intervals: {len(overlaps(report.results.intervals))}; "
          f"cut by a lost lease: {len(report.results.cut)}")
    statuses = sorted({s for s, _ in report.receipts.values()})
    print(f"- receipts: {len(report.receipts)} ({', '.join(statuses)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
