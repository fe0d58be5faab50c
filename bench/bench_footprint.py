"""Footprint: our pygame board vs a Chromium kiosk showing the same board, side by side. Not a test.

    .venv/bin/python bench/bench_footprint.py [--seconds 60] [--warmup 15]

One hub process (`python -m signage hub`, temp journal) gets a busy morning: a kiosk issues tickets,
18 counters call the next one, the operator sets a running text. Then, at the same time, each on
its own Xvfb at 1920×1080×24:

  * ours: `python -m signage display --silent` fullscreen (x11 driver, config as shipped), live on the hub;
  * the alternative: `chromium --kiosk` showing bench/html_board/board.html (same layout and data,
    taken from the hub's snapshot into board.json; clock updated every second; CSS-animated ticker),
    served by `python -m http.server` on 127.0.0.1, fresh --user-data-dir.

After --warmup (the last call's highlight has ended), both are measured over the same --seconds window,
so load from other work on the machine hits both: CPU % of one core from /proc/<pid>/stat
(utime+stime) of the whole process tree plus its Xvfb; memory as PSS (smaps_rollup) and RSS summed
over the tree plus Xvfb. Neither side counts the hub or the HTTP server. Screenshots of both screens
go to bench/out/footprint-ours.png and bench/out/footprint-chromium.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (ROOT, PYTHON, CpuMeter, Server, header, process_tree, pss_mb, ratio, rss_mb,  # noqa: E402
                     screenshot, start_xvfb, stop, table, write_hub_config)
from _fleet import Operator, tokens  # noqa: E402

sys.path.insert(0, str(ROOT))
from signage.config import Config, load_config  # noqa: E402
from signage.core.layout import DAYS, MONTHS, WORDS  # noqa: E402
from signage.operator.client import Session  # noqa: E402

OUT = ROOT / "bench" / "out"
IDLE_COUNTERS = (13, 20, 21)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--kiosk", "--window-size=1920,1080", "--window-position=0,0",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--noerrdialogs", "--disable-infobars",
                  "--disable-features=Translate"]


# ---------------------------------------------------------------- a busy morning on the hub


async def fill_hall(url: str, config: Config, secrets: dict[str, str]) -> None:
    kiosk = await Operator.connect(url, secrets["anjungan-1"], "bench-kiosk", role="kiosk")
    supervisor = await Operator.connect(url, secrets["supervisor"], "bench-supervisor")
    for counter in config.counters:
        service = config.services_for_counter(counter.number)[0]
        for _ in range(2 + counter.number % 5):
            await kiosk.request({"type": "issue", "service": service.code})
    for counter in config.counters:
        if counter.number not in IDLE_COUNTERS:
            await supervisor.request({"type": "next", "counter": counter.number})
    await supervisor.request({"type": "ticker", "text": "Hari ini loket Imigrasi melayani sampai pukul 12.00 WIB."})
    await kiosk.close()
    await supervisor.close()


async def board_data(url: str, config: Config, secrets: dict[str, str]) -> dict:
    """What the pygame board shows, as plain data for board.html."""
    async with Session(url, secrets["tv-semua"], role="display", client="bench-footprint") as session:
        snap = session.welcome.state
    words, locale = WORDS[config.hall.locale], config.hall.locale
    agency_of = {a.code: a.short_name for a in config.agencies}
    counter_name = {c.number: c.name for c in config.counters}
    latest = snap.history[0] if snap.history else None
    per_agency: dict[str, int] = {}
    for code, count in snap.waiting.items():
        if count:
            agency = agency_of[config.service(code).agency]
            per_agency[agency] = per_agency.get(agency, 0) + count
    waiting = [{"agency": a, "count": n} for a, n in per_agency.items()]
    shown = waiting[:5] + ([{"agency": f"+{len(waiting) - 5} {words['more']}", "count": ""}] if len(waiting) > 5
                           else [])
    offset = datetime.now(config.hall.timezone).utcoffset().total_seconds() / 60
    return {
        "hall": config.hall.name, "zone": config.display.zones[0].title,
        "tz_label": config.hall.timezone_label, "utc_offset_minutes": offset,
        "days": [DAYS[locale][6], *DAYS[locale][:6]], "months": list(MONTHS[locale]),
        "hero": latest and {
            "label": words["calling_again" if latest.recall else "now_calling"], "ticket": latest.ticket,
            "counter": counter_name[latest.counter],
            "service": f"{config.service(latest.service).name} · {agency_of[config.service(latest.service).agency]}"
            if latest.service else ""},
        "history_title": words["history"],
        "history": [{"ticket": h.ticket, "counter": counter_name[h.counter],
                     "at": h.at.astimezone(config.hall.timezone).strftime("%H.%M")}
                    for h in snap.history[:config.display.history]],
        "waiting_title": words["waiting"], "waiting": shown,
        "counters": [{"name": c.name, "agency": agency_of[c.agency],
                      "ticket": (snap.counters.get(c.number).ticket if snap.counters.get(c.number) else None)}
                     for c in config.counters],
        "ticker": [t for t in [snap.ticker, *config.display.ticker] if t],
        "ticker_speed": config.display.ticker_speed,
    }


# ---------------------------------------------------------------- the two boards


def start_http(directory: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([PYTHON, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
                             str(directory)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    port = re.search(r"port (\d+)", line).group(1)
    return proc, f"http://127.0.0.1:{port}/board.html"


def start_ours(config_path: Path, hub_url: str, x_display: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
    env.update({"DISPLAY": x_display, "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
    return subprocess.Popen([PYTHON, "-m", "signage", "--log-level", "warning", "display", "--config",
                             str(config_path), "--hub", hub_url, "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)


def start_chromium(url: str, x_display: str, profile: Path) -> subprocess.Popen:
    env = {**os.environ, "DISPLAY": x_display}
    return subprocess.Popen(["/usr/bin/chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def memory(pids: list[int]) -> tuple[float, float]:
    return sum(pss_mb(p) for p in pids), sum(rss_mb(p) for p in pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window (both at once)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after start before measuring")
    args = parser.parse_args()
    if not (shutil.which("Xvfb") and Path("/usr/bin/chromium").exists() and shutil.which("import")):
        print("needs Xvfb, /usr/bin/chromium and imagemagick (make system)", file=sys.stderr)
        return 2

    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp:
        tmp = Path(tmp)
        config_path = write_hub_config(tmp, sync="full")
        config, secrets = load_config(config_path), tokens(config_path)
        hub = Server.hub(config_path)
        try:
            asyncio.run(fill_hall(hub.url, config, secrets))
            www = tmp / "www"
            www.mkdir()
            shutil.copy(ROOT / "bench" / "html_board" / "board.html", www / "board.html")
            (www / "board.json").write_text(json.dumps(asyncio.run(board_data(hub.url, config, secrets)),
                                                       ensure_ascii=False))
            http, page = start_http(www)
            procs.append(http)
            xvfb_ours, display_ours = start_xvfb("1920x1080")
            xvfb_chromium, display_chromium = start_xvfb("1920x1080")
            procs += [xvfb_ours, xvfb_chromium]
            ours = start_ours(config_path, hub.url, display_ours)
            chromium = start_chromium(page, display_chromium, tmp / "chromium-profile")
            procs[:0] = [ours, chromium]
            time.sleep(args.warmup)
            for proc, name in ((ours, "ours"), (chromium, "chromium")):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited early with status {proc.returncode}")
            screenshot(display_ours, OUT / "footprint-ours.png")
            screenshot(display_chromium, OUT / "footprint-chromium.png")
            sides = {
                "ours: signage display (pygame, SDL_FRAMEBUFFER_ACCELERATION=0)":
                    (lambda: process_tree(ours.pid), xvfb_ours.pid),
                "alternative: Chromium kiosk, HTML board": (lambda: process_tree(chromium.pid), xvfb_chromium.pid),
            }
            meters = {name: (CpuMeter(tree), CpuMeter(lambda x=xvfb: [x])) for name, (tree, xvfb) in sides.items()}
            time.sleep(args.seconds)
            rows, results = [], {}
            for name, (tree, xvfb) in sides.items():
                app_cpu, x_cpu = meters[name][0].percent(), meters[name][1].percent()
                pids = tree()
                app_pss, app_rss = memory(pids)
                x_pss, x_rss = memory([xvfb])
                results[name] = (app_cpu + x_cpu, app_pss + x_pss, app_rss + x_rss)
                rows.append([name, len(pids), f"{app_cpu:.1f}%", f"{x_cpu:.1f}%", f"{app_cpu + x_cpu:.1f}%",
                             f"{app_pss:.0f}", f"{x_pss:.0f}", f"{app_pss + x_pss:.0f}", f"{app_rss + x_rss:.0f}"])
        finally:
            for proc in procs:
                stop(proc)
            hub.stop()

    print(header("Footprint at 1920×1080 under Xvfb: pygame board vs Chromium kiosk"))
    print(f"Both boards running at the same time, each on its own Xvfb, measured over the same "
          f"{args.seconds:g} s window after {args.warmup:g} s of warm-up; clock and running text only "
          "(no call during the window). CPU is % of one core; memory in MB.\n")
    print(table(["board", "processes", "CPU app", "CPU Xvfb", "CPU total", "PSS app", "PSS Xvfb", "PSS total",
                 "RSS total (double-counts shared pages)"], rows))
    (ours_cpu, ours_pss, ours_rss), (chr_cpu, chr_pss, chr_rss) = results.values()
    print(f"\nRatios ours / Chromium: CPU {ratio(ours_cpu, chr_cpu)}, PSS {ratio(ours_pss, chr_pss)}, "
          f"RSS {ratio(ours_rss, chr_rss)}.\n")
    print("Screenshots: `bench/out/footprint-ours.png`, `bench/out/footprint-chromium.png`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
