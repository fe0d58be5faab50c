"""Hub fan-out: call → every display received it, with 200 displays and 1 operator. Not a test.

    .venv/bin/python bench/bench_hub.py [--displays 200] [--calls 300] [--rate 20] [--rounds 2]

The server runs as its own process (`python -m signage hub --port 0`, journal in a temp dir, rate
limit lifted); the 200 display connections and the operator run on one event loop in this process
(bench/_fleet.py). Per call: the time from just before the operator sends `call` to the moment each
display's connection returned the event; p50/p99 over all (call, display) pairs, and over the
slowest display of each call. Calls are paced at --rate per second.

Variants, interleaved over --rounds so that load from other work on the machine hits all of them:
  * hub, journal sync full (the shipped config; target p99 ≤ 5 ms)
  * hub, journal sync normal
  * baseline: raw websockets broadcast() (bench/raw_broadcast_server.py: no journal, no outboxes)
Hub RSS (VmRSS) is read at start, with the displays connected, and after the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, header, percentile, ratio, rss_mb, table, write_hub_config  # noqa: E402
from _fleet import DisplayFleet, Operator, tokens  # noqa: E402

VARIANTS = ("hub, sync full", "hub, sync normal", "baseline: raw websockets broadcast")
TARGET_P99_MS = 5.0


def ticket_for(i: int) -> tuple[int, str]:
    """Call i goes to counter 1..21 with that counter's letter (A..U); numbers never repeat in a run."""
    counter = i % 21 + 1
    return counter, f"{chr(64 + counter)}-{i // 21 + 1:03d}"


async def run_calls(url: str, secrets: dict[str, str], displays: int, calls: int, rate: float,
                    server_pid: int) -> dict:
    rss_start = rss_mb(server_pid)
    async with DisplayFleet(url, secrets["tv-semua"], displays) as fleet:
        operator = await Operator.connect(url, secrets["supervisor"], "bench-operator")
        await asyncio.sleep(1.0)  # let the connection burst settle
        rss_connected = rss_mb(server_pid)
        every_display, slowest, acks, missed = [], [], [], 0
        next_slot = time.monotonic()
        for i in range(calls):
            counter, ticket = ticket_for(i)
            reply, sent, acked = await operator.request({"type": "call", "counter": counter, "ticket": ticket})
            if reply.get("type") != "ack":
                raise RuntimeError(f"call refused: {reply}")
            acks.append((acked - sent) * 1000)
            if not await fleet.wait_all(ticket):
                missed += 1
            delays = [(t - sent) * 1000 for t in fleet.received[ticket]]
            every_display += delays
            slowest.append(max(delays, default=float("nan")))
            next_slot += 1 / rate
            await asyncio.sleep(max(0.0, next_slot - time.monotonic()))
        await operator.close()
        rss_after = rss_mb(server_pid)
    return {"all": every_display, "slowest": slowest, "acks": acks, "missed": missed,
            "rss": (rss_start, rss_connected, rss_after)}


def start_server(variant: str, tmp: Path, round_no: int) -> tuple[Server, Path]:
    sync = "normal" if "normal" in variant else "full"
    config = write_hub_config(tmp / f"{sync}-{round_no}", sync=sync)
    return (Server.raw_broadcast() if variant.startswith("baseline") else Server.hub(config)), config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300, help="calls per variant (split over the rounds)")
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    results = {v: {"all": [], "slowest": [], "acks": [], "missed": 0, "rss": []} for v in VARIANTS}
    per_round = max(1, args.calls // args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        for round_no in range(args.rounds):
            for variant in VARIANTS:
                server, config = start_server(variant, Path(tmp), round_no)
                try:
                    r = asyncio.run(run_calls(server.url, tokens(config), args.displays, per_round, args.rate,
                                              server.pid))
                finally:
                    server.stop()
                for key in ("all", "slowest", "acks"):
                    results[variant][key] += r[key]
                results[variant]["missed"] += r["missed"]
                results[variant]["rss"].append(r["rss"])
                print(f"round {round_no + 1}, {variant}: p50 {percentile(r['all'], 50):.2f} ms, "
                      f"p99 {percentile(r['all'], 99):.2f} ms", file=sys.stderr)

    print(header(f"Hub fan-out: call → {args.displays} displays"))
    print(f"{per_round * args.rounds} calls per variant at {args.rate:g}/s, {args.rounds} interleaved rounds; "
          f"{args.displays} display connections + 1 operator in the benchmark process, server in its own process; "
          f"loopback, no compression. Target: p99 ≤ {TARGET_P99_MS:g} ms with sync full.\n")
    base = results[VARIANTS[2]]
    base_p50, base_p99 = percentile(base["all"], 50), percentile(base["all"], 99)
    rows = []
    for variant in VARIANTS:
        r = results[variant]
        p50, p99 = percentile(r["all"], 50), percentile(r["all"], 99)
        rows.append([variant, f"{p50:.2f}", f"{p99:.2f}", f"{percentile(r['slowest'], 50):.2f}",
                     f"{percentile(r['slowest'], 99):.2f}", f"{percentile(r['acks'], 50):.2f}",
                     f"{percentile(r['acks'], 99):.2f}", r["missed"], ratio(p50, base_p50), ratio(p99, base_p99),
                     ("yes" if p99 <= TARGET_P99_MS else "**no**") if variant.startswith("hub") else ""])
    print(table(["variant", "p50 ms", "p99 ms", "slowest display p50", "slowest p99", "ack p50", "ack p99",
                 "missed", "p50 / baseline", "p99 / baseline", f"p99 ≤ {TARGET_P99_MS:g} ms"], rows))
    print("\nServer memory (VmRSS, MB; max over rounds): at start → displays connected → after the calls\n")
    rows = []
    for variant in VARIANTS:
        rss = results[variant]["rss"]
        rows.append([variant] + [f"{max(r[i] for r in rss):.1f}" for i in range(3)])
    print(table(["variant", "start", "connected", "after calls"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
