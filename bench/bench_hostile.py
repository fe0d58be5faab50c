"""Hostile frames: what the strict codec costs, and how fast a hub answers a flood of them. Not a test.

    .venv/bin/python bench/bench_hostile.py [--frames 4000] [--rounds 3]

1. Parse cost, in this process: `protocol.parse_client_frame` (the strict codec: BOM, depth,
   duplicate keys, number range, the text rule on every key and string, then the typed fields)
   against a bare `json.loads` of the same frames, as the baseline. p50/p99 per frame, for
   well-formed commands and for hostile frames.
2. Hub throughput, a hub process on loopback: one operator connection sends N frames one after
   another (each waits for its reply), hostile frames vs well-formed commands the rules refuse
   (`recall` on an idle counter: parsed, decided, answered, nothing stored), interleaved over rounds.
   Throughput in frames/s, reply latency p50/p99; and a probe `call` on another connection after the
   flood must be acked.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from websockets.sync.client import connect  # noqa: E402

from _common import Server, header, percentile, ratio, table, write_hub_config  # noqa: E402
from signage.core import protocol  # noqa: E402
from signage.errors import ProtocolError  # noqa: E402


def hostile_frames(n: int, rng: random.Random) -> list[str]:
    def bad_text() -> str:
        return "Jam layanan" + chr(rng.choice([0xD800, 0xDFFF, 0x00, 0x0A, 0x1B, 0x85])) + "buka"

    makers = [
        lambda i: json.dumps({"type": "clear", "id": "\ud800", "counter": 1}),
        lambda i: json.dumps({"type": "ticker", "id": f"t{i}", "text": bad_text()}),
        lambda i: json.dumps({"type": "call", "id": f"c{i}", "counter": 1, "ticket": "A-1", "x-n": [bad_text()]}),
        lambda i: '{"type":"next","id":"n%d","id":"m","counter":1}' % i,
        lambda i: '\ufeff{"type":"next","id":"n%d","counter":1}' % i,
        lambda i: '{"type":"next","id":"n%d","counter":NaN}' % i,
        lambda i: '{"type":"next","id":"n%d","counter":%s}' % (i, "9" * 40),
        lambda i: '{"type":"next","id":"n%d","counter":1,"x-d":%s%s}' % (i, "[" * 40, "]" * 40),
        lambda i: json.dumps({"type": "next", "id": f"n{i}", "counter": True}),
        lambda i: "[" * 2000 + "]" * 2000,
    ]
    return [rng.choice(makers)(i) for i in range(n)]


def refused_commands(n: int) -> list[str]:
    return [json.dumps({"type": "recall", "id": f"r{i}", "counter": 7}) for i in range(n)]


def parse_cost(frames: list[str]) -> dict:
    strict, plain = [], []
    for frame in frames:
        t0 = time.perf_counter()
        try:
            protocol.parse_client_frame(frame, 4096)
        except ProtocolError:
            pass
        t1 = time.perf_counter()
        try:
            json.loads(frame)
        except (ValueError, RecursionError):
            pass
        t2 = time.perf_counter()
        strict.append((t1 - t0) * 1e6)
        plain.append((t2 - t1) * 1e6)
    return {"strict": strict, "plain": plain}


def flood(url: str, token: str, frames: list[str]) -> tuple[float, list[float], dict]:
    latencies, codes = [], {}
    with connect(url, compression=None, max_size=2 ** 22) as ws:
        ws.send(json.dumps({"type": "hello", "role": "operator", "token": token, "client": "bench", "subscribe": False}))
        ws.recv(timeout=10)
        started = time.perf_counter()
        for frame in frames:
            t0 = time.perf_counter()
            ws.send(frame)
            reply = json.loads(ws.recv(timeout=10))
            latencies.append((time.perf_counter() - t0) * 1000)
            key = reply.get("code", reply["type"])
            codes[key] = codes.get(key, 0) + 1
        elapsed = time.perf_counter() - started
    return len(frames) / elapsed, latencies, codes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261201)
    hostile = hostile_frames(args.frames, rng)
    valid = refused_commands(args.frames)

    print(header("Hostile frames: strict codec cost and hub throughput"))
    rows = []
    for name, frames in (("well-formed command", valid), ("hostile frame", hostile)):
        cost = parse_cost(frames * 3)
        s50, s99 = percentile(cost["strict"], 50), percentile(cost["strict"], 99)
        p50, p99 = percentile(cost["plain"], 50), percentile(cost["plain"], 99)
        rows.append([name, f"{s50:.1f}", f"{s99:.1f}", f"{p50:.1f}", f"{p99:.1f}", ratio(s50, p50), ratio(s99, p99)])
    print("Parse cost per frame, µs, in one process (baseline: bare `json.loads` of the same frame):\n")
    print(table(["frames", "strict p50", "strict p99", "json.loads p50", "json.loads p99", "p50 ratio",
                 "p99 ratio"], rows))

    with tempfile.TemporaryDirectory() as tmp:
        config = write_hub_config(Path(tmp), sync="normal")
        import yaml

        secret = next(t["token"] for t in yaml.safe_load(config.read_text())["tokens"] if t["name"] == "supervisor")
        hub = Server.hub(config)
        try:
            results: dict[str, list] = {"well-formed, refused by the rules": [], "hostile": []}
            codes: dict[str, dict] = {}
            for _ in range(args.rounds):
                for name, frames in (("well-formed, refused by the rules", valid), ("hostile", hostile)):
                    rate, latencies, seen = flood(hub.url, secret, frames)
                    results[name].append((rate, latencies))
                    codes[name] = seen
            with connect(hub.url, compression=None) as ws:
                ws.send(json.dumps({"type": "hello", "role": "operator", "token": secret, "client": "probe"}))
                ws.recv(timeout=10)
                ws.send(json.dumps({"type": "call", "id": "probe", "counter": 3, "ticket": "C-001"}))
                probe = json.loads(ws.recv(timeout=10))
            alive = hub.proc.poll() is None
        finally:
            hub.stop()
    rows = []
    base = None
    for name, runs in results.items():
        rates = [r for r, _ in runs]
        lat = [x for _, ls in runs for x in ls]
        median_rate = sorted(rates)[len(rates) // 2]
        base = base or median_rate
        rows.append([name, f"{median_rate:.0f}", f"{percentile(lat, 50):.2f}", f"{percentile(lat, 99):.2f}",
                     ratio(median_rate, base), ", ".join(f"{k} {v}" for k, v in sorted(codes[name].items()))])
    print(f"\nHub process, one connection, {args.frames} frames per round, {args.rounds} interleaved rounds "
          f"(median round; baseline: well-formed commands the rules refuse):\n")
    print(table(["frames", "frames/s", "reply p50 ms", "reply p99 ms", "vs baseline", "replies (last round)"], rows))
    print(f"\nAfter the flood: hub process alive: {alive}; a probe call on another connection: {probe['type']}.")


if __name__ == "__main__":
    main()
