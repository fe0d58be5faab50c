"""The visitor's pages in Debian's Chromium against a real hub: the phone page at 360×640, and the kiosk's
print states with a printer agent and an emulated printer that is out of paper."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from printer_emulator import PrinterEmulator
from signage.core import messages as m
from signage.operator.client import new_id, send
from signage.printer.agent import PrinterAgent
from signage.printer.device import parse_uri
from support import timeout
sys.path.insert(0, str(Path(__file__).parent))  # (the import mode is importlib: no test dir on sys.path)
from test_web_panel import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, HubThread, wait_for  # noqa: F401  (shared setup)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

from playwright.sync_api import expect, sync_playwright  # noqa: E402

PAGE_LIMIT = 30 * 1024


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def hub(config):
    running = HubThread(config).start()
    yield running
    running.close()


def choose_ktp(page) -> None:
    """On the kiosk page: Disdukcapil, then Perekaman KTP-el (A-…)."""
    page.click("#agency-list [data-agency=DUKCAPIL]")
    page.click("#service-list [data-service=DUKCAPIL-01]")


def issue(hub: HubThread, n: int = 1) -> list[m.Ack]:
    kiosk = hub.config.first_token("kiosk").secret
    return [hub.run(send(hub.ws, kiosk, m.Issue(new_id("test"), "DUKCAPIL-01"), role="kiosk")) for _ in range(n)]


def test_phone_page_follows_a_ticket_from_issue_to_near_to_called_to_done(hub, browser, tokens):
    acks = issue(hub, 5)
    mine = acks[-1]
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="id-ID", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors, requests = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: requests.append(r.url))
    sizes = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.request.resource_type != "websocket"
            and r.status == 200 else None)

    page.goto(f"{hub.http}/t/{mine.track}")
    expect(page.locator("#number")).to_have_text("A-005")
    expect(page.locator("#service")).to_have_text("Perekaman KTP-el")
    expect(page.locator("#ahead")).to_have_text("Ada 4 orang di depan Anda")
    expect(page.locator("#wait")).to_have_text("belum dapat diperkirakan")
    expect(page.locator("#near")).to_be_hidden()

    operator = tokens["loket-01"]
    hub.command(operator, m.Next(new_id("t"), 1))
    hub.command(operator, m.Done(new_id("t"), 1))
    expect(page.locator("#ahead")).to_have_text("Ada 3 orang di depan Anda")
    expect(page.locator("#near")).to_have_text("Sebentar lagi giliran Anda")  # notify.when_ahead = 3
    for _ in range(3):
        hub.command(operator, m.Next(new_id("t"), 1))
        hub.command(operator, m.Done(new_id("t"), 1))
    expect(page.locator("#ahead")).to_have_text("Anda berikutnya")
    hub.command(operator, m.Next(new_id("t"), 1))
    expect(page.locator("#called")).to_be_visible()
    expect(page.locator("#called")).to_contain_text("Silakan menuju")
    expect(page.locator("#counter")).to_have_text("Loket 1")
    assert int(page.evaluate("document.body.dataset.alerted")) >= 2  # near, then called: vibration + chime
    hub.command(operator, m.Done(new_id("t"), 1))
    expect(page.locator("#done")).to_contain_text("Terima kasih")
    expect(page.locator("#waiting")).to_be_hidden()

    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    origin = urlsplit(hub.http).netloc
    assert all(urlsplit(u).netloc == origin for u in requests), requests  # no external assets
    page_bytes = sum(size for url, size in sizes.items() if not url.endswith("/survey"))
    assert 0 < page_bytes <= PAGE_LIMIT, sizes
    context.close()
    assert not errors, errors


def test_wrong_code_gets_a_plain_404_page(hub, browser):
    page = browser.new_page()
    response = page.goto(f"{hub.http}/t/zzzzzzzzzzzzzzzz")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Tiket tidak ditemukan")
    page.close()


def test_kiosk_shows_the_fallback_when_the_printer_is_out_of_paper(hub, browser, tokens):
    emulator = PrinterEmulator()
    emulator.paper_out = True
    agent = PrinterAgent(hub.config, hub.ws, tokens["anjungan-1"], parse_uri(emulator.uri), "anjungan-1")
    task = asyncio.run_coroutine_threadsafe(agent.run(), hub.loop)
    hub.run(asyncio.wait_for(agent.connected.wait(), timeout(10)))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
        choose_ktp(page)
        expect(page.locator("#ticket-number")).to_have_text("A-001")
        expect(page.locator("#print-state")).to_have_text("Printer bermasalah — catat nomor Anda: A-001")

        # The technician's /status shows the printer with its alert (from the agent's fleet heartbeat).
        status = browser.new_page()
        status.set_default_timeout(WAIT_MS)
        status.goto(hub.http + "/status")
        status.fill("#token", tokens["teknisi"])
        status.click("#login-form button[type=submit]")
        card = status.locator(".fleet-card[data-name=printer-anjungan-1]")
        expect(card).to_contain_text("kertas habis")
        expect(card).to_contain_text(emulator.uri)
        expect(status.locator(".alert[data-kind=printer][data-name=printer-anjungan-1]")).to_contain_text("paper out")
        expect(card.locator("button")).to_have_count(0)  # no screen to capture, no remote restart

        emulator.paper_out = False  # paper refilled: the next visitor gets a ticket
        page.click("#ticket-done")
        choose_ktp(page)
        expect(page.locator("#ticket-number")).to_have_text("A-002")
        expect(page.locator("#print-state")).to_have_text("Silakan ambil tiket Anda")
        expect(page.locator("#reprint")).to_be_visible()
        expect(card).to_contain_text("siap", timeout=timeout(hub.config.fleet.heartbeat_seconds + 10) * 1000)
        expect(status.locator(".alert[data-kind=printer]")).to_have_count(0)
        status.close()
    finally:
        page.close()
        hub.loop.call_soon_threadsafe(task.cancel)
        emulator.close()


class Gateway:
    """The hall's WhatsApp/SMS gateway, as notify.webhook sees it: an HTTP server recording JSON POSTs."""

    def __init__(self):
        self.bodies: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                gateway.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_kiosk_takes_an_optional_phone_number_for_the_halls_gateway(browser, config, tokens):
    gateway = Gateway()
    hub = HubThread(dataclasses.replace(config, notify=dataclasses.replace(config.notify, webhook=gateway.url))).start()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
        choose_ktp(page)
        expect(page.locator("#phone")).to_be_visible()
        expect(page.locator("#phone-ok")).to_be_disabled()  # nothing typed yet
        for digit in "08123456789":
            page.click(f"#keypad [data-key='{digit}']")
        page.click("#keypad [data-key=back]")  # a slip of the finger, corrected
        for digit in "90":
            page.click(f"#keypad [data-key='{digit}']")
        expect(page.locator("#phone-number")).to_have_text("0812 3456 7890")
        page.click("#phone-ok")
        expect(page.locator("#ticket-number")).to_have_text("A-001")
        expect(page.locator("#ticket-phone")).to_have_text("Pemberitahuan akan dikirim ke 0812•••••890")

        page.click("#ticket-done")  # the next visitor does not want a message
        choose_ktp(page)
        page.click("#phone-skip")
        expect(page.locator("#ticket-number")).to_have_text("A-002")
        expect(page.locator("#ticket-phone")).to_be_hidden()

        hub.command(tokens["loket-01"], m.Next(new_id("t"), 1))  # A-001 is called
        wait_for(lambda: any(b["event"] == "called" for b in gateway.bodies), "the gateway hears A-001 called")
        called = next(b for b in gateway.bodies if b["event"] == "called")
        assert (called["ticket"], called["phone"], called["counter"]) == ("A-001", "081234567890", 1)
        assert all(b["ticket"] == "A-001" for b in gateway.bodies)  # A-002 gave no number: nothing is sent
    finally:
        page.close()
        hub.close()
        gateway.close()


def test_kiosk_asks_for_no_phone_number_without_a_gateway(hub, browser, tokens):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
        choose_ktp(page)
        expect(page.locator("#ticket-number")).to_have_text("A-001")
        expect(page.locator("#phone")).to_be_hidden()
    finally:
        page.close()
