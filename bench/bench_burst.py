"""Burst: 21 calls within 100 ms → all visible on a real display, and all announced. Not a test.

    .venv/bin/python bench/bench_burst.py [--bursts 5] [--singles 5]

A hub process (`python -m signage hub`, journal sync full, temp dir) and a real `signage display`
fullscreen under its own Xvfb at 1920×1080 (started and read exactly as bench/bench_display.py does:
its DisplayRun parses the display's `shown seq=N mono=T` log line). The 21 counter operators, each with
its own token, send one `call` each, 5 ms apart (all 21 within 100 ms).

* all visible: from the first send to the first frame showing a seq ≥ the last call's seq (the board
  shows the hub's state, so that frame has all 21 calls). Baseline in the same run: one call alone,
  call → shown (--singles calls, 3 s apart).
* all announced: the display under test runs --silent (as in bench_display.py), so the real Announcer
  (signage.announcer.service, espeak-ng TTS, real chime, SDL dummy audio driver: every sound lasts its
  real duration) runs in this process, fed with the first burst's events from a display connection to
  the hub and ticked every 20 ms like the display loop. Time from the first send to the end of the last
  announcement, and how many were spoken (the queue drops calls older than announcer.max_age_seconds).
  Baseline in the same run: one call alone, from send to the end of its announcement.
  The display does not log announcement completion; see bench/bench_announcer.py for the planned
  drain computed from the WAV lengths.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.update({"SDL_AUDIODRIVER": "dummy", "SDL_VIDEODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, header, percentile, ratio, start_xvfb, stop, table, write_hub_config  # noqa: E402
from _fleet import Operator, tokens  # noqa: E402
from bench_display import DisplayRun  # noqa: E402

import pygame  # noqa: E402

from signage.announcer.service import Announcer  # noqa: E402
from signage.config import load_config  # noqa: E402
from signage.core.announcements import notice_for  # noqa: E402
from signage.operator.client import Session  # noqa: E402

COUNTERS = range(1, 22)
SPREAD = 0.005  # seconds between the 21 sends: 100 ms in all


class TimedAnnouncer:
    """The real Announcer, driven like the display loop drives it; records when each seq ended."""

    def __init__(self, config):
        self.config = config
        self.ended: dict[int, float] = {}
        self.wanted: set[int] = set()
        self.connected = asyncio.Event()
        self.base_seq = 0  # the hub's seq when we connected: the next call gets base_seq + 1
        self.announcer = Announcer(config.announcer, {c.number: c.name for c in config.counters},
                                   config.hall.locale, observer=self._observe)

    def _observe(self, part: str, announcement) -> None:
        if part == "end":
            self.ended[announcement.notice.seq] = time.monotonic()

    async def run(self, url: str, token: str) -> None:
        pygame.display.init()
        self.announcer.start()
        async with Session(url, token, role="display", client="bench-burst-announcer", subscribe=True) as session:
            self.base_seq = session.welcome.seq
            self.connected.set()
            ticker = asyncio.create_task(self._tick())
            try:
                async for event in session.events():
                    notice = notice_for(event) if event is not None else None
                    if notice is not None and notice.seq in self.wanted:
                        self.announcer.submit(notice, datetime.now(self.config.hall.timezone))
            finally:
                ticker.cancel()

    async def _tick(self) -> None:
        while True:
            for event in pygame.event.get():
                self.announcer.handle_event(event)
            self.announcer.tick(datetime.now(self.config.hall.timezone))
            await asyncio.sleep(0.02)

    async def wait_for(self, seqs: set[int], limit: float) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if seqs <= set(self.ended) or (not self.announcer.busy and seqs & set(self.ended)):
                return


def first_shown_at_least(display: DisplayRun, seq: int) -> float | None:
    with display.changed:
        times = [t for s, t in display.shown.items() if s >= seq]
    return min(times, default=None)


async def wait_shown(display: DisplayRun, seq: int, limit: float = 10.0) -> float | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        shown = first_shown_at_least(display, seq)
        if shown is not None:
            return shown
        await asyncio.sleep(0.005)
    return None


async def measure(url: str, config_path: Path, display: DisplayRun, singles: int, bursts: int) -> dict:
    config, secrets = load_config(config_path), tokens(config_path)
    announcer = TimedAnnouncer(config)
    listener = asyncio.create_task(announcer.run(url, secrets["tv-lantai-1"]))
    operators = {c: await Operator.connect(url, secrets[f"loket-{c:02d}"], f"bench-loket-{c}") for c in COUNTERS}
    number = iter(range(1, 10_000))
    await asyncio.wait_for(announcer.connected.wait(), 30)
    await asyncio.sleep(1.0)
    # Seqs are gap-free and only we send commands: the first single gets base + 1, the first burst the
    # 21 after the singles. Register them before sending, so no event can beat the registration.
    base = announcer.base_seq
    burst_seqs = set(range(base + singles + 1, base + singles + 1 + len(COUNTERS)))
    announcer.wanted |= {base + 1} | burst_seqs
    out = {"single_shown": [], "burst_visible": [], "burst_first": [], "burst_after_last": []}

    async def call(counter: int, delay: float = 0.0) -> tuple[int, float]:
        await asyncio.sleep(delay)
        reply, sent, _ = await operators[counter].request(
            {"type": "call", "counter": counter, "ticket": f"{chr(64 + counter)}-{next(number):03d}"})
        return reply["seq"], sent

    for i in range(singles):
        seq, sent = await call(1 + i % 21)
        shown = await wait_shown(display, seq)
        out["single_shown"].append((shown - sent) * 1000 if shown else float("nan"))
        if i == 0:
            await announcer.wait_for({seq}, 60)
            out["single_announced"] = announcer.ended.get(seq, float("nan")) - sent
        await asyncio.sleep(3.0)

    for b in range(bursts):
        results = await asyncio.gather(*(call(c, i * SPREAD) for i, c in enumerate(COUNTERS)))
        seqs, sends = [s for s, _ in results], [t for _, t in results]
        if b == 0 and set(seqs) != burst_seqs:
            raise RuntimeError(f"unexpected seqs {sorted(seqs)}; expected {sorted(burst_seqs)}")
        t0 = min(sends)
        shown_all = await wait_shown(display, max(seqs))
        shown_first = first_shown_at_least(display, min(seqs))
        out["burst_visible"].append((shown_all - t0) * 1000 if shown_all else float("nan"))
        out["burst_after_last"].append((shown_all - max(sends)) * 1000 if shown_all else float("nan"))
        out["burst_first"].append((shown_first - t0) * 1000 if shown_first else float("nan"))
        out["send_span_ms"] = (max(sends) - t0) * 1000
        if b == 0:
            burst_t0 = t0
        await asyncio.sleep(3.0)

    await announcer.wait_for(burst_seqs, 300)
    spoken = [announcer.ended[s] for s in burst_seqs if s in announcer.ended]
    out["burst_announced"] = (max(spoken) - burst_t0) if spoken else float("nan")
    out["burst_spoken"] = len(spoken)
    out["queue_stats"] = announcer.announcer.queue.stats
    listener.cancel()
    announcer.announcer.stop()
    for op in operators.values():
        await op.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--singles", type=int, default=5)
    args = parser.parse_args()
    xvfb, x_display = start_xvfb("1920x1080")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
            config_path = write_hub_config(Path(tmp), sync="full")
            hub = Server.hub(config_path)
            display = DisplayRun(config_path, hub.url, x_display)
            try:
                if not display.online.wait(30):
                    raise RuntimeError("display did not connect:\n" + "\n".join(display.lines))
                time.sleep(2)
                r = asyncio.run(measure(hub.url, config_path, display, args.singles, args.bursts))
            finally:
                display.stop()
                hub.stop()
    finally:
        stop(xvfb)

    single, visible = r["single_shown"], r["burst_visible"]
    print(header("Burst: 21 calls within 100 ms"))
    print(f"Real hub process (sync full) and a real `signage display` fullscreen under Xvfb 1920×1080; "
          f"21 operators, one call each, {SPREAD * 1000:g} ms apart (measured send span "
          f"{r['send_span_ms']:.0f} ms); {args.bursts} bursts, {args.singles} single calls as the baseline.\n")
    print(table(["measure", "n", "p50", "p99", "max", "baseline (one call alone) p50", "ratio p50"], [
        ["burst: first send → all 21 visible", len(visible), f"{percentile(visible, 50):.1f} ms",
         f"{percentile(visible, 99):.1f} ms", f"{max(visible):.1f} ms", f"{percentile(single, 50):.1f} ms",
         ratio(percentile(visible, 50), percentile(single, 50))],
        ["burst: last send → all 21 visible", len(r["burst_after_last"]),
         f"{percentile(r['burst_after_last'], 50):.1f} ms", f"{percentile(r['burst_after_last'], 99):.1f} ms",
         f"{max(r['burst_after_last']):.1f} ms", f"{percentile(single, 50):.1f} ms",
         ratio(percentile(r["burst_after_last"], 50), percentile(single, 50))],
        ["burst: first send → first call visible", len(r["burst_first"]), f"{percentile(r['burst_first'], 50):.1f} ms",
         f"{percentile(r['burst_first'], 99):.1f} ms", f"{max(r['burst_first']):.1f} ms", "", ""],
        ["single call → shown (baseline)", len(single), f"{percentile(single, 50):.1f} ms",
         f"{percentile(single, 99):.1f} ms", f"{max(single):.1f} ms", "", ""],
    ]))
    print()
    print(table(["announcements (real Announcer, dummy audio, first burst)", "time", "spoken",
                 "baseline: one call alone, send → end of its announcement", "ratio"], [
        ["first send → last announcement ended", f"{r['burst_announced']:.1f} s", f"{r['burst_spoken']} of 21",
         f"{r['single_announced']:.1f} s", ratio(r["burst_announced"], r["single_announced"])],
    ]))
    stats = r["queue_stats"]
    print(f"\nAnnouncement queue stats (whole run): {stats.accepted} accepted, {stats.started} started, "
          f"{stats.stale} dropped as older than announcer.max_age_seconds, {stats.superseded} superseded, "
          f"{stats.dropped} dropped from a full queue.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
