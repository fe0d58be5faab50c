"""Queue engine under load: `next` round trip with 21 operators and 200 displays connected. Not a test.

    .venv/bin/python bench/bench_queue.py [--displays 200] [--nexts 420] [--rate 20] [--rounds 2]

The hub runs as its own process (`python -m signage hub --port 0`, journal sync full, temp dir, rate
limit lifted). A kiosk first issues enough tickets for every counter (one service per agency; the
issue round trip is reported too). Then the 21 operators, each with its own counter-scoped token,
press `next` at random moments (Poisson, --rate presses per second in total); each `next` is
broadcast to the 200 displays. Round trip: from just before an operator sends `next` to its ack
(acked after the journal commit).

Baseline in the same run, interleaved over --rounds: the same 21 connections and 200 displays
against bench/raw_broadcast_server.py, which acks and broadcasts with no queue, journal or outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, header, percentile, ratio, table, write_hub_config  # noqa: E402
from _fleet import DisplayFleet, Operator, tokens  # noqa: E402

COUNTERS = range(1, 22)


def first_service_per_counter(config_path: Path) -> dict[int, str]:
    raw = yaml.safe_load(config_path.read_text())
    services = {}
    for s in raw["services"]:
        for counter in s["counters"]:
            services.setdefault(counter, s["code"])
    return services


async def issue_tickets(url: str, kiosk_token: str, services: dict[int, str], per_counter: int) -> list[float]:
    kiosk = await Operator.connect(url, kiosk_token, "bench-kiosk", role="kiosk")
    times = []
    for _ in range(per_counter):
        for counter in COUNTERS:
            reply, sent, acked = await kiosk.request({"type": "issue", "service": services[counter]})
            if reply.get("type") != "ack":
                raise RuntimeError(f"issue refused: {reply}")
            times.append((acked - sent) * 1000)
    await kiosk.close()
    return times


async def press_next(url: str, secrets: dict[str, str], nexts: int, rate: float, seed: int) -> list[float]:
    operators = [await Operator.connect(url, secrets[f"loket-{c:02d}"], f"bench-loket-{c}") for c in COUNTERS]
    rng = random.Random(seed)
    per_operator = nexts // len(operators)
    round_trips: list[float] = []

    async def operator_loop(counter: int, operator: Operator) -> None:
        for _ in range(per_operator):
            await asyncio.sleep(rng.expovariate(rate / len(operators)))
            reply, sent, acked = await operator.request({"type": "next", "counter": counter})
            if reply.get("type") != "ack":
                raise RuntimeError(f"next refused at counter {counter}: {reply}")
            round_trips.append((acked - sent) * 1000)

    await asyncio.gather(*(operator_loop(c, op) for c, op in zip(COUNTERS, operators)))
    for operator in operators:
        await operator.close()
    return round_trips


async def run(variant: str, server: Server, config: Path, displays: int, nexts: int, rate: float,
              seed: int) -> tuple[list[float], list[float]]:
    secrets = tokens(config)
    async with DisplayFleet(server.url, secrets["tv-semua"], displays):
        issue = []
        if not variant.startswith("baseline"):
            per_counter = nexts // len(COUNTERS) + 1
            issue = await issue_tickets(server.url, secrets["anjungan-1"], first_service_per_counter(config),
                                        per_counter)
        await asyncio.sleep(1.0)
        return await press_next(server.url, secrets, nexts, rate, seed), issue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=200)
    parser.add_argument("--nexts", type=int, default=420, help="`next` presses per variant (split over rounds)")
    parser.add_argument("--rate", type=float, default=20.0, help="presses per second, all operators together")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    variants = ("hub, sync full", "baseline: raw websockets ack + broadcast")
    round_trips = {v: [] for v in variants}
    issue_times: list[float] = []
    per_round = max(len(COUNTERS), args.nexts // args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        for round_no in range(args.rounds):
            for variant in variants:
                config = write_hub_config(Path(tmp) / f"{round_no}-{len(round_trips[variant])}", sync="full")
                server = Server.raw_broadcast() if variant.startswith("baseline") else Server.hub(config)
                try:
                    nexts, issue = asyncio.run(run(variant, server, config, args.displays, per_round, args.rate,
                                                   seed=round_no))
                finally:
                    server.stop()
                round_trips[variant] += nexts
                issue_times += issue
                print(f"round {round_no + 1}, {variant}: next p50 {percentile(nexts, 50):.2f} ms", file=sys.stderr)

    print(header(f"Queue: `next` round trip, 21 operators, {args.displays} displays"))
    print(f"{len(round_trips[variants[0]])} `next` per variant, Poisson arrivals at {args.rate:g}/s over the 21 "
          f"operators, {args.rounds} interleaved rounds; server in its own process, clients in the benchmark "
          "process, loopback.\n")
    base = round_trips[variants[1]]
    rows = []
    for variant in variants:
        r = round_trips[variant]
        rows.append([variant, len(r), f"{percentile(r, 50):.2f}", f"{percentile(r, 99):.2f}", f"{max(r):.2f}",
                     ratio(percentile(r, 50), percentile(base, 50)), ratio(percentile(r, 99), percentile(base, 99))])
    rows.append(["kiosk `issue` round trip (hub, sync full; before the presses)", len(issue_times),
                 f"{percentile(issue_times, 50):.2f}", f"{percentile(issue_times, 99):.2f}",
                 f"{max(issue_times):.2f}", "", ""])
    print(table(["variant", "n", "p50 ms", "p99 ms", "max ms", "p50 / baseline", "p99 / baseline"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
