"""A real hub on 127.0.0.1 (port 0) with a real SQLite journal, and real websocket clients."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from signage.config import RateLimit
from support import FakeClock, hall_config, raw_client, running_hub, timeout


def rows(config) -> list[tuple]:
    with sqlite3.connect(config.hub.journal) as db:
        return db.execute("SELECT seq, type, actor, command_id FROM events ORDER BY seq").fetchall()


async def test_ack_comes_after_the_event_is_in_the_journal(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["loket-05"]) as op:
        assert (await op.recv())["type"] == "welcome"
        await op.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-023"})
        ack = await op.recv_type("ack")
        assert (ack["id"], ack["seq"]) == ("c1", 1)
        # read with another connection: the row is committed, not just buffered
        assert rows(config) == [(1, "called", "loket-05", "c1")]


async def test_display_receives_events_in_seq_order(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], "display") as tv, \
            raw_client(hub.url, tokens["supervisor"]) as op:
        assert (await tv.recv())["type"] == "welcome"
        await op.recv()
        for i in range(1, 6):
            await op.send({"type": "call", "id": f"c{i}", "counter": i, "ticket": f"A-{i:03d}"})
        seqs = [(await tv.recv())["seq"] for _ in range(5)]
        assert seqs == [1, 2, 3, 4, 5]
        frame = await op.recv_type("called")
        assert frame["at"].endswith("+07:00")


async def test_repeated_id_is_idempotent(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], "display") as tv, \
            raw_client(hub.url, tokens["loket-05"]) as op:
        await tv.recv(), await op.recv()
        call = {"type": "call", "id": "same", "counter": 5, "ticket": "E-023"}
        await op.send(call)
        first = await op.recv_type("ack")
        await op.send(call)
        again = await op.recv_type("ack")
        assert first["seq"] == again["seq"] == 1 and again["duplicate"] is True
        assert (await tv.recv())["seq"] == 1
        assert await tv.nothing()  # no second event
        assert len(rows(config)) == 1
        # the same id for a different command is a conflict, not a silent ack
        await op.send({**call, "ticket": "E-024"})
        err = await op.recv_type("error")
        assert (err["id"], err["code"]) == ("same", "conflict")


async def test_idempotent_across_connections_and_restart(config, tokens):
    call = {"type": "call", "id": "retry-after-crash", "counter": 5, "ticket": "E-007"}
    async with running_hub(config) as hub, raw_client(hub.url, tokens["loket-05"]) as op:
        await op.recv()
        await op.send(call)
        assert (await op.recv_type("ack"))["seq"] == 1
    async with running_hub(config) as hub, raw_client(hub.url, tokens["loket-05"]) as op:
        await op.recv()
        await op.send(call)
        ack = await op.recv_type("ack")
        assert ack["seq"] == 1 and ack["duplicate"] is True
    assert len(rows(config)) == 1


async def call_counters(hub, tokens, n: int) -> None:
    """The supervisor calls A-00i to counter i for i = 1..n, each acked."""
    async with raw_client(hub.url, tokens["supervisor"]) as op:
        await op.recv()
        for i in range(1, n + 1):
            await op.send({"type": "call", "id": f"c{i}", "counter": i, "ticket": f"A-{i:03d}"})
            await op.recv_type("ack")


async def test_replay_after_since(config, tokens):
    async with running_hub(config) as hub:
        await call_counters(hub, tokens, 5)
        async with raw_client(hub.url, tokens["tv-semua"], "display", since=2) as tv:
            welcome = await tv.recv()
            assert (welcome["seq"], welcome["replaying"]) == (5, 3)
            replayed = [await tv.recv() for _ in range(3)]
            assert [f["seq"] for f in replayed] == [3, 4, 5]
            assert all(f["replay"] is True for f in replayed)
            async with raw_client(hub.url, tokens["supervisor"]) as op:
                await op.recv()
                await op.send({"type": "call", "id": "live", "counter": 9, "ticket": "I-001"})
                live = await tv.recv()
                assert live["seq"] == 6 and "replay" not in live


async def test_since_older_than_the_window_gets_the_snapshot_only(tmp_path, tokens):
    config = hall_config(tmp_path, replay_window=3)
    async with running_hub(config) as hub:
        await call_counters(hub, tokens, 8)
        async with raw_client(hub.url, tokens["tv-semua"], "display", since=1) as tv:
            welcome = await tv.recv()
            assert (welcome["seq"], welcome["replaying"]) == (8, 0)
            counters = {c["counter"]: c["ticket"] for c in welcome["state"]["counters"]}
            assert counters == {i: f"A-{i:03d}" for i in range(1, 9)}
            assert await tv.nothing()
        async with raw_client(hub.url, tokens["tv-semua"], "display", since=5) as tv:
            assert (await tv.recv())["replaying"] == 3


async def test_since_ahead_of_the_hub_gets_the_snapshot(config, tokens):
    # e.g. the journal was replaced: the display's seq means nothing here any more
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], "display", since=999) as tv:
        welcome = await tv.recv()
        assert (welcome["seq"], welcome["replaying"]) == (0, 0)


@pytest.mark.parametrize("who,frame,code,message", [
    ("loket-05", {"type": "call", "id": "x", "counter": 6, "ticket": "F-001"}, "forbidden",
     "token 'loket-05' may act on counter(s) 5, not counter 6"),
    ("loket-05", {"type": "call", "id": "x", "counter": 77, "ticket": "F-001"}, "unknown_counter",
     "counter 77 is not in config"),
    ("tv-semua", {"type": "call", "id": "x", "counter": 5, "ticket": "E-001"}, "forbidden",
     "display tokens can only receive events, not send commands"),
    ("anjungan-1", {"type": "next", "id": "x", "counter": 5}, "forbidden",
     "kiosk tokens can only issue tickets, not next"),
    ("loket-05", {"type": "call", "id": "x", "counter": "5", "ticket": "E-001"}, "bad_message",
     "counter: expected a positive integer, got '5'"),
    ("loket-05", {"type": "dance", "id": "x"}, "bad_message", None),
    ("loket-05", '{"type": "call", "id": "x", ', "bad_message", None),
    ("loket-05", {"type": "ticker", "id": "x", "text": "y" * 490, "x-pad": "z" * 4000}, "too_large", None),
    ("loket-05", {"type": "next", "id": "x", "counter": 5}, "queue_empty", None),
])
async def test_refusals_get_a_code_and_the_hub_keeps_serving(config, tokens, who, frame, code, message):
    role = {"tv-semua": "display", "anjungan-1": "kiosk"}.get(who, "operator")
    async with running_hub(config) as hub:
        async with raw_client(hub.url, tokens[who], role) as client:
            await client.recv()
            await client.send(frame)
            err = await client.recv_type("error")
            assert err["code"] == code
            if message:
                assert err["message"] == message
            if isinstance(frame, dict) and code not in ("bad_message", "too_large"):
                assert err["id"] == "x"
            # the same connection still works
            await client.send({"type": "issue", "id": "ok", "service": "DUKCAPIL-01"})
            assert (await client.recv_type("error" if role == "display" else "ack"))["id"] == "ok"
        async with raw_client(hub.url, tokens["loket-05"]) as op:
            await op.recv()
            await op.send({"type": "call", "id": "after", "counter": 5, "ticket": "E-001"})
            assert (await op.recv_type("ack"))["seq"] >= 1
        assert all(r[1] in ("called", "issued") for r in rows(config))


async def test_unknown_token_is_refused_and_closed(config):
    async with running_hub(config) as hub, raw_client(hub.url, "not-a-real-token") as client:
        err = await client.recv()
        assert (err["code"], err["message"]) == ("unauthorized", "unknown token")
        with pytest.raises(ConnectionClosed) as info:
            await client.recv()
        assert info.value.rcvd.code == 4401


async def test_token_used_for_the_wrong_role(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], "operator") as client:
        err = await client.recv()
        assert err["code"] == "forbidden" and "is a display token, not operator" in err["message"]


async def test_first_message_must_be_hello(config):
    async with running_hub(config) as hub, raw_client(hub.url, None) as client:
        await client.send({"type": "call", "id": "c", "counter": 1, "ticket": "A-1"})
        err = await client.recv()
        assert (err["code"], err["id"]) == ("unauthorized", "c")


async def test_rate_limit(tmp_path, tokens):
    config = hall_config(tmp_path, rate=RateLimit(per_second=1, burst=3))
    async with running_hub(config) as hub, raw_client(hub.url, tokens["supervisor"], subscribe=False) as op:
        await op.recv()
        for i in range(6):
            await op.send({"type": "ticker", "id": f"t{i}", "text": f"teks {i}"})
        replies = [await op.recv() for _ in range(6)]
        codes = [r.get("code", r["type"]) for r in replies]
        assert codes.count("ack") == 3 and codes.count("rate_limited") == 3


async def test_a_stalled_client_is_dropped_and_memory_stays_bounded(tmp_path, tokens):
    config = hall_config(tmp_path, send_queue=16, rate=RateLimit(per_second=10_000, burst=10_000))
    async with running_hub(config) as hub:
        stalled = StalledDisplay(hub.port, tokens["tv-lantai-1"])
        await asyncio.get_running_loop().run_in_executor(None, stalled.connect)
        async with raw_client(hub.url, tokens["tv-semua"], "display") as healthy, \
                raw_client(hub.url, tokens["supervisor"], subscribe=False) as op:
            await healthy.recv(), await op.recv()
            seen: list[int] = []
            reading = asyncio.create_task(_collect(healthy, seen))  # a display that keeps up
            text = "Pengumuman " + "x" * 480
            sent = 0
            while hub.stats.dropped_slow == 0 and sent < 20_000:  # until kernel buffers and outbox are full
                for _ in range(100):
                    sent += 1
                    await op.send({"type": "ticker", "id": f"t{sent}", "text": f"{sent} {text}"})
                acks = [await op.recv_type("ack") for _ in range(100)]
                assert acks[-1]["seq"] == sent
            deadline = time.monotonic() + timeout(60)
            while len(seen) < sent and not reading.done():
                assert time.monotonic() < deadline, f"the healthy display got {len(seen)} of {sent} events"
                await asyncio.sleep(0.05)
            reading.cancel()
            assert seen == list(range(1, sent + 1))
            assert hub.stats.dropped_slow == 1
            assert all(c.outbox.qsize() <= 16 for c in hub.clients)
            for _ in range(int(timeout(100))):  # the close handshake can't finish: aborted after close_timeout
                if len(hub.clients) == 2:
                    break
                await asyncio.sleep(0.1)
            assert {c.token.name for c in hub.clients} == {"tv-semua", "supervisor"}
        stalled.close()


async def _collect(client, into: list[int]) -> None:
    while True:
        into.append((await client.recv(wait=30))["seq"])


class StalledDisplay:
    """A display on a raw socket with a tiny receive buffer that never reads."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.sock: socket.socket | None = None

    def connect(self) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{self.port}/"))
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        sock.connect(("127.0.0.1", self.port))
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        while not protocol.events_received():
            protocol.receive_data(sock.recv(4096))
        protocol.send_text(json.dumps({"type": "hello", "role": "display", "token": self.token,
                                       "client": "stalled", "since": None}).encode())
        sock.sendall(b"".join(protocol.data_to_send()))
        self.sock = sock  # from here on, never read

    def close(self) -> None:
        self.sock.close()


