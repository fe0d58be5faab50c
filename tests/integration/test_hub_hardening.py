"""The hub's own bugs found in the 2026-12-01 review, each with a test that failed before the fix.

A real hub on 127.0.0.1:0, a real SQLite journal, real websocket clients. Where a test
needs a hub bug to happen (a task that dies after a commit), it breaks one method of
that real hub; nothing else is faked.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest
from websockets.exceptions import ConnectionClosed

from signage.core import protocol
from signage.errors import HubFailed
from support import FakeClock, hall_config, raw_client, running_hub, timeout

def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout(5)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def health(hub) -> tuple[int, dict]:
    return await asyncio.get_running_loop().run_in_executor(None, get, f"http://127.0.0.1:{hub.port}/healthz")


class SteppingClock:
    """A clock that moves forward a little on every read, as a real one does across midnight."""

    def __init__(self, start: datetime, step: timedelta):
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        return value


async def test_midnight_one_now_per_batch_and_the_day_rolled_with_it(tmp_path, tokens):
    config = hall_config(tmp_path)
    tz = config.hall.timezone
    clock = FakeClock(datetime(2026, 12, 1, 23, 59, 50, tzinfo=tz))
    async with running_hub(config, clock=clock) as hub, raw_client(hub.url, tokens["supervisor"]) as op:
        await op.recv()
        await op.send({"type": "issue", "id": "i1", "service": "DUKCAPIL-01"})
        assert (await op.recv_type("ack"))["event"]["ticket"].startswith("A-")
        # Every read of the clock now moves it on: the batch's first read is still day D, the next is D+1.
        hub.clock = SteppingClock(datetime(2026, 12, 1, 23, 59, 59, 999000, tzinfo=tz), timedelta(milliseconds=2))
        await op.send({"type": "next", "id": "n1", "counter": 1})
        reply = await op.recv_type("ack")
        # One read of the clock for the batch: yesterday's ticket is called yesterday, never day D's queue
        # decided with a time of day D+1 (the old hub read the clock once to roll the day, again for `now`).
        assert reply["event"]["at"].startswith("2026-12-01T23:59:59"), reply
        assert hub.state.queue.day == hub.state.hall.day == "2026-12-01"


async def test_no_error_after_a_committed_command_and_a_dead_processor_is_not_hidden(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["supervisor"]) as op, \
            raw_client(hub.url, tokens["tv-semua"], "display") as tv:
        await op.recv(), await tv.recv()

        def broken_broadcast(event, body):  # a bug after COMMIT
            raise RuntimeError("simulated bug in fan-out")

        hub._broadcast = broken_broadcast
        await op.send({"type": "call", "id": "c1", "counter": 3, "ticket": "C-001"})
        ack = await op.recv()
        assert ack["type"] == "ack" and ack["seq"] == 1  # committed, so acked
        with pytest.raises(ConnectionClosed) as closed:  # no error frame follows the ack
            while True:
                frame = await op.recv(wait=10)
                assert frame["type"] != "error", frame
        assert closed.value.rcvd.code == 1011
        with sqlite3.connect(config.hub.journal) as db:
            assert db.execute("SELECT command_id FROM events").fetchall() == [("c1",)]
        status, body = await health(hub)
        assert status == 503 and body["status"] == "failed"
        assert "command processor stopped: RuntimeError: simulated bug in fan-out" in body["reason"]
        with pytest.raises(HubFailed, match="simulated bug"):
            await asyncio.wait_for(hub.serve_forever(), timeout(5))


async def test_a_bug_deciding_one_command_refuses_it_and_the_hub_serves_on(config, tokens, monkeypatch):
    import signage.hub.server as server

    real = server.decide

    def flaky_decide(state, cmd, *args):
        if getattr(cmd, "ticket", None) == "C-666":
            raise ZeroDivisionError("simulated bug in the rules")
        return real(state, cmd, *args)

    monkeypatch.setattr(server, "decide", flaky_decide)
    async with running_hub(config) as hub, raw_client(hub.url, tokens["supervisor"]) as op:
        await op.recv()
        await op.send({"type": "call", "id": "bad", "counter": 3, "ticket": "C-666"})
        error = await op.recv_type("error")
        assert error["code"] == "internal_error" and "not applied" in error["message"]
        await op.send({"type": "call", "id": "good", "counter": 3, "ticket": "C-001"})
        assert (await op.recv_type("ack"))["seq"] == 1
        assert (await health(hub))[0] == 200


async def test_each_event_frame_is_encoded_once_for_all_clients(config, tokens, monkeypatch):
    import signage.hub.server as server

    encoded = []
    real_encode = protocol.encode

    def counting_encode(message):
        encoded.append(type(message).__name__)
        return real_encode(message)

    real_wire = server._wire
    wired = []

    def counting_wire(frame):
        wired.append(frame)
        return real_wire(frame)

    async with running_hub(config) as hub:
        displays = [raw_client(hub.url, tokens["tv-semua"], "display", client=f"tv{i}") for i in range(8)]
        clients = [await d.__aenter__() for d in displays]
        try:
            for c in clients:
                await c.recv()
            async with raw_client(hub.url, tokens["supervisor"]) as op:
                await op.recv()
                monkeypatch.setattr(server.protocol, "encode", counting_encode)
                monkeypatch.setattr(server, "_wire", counting_wire)
                await op.send({"type": "call", "id": "c1", "counter": 3, "ticket": "C-001"})
                await op.recv_type("ack")
                for c in clients:
                    assert (await c.recv())["seq"] == 1
        finally:
            for d in displays:
                await d.__aexit__(None, None, None)
    assert encoded.count("Called") == 1, encoded
    event_frames = [f for f in wired if '"type":"called"' in f and '"type":"ack"' not in f]
    assert len(event_frames) == 1  # one UTF-8 encoding, shared by nine subscribers


async def test_background_tasks_are_tracked_and_awaited_at_stop(config, tokens):
    from signage.hub.server import Hub

    hub = await Hub(config, host="127.0.0.1", port=0).start()
    try:
        async with raw_client(hub.url, tokens["tv-semua"], "display") as tv:
            await tv.recv()
            names = {t.get_name() for t in hub._tasks}
            assert "command processor" in names and any(n.startswith("writer ") for n in names)
    finally:
        await hub.stop()
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
                and (t.get_name() == "command processor" or t.get_name().startswith("writer "))]
    assert leftover == [] and hub._tasks == set()
