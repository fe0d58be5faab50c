"""The visitor's journey through a real hub: capability codes, the ticket role, the phone page over HTTP."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from signage.core import capability
from support import FakeClock, hall_config, raw_client, running_hub, timeout

KIOSK = "tok-61c33f70e176f32fd243"
LOKET_1 = "tok-086da5616dbf7676a9b9"
SERVICE = "DUKCAPIL-01"  # counter 1
WIB = timezone(timedelta(hours=7))
MORNING = datetime(2026, 12, 2, 8, 30, tzinfo=WIB)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout(5)) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read().decode()


async def http_get(hub, path: str) -> tuple[int, str, str]:
    return await asyncio.get_running_loop().run_in_executor(None, get, f"http://127.0.0.1:{hub.port}{path}")


async def issue(kiosk, n: int, phone: str | None = None) -> dict:
    command = {"type": "issue", "id": f"k{n}", "service": SERVICE}
    if phone:
        command["phone"] = phone
    await kiosk.send(command)
    return await kiosk.recv_type("ack")


async def command(client, obj) -> dict:
    await client.send(obj)
    while True:
        frame = await client.recv()
        if frame["type"] in ("ack", "error") and frame.get("id") == obj["id"]:
            return frame


async def test_issue_ack_carries_the_code_and_the_phone_page_reads_that_ticket_only(tmp_path):
    clock = FakeClock(MORNING)
    async with running_hub(hall_config(tmp_path), clock) as hub:
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            a, b = await issue(kiosk, 1), await issue(kiosk, 2)
        code_a, code_b = a["track"], b["track"]
        assert capability.looks_like_code(code_a) and code_a != code_b
        assert "wait" not in a  # no service times yet: the kiosk shows "belum dapat diperkirakan"

        status, kind, body = await http_get(hub, f"/t/{code_a}")
        assert status == 200 and kind.startswith("text/html") and "ticket.js" in body
        status, _, body = await http_get(hub, "/t/" + "a" * 16)
        assert status == 404 and "Tiket tidak ditemukan" in body

        async with raw_client(hub.url, code_a, role="ticket") as phone:
            welcome = await phone.recv_type("welcome")
            assert welcome["state"]["counters"] == [] and welcome["state"]["history"] == []  # no hall state
            first = await phone.recv_type("ticket_status")
            assert (first["ticket"], first["state"], first["position"]) == (a["event"]["ticket"], "waiting", 1)
            async with raw_client(hub.url, LOKET_1) as op:
                await op.recv_type("welcome")
                await command(op, {"type": "next", "id": "n1", "counter": 1})  # calls A
                called = await phone.recv_type("ticket_status")
                assert called["state"] == "called" and called["counter"] == 1 and called["counter_name"]
                await command(op, {"type": "done", "id": "d1", "counter": 1})
                assert (await phone.recv_type("ticket_status"))["state"] == "done"
                await command(op, {"type": "next", "id": "n2", "counter": 1})  # calls B: nothing for A's page
                assert await phone.nothing(0.5)
            # a phone page may not act on the hall
            refused = await command(phone, {"type": "next", "id": "x", "counter": 1})
            assert refused["type"] == "error" and refused["code"] == "forbidden"
            refused = await command(phone, {"type": "reprint", "id": "y", "ticket": a["event"]["ticket"]})
            assert refused["type"] == "error" and refused["code"] == "forbidden"


async def test_codes_are_valid_for_their_day_only(tmp_path):
    clock = FakeClock(MORNING)
    async with running_hub(hall_config(tmp_path), clock) as hub:
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            code = (await issue(kiosk, 1))["track"]
        assert (await http_get(hub, f"/t/{code}"))[0] == 200
        clock.advance(days=1)
        assert (await http_get(hub, f"/t/{code}"))[0] == 404
        async with raw_client(hub.url, code, role="ticket") as phone:
            error = await phone.recv_type("error")
            assert error["code"] == "unauthorized"
        # the same ticket number today has another code
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            again = await issue(kiosk, 2)
        assert again["event"]["ticket"] == "A-001" and again["track"] != code


async def test_codes_survive_a_hub_restart_and_the_secret_file_is_private(tmp_path):
    clock = FakeClock(MORNING)
    config = hall_config(tmp_path)
    async with running_hub(config, clock) as hub:
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            code = (await issue(kiosk, 1))["track"]
    assert (tmp_path / "ticket-secret").stat().st_mode & 0o077 == 0
    async with running_hub(config, clock) as hub:
        assert (await http_get(hub, f"/t/{code}"))[0] == 200


async def test_near_when_few_are_ahead(tmp_path):
    clock = FakeClock(MORNING)
    async with running_hub(hall_config(tmp_path), clock) as hub:
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            acks = [await issue(kiosk, n) for n in range(6)]
        async with raw_client(hub.url, acks[5]["track"], role="ticket") as phone:
            status = await phone.recv_type("ticket_status")
            assert status["position"] == 6 and not status.get("near")  # 5 ahead, notify.when_ahead 3
            async with raw_client(hub.url, LOKET_1) as op:
                await op.recv_type("welcome")
                for n in range(2):
                    await command(op, {"type": "next", "id": f"n{n}", "counter": 1})
                    clock.advance(minutes=4)
                    await command(op, {"type": "done", "id": f"d{n}", "counter": 1})
            while status["position"] != 4:
                status = await phone.recv_type("ticket_status")
            assert status["near"] is True


async def test_phone_number_is_not_journaled(tmp_path):
    clock = FakeClock(MORNING)
    async with running_hub(hall_config(tmp_path), clock) as hub:
        async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
            await kiosk.recv_type("welcome")
            ack = await issue(kiosk, 1, phone="0812-3456-7890")
            assert ack["type"] == "ack"
    for path in tmp_path.glob("journal.sqlite*"):
        assert b"3456" not in path.read_bytes()


async def test_boards_hear_the_estimates_on_connect_and_when_they_change_and_only_if_switched_on(tmp_path):
    import dataclasses

    for show in (True, False):
        config = hall_config(tmp_path / str(show))
        config = dataclasses.replace(config, display=dataclasses.replace(config.display, show_estimate=show))
        clock = FakeClock(datetime(2026, 12, 2, 8, 0, tzinfo=timezone(timedelta(hours=7))))
        kiosk, tv = config.first_token("kiosk").secret, config.first_token("display").secret
        operator = next(t.secret for t in config.tokens if t.role == "operator" and t.counters is None)
        async with running_hub(config, clock) as hub, raw_client(hub.url, kiosk, role="kiosk") as k, \
                raw_client(hub.url, operator) as op:
            await k.recv_type("welcome")
            await op.recv_type("welcome")
            for n in range(6):
                await k.send({"type": "issue", "id": f"i{n}", "service": "DUKCAPIL-01"})
                await k.recv_type("ack")
            for n in range(3):  # three 6-minute services at counter 1
                clock.advance(seconds=30)
                await op.send({"type": "next", "id": f"n{n}", "counter": 1})
                await op.recv_type("ack")
                clock.advance(minutes=6)
                await op.send({"type": "done", "id": f"d{n}", "counter": 1})
                await op.recv_type("ack")
            async with raw_client(hub.url, tv, role="display") as board:
                frames = [await board.recv()]  # the welcome
                if show:
                    first = await board.recv_type("estimates")
                    assert set(first["agencies"]) == {"DUKCAPIL"}
                await k.send({"type": "issue", "id": "i-more", "service": "DUKCAPIL-01"})
                ack = await k.recv_type("ack")
                while True:  # read up to the issued event, then a notice if one follows it
                    frame = await board.recv()
                    frames.append(frame)
                    if frame.get("type") == "issued":
                        break
                if show:
                    changed = await board.recv_type("estimates")
                    got = changed["agencies"]["DUKCAPIL"]
                    assert got != first["agencies"]["DUKCAPIL"]  # one more ahead: a later range
                    assert ack["wait"]["high"] <= got["high"]
                else:
                    assert await board.nothing(0.3)
                    assert not [f for f in frames if f.get("type") == "estimates"]


async def test_a_restarted_hub_still_knows_which_kiosk_issued_each_ticket(tmp_path):
    import dataclasses

    from signage.config import Token

    config = hall_config(tmp_path)
    second = Token("anjungan-2", "kiosk", "tok-second-kiosk-4f1c9a7e", None)
    config = dataclasses.replace(config, tokens=(*config.tokens, second))
    clock = FakeClock(datetime(2026, 12, 2, 8, 0, tzinfo=timezone(timedelta(hours=7))))
    kiosks = [t.secret for t in config.tokens if t.role == "kiosk"]
    async with running_hub(config, clock) as hub, raw_client(hub.url, kiosks[0], role="kiosk") as k:
        await k.recv_type("welcome")
        await k.send({"type": "issue", "id": "i1", "service": "DUKCAPIL-01"})
        assert (await k.recv_type("ack"))["event"]["ticket"] == "A-001"
    clock.advance(seconds=20)
    async with running_hub(config, clock) as hub:  # the same journal, a new process's memory
        async with raw_client(hub.url, kiosks[0], role="kiosk") as k:
            await k.recv_type("welcome")
            await k.send({"type": "reprint", "id": "r1", "ticket": "A-001"})
            error = await k.recv_type("error")
            assert error["code"] == "printer_offline"  # it is this kiosk's ticket: only the printer is missing
        async with raw_client(hub.url, kiosks[1], role="kiosk") as other:
            await other.recv_type("welcome")
            await other.send({"type": "reprint", "id": "r2", "ticket": "A-001"})
            assert (await other.recv_type("error"))["code"] == "unknown_ticket"  # not another kiosk's