async def test_new_service_day_starts_empty(tmp_path, tokens):
    config = hall_config(tmp_path)
    clock = FakeClock(datetime(2026, 11, 27, 14, 0, tzinfo=config.hall.timezone))
    async with running_hub(config, clock=clock) as hub:
        async with raw_client(hub.url, tokens["anjungan-1"], "kiosk") as kiosk:
            await kiosk.recv()
            await kiosk.send({"type": "issue", "id": "k1", "service": "DUKCAPIL-01"})
            assert (await kiosk.recv())["event"]["ticket"] == "A-001"
            clock.advance(days=1)
            await kiosk.send({"type": "issue", "id": "k2", "service": "DUKCAPIL-01"})
            ack = await kiosk.recv()
            assert (ack["seq"], ack["event"]["ticket"], ack["event"]["position"]) == (2, "A-001", 1)
        async with raw_client(hub.url, tokens["tv-semua"], "display") as tv:
            state = (await tv.recv())["state"]
            assert state["day"] == "2026-11-28" and state["waiting"] == {"DUKCAPIL-01": 1}
    # a restart on the new day rebuilds only the new day
    async with running_hub(config, clock=clock) as hub:
        assert hub.seq == 2 and hub.state.queue.issued_today == 1


async def test_a_failed_journal_write_is_refused_not_acked(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["loket-05"]) as op:
        await op.recv()
        await op.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-001"})
        assert (await op.recv_type("ack"))["seq"] == 1
        blocker = sqlite3.connect(config.hub.journal, timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            await op.send({"type": "call", "id": "c2", "counter": 5, "ticket": "E-002"})
            err = await op.recv_type("error", wait=10)
            assert err["code"] == "storage_failed" and "locked" in err["message"]
        finally:
            blocker.rollback()
            blocker.close()
        assert hub.seq == 1 and hub.state.hall.counters[5].ticket == "E-001"
        health = json.loads(await asyncio.get_running_loop().run_in_executor(
            None, _get, f"http://127.0.0.1:{hub.port}/healthz", 503))
        assert health["status"] == "degraded"
        await op.send({"type": "call", "id": "c2", "counter": 5, "ticket": "E-002"})
        assert (await op.recv_type("ack"))["seq"] == 2  # no gap left by the failure
        assert [r[0] for r in rows(config)] == [1, 2]


def _get(url: str, expect: int = 200) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout(5)) as response:
            assert response.status == expect
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        assert exc.code == expect, exc.code
        return exc.read().decode()


