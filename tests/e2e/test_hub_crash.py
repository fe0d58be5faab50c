"""SIGKILL the hub process: every acked call survives, seq continues, retries don't duplicate."""

from __future__ import annotations

import asyncio
import sqlite3

from signage.config import load_config
from signage.core import messages as m
from signage.errors import HubUnreachable
from signage.operator.client import Session
from support import HubProcess, write_config


def journal_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, command_id FROM events ORDER BY seq").fetchall()


async def test_sigkill_after_n_acked_calls(tmp_path):
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    token = config.first_token("operator").secret
    hub = HubProcess(config_path).start()
    try:
        async with Session(hub.url, token) as op:
            for i in range(1, 31):
                ack = await op.request(m.Call(f"c{i}", (i % 21) + 1, f"A-{i:03d}"))
                assert ack.seq == i
        hub.kill()  # SIGKILL: no shutdown code runs
        assert [r[0] for r in journal_rows(config.hub.journal)] == list(range(1, 31))

        hub = HubProcess(config_path).start(port=hub.port)
        async with Session(hub.url, token, subscribe=True, since=0) as op:
            assert op.welcome.seq == 30
            assert op.welcome.state.counters[2].ticket == "A-022"  # calls 1, 22 went to counter 2
            ack = await op.request(m.Call("after", 1, "A-031"))
            assert ack.seq == 31
    finally:
        hub.stop()


async def test_sigkill_during_a_stream_loses_no_acked_call_and_retries_are_not_duplicated(tmp_path):
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    token = config.first_token("operator").secret
    hub = HubProcess(config_path).start()
    acked: dict[str, int] = {}
    commands = [m.Call(f"s{i}", (i % 21) + 1, f"B-{i:03d}") for i in range(1, 201)]
    try:
        async def stream() -> None:
            async with Session(hub.url, token) as op:
                for cmd in commands:
                    acked[cmd.id] = (await op.request(cmd)).seq

        task = asyncio.create_task(stream())
        while len(acked) < 60 and not task.done():
            await asyncio.sleep(0.005)
        hub.kill()
        try:
            await task
        except HubUnreachable:
            pass
        assert 60 <= len(acked) < 200
        stored = dict((cid, seq) for seq, cid in journal_rows(config.hub.journal))
        assert all(stored[cid] == seq for cid, seq in acked.items())  # no acked call lost

        # the operator's client retries everything not acked, with the same ids
        hub = HubProcess(config_path).start(port=hub.port)
        async with Session(hub.url, token) as op:
            for cmd in commands:
                if cmd.id not in acked:
                    acked[cmd.id] = (await op.request(cmd)).seq
        rows = journal_rows(config.hub.journal)
        assert [seq for seq, _ in rows] == list(range(1, 201))  # gap-free
        assert sorted(cid for _, cid in rows) == sorted(c.id for c in commands)  # each exactly once
        assert all(dict((c, s) for s, c in rows)[cid] == seq for cid, seq in acked.items())
    finally:
        hub.stop()


async def test_a_second_hub_on_the_same_journal_is_refused(tmp_path):
    config_path = write_config(tmp_path)
    first = HubProcess(config_path).start()
    try:
        second = HubProcess(config_path)
        try:
            second.start()
            raise AssertionError("second hub started")
        except RuntimeError as exc:
            assert "is locked by another hub (pid" in str(exc)
        assert second.proc.wait(10) == 1
    finally:
        first.stop()


def test_corrupt_journal_gives_a_clear_error(tmp_path):
    import subprocess
    import sys

    config_path = write_config(tmp_path)
    (tmp_path / "journal.sqlite").write_bytes(b"this is not a database, it is a shopping list" * 100)
    result = subprocess.run([sys.executable, "-m", "signage", "hub", "--config", str(config_path), "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "journal.sqlite is corrupt (file is not a database)" in result.stderr


async def test_sigkill_mid_day_keeps_the_queue(tmp_path):
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    tokens = {t.name: t.secret for t in config.tokens}
    hub = HubProcess(config_path).start()
    try:
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, tokens["loket-01"]) as desk:
            for i in range(40):
                await kiosk.request(m.Issue(f"k{i}", "DUKCAPIL-01", priority=(i == 30)))
            called = [(await desk.request(m.Next(f"n{i}", 1))).event.ticket for i in range(10)]
            await desk.request(m.Skip("skip", 1))  # the 10th call didn't show up
            before = await kiosk.request(m.Issue("k-last", "DUKCAPIL-02"))
        hub.kill()

        hub = HubProcess(config_path).start(port=hub.port)
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, tokens["loket-01"], subscribe=True) as desk:
            assert desk.welcome.state.waiting == {"DUKCAPIL-01": 30, "DUKCAPIL-02": 1}
            assert called[0] == "A-031"  # the priority ticket went first
            after = await kiosk.request(m.Issue("k-after", "DUKCAPIL-01"))
            assert (before.event.ticket, after.event.ticket) == ("A-041", "A-042")  # numbering continues
            assert (await desk.request(m.Next("n-after", 1))).event.ticket == "A-010"
            back = await desk.request(m.Recall("r-after", 1, called[-1]))  # no-show list survived
            assert back.event.ticket == called[-1]
    finally:
        hub.stop()


def test_sigterm_stops_the_hub_cleanly(tmp_path):
    import signal

    hub = HubProcess(write_config(tmp_path)).start()
    hub.proc.send_signal(signal.SIGTERM)
    assert hub.wait() == 0
    assert any("signage hub: stopped" in line for line in hub.output)
    assert not any("Traceback" in line for line in hub.output)
