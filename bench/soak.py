"""Soak: N calls through a hub process and one display process; memory, descriptors, journal size.

    .venv/bin/python bench/soak.py [--calls 50000] [--warm-up N] [--replay-window 5000] [--json OUT]

21 operators (one per counter, their own tokens) call as fast as the hub acks them
(21 commands in flight, so the hub group-commits); the first half of the warm-up goes in
bursts of 21 calls, each drawn by the display before the next. One `signage display` process
(headless: SDL's dummy video driver, 1920x1080, --silent) is subscribed the whole
time. The journal is synced as shipped (sync: full).

RSS (VmRSS) and open descriptors (/proc/<pid>/fd) of both processes are read after
a warm-up — by default the hub's replay window plus 1,000 calls, so the bounded
structures (replay window, the display's text cache) are already full — and again at
the end, once the display has shown the last seq. Growth must stay under 10%.

Journal size: the SQLite file after a WAL checkpoint, divided by the events stored,
scaled to the hall: 600 visitors a day × 4 events each (issued, called, maybe a
recall, cleared), every day of the year.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, Server, header, rss_mb, table, write_hub_config  # noqa: E402

sys.path.insert(0, str(ROOT))
from signage.core import messages as m  # noqa: E402
from signage.operator.client import Session  # noqa: E402

COUNTERS = 21
VISITORS_PER_DAY = 600
EVENTS_PER_VISITOR = 4
GROWTH_LIMIT = 0.10


class Display:
    """`signage display`, headless and silent; its log says which seq it has shown."""

    SHOWN = re.compile(r"shown seq=(\d+) ")

    def __init__(self, config_path: Path, url: str):
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "signage", "display", "--config", str(config_path), "--hub", url,
             "--windowed", "1920x1080", "--silent"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.shown = -1
        self.connects = 0
        self.warnings: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if found := self.SHOWN.search(line):
                self.shown = int(found.group(1))
            elif "link: connected" in line:
                self.connects += 1
            elif " WARNING " in line or " ERROR " in line:
                self.warnings.append(line.rstrip())

    async def wait_shown(self, seq: int, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while self.shown < seq:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"display stuck at seq {self.shown}, waiting for {seq}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sample(hub: Server, display: Display) -> dict:
    return {"hub_rss_mb": rss_mb(hub.pid), "hub_fds": open_fds(hub.pid),
            "display_rss_mb": rss_mb(display.proc.pid), "display_fds": open_fds(display.proc.pid)}


def ticket_for(n: int) -> str:
    """The n-th call's ticket: the counter's letter, numbers wrapping at the protocol's 5 digits."""
    return f"{chr(64 + (n - 1) % COUNTERS + 1)}-{(n - 1) % 99_999 + 1:05d}"


class Operators:
    """One session per counter, each with its own token; calls are numbered globally from 1."""

    def __init__(self, url: str, tokens: dict[int, str]):
        self.sessions = {c: Session(url, tokens[c], client=f"soak-{c}") for c in range(1, COUNTERS + 1)}

    async def __aenter__(self) -> "Operators":
        for session in self.sessions.values():
            await session.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        for session in self.sessions.values():
            await session.__aexit__(*exc)

    async def call(self, first: int, last: int) -> None:
        """Calls first..last, every counter at once (21 in flight: the hub group-commits)."""
        async def counter_calls(counter: int, session: Session) -> None:
            for n in range(first, last + 1):
                if (n - 1) % COUNTERS + 1 == counter:
                    await session.request(m.Call(f"soak-{n}", counter, ticket_for(n)))
        await asyncio.gather(*(counter_calls(c, s) for c, s in self.sessions.items()))


