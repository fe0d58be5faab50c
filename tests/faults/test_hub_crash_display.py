"""SIGKILL the hub during a stream of calls while a real display is connected, then restart it.

tests/e2e/test_hub_crash.py already proves the journal side (acked calls survive, retries
are not stored twice). This adds the screen: each call is shown and announced once, the
ones the display missed while the hub was down come back as replays (live=False, never
spoken), and the board ends on the hub's last seq.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest

from faults.harness import DisplayProcess, call_for, eventually, link_connects, shown_seqs
from signage.errors import HubUnreachable
from signage.operator.client import Session
from support import HubProcess

CALLS = 300
SEED = 7


def stored_commands(journal) -> dict[str, int]:
    with sqlite3.connect(journal) as db:
        return {cid: seq for seq, cid in db.execute("SELECT seq, command_id FROM events")}


@pytest.mark.e2e
async def test_sigkill_mid_stream_with_a_display_connected(tmp_path, hall):
    commands = [call_for(n) for n in range(1, CALLS + 1)]
    kill_after = random.Random(SEED).randrange(40, 120)
    acked: dict[str, int] = {}
    hub = HubProcess(hall.config_path).start()
    display = DisplayProcess(hall.config_path, hub.url, tmp_path / "frames")
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")

        async def operator(url: str) -> None:
            async with Session(url, hall.operator) as session:
                for command in commands:
                    if command.id not in acked:  # a retry keeps the command's id
                        acked[command.id] = (await session.request(command)).seq

        stream = asyncio.create_task(operator(hub.url))
        await eventually(lambda: len(acked) >= kill_after or stream.done(), 30, f"{kill_after} acks", poll=0.001)
        hub.kill()  # SIGKILL: no shutdown code runs
        with pytest.raises(HubUnreachable):
            await stream
        before_crash = stored_commands(hall.journal)
        assert all(before_crash[cid] == seq for cid, seq in acked.items()), "an acked call was lost"
        committed, acked_before_crash = max(before_crash.values()), len(acked)

        hub = HubProcess(hall.config_path).start(port=hub.port)
        await eventually(lambda: link_connects(display) == 2, 30, "the display to reconnect", context=display.log)
        await operator(hub.url)  # the operator's client retries what was not acked, then goes on

        stored = stored_commands(hall.journal)
        assert sorted(stored.values()) == list(range(1, CALLS + 1))  # each call once, no gap
        assert all(stored[cid] == seq for cid, seq in acked.items())
        await display.wait_frame(lambda f: f["seq"] == CALLS, 20, f"seq {CALLS}")

        seen = await display.wait_notices(range(1, CALLS + 1))  # fails if a seq was handed over twice
        assert sorted(seen) == list(range(1, CALLS + 1))
        tickets = {command.id: command.ticket for command in commands}
        assert all(seen[seq][0] == tickets[cid] for cid, seq in stored.items())
        # Live up to what the display got before the kill, replayed (silent) up to the last commit
        # before the crash, live again after the restart.
        live = [seen[seq][1] for seq in range(1, committed + 1)]
        heard = live.index(False) if False in live else committed
        assert live == [True] * heard + [False] * (committed - heard)
        assert all(seen[seq][1] for seq in range(committed + 1, CALLS + 1))
        await display.wait_log(lambda: CALLS in shown_seqs(display), 5, f"shown seq={CALLS}")
        shown = shown_seqs(display)
        assert shown == sorted(set(shown)) and shown[-1] == CALLS  # no seq shown twice, never backwards
        print(f"\nkilled with {committed} committed, {acked_before_crash} acked; "
              f"display had {heard}, {committed - heard} replayed silently, {CALLS - committed} after restart")
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()
