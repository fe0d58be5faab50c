"""Content benchmarks with real processes under Xvfb 1920×1080 (issue 12). Not a test.

    .venv/bin/python bench/bench_content.py [--only calls,footprint] [--calls 100] [--rounds 2]
                                            [--seconds 40] [--warmup 15]

calls: call → frame shown on a real `signage display --layout split` (fullscreen, x11 driver,
  config as shipped), with a 720p H.264 clip playing in its media area, against the same
  board with a generated slide there instead (no video). The two variants alternate in
  rounds on the same Xvfb, so load from other work hits both; each round is its own hub
  process and display process. Latency is from just before the operator sends `call` to the
  display's "shown seq=N mono=T" log line (written right after pygame.display.update). Calls
  are paced 100–300 ms apart, after the clip has been playing for 3 s. Target: p99 with
  video ≤ 1.5× p99 without.

footprint: our board in the split layout playing the clip, against a Chromium kiosk page
  (bench/html_board/split.html: the same board, the same file in a <video muted loop> of the
  same size), side by side, each on its own Xvfb, measured over the same window. CPU is % of
  one core over the whole process tree plus its Xvfb, memory PSS (smaps_rollup). Targets:
  CPU ≤ 0.5× and PSS ≤ 0.33× Chromium's.

The clip is made here with PyAV: 1280×720, 25 fps, H.264 at ~2.5 Mbit/s, a moving textured
picture (so the decoder has real work), 20 s, looping.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (ROOT, PYTHON, CpuMeter, Server, header, percentile, process_tree, ratio,  # noqa: E402
                     screenshot, start_xvfb, stop, table, write_hub_config)
from bench_footprint import CHROMIUM_FLAGS, board_data, fill_hall, memory, start_http  # noqa: E402
from _fleet import tokens  # noqa: E402

sys.path.insert(0, str(ROOT))
import yaml  # noqa: E402

from signage.config import load_config  # noqa: E402
from signage.core import messages as m  # noqa: E402
from signage.operator.client import Session, new_id  # noqa: E402

OUT = ROOT / "bench" / "out"


# ---------------------------------------------------------------- the clip


def make_clip(path: Path, seconds: float = 20, size=(1280, 720), fps: int = 25, bitrate: int = 2_500_000) -> Path:
    """A 720p H.264 clip with texture and motion in every frame."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import av
    import pygame

    w, h = size
    rng = random.Random(12)
    texture = pygame.Surface((w * 2, h))
    for x in range(0, w * 2, 16):  # a colourful field of blocks, scrolled a few pixels per frame
        for y in range(0, h, 16):
            texture.fill((rng.randrange(30, 220), rng.randrange(30, 220), rng.randrange(30, 220)), (x, y, 16, 16))
    frame_surface = pygame.Surface(size)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = bitrate
        stream.options = {"preset": "veryfast"}
        for i in range(int(seconds * fps)):
            frame_surface.blit(texture, (-(i * 6) % w, 0))
            for k in range(6):  # moving discs over the scrolling field
                cx = int((w / 2) + (w / 3) * math.sin(i / 20 + k))
                cy = int((h / 2) + (h / 3) * math.cos(i / 15 + k * 1.7))
                pygame.draw.circle(frame_surface, (255, 255 - k * 30, 40 * k), (cx, cy), 40 + k * 8)
            frame = av.VideoFrame(w, h, "rgb24")
            frame.planes[0].update(pygame.image.tobytes(frame_surface, "RGB"))
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def content_config(directory: Path, name: str, playlist: list[dict]) -> Path:
    path = write_hub_config(directory / name)
    raw = yaml.safe_load(path.read_text())
    raw["display"]["layout"] = "split"
    raw["content"].update(dir=str(directory / "content"), playlist=playlist)
    raw["content"]["cache_dir"] = str(directory / name / "cache")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


# ---------------------------------------------------------------- a board process