def journal_figures(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
        rows = db.execute("SELECT avg(length(body)), avg(length(command)) FROM events").fetchone()
    size = path.stat().st_size
    per_event = size / events
    per_day = per_event * VISITORS_PER_DAY * EVENTS_PER_VISITOR
    return {"events": events, "file_bytes": size, "bytes_per_event": per_event, "body_bytes": rows[0],
            "command_bytes": rows[1], "mb_per_day": per_day / 1e6, "mb_per_year": per_day * 365 / 1e6}


async def soak(calls: int, warm_up: int, replay_window: int, directory: Path) -> dict:
    config_path = write_hub_config(directory, sync="full")
    raw = yaml.safe_load(config_path.read_text())
    raw["hub"]["replay_window"] = replay_window
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    tokens = {int(t["name"].split("-")[1]): t["token"] for t in raw["tokens"] if t["name"].startswith("loket-")}

    hub = Server.hub(config_path)
    display = Display(config_path, hub.url)
    try:
        await display.wait_shown(0, 30)
        started = time.monotonic()
        async with Operators(hub.url, tokens) as operators:
            # Warm-up, first in bursts of one call per counter, each drawn before the next, so the
            # display's bounded caches (rendered text: 3 screens of pixels) fill up; then at full
            # speed, so the queues between the display's threads reach their usual high water.
            paced = warm_up // 2
            for first in range(1, paced + 1, COUNTERS):
                last = min(first + COUNTERS - 1, paced)
                await operators.call(first, last)
                await display.wait_shown(last)
            await operators.call(paced + 1, warm_up)
            await display.wait_shown(warm_up)
            await asyncio.sleep(1)  # let both settle before each reading
            start = sample(hub, display)
            await operators.call(warm_up + 1, calls)  # as fast as the hub acks
            await display.wait_shown(calls)
            elapsed = time.monotonic() - started
            await asyncio.sleep(1)
            end = sample(hub, display)
        connects = display.connects
        warnings = display.warnings
    finally:
        display.stop()
        hub.stop()
    growth = {key: (end[key] - start[key]) / start[key] for key in start}
    return {"calls": calls, "warm_up": warm_up, "replay_window": replay_window, "seconds": elapsed,
            "calls_per_second": calls / elapsed, "start": start, "end": end, "growth": growth,
            "display_connects": connects, "display_warnings": warnings,
            "journal": journal_figures(directory / "journal.sqlite"),
            "passed": all(g < GROWTH_LIMIT for g in growth.values()) and connects == 1}


def report(result: dict) -> str:
    start, end, growth, j = result["start"], result["end"], result["growth"], result["journal"]
    rows = [[what, f"{start[key]:.1f}" if "rss" in key else start[key],
             f"{end[key]:.1f}" if "rss" in key else end[key], f"{growth[key] * 100:+.1f}%"]
            for what, key in [("hub RSS (MB)", "hub_rss_mb"), ("hub open fds", "hub_fds"),
                              ("display RSS (MB)", "display_rss_mb"), ("display open fds", "display_fds")]]
    return "\n".join([
        header(f"Soak: {result['calls']:,} calls through the hub and one display"),
        f"{result['calls']:,} calls in {result['seconds']:.0f} s ({result['calls_per_second']:.0f} calls/s, "
        f"21 operators, sync: full); readings after {result['warm_up']:,} warm-up calls "
        f"(replay window {result['replay_window']:,}) and at the end. The display connected "
        f"{result['display_connects']} time(s) (1 = never dropped as too slow).",
        "",
        table(["", "after warm-up", "end", "growth"], rows),
        "",
        f"Journal: {j['events']:,} events in {j['file_bytes'] / 1e6:.1f} MB after a WAL checkpoint = "
        f"{j['bytes_per_event']:.0f} bytes/event (event JSON {j['body_bytes']:.0f} B, command text "
        f"{j['command_bytes']:.0f} B, the rest is columns, two indexes and page slack). "
        f"At {VISITORS_PER_DAY} visitors × {EVENTS_PER_VISITOR} events: "
        f"{j['mb_per_day']:.2f} MB per day, {j['mb_per_year']:.0f} MB per year.",
        "",
        f"Verdict: {'PASS' if result['passed'] else 'FAIL'} (every growth under {GROWTH_LIMIT:.0%}, display never dropped)",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--replay-window", type=int, default=5000)
    parser.add_argument("--warm-up", type=int, help="calls before the first reading (default: replay window + 1000)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    warm_up = args.warm_up if args.warm_up is not None else args.replay_window + 1000
    if warm_up >= args.calls:
        parser.error(f"--warm-up ({warm_up}) must be below --calls ({args.calls})")
    with tempfile.TemporaryDirectory(prefix="signage-soak-") as tmp:
        result = asyncio.run(soak(args.calls, warm_up, args.replay_window, Path(tmp)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(report(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