async def test_healthz_and_pages_on_the_same_port(config, tokens):
    async with running_hub(config) as hub:
        loop = asyncio.get_running_loop()
        health = json.loads(await loop.run_in_executor(None, _get, f"http://127.0.0.1:{hub.port}/healthz"))
        assert health["status"] == "ok" and health["seq"] == 0 and health["journal"] == "ok"
        assert await loop.run_in_executor(None, _get, f"http://127.0.0.1:{hub.port}/nope", 404)


async def test_browser_origin_check(config, tokens):
    async with running_hub(config) as hub:
        with pytest.raises(InvalidStatus) as info:
            async with raw_client(hub.url, tokens["loket-05"], origin="http://evil.example"):
                pass
        assert info.value.response.status_code == 403
        own = f"http://127.0.0.1:{hub.port}"
        async with raw_client(hub.url, tokens["loket-05"], origin=own) as op:
            assert (await op.recv())["type"] == "welcome"


async def test_allowed_origins_from_config(tmp_path, tokens):
    config = hall_config(tmp_path, allowed_origins=("http://panel.mpp.local",))
    async with running_hub(config) as hub, \
            raw_client(hub.url, tokens["loket-05"], origin="http://panel.mpp.local") as op:
        assert (await op.recv())["type"] == "welcome"


async def test_operator_scope_is_in_the_welcome(config, tokens):
    async with running_hub(config) as hub, raw_client(hub.url, tokens["loket-05"]) as op:
        welcome = await op.recv()
        assert (welcome["role"], welcome["name"], welcome["counters"]) == ("operator", "loket-05", [5])


async def test_many_commands_from_many_clients_get_distinct_gapless_seqs(config, tokens):
    async with running_hub(config) as hub:
        async def operator(counter: int) -> list[int]:
            async with raw_client(hub.url, tokens[f"loket-{counter:02d}"], subscribe=False) as op:
                await op.recv()
                seqs = []
                for i in range(10):
                    await op.send({"type": "call", "id": f"{counter}-{i}", "counter": counter,
                                   "ticket": f"A-{i + 1:03d}"})
                    seqs.append((await op.recv_type("ack"))["seq"])
                return seqs
        results = await asyncio.gather(*(operator(c) for c in range(1, 22)))
        every = sorted(s for seqs in results for s in seqs)
        assert every == list(range(1, 211))
        assert [r[0] for r in rows(config)] == every
