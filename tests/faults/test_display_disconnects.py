"""100 random cuts of the display's link while calls stream: the board misses nothing.

A real hub process and a real display process (headless, --snapshot-dir), joined
through tests/faults/proxy.py, which cuts the connection at random moments, three
ways: RST, FIN without a websocket close, and RST after a random prefix of a hub
chunk (half a frame). An operator connected straight to the hub keeps calling.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

import pytest

from faults.harness import DisplayProcess, eventually, healthz, hub_snapshot, link_connects, stream_calls
from faults.proxy import CUTS, CuttingProxy
from signage.core.layout import LinkStatus, build_view
from faults.harness import call_for
from signage.operator.client import Session
from support import HubProcess

LINK_CUTS = 100
SEED = 20261128
HANDSHAKE_SHARE = 0.1  # cuts aimed at the handshake (they also lengthen the display's backoff)
SIZE = (1280, 720)  # DisplayProcess opens a window of this size


def board_texts(frame: dict) -> dict[str, list[str]]:
    """Texts that follow from the hall state alone (not the clock, the ticker or the link)."""
    return {key: texts for key, texts in frame["texts"].items()
            if key.startswith("cell:") or key in ("history", "waiting")}


@pytest.mark.e2e
async def test_100_random_link_cuts_lose_no_call(tmp_path, hall):
    rng = random.Random(SEED)
    hub = HubProcess(hall.config_path).start()
    proxy = await CuttingProxy(hub.port, rng=random.Random(SEED + 1)).start()
    display = DisplayProcess(hall.config_path, f"ws://127.0.0.1:{proxy.port}/", tmp_path / "frames")
    acked: dict[str, int] = {}
    stop = asyncio.Event()
    calls = None
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")
        calls = asyncio.create_task(stream_calls(hub.url, hall.operator, acked, stop, pause=0.01))
        while sum(proxy.cuts.values()) < LINK_CUTS:
            await asyncio.sleep(rng.uniform(0.0, 0.2))  # anywhere in a live session
            joined, accepted = link_connects(display), proxy.accepted
            if proxy.cut(rng.choice(CUTS)) == 0:
                continue
            if rng.random() < HANDSHAKE_SHARE:
                # and its next attempt, as soon as it reaches the proxy: mid-handshake or mid-welcome
                await eventually(lambda: proxy.accepted > accepted, 30, "a reconnection attempt", poll=0.002)
                proxy.cut(rng.choice(CUTS))
            await eventually(lambda: link_connects(display) > joined, 30, "the display to reconnect",
                             context=display.log)
        stop.set()
        await calls

        last = max(acked.values())
        assert sorted(acked.values()) == list(range(1, last + 1))
        frame = await display.wait_frame(lambda f: f["seq"] == last and f["link"] == "online", 20,
                                         f"the last call (seq {last})")
        # Every call was applied once, in order or from replay: one notice line per seq.
        seen = await display.wait_notices(range(1, last + 1))  # raises if any seq was handed over twice
        assert sorted(seen) == list(range(1, last + 1))
        assert any(not live for _, live in seen.values()), "no cut ever made the display miss a call"

        # What the board shows is what the hub holds.
        seq, state = await hub_snapshot(hub.url, hall.display)
        assert seq == last
        cfg = hall.config
        view = build_view(state, cfg, cfg.zone(None), datetime.now(cfg.hall.timezone), LinkStatus("online"), SIZE)
        expected = {r.key: [t.text for t in r.texts()] for r in view.regions}
        assert board_texts(frame) == board_texts({"texts": expected})

        # The hub let go of every cut connection: one display left (ours).
        await eventually(lambda: healthz(hub.port)[1]["clients"]["display"] == 1, 10, "one display client")
        print(f"\n{sum(proxy.cuts.values())} cuts {proxy.cuts}, {proxy.accepted} connections, "
              f"{link_connects(display)} welcomes, {last} calls, "
              f"{sum(not live for _, live in seen.values())} replayed to the display")
    finally:
        stop.set()
        if calls is not None and not calls.done():
            calls.cancel()
        assert display.stop() == 0, display.log()
        await proxy.stop()
        hub.stop()


@pytest.mark.e2e
async def test_a_display_back_from_a_long_outage_catches_up(tmp_path, hall):
    """More calls were made while the display was away than a client outbox holds (hub.send_queue).

    The hub still has them all in its replay window, so the display must get them back.
    """
    missed = hall.config.hub.send_queue + 44
    hub = HubProcess(hall.config_path).start()
    proxy = await CuttingProxy(hub.port).start()
    display = DisplayProcess(hall.config_path, f"ws://127.0.0.1:{proxy.port}/", tmp_path / "frames")
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")
        async with Session(hub.url, hall.operator) as operator:
            assert (await operator.request(call_for(1))).seq == 1
            await display.wait_frame(lambda f: f["seq"] == 1, 10, "the first call")
            proxy.refusing = True  # the display's network goes down
            proxy.cut("reset")
            for n in range(2, missed + 2):
                await operator.request(call_for(n))
        proxy.refusing = False
        await display.wait_frame(lambda f: f["seq"] == missed + 1 and f["link"] == "online", 30,
                                 f"the {missed} calls made during the outage")
        seen = await display.wait_notices(range(1, missed + 2))
        assert sorted(seen) == list(range(1, missed + 2))
        assert seen[1][1] and not any(live for seq, (_, live) in seen.items() if seq > 1)  # replayed, silent
    finally:
        assert display.stop() == 0, display.log()
        await proxy.stop()
        hub.stop()
