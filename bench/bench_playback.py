"""Gaps in the announcer's playback, read from the real mixer's output, with an idle and a busy loop.

    .venv/bin/python bench/bench_playback.py [--rounds 8]

Each round plays two full announcements (chime, speech, pause, speech) through the real
Announcer, espeak-ng and SDL's disk driver (tests/integration/play_and_capture.py), once
with an idle main thread (the baseline) and once with the main thread computing 30 ms
before every tick while holding the GIL, as a board drawing frames or decoding video does.
From the capture: how many handed sounds were not played whole (cut, replaced or mixed:
the issue-10 flake), and the silence at each kind of boundary, in audio time.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import ROOT, header, percentile, ratio, table

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from audio_harness import RATE, play, played_whole_in_order  # noqa: E402

BUSY_MS = 30
NOTICES = [[1, "call", "A-023", 5], [2, "call", "B-007", 12]]
PAUSE = 0.5  # PAUSE_SECONDS: the silence a repeat is meant to have


def measure(busy_ms: int, rounds: int) -> dict:
    gaps: dict[str, list[float]] = {"chime → speech": [], "repeat pause − 0.5 s": [], "announcement → next": []}
    broken = handed = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="bench-playback-") as tmp:
            spec = {"notices": NOTICES, "announcer": {"rate": 260}, "busy_ms": busy_ms}
            result, capture, _ = play(Path(tmp), spec)
        handed += len(result["handed"])
        try:
            played = played_whole_in_order(result, capture)
        except AssertionError as exc:
            print(f"not played whole: {exc}", file=sys.stderr)
            broken += 1
            continue
        for before, after in zip(played, played[1:]):
            silence = (after.start - before.end) / RATE * 1000
            if before.seq != after.seq:
                gaps["announcement → next"].append(silence)
            elif before.part == "chime":
                gaps["chime → speech"].append(silence)
            else:
                gaps["repeat pause − 0.5 s"].append(silence - PAUSE * 1000)
    return {"gaps": gaps, "broken": broken, "handed": handed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    idle = measure(0, args.rounds)
    busy = measure(BUSY_MS, args.rounds)
    print(header("Announcer playback gaps (bench_playback)"))
    print(f"{args.rounds} rounds × 2 announcements each; silence measured in the captured audio "
          f"(22050 Hz samples), baseline = the same announcements with an idle main thread, same run.\n")
    rows = [["rounds with a sound not played whole", f"{idle['broken']} of {args.rounds}",
             f"{busy['broken']} of {args.rounds}", "", "0"]]
    for kind in idle["gaps"]:
        a, b = idle["gaps"][kind], busy["gaps"][kind]
        for p in (50, 99):
            base, ours = percentile(a, p), percentile(b, p)
            rows.append([f"{kind}, p{p} (n={len(b)})", f"{base:.1f} ms", f"{ours:.1f} ms",
                         ratio(ours, base) if base > 0.5 else "—", "≤ 50 ms" if kind == "chime → speech" else ""])
    print(table(["", "idle loop (baseline)", f"loop busy {BUSY_MS} ms per tick", "ratio", "target"], rows))


if __name__ == "__main__":
    main()
