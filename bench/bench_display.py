"""Display benchmark: call → frame on screen latency, idle CPU, memory. Not a test.

    .venv/bin/python bench/bench_display.py [--calls 150] [--idle 30] [--size 1920x1080]

Starts its own Xvfb (1920x1080x24), an in-process hub with a journal in a temp
dir, and `signage display` fullscreen on that X server (x11 driver, --silent).
For each variant of the board it measures:

* call → shown: an operator sends `call`, the time from just before sending to the
  moment the display loop returned from pygame.display.update() for the frame
  with that seq (the display logs "shown seq=N mono=T"; CLOCK_MONOTONIC is
  system-wide, so both ends use the same clock). Calls are paced 100–300 ms apart.
* idle CPU: % of one core used by the display process and by Xvfb over --idle
  seconds with nothing happening but the clock and the ticker (after the
  highlight of the last call has ended), from /proc/<pid>/stat.
* RSS of the display process (VmRSS) and of Xvfb.

Variants: "board" (config as shipped: framebuffer_acceleration false, i.e.
SDL_FRAMEBUFFER_ACCELERATION=0) and the baseline "board, SDL default" (the same
board with framebuffer_acceleration true: SDL's OpenGL-backed window surface).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signage.config import load_config  # noqa: E402
from signage.core import messages as m  # noqa: E402
from signage.hub.server import Hub  # noqa: E402
from signage.operator.client import Session, new_id  # noqa: E402
from _common import start_xvfb  # noqa: E402  (bench/ is on sys.path when run as a script)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def write_config(directory: Path, accel: bool) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["hub"].update({"journal": str(directory / "journal.sqlite"), "host": "127.0.0.1", "port": 0})
    raw["display"]["framebuffer_acceleration"] = accel
    raw["display"]["logo"] = str(ROOT / "assets" / "logo.png")
    raw["announcer"]["chime"] = str(ROOT / "assets" / "chime.wav")
    path = directory / f"config-{'accel' if accel else 'noaccel'}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15 of stat)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class DisplayRun:
    def __init__(self, config_path: Path, url: str, x_display: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
        env.update({"DISPLAY": x_display, "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "signage", "display", "--config", str(config_path), "--hub", url, "--silent"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.shown: dict[int, float] = {}
        self.lines: list[str] = []
        self.online = threading.Event()
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            found = re.search(r"shown seq=(\d+) mono=([\d.]+)", line)
            if found:
                with self.changed:
                    self.shown[int(found.group(1))] = float(found.group(2))
                    self.changed.notify_all()
            if "link online" in line:
                self.online.set()

    def wait_shown(self, seq: int, limit: float = 5.0) -> float | None:
        deadline = time.monotonic() + limit
        with self.changed:
            while seq not in self.shown:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.shown[seq]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def measure(variant: str, config_path: Path, x_display: str, xvfb_pid: int, calls: int,
                  idle_seconds: float) -> dict:
    cfg = load_config(config_path)
    operator = next(t.secret for t in cfg.tokens if t.role == "operator" and t.counters is None)
    async with Hub(cfg, host="127.0.0.1", port=0) as hub:
        display = DisplayRun(config_path, hub.url, x_display)
        try:
            if not await asyncio.to_thread(display.online.wait, 20):
                raise RuntimeError("display did not connect:\n" + "\n".join(display.lines))
            await asyncio.sleep(2)  # first frames, fonts, caches
            latencies, missed = [], 0
            async with Session(hub.url, operator) as session:
                for i in range(calls):
                    counter = i % 21 + 1
                    sent = time.monotonic()
                    ack = await session.request(m.Call(new_id("bench"), counter, f"A-{i + 1:03d}"))
                    shown = await asyncio.to_thread(display.wait_shown, ack.seq)
                    if shown is None:
                        missed += 1
                    else:
                        latencies.append((shown - sent) * 1000)
                    await asyncio.sleep(random.uniform(0.1, 0.3))
            # Idle: wait for the last highlight/flash to end, then only clock + ticker run.
            await asyncio.sleep(cfg.display.highlight_seconds + 1)
            pids = {"display": display.proc.pid, "xvfb": xvfb_pid}
            before = {k: cpu_ticks(p) for k, p in pids.items()}
            t0 = time.monotonic()
            await asyncio.sleep(idle_seconds)
            elapsed = time.monotonic() - t0
            cpu = {k: (cpu_ticks(p) - before[k]) / CLK_TCK / elapsed * 100 for k, p in pids.items()}
            result = {
                "variant": variant,
                "calls": len(latencies), "missed": missed,
                "p50_ms": statistics.median(latencies) if latencies else float("nan"),
                "p99_ms": quantile(latencies, 0.99), "max_ms": max(latencies, default=float("nan")),
                "cpu_display": cpu["display"], "cpu_xvfb": cpu["xvfb"],
                "cpu_total": cpu["display"] + cpu["xvfb"],
                "rss_display_mb": rss_mb(display.proc.pid), "rss_xvfb_mb": rss_mb(xvfb_pid),
                "log_head": [line for line in display.lines[:3]],
            }
        finally:
            display.stop()
    return result


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement per variant")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    if not shutil.which("Xvfb"):
        print("Xvfb is not installed (apt install xvfb)", file=sys.stderr)
        return 2
    print(f"machine: {platform.node()} · {cpu_model()} · {os.cpu_count()} cores · Linux {platform.release()} · "
          f"Python {platform.python_version()}")
    xvfb, x_display = start_xvfb(args.size)
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for variant, accel in (("board (SDL_FRAMEBUFFER_ACCELERATION=0)", False),
                                   ("baseline: board, SDL default (accelerated)", True)):
                directory = Path(tmp) / ("accel" if accel else "noaccel")
                directory.mkdir()
                results.append(asyncio.run(measure(variant, write_config(directory, accel), x_display, xvfb.pid,
                                                   args.calls, args.idle)))
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    print(f"\n{args.size} under Xvfb; {args.calls} calls per variant; idle CPU over {args.idle:g} s "
          "(% of one core; clock + ticker running)\n")
    print(f"{'variant':46} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'miss':>4} {'CPU disp':>8} {'CPU Xvfb':>8} "
          f"{'CPU sum':>7} {'RSS disp':>8} {'RSS Xvfb':>8}")
    for r in results:
        print(f"{r['variant']:46} {r['p50_ms']:7.1f} {r['p99_ms']:7.1f} {r['max_ms']:7.1f} {r['missed']:4d} "
              f"{r['cpu_display']:7.1f}% {r['cpu_xvfb']:7.1f}% {r['cpu_total']:6.1f}% "
              f"{r['rss_display_mb']:6.0f}MB {r['rss_xvfb_mb']:6.0f}MB")
    return 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
