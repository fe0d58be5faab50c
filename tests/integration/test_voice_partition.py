"""Partition and hub crash, with real processes and captures (docs/voice.md).

Partition: the holder reaches the hub through a loopback proxy (tests/faults/proxy.py).
Its link is cut while its process lives and keeps its audio device. It must fall
silent (lease_seconds after its last acked beat) before the hub grants the zone to
the next announcer (lease_seconds + margin after its last sign of life): two voices
are never heard at once, and the call it was cut in is spoken again by the successor.

Hub SIGKILL: receipts are journaled before they are acked; after a restart nothing
already spoken is spoken again.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "faults"))
from proxy import CuttingProxy  # noqa: E402
from voice_rig import VoiceRig, overlaps  # noqa: E402

LEASE = 3


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_partitioned_holder_falls_silent_before_the_successor_speaks(tmp_path, loop):
    rig = VoiceRig(tmp_path, announcers=0, lease_seconds=LEASE)
    rig.hub.start(0)
    proxy = loop(CuttingProxy(rig.hub.port).start())
    try:
        rig.spawn("near", hub_url=f"ws://127.0.0.1:{proxy.port}/")  # first in: the holder
        rig.wait_for(lambda h: h["voice"]["aula"]["holder"] is not None, 30)
        rig.spawn("far1")
        rig.spawn("far2")
        rig.wait_for(lambda h: h["voice"]["aula"]["candidates"] == 3, 30)
        assert rig.holder() == "near"
        calls = {}
        for n in range(1, 7):
            calls[rig.call(n, f"B-{n:03d}")] = (n, f"B-{n:03d}")
        rig.wait_for(lambda h: h["voice"]["aula"]["speaking"], 20)
        time.sleep(0.3)  # well inside an announcement
        cut_at = time.time()

        async def partition():
            proxy.refusing = True
            return proxy.cut("reset")

        assert loop(partition()) == 1
        rig.wait_for(lambda h: h["voice"]["aula"]["holder"] and "near" not in h["voice"]["aula"]["holder"], 20)
        for n in range(7, 10):
            calls[rig.call(n, f"B-{n:03d}")] = (n, f"B-{n:03d}")
        rig.wait_receipts(calls, 120)
        loop(asyncio.sleep(0))

        async def heal():
            proxy.refusing = False

        loop(heal())
        rig.wait_for(lambda h: h["voice"]["aula"]["candidates"] == 3, 30)  # back, as a candidate only
        assert rig.holder() != "near"
        rig.stop_announcers()
        results = rig.results(rig.speech(calls))
        assert overlaps(results.intervals) == []
        near = results.intervals["near-0.raw"]
        assert near and max(end for _, end, _ in near) <= cut_at + LEASE, "the cut holder spoke past its lease"
        assert results.cut, "the partition was meant to land mid-announcement"
        assert all(results.found[seq] for seq in calls), results.found
        successor_start = min(start for name, spans in results.intervals.items() if name != "near-0.raw"
                              for start, _, _ in spans)
        assert successor_start > max(end for _, end, _ in near)
    finally:
        rig.stop()
        loop(proxy.stop())


def test_receipts_survive_a_hub_sigkill(tmp_path):
    rig = VoiceRig(tmp_path, announcers=2, lease_seconds=LEASE, hub_port=None)
    rig.start()
    try:
        port = rig.hub.port
        calls = {}
        for n in range(1, 5):
            calls[rig.call(n, f"C-{n:03d}")] = (n, f"C-{n:03d}")
        before = rig.wait_receipts(calls, 60)
        rig.hub.kill()
        rig.hub.start(port)  # same port: the announcers reconnect on their own
        rig.wait_for(lambda h: h["voice"]["aula"]["holder"] is not None and h["voice"]["aula"]["candidates"] == 2,
                     30)
        assert rig.receipts() == before
        later = {}
        for n in range(5, 7):
            later[rig.call(n, f"C-{n:03d}")] = (n, f"C-{n:03d}")
        rig.wait_receipts(later, 60)
        rig.stop_announcers()
        results = rig.results(rig.speech({**calls, **later}))
        assert {seq: len(where) for seq, where in results.found.items()} == {seq: 1 for seq in {**calls, **later}}
        assert overlaps(results.intervals) == []
    finally:
        rig.stop()


def test_call_wait_spoken_exits_0_once_the_announcer_spoke(tmp_path):
    import subprocess

    rig = VoiceRig(tmp_path, announcers=1, lease_seconds=LEASE).start()
    try:
        done = subprocess.run([sys.executable, "-m", "signage", "call", "--config", str(rig.config_path),
                               "--hub", rig.hub.url, "--token", rig.operator, "4", "D-004", "--wait-spoken"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "diumumkan ✓" in done.stdout
        assert list(rig.receipts().values()) == [("spoken", None)]
    finally:
        rig.stop()
