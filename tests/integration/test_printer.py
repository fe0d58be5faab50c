"""The printer agent against a real hub and an emulated ESC/POS printer (the hardware seam) on 127.0.0.1.

The bytes the printer receives are decoded back into the ticket image; tesseract reads the
ticket number from it and zbar decodes the QR code to the phone page's URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from printer_emulator import PrinterEmulator, decode, stack
from signage.printer.agent import PrinterAgent
from signage.printer.device import parse_uri
from support import FakeClock, fetch, hall_config, raw_client, running_hub, timeout, until

KIOSK = "tok-61c33f70e176f32fd243"
WIB = timezone(timedelta(hours=7))
MORNING = datetime(2026, 12, 2, 9, 41, tzinfo=WIB)

pytestmark = pytest.mark.skipif(not (shutil.which("tesseract") and shutil.which("zbarimg")),
                                reason="needs tesseract-ocr and zbar-tools (make deps)")


@contextlib.asynccontextmanager
async def printing_hall(tmp_path, paper=80, config=None):
    clock = FakeClock(MORNING)
    emulator = PrinterEmulator()
    async with running_hub(config or hall_config(tmp_path), clock) as hub:
        agent = PrinterAgent(hub.config, hub.url, KIOSK, parse_uri(emulator.uri), "anjungan-1", paper)
        task = asyncio.create_task(agent.run())
        try:
            await asyncio.wait_for(agent.connected.wait(), timeout(10))
            async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk:
                await kiosk.recv_type("welcome")
                yield hub, clock, emulator, agent, kiosk
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            emulator.close()


async def issue(kiosk, n: int) -> dict:
    await kiosk.send({"type": "issue", "id": f"k{n}", "service": "DUKCAPIL-01"})
    return await kiosk.recv_type("ack")


def read_back(job: bytes, tmp_path) -> tuple[str, str, int]:
    images, cuts = decode(job)
    png = tmp_path / "ticket.png"
    stack(images).save(png)
    ocr = subprocess.run(["tesseract", str(png), "-"], capture_output=True, text=True, timeout=timeout(60)).stdout
    qr = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True,
                        timeout=timeout(60)).stdout.strip()
    return ocr, qr, cuts


@pytest.mark.parametrize("paper", [58, 80])
async def test_each_ticket_is_printed_readable_with_a_qr_to_its_phone_page(tmp_path, paper):
    async with printing_hall(tmp_path, paper) as (hub, clock, emulator, agent, kiosk):
        ack = await issue(kiosk, 1)
        assert ack["printing"] == "printing"
        status = await kiosk.recv_type("print_status")
        assert (status["ticket"], status["status"]) == ("A-001", "printed")
        job = emulator.wait_jobs(1, timeout(5))[0]
    ocr, qr, cuts = await asyncio.to_thread(read_back, job, tmp_path)
    assert "A-001" in ocr
    assert "Simpan tiket ini" in ocr and "Perekaman KTP-el" in ocr and "09.41" in ocr
    assert qr == f"{hub.public_url()}/t/{ack['track']}"
    assert cuts == 1
    width = decode(job)[0][0].width
    assert width == {58: 384, 80: 576}[paper]


async def test_paper_out_is_reported_and_the_ticket_stays_valid(tmp_path):
    async with printing_hall(tmp_path) as (hub, clock, emulator, agent, kiosk):
        emulator.paper_out = True
        ack = await issue(kiosk, 1)
        status = await kiosk.recv_type("print_status")
        assert (status["status"], status["reason"]) == ("failed", "paper_out")
        assert ack["type"] == "ack" and ack["track"]  # the ticket is in the line all the same
        assert hub.state.queue.find_waiting("A-001") is not None

        emulator.paper_out, emulator.cover_open = False, True
        await issue(kiosk, 2)
        status = await kiosk.recv_type("print_status")
        assert status["reason"] == "cover_open"

        emulator.cover_open = False  # fixed: the next ticket prints, and it is the only print job
        await issue(kiosk, 3)
        assert (await kiosk.recv_type("print_status"))["status"] == "printed"
        assert len(emulator.wait_jobs(1, timeout(5))) == 1  # nothing was printed onto no paper or open cover


async def test_reprint_within_60_seconds_only(tmp_path):
    async with printing_hall(tmp_path) as (hub, clock, emulator, agent, kiosk):
        await issue(kiosk, 1)
        await kiosk.recv_type("print_status")
        clock.advance(seconds=30)
        await kiosk.send({"type": "reprint", "id": "r1", "ticket": "A-001"})
        assert (await kiosk.recv_type("ack"))["printing"] == "printing"
        assert (await kiosk.recv_type("print_status"))["status"] == "printed"
        assert len(emulator.wait_jobs(2, timeout(5))) == 2
        clock.advance(seconds=31)
        await kiosk.send({"type": "reprint", "id": "r2", "ticket": "A-001"})
        error = await kiosk.recv_type("error")
        assert error["code"] == "unknown_ticket" and "60 s" in error["message"]


async def test_device_missing_and_agent_offline(tmp_path):
    async with printing_hall(tmp_path) as (hub, clock, emulator, agent, kiosk):
        emulator.close()  # nothing listens on the printer's port any more
        await issue(kiosk, 1)
        status = await kiosk.recv_type("print_status")
        assert status["status"] == "failed" and status["reason"] in ("offline", "device_missing")
    # (the agent stopped with the context) a kiosk whose agent was seen today is told it is gone
        for task in [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("PrinterAgent.run")]:
            task.cancel()
        while any(c.session.hello.role == "printer" for c in hub.clients):
            await asyncio.sleep(0.01)
        ack = await issue(kiosk, 2)
        assert ack["printing"] == "offline"


async def test_the_printer_state_rides_on_the_fleet_heartbeat(tmp_path, tokens):
    config = hall_config(tmp_path)
    config = dataclasses.replace(config, fleet=dataclasses.replace(config.fleet, heartbeat_seconds=1.0))
    async with printing_hall(tmp_path, config=config) as (hub, clock, emulator, agent, kiosk):
        name = "printer-anjungan-1"

        async def printer_state(expected):
            code, body, _ = await fetch(hub, "/status/data", tokens["teknisi"])
            assert code == 200, body
            data = json.loads(body)
            member = next((c for c in data["clients"] if c["name"] == name), None)
            ok = member is not None and member["heartbeat"]["printer"] == expected
            return data if ok else None

        data = await until(lambda: printer_state("ok"))  # its first heartbeat probes the device at once
        member = next(c for c in data["clients"] if c["name"] == name)
        assert (member["role"], member["token"]) == ("printer", "anjungan-1")
        assert member["heartbeat"]["printer_device"] == emulator.uri
        mine = [a["kind"] for a in data["alerts"] if a["name"] == name]  # clock_skew: the hub's clock is fake
        assert "seq_lag" not in mine and "printer" not in mine  # no seq_lag: it gets no hall events

        emulator.paper_out = True  # no ticket is issued: the idle probe finds it
        data = await until(lambda: printer_state("paper_out"))
        alert = next(a for a in data["alerts"] if a["name"] == name and a["kind"] != "clock_skew")
        assert alert["kind"] == "printer" and "paper out" in alert["message"] and emulator.uri in alert["message"]
        code, body, _ = await fetch(hub, "/metrics", tokens["teknisi"])
        assert f'signage_client_printer_ok{{name="{name}"}} 0.0' in body.decode()

        emulator.paper_out = False
        await issue(kiosk, 1)  # a print's outcome counts too
        assert (await kiosk.recv_type("print_status"))["status"] == "printed"
        data = await until(lambda: printer_state("ok"))
        member = next(c for c in data["clients"] if c["name"] == name)
        assert member["heartbeat"]["printed"] == 1
        assert not [a for a in data["alerts"] if a["name"] == name and a["kind"] == "printer"]
        assert emulator.probes >= 2

        async with raw_client(hub.url, tokens["teknisi"], role="admin") as admin:  # it has no screen to show
            await admin.recv_type("welcome")
            await admin.send({"type": "act", "id": "a1", "action": "screenshot", "name": name})
            error = await admin.recv_type("error")
            assert error["code"] == "unsupported" and "printer agent" in error["message"]


def test_probe_reads_the_state_without_printing(tmp_path):
    from signage.printer.device import probe

    emulator = PrinterEmulator()
    try:
        device = parse_uri(emulator.uri)
        assert probe(device) == "ok"
        emulator.cover_open = True
        assert probe(device) == "cover_open"
        emulator.cover_open, emulator.paper_out = False, True
        assert probe(device) == "paper_out"
        assert probe(device, query=False) == "unknown"  # a printer known not to answer: open and close only
        emulator.wait_probes(4, timeout(5))
        assert emulator.jobs == []
    finally:
        emulator.close()
    assert probe(device) == "offline"  # nothing listens any more
    lp = tmp_path / "lp0"
    assert probe(parse_uri(f"file://{lp}")) == "device_missing"
    lp.write_bytes(b"")
    assert probe(parse_uri(f"file://{lp}")) == "unknown"  # a write-only device can't tell more
