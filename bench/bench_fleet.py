"""Fleet figures: what heartbeats cost the hub, and how long a remote screenshot takes. Not a test.

    .venv/bin/python bench/bench_fleet.py [--displays 20] [--seconds 20] [--rounds 2] [--shots 45]

1. Hub CPU and RSS, a hub process on loopback with N display connections held by this process:
   silent (connected, no heartbeat: the baseline), heartbeating every 5 s (fleet.heartbeat_seconds'
   default), and every 0.5 s (10x, so the cost stands above the noise). Phases interleaved over
   rounds, same run. Also the time to answer GET /status/data and GET /metrics with N clients.
2. Screenshot round trip: three real `signage display` processes (SDL dummy driver, 1920x1080
   windows) and one admin connection; `act screenshot` → the display encodes its current frame
   (scaled to 640 px) → binary PNG → the hub → base64 in the admin's action_result. Baseline in
   the same run: `act identify` (the same path with a text reply and no PNG).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from _common import (PYTHON, ROOT, CpuMeter, Server, header, percentile, ratio, rss_mb, table,  # noqa: E402
                     write_hub_config)
from _fleet import tokens  # noqa: E402


def heartbeat(name: str, seq: int) -> str:
    return json.dumps({
        "type": "heartbeat", "name": name, "version": "0.1.0", "uptime_s": 1234.5, "fps": 30.0, "seq": seq,
        "cpu_percent": 2.8, "rss_bytes": 121_000_000, "disk_free_bytes": 20_000_000_000, "audio": "ok",
        "audio_reason": "", "zone": "semua", "layout": "board", "resolution": [1920, 1080], "rtt_ms": 0.4,
        "clock": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "voice_lease": None,
        "content_version": None, "cache_bytes": 391872, "broken": [], "warnings": 1,
        "last_warnings": ["WARNING signage.display: DejaVu fonts not found; using pygame's bundled font"]})


async def hello(url: str, role: str, token: str, client: str):
    ws = await connect(url, compression=None, max_size=2 ** 22, open_timeout=30, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "role": role, "token": token, "client": client,
                              "subscribe": False}))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return ws


def get(url: str, token: str) -> float:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    return time.perf_counter() - t0


async def heartbeat_cost(args, directory: Path) -> str:
    config = write_hub_config(directory)
    secrets = tokens(config)
    hub = Server.hub(config)
    try:
        displays = [await hello(hub.url, "display", secrets["tv-semua"], f"bench-{i}") for i in range(args.displays)]
        names = [f"tv-{i:02d}" for i in range(args.displays)]
        for ws, name in zip(displays, names):  # every display known to the fleet before measuring
            await ws.send(heartbeat(name, 0))
        await asyncio.sleep(2)
        results: dict[str, list[tuple[float, float, int]]] = {"silent": [], "5 s": [], "0.5 s": []}
        for _ in range(args.rounds):
            for phase, interval in (("silent", None), ("5 s", 5.0), ("0.5 s", 0.5)):
                meter = CpuMeter(lambda: [hub.pid])
                sent = 0
                end = time.monotonic() + args.seconds
                if interval is None:
                    await asyncio.sleep(args.seconds)
                else:
                    async def beat(ws, name, offset):
                        nonlocal sent
                        await asyncio.sleep(offset)  # staggered, as real screens are
                        while time.monotonic() < end:
                            await ws.send(heartbeat(name, 0))
                            sent += 1
                            await asyncio.sleep(interval)
                    await asyncio.gather(*(beat(ws, n, interval * i / len(displays))
                                           for i, (ws, n) in enumerate(zip(displays, names))))
                results[phase].append((meter.percent(), rss_mb(hub.pid), sent))
        loop = asyncio.get_running_loop()
        status, metrics = [], []
        for _ in range(50):
            status.append(await loop.run_in_executor(None, get, hub.url.replace("ws://", "http://") + "status/data",
                                                     secrets["teknisi"]))
            metrics.append(await loop.run_in_executor(None, get, hub.url.replace("ws://", "http://") + "metrics",
                                                      secrets["teknisi"]))
        for ws in displays:
            await ws.close()
    finally:
        hub.stop()
    base_cpu = sum(r[0] for r in results["silent"]) / len(results["silent"])
    rows = []
    for phase, runs in results.items():
        cpu = sum(r[0] for r in runs) / len(runs)
        beats = sum(r[2] for r in runs)
        per_beat = (cpu - base_cpu) / 100 * args.seconds * len(runs) / beats * 1e6 if beats else None
        rows.append([phase if phase == "silent" else f"heartbeat every {phase}", f"{cpu:.2f}%",
                     ratio(cpu, base_cpu) if phase != "silent" else "baseline",
                     f"{max(r[1] for r in runs):.1f} MB", beats,
                     f"{per_beat:.0f} µs" if per_beat is not None else "—"])
    http_rows = [[path, f"{percentile(v, 50) * 1000:.2f} ms", f"{percentile(v, 99) * 1000:.2f} ms"]
                 for path, v in (("/status/data", status), ("/metrics", metrics))]
    return "\n".join([
        f"### Hub CPU and RSS, {args.displays} displays ({args.rounds} rounds × {args.seconds:g} s per phase, "
        "interleaved)", "",
        table(["displays", "hub CPU (one core)", "vs silent", "hub RSS (max)", "heartbeats sent",
               "hub CPU per heartbeat (above silent)"], rows), "",
        f"HTTP with {args.displays} clients known, 50 requests each (includes urllib's connect on loopback):", "",
        table(["request", "p50", "p99"], http_rows), ""])


async def screenshot_round_trip(args, directory: Path) -> str:
    config = write_hub_config(directory / "shots")
    raw = yaml.safe_load(config.read_text())
    raw["fleet"] = {"heartbeat_seconds": 1, "alert_after_seconds": 5}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    secrets = tokens(config)
    hub = Server.hub(config)
    env = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    names = ["shot-1", "shot-2", "shot-3"]
    boards = [subprocess.Popen([PYTHON, "-m", "signage", "--log-level", "warning", "display", "--config", str(config),
                                "--hub", hub.url, "--token", secrets["tv-semua"], "--name", name,
                                "--windowed", "1920x1080", "--silent"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name in names]
    try:
        admin = await hello(hub.url, "admin", secrets["teknisi"], "bench-admin")
        for _ in range(100):  # until all three have sent a heartbeat
            data = await asyncio.get_running_loop().run_in_executor(
                None, lambda: json.loads(urllib.request.urlopen(urllib.request.Request(
                    hub.url.replace("ws://", "http://") + "status/data",
                    headers={"Authorization": f"Bearer {secrets['teknisi']}"}), timeout=10).read()))
            if len(data["clients"]) == 3:
                break
            await asyncio.sleep(0.2)
        # A few calls so the boards show something.
        op = await hello(hub.url, "operator", secrets["supervisor"], "bench-op")
        for i, counter in enumerate((1, 5, 9, 17)):
            await op.send(json.dumps({"type": "call", "id": f"c{i}", "counter": counter, "ticket": f"A-{i + 1:03d}"}))
            await op.recv()
        await op.close()
        await asyncio.sleep(1)
        times: dict[str, list[float]] = {"screenshot": [], "identify": []}
        sizes = []
        n = 0
        for i in range(args.shots):
            for action in ("screenshot", "identify"):
                name = names[i % 3]
                n += 1
                t0 = time.perf_counter()
                await admin.send(json.dumps({"type": "act", "id": f"a{n}", "action": action, "name": name}))
                reply = json.loads(await admin.recv())
                times[action].append(time.perf_counter() - t0)
                assert reply["type"] == "action_result", reply
                if action == "screenshot":
                    sizes.append(len(reply["png"]) * 3 // 4)
            await asyncio.sleep(0.36)  # each board gets one screenshot request per ~1.1 s (the hub allows 1/s)
        await admin.close()
    finally:
        for board in boards:
            board.terminate()
        for board in boards:
            board.wait(10)
        hub.stop()
    base = percentile(times["identify"], 50)
    rows = [[action, len(v), f"{percentile(v, 50) * 1000:.1f} ms", f"{percentile(v, 99) * 1000:.1f} ms",
             "baseline" if action == "identify" else ratio(percentile(v, 50), base)] for action, v in times.items()]
    return "\n".join([
        "### Screenshot round trip (3 displays at 1920×1080, PNG scaled to 640×360)", "",
        table(["action", "n", "p50", "p99", "p50 vs identify"], rows), "",
        f"PNG size: p50 {percentile(sizes, 50) / 1024:.0f} KiB, max {max(sizes) / 1024:.0f} KiB "
        f"(cap {256} KiB).", ""])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shots", type=int, default=45)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        parts = [header("Fleet: heartbeat cost and screenshot round trip"),
                 await heartbeat_cost(args, Path(tmp)), await screenshot_round_trip(args, Path(tmp))]
    print("\n".join(parts))


if __name__ == "__main__":
    asyncio.run(main())