class Board:
    """`signage display --layout split` fullscreen on an X server; reads its "shown" and media log lines."""

    def __init__(self, config_path: Path, hub_url: str, x_display: str, quiet: bool = False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
        env.update({"DISPLAY": x_display, "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
        argv = [PYTHON, "-m", "signage", "--log-level", "warning" if quiet else "info", "display", "--config",
                str(config_path), "--hub", hub_url, "--silent", "--layout", "split"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     cwd=ROOT)
        self.shown: dict[int, float] = {}
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip())
                found = re.search(r"shown seq=(\d+) mono=([\d.]+)", line)
                if found:
                    self.shown[int(found.group(1))] = float(found.group(2))
                self.changed.notify_all()

    def wait(self, predicate, limit: float):
        deadline = time.monotonic() + limit
        with self.changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def wait_line(self, pattern: str, limit: float = 30) -> bool:
        return bool(self.wait(lambda: any(re.search(pattern, line) for line in self.lines), limit))

    def stop(self) -> None:
        stop(self.proc)


# ---------------------------------------------------------------- call → shown


async def calls_round(config_path: Path, x_display: str, count: int, media_line: str) -> tuple[list[float], int]:
    cfg = load_config(config_path)
    operator = next(t.secret for t in cfg.tokens if t.role == "operator" and t.counters is None)
    hub = Server.hub(config_path)
    board = Board(config_path, hub.url, x_display)
    try:
        if not await asyncio.to_thread(board.wait_line, media_line, 60):
            raise RuntimeError("the board never played its media:\n" + "\n".join(board.lines[-30:]))
        await asyncio.sleep(3)  # playing steadily, caches warm
        latencies, missed = [], 0
        async with Session(hub.url, operator) as session:
            for i in range(count):
                sent = time.monotonic()
                ack = await session.request(m.Call(new_id("bench"), i % 21 + 1, f"A-{i + 1:03d}"))
                shown = await asyncio.to_thread(board.wait, lambda: board.shown.get(ack.seq), 5)
                if shown is None:
                    missed += 1
                else:
                    latencies.append((shown - sent) * 1000)
                await asyncio.sleep(random.uniform(0.1, 0.3))
        return latencies, missed
    finally:
        board.stop()
        hub.stop()


def part_calls(args, tmp: Path, clip: Path) -> str:
    variants = {
        "split, 720p H.264 video playing": (content_config(tmp, "video", [{"type": "video", "file": clip.name}]),
                                            r"media: playing playlist\[0\] clip\.mp4"),
        "baseline: split, a slide (no video)": (content_config(tmp, "slide", [{"type": "slide", "slide": "maklumat"}]),
                                                r"media: playing playlist\[0\] maklumat"),
    }
    xvfb, x_display = start_xvfb("1920x1080")
    results = {name: ([], 0) for name in variants}
    try:
        for _ in range(args.rounds):
            for name, (config_path, line) in variants.items():
                latencies, missed = asyncio.run(calls_round(config_path, x_display, args.calls, line))
                results[name][0].extend(latencies)
                results[name] = (results[name][0], results[name][1] + missed)
    finally:
        stop(xvfb)
    rows = []
    base = results["baseline: split, a slide (no video)"][0]
    for name, (latencies, missed) in results.items():
        rows.append([name, len(latencies), f"{percentile(latencies, 50):.1f}", f"{percentile(latencies, 99):.1f}",
                     f"{max(latencies):.1f}", missed, ratio(percentile(latencies, 50), percentile(base, 50)),
                     ratio(percentile(latencies, 99), percentile(base, 99))])
    video = results["split, 720p H.264 video playing"][0]
    verdict = percentile(video, 99) <= 1.5 * percentile(base, 99)
    return "\n".join([
        header("Call → frame shown, with and without video (split layout, Xvfb 1920×1080)"),
        f"{args.rounds} rounds × {args.calls} calls per variant, alternating; a hub and a display process per round.\n",
        table(["variant", "n", "p50 ms", "p99 ms", "max ms", "missed", "p50 / baseline", "p99 / baseline"], rows),
        f"\nTarget p99 with video ≤ 1.5× without: **{'met' if verdict else 'NOT met'}** "
        f"({ratio(percentile(video, 99), percentile(base, 99))}).\n",
    ])


# ---------------------------------------------------------------- footprint


def part_footprint(args, tmp: Path, clip: Path) -> str:
    config_path = content_config(tmp, "footprint", [{"type": "video", "file": clip.name}])
    config, secrets = load_config(config_path), tokens(config_path)
    procs: list[subprocess.Popen] = []
    hub = Server.hub(config_path)
    try:
        asyncio.run(fill_hall(hub.url, config, secrets))
        www = tmp / "www"
        www.mkdir(exist_ok=True)
        shutil.copy(ROOT / "bench" / "html_board" / "split.html", www / "board.html")
        shutil.copy(clip, www / "clip.mp4")
        (www / "board.json").write_text(json.dumps(asyncio.run(board_data(hub.url, config, secrets)),
                                                   ensure_ascii=False))
        http, page = start_http(www)
        procs.append(http)
        xvfb_ours, display_ours = start_xvfb("1920x1080")
        xvfb_chromium, display_chromium = start_xvfb("1920x1080")
        procs += [xvfb_ours, xvfb_chromium]
        ours = Board(config_path, hub.url, display_ours, quiet=True)
        chromium = subprocess.Popen(["/usr/bin/chromium", *CHROMIUM_FLAGS, "--autoplay-policy=no-user-gesture-required",
                                     f"--user-data-dir={tmp / 'chromium-profile'}", page],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "DISPLAY": display_chromium})
        procs[:0] = [chromium]
        time.sleep(args.warmup)
        if ours.proc.poll() is not None or chromium.poll() is not None:
            raise RuntimeError("a board exited early:\n" + "\n".join(ours.lines[-20:]))
        screenshot(display_ours, OUT / "content-footprint-ours.png")
        screenshot(display_chromium, OUT / "content-footprint-chromium.png")
        sides = {
            "ours: signage display --layout split (pygame + PyAV)": (lambda: process_tree(ours.proc.pid), xvfb_ours.pid),
            "alternative: Chromium kiosk, the same board + <video>": (lambda: process_tree(chromium.pid),
                                                                      xvfb_chromium.pid),
        }
        meters = {name: (CpuMeter(tree), CpuMeter(lambda x=xvfb: [x])) for name, (tree, xvfb) in sides.items()}
        time.sleep(args.seconds)
        rows, results = [], {}
        for name, (tree, xvfb) in sides.items():
            app_cpu, x_cpu = meters[name][0].percent(), meters[name][1].percent()
            pids = tree()
            app_pss, app_rss = memory(pids)
            x_pss, x_rss = memory([xvfb])
            results[name] = (app_cpu + x_cpu, app_pss + x_pss)
            rows.append([name, len(pids), f"{app_cpu:.1f}%", f"{x_cpu:.1f}%", f"{app_cpu + x_cpu:.1f}%",
                         f"{app_pss:.0f}", f"{x_pss:.0f}", f"{app_pss + x_pss:.0f}", f"{app_rss + x_rss:.0f}"])
        ours.stop()
    finally:
        for proc in procs:
            stop(proc)
        hub.stop()
    (ours_cpu, ours_pss), (chr_cpu, chr_pss) = results.values()
    cpu_ok, pss_ok = ours_cpu <= 0.5 * chr_cpu, ours_pss <= 0.33 * chr_pss
    return "\n".join([
        header("Footprint with a 720p video: split board vs Chromium kiosk (Xvfb 1920×1080 each)"),
        f"Both at the same time, measured over the same {args.seconds:g} s after {args.warmup:g} s of warm-up; "
        "CPU is % of one core, memory in MB (process tree + its Xvfb).\n",
        table(["board", "processes", "CPU app", "CPU Xvfb", "CPU total", "PSS app", "PSS Xvfb", "PSS total",
               "RSS total"], rows),
        f"\nOurs / Chromium: CPU {ratio(ours_cpu, chr_cpu)} (target ≤ 0.5×: {'met' if cpu_ok else 'NOT met'}), "
        f"PSS {ratio(ours_pss, chr_pss)} (target ≤ 0.33×: {'met' if pss_ok else 'NOT met'}).\n",
        "Screenshots: `bench/out/content-footprint-ours.png`, `bench/out/content-footprint-chromium.png`.\n",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="calls,footprint")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    args = parser.parse_args()
    if not (shutil.which("Xvfb") and Path("/usr/bin/chromium").exists()):
        print("needs Xvfb and /usr/bin/chromium (make system)", file=sys.stderr)
        return 2
    parts = args.only.split(",")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-content-") as tmp:
        tmp = Path(tmp)
        (tmp / "content").mkdir()
        clip = make_clip(tmp / "content" / "clip.mp4")
        print(f"clip: {clip.name}, {clip.stat().st_size / 1e6:.1f} MB, 1280x720, 25 fps, 20 s\n")
        if "calls" in parts:
            print(part_calls(args, tmp, clip), flush=True)
        if "footprint" in parts:
            print(part_footprint(args, tmp, clip), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
