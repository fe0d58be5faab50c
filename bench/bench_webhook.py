"""notify.webhook and the hub's acks: a dead SMS/WhatsApp gateway must not slow the hall. Not a test.

    .venv/bin/python bench/bench_webhook.py [--visitors 120] [--rounds 3]

Per round, four hub processes (`python -m signage hub`, journal in a temp dir), one after the other:
  * baseline: notify.webhook off
  * gateway up: the webhook points at a local HTTP receiver that answers 204 at once
  * gateway hangs: it points at a listener that accepts the connection and never answers (each POST
    waits out notify.webhook_timeout, then is retried with backoff: the worst gateway there is)
  * gateway refused: it points at a closed port (connection refused at once, retried with backoff)

In each, a kiosk issues --visitors tickets, every one with a phone number (so each makes `near` and
`called` notifications), and an operator calls and finishes them on counter 1 as they come, so the
webhook queue is busy the whole time. Measured: the time from just before a command is sent to its
ack (issue and next/done together), p50 and p99, against the baseline of the same round. Rounds
interleave the variants so load from other work hits all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, header, percentile, ratio, table, write_hub_config  # noqa: E402
from _fleet import Operator, tokens  # noqa: E402

VARIANTS = ("baseline: webhook off", "gateway up (204 at once)", "gateway hangs (never answers)",
            "gateway refused (port closed)")


class Receiver:
    """The live gateway: answers every POST with 204 and counts them."""

    def __init__(self):
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class BlackHole:
    """The hung gateway: accepts connections and never reads or answers."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there once the socket is closed


def config_for(tmp: Path, webhook: str | None) -> Path:
    path = write_hub_config(tmp)
    raw = yaml.safe_load(path.read_text())
    raw["notify"] = {**(raw.get("notify") or {}), "webhook": webhook}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


async def drive(url: str, secrets: dict[str, str], visitors: int) -> list[float]:
    kiosk = await Operator.connect(url, secrets["anjungan-1"], "bench-kiosk", role="kiosk")
    desk = await Operator.connect(url, secrets["supervisor"], "bench-desk")
    acks: list[float] = []

    async def timed(op: Operator, command: dict) -> dict:
        reply, sent, arrived = await op.request(command)
        if reply.get("type") != "ack":
            raise RuntimeError(f"{command['type']} refused: {reply}")
        acks.append((arrived - sent) * 1000)
        return reply

    for i in range(visitors):
        await timed(kiosk, {"type": "issue", "service": "DUKCAPIL-01", "phone": f"0812{i:08d}"})
        if i >= 4:  # keep a few waiting, so `near` fires for the next ones as the line moves
            await timed(desk, {"type": "next", "counter": 1})
            await timed(desk, {"type": "done", "counter": 1})
    await kiosk.close()
    await desk.close()
    return acks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    receiver, hole = Receiver(), BlackHole()
    urls = {VARIANTS[0]: None, VARIANTS[1]: receiver.url, VARIANTS[2]: hole.url, VARIANTS[3]: closed_port_url()}
    samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
    per_round: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            for variant in VARIANTS:
                directory = Path(tmp) / f"r{round_no}-{VARIANTS.index(variant)}"
                config = config_for(directory, urls[variant])
                server = Server.hub(config)
                try:
                    acks = asyncio.run(drive(server.url, tokens(config), args.visitors))
                finally:
                    server.stop()
                samples[variant] += acks
                per_round[variant].append(percentile(acks, 99))

    print(header("notify.webhook and ack latency (issue 14) — bench/bench_webhook.py"))
    print(f"- {args.visitors} visitors per run, each with a phone number: {args.visitors} issues and "
          f"{2 * (args.visitors - 4)} next/done acks per run; {args.rounds} rounds, variants interleaved")
    print(f"- the live gateway received {receiver.count} POSTs in all; the hung one held "
          f"{len(hole.held)} connections open\n")
    base = samples[VARIANTS[0]]
    rows = []
    for variant in VARIANTS:
        got = samples[variant]
        rows.append([variant, len(got), f"{percentile(got, 50):.2f} ms", f"{percentile(got, 99):.2f} ms",
                     ratio(percentile(got, 50), percentile(base, 50)), ratio(percentile(got, 99), percentile(base, 99)),
                     " / ".join(f"{v:.1f}" for v in per_round[variant])])
    print(table(["variant", "acks", "p50", "p99", "p50 / baseline", "p99 / baseline", "p99 per round (ms)"], rows))
    print("\nTarget: a dead gateway leaves the ack latency unchanged (ratios near 1.00× against the same run's "
          "baseline; the webhook sender is its own task with a bounded queue, see signage/hub/webhook.py).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
