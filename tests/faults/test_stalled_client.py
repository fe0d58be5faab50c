"""A display that reads nothing, against a hub process: the hub drops it and its memory stays flat.

tests/integration/test_hub.py proves the mechanism in-process (outbox bound, 1013); this
watches the real process from outside: VmRSS of the hub while ~11 MB of frames are
broadcast to a client that never reads. An unbounded buffer would grow by at least that.
"""

from __future__ import annotations

import asyncio

import pytest

from faults.harness import eventually, healthz, make_hall, rss_kb
from integration.test_hub import StalledDisplay
from support import HubProcess, raw_client

TICKER = "Pengumuman " + "x" * 480  # ~560-byte event frames
WARM_UP = 2_000  # fills the replay window (100 here) and the allocator's pools
STREAM = 20_000
BATCH = 100  # commands in flight on the operator connection


async def send_tickers(op, first: int, count: int) -> None:
    for start in range(first, first + count, BATCH):
        for n in range(start, start + BATCH):
            await op.send({"type": "ticker", "id": f"t{n}", "text": f"{n} {TICKER}"})
        for _ in range(BATCH):
            assert (await op.recv_type("ack"))["type"] == "ack"


@pytest.mark.e2e
async def test_a_stalled_display_is_dropped_and_hub_memory_stays_flat(tmp_path):
    hall = make_hall(tmp_path, sync="normal", replay_window=100)
    hub = HubProcess(hall.config_path).start()
    stalled = StalledDisplay(hub.port, hall.display)
    try:
        async with raw_client(hub.url, hall.operator, subscribe=False) as op:
            await op.recv()
            await send_tickers(op, 1, WARM_UP)
            await asyncio.to_thread(stalled.connect)
            baseline = rss_kb(hub.proc.pid)
            await send_tickers(op, WARM_UP + 1, STREAM)
            grown = rss_kb(hub.proc.pid) - baseline
        status, health = healthz(hub.port)
        assert status == 200 and health["dropped_slow_clients"] == 1
        # the close handshake can't complete with a client that never reads: aborted after close_timeout
        await eventually(lambda: healthz(hub.port)[1]["clients"]["display"] == 0, 15, "the stalled client gone")
        sent_mb = STREAM * (len(TICKER) + 80) / 1e6
        print(f"\nhub RSS {baseline / 1024:.1f} MB after warm-up, +{grown / 1024:.2f} MB after {STREAM} events "
              f"(~{sent_mb:.0f} MB of frames) broadcast to a client that reads nothing")
        assert grown < 4 * 1024, f"hub RSS grew by {grown} kB"
    finally:
        stalled.close()
        hub.stop()
