"""The operator panel and the kiosk page in Debian's Chromium, against a real hub.

The hub runs in-process on its own event loop thread (port 0, journal in
tmp_path); Playwright's sync API drives the browser from the test thread, and
Python clients (a kiosk issuing tickets, a display watching) run on the hub's
loop. Needs /usr/bin/chromium (CI installs it); the tests skip without it.

Screenshots for the README: SIGNAGE_SCREENSHOTS=docs pytest tests/e2e/test_web_panel.py -k screenshots
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import urllib.request
from pathlib import Path

import pytest

from signage.config import Config
from signage.core import messages as m
from signage.hub import server
from signage.operator.client import Session, new_id, send
from support import ROOT, timeout

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = timeout(10) * 1000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402  (after the skip marker, for clarity)

expect.set_options(timeout=WAIT_MS)


class HubThread:
    """A real hub serving on a background event loop; `run` executes coroutines there."""

    def __init__(self, config: Config):
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hub-loop", daemon=True)
        self.thread.start()
        self.hub: server.Hub | None = None
        self.port = 0

    def run(self, coro, wait: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout(wait))

    def start(self) -> "HubThread":
        self.hub = server.Hub(self.config, host="127.0.0.1", port=self.port)
        self.run(self.hub.start())
        self.port = self.hub.port  # a restart reuses it, as a real hub keeps its port
        return self

    def stop(self) -> None:
        if self.hub is not None:
            self.run(self.hub.stop())
            self.hub = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout(5))

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def issue(self, service: str, priority: bool = False) -> m.Issued:
        kiosk = self.config.first_token("kiosk").secret
        ack = self.run(send(self.ws, kiosk, m.Issue(new_id("test"), service, priority), role="kiosk"))
        return ack.event

    def command(self, token: str, command: m.Command) -> m.Ack:
        return self.run(send(self.ws, token, command))

    def watch(self) -> list:
        """Start a display client; the returned list fills with the events it receives."""
        seen: list = []
        ready = threading.Event()
        display = self.config.first_token("display").secret

        async def follow():
            async with Session(self.ws, display, role="display", client="test-display", subscribe=True) as s:
                ready.set()
                async for event in s.events():
                    seen.append(event)

        asyncio.run_coroutine_threadsafe(follow(), self.loop)
        assert ready.wait(timeout(10)), "display client did not connect"
        return seen


def wait_for(predicate, what: str, wait: float = 10):
    """Poll a condition fed by another thread (events reaching the display client)."""
    import time

    deadline = time.monotonic() + timeout(wait)
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def hub(config: Config):
    running = HubThread(config).start()
    yield running
    running.close()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 820}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def log_in(page: Page, hub: HubThread, token: str) -> None:
    page.goto(hub.http + "/operator")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")


# ---------------------------------------------------------------- operator panel


def test_public_config_route_serves_hall_facts_without_tokens(hub, tokens):
    with urllib.request.urlopen(hub.http + "/config.json", timeout=timeout(5)) as response:
        text = response.read().decode()
    data = json.loads(text)
    assert len(data["counters"]) == 21 and len(data["services"]) == 153 and len(data["agencies"]) == 21
    assert not any(secret in text for secret in tokens.values())


def test_operator_logs_in_presses_next_and_the_display_hears_the_call(hub, page, tokens):
    issued = hub.issue("DUKCAPIL-01")
    display = hub.watch()
    log_in(page, hub, tokens["loket-01"])

    # A token scoped to one counter goes straight to that counter's desk.
    expect(page.locator("#desk-title")).to_have_text("Loket 1 · Disdukcapil")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator("#waiting-total")).to_have_text("1")
    expect(page.locator("#current-ticket")).to_have_text("—")

    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text(issued.ticket)
    expect(page.locator("#current-service")).to_have_text("Perekaman KTP-el")
    expect(page.locator("#feedback")).to_contain_text(f"{issued.ticket} dipanggil ke Loket 1")
    expect(page.locator("#waiting-total")).to_have_text("0")

    wait_for(lambda: any(isinstance(e, m.Called) for e in display), "the display to receive the call")
    called = [e for e in display if isinstance(e, m.Called)]
    assert [(e.counter, e.ticket, e.id.startswith("web1-")) for e in called] == [(1, issued.ticket, True)]

    # The token is remembered: a reload lands on the desk again, showing the hub's state.
    page.reload()
    expect(page.locator("#current-ticket")).to_have_text(issued.ticket)
    assert page.evaluate("localStorage.getItem('signage.operator.token')") == tokens["loket-01"]

    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("localStorage.getItem('signage.operator.token')") is None


def test_buttons_skip_recall_done_call_and_transfer(hub, page, tokens):
    first, second, third = (hub.issue("DUKCAPIL-01") for _ in range(3))
    log_in(page, hub, tokens["supervisor"])

    # The supervisor may work any counter: the panel asks which one.
    expect(page.locator("#counter-list button")).to_have_count(21)
    page.click("#counter-list button[data-counter='1']")
    expect(page.locator("#waiting-total")).to_have_text("3")
    for action in ("recall", "skip", "done", "transfer"):
        expect(page.locator(f"[data-action={action}]")).to_be_disabled()  # nobody at the counter yet

    page.click("[data-action=next]")
    expect(page.locator("#current-ticket")).to_have_text(first.ticket)
    page.keyboard.press("s")
    expect(page.locator("#current-ticket")).to_have_text("—")
    expect(page.locator("#feedback")).to_contain_text(f"{first.ticket} dilewati")
    expect(page.locator("#no-show-list button")).to_have_count(1)
    expect(page.locator("#no-show-list button")).to_contain_text(first.ticket)

    page.keyboard.press(" ")  # Space = Next
    expect(page.locator("#current-ticket")).to_have_text(second.ticket)
    page.click("[data-action=recall]")
    expect(page.locator("#feedback")).to_contain_text(f"{second.ticket} dipanggil ulang")
    page.keyboard.press("d")
    expect(page.locator("#feedback")).to_contain_text(f"{second.ticket} selesai dilayani")
    expect(page.locator("#current-ticket")).to_have_text("—")

    # The skipped visitor turns up: tap the chip to call them back.
    page.click("#no-show-list button")
    expect(page.locator("#current-ticket")).to_have_text(first.ticket)
    expect(page.locator("#no-shows")).to_be_hidden()
    page.keyboard.press("d")
    expect(page.locator("#current-ticket")).to_have_text("—")

    # Call a ticket by number, typed loosely ("a3" means A-003).
    page.keyboard.press("c")
    expect(page.locator("#call-dialog")).to_be_visible()
    page.fill("#call-ticket", third.ticket.lower().replace("-00", ""))
    page.keyboard.press("Enter")
    expect(page.locator("#current-ticket")).to_have_text(third.ticket)

    # Transfer it to the police's SKCK line, found by typing.
    display = hub.watch()
    page.keyboard.press("t")
    page.fill("#transfer-filter", "skck baru")
    expect(page.locator("#transfer-service option")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#feedback")).to_contain_text(f"{third.ticket} dialihkan ke SKCK Baru")
    wait_for(lambda: any(isinstance(e, m.Cleared) for e in display), "the transfer event")
    cleared = next(e for e in display if isinstance(e, m.Cleared))
    assert (cleared.ticket, cleared.reason, cleared.to_service) == (third.ticket, "transfer", "POLRES-01")


def test_space_runs_next_only_even_with_another_button_focused(hub, page, tokens):
    first, second = hub.issue("DUKCAPIL-01"), hub.issue("DUKCAPIL-01")
    log_in(page, hub, tokens["loket-01"])
    page.click("[data-action=next]")
    expect(page.locator("#current-ticket")).to_have_text(first.ticket)
    display = hub.watch()
    page.focus("[data-action=done]")
    page.keyboard.down(" ")  # a human releases the key after the hub has answered
    expect(page.locator("#current-ticket")).to_have_text(second.ticket)
    page.keyboard.up(" ")
    page.wait_for_timeout(timeout(500))  # a stray Done would arrive within this
    assert [(type(e).__name__, e.ticket) for e in display] == [("Called", second.ticket)]


def test_hub_refusal_is_shown_with_its_code_and_message(hub, page, tokens):
    log_in(page, hub, tokens["loket-02"])
    expect(page.locator("#desk-title")).to_have_text("Loket 2 · DPMPTSP")
    page.keyboard.press("n")
    feedback = page.locator("#feedback")
    expect(feedback).to_have_class("message error")
    expect(feedback).to_contain_text("Tidak ada pengunjung yang menunggu")
    expect(feedback).to_contain_text("queue_empty: nobody is waiting for counter 2's services")
    expect(page.locator("[data-action=next]")).to_be_enabled()  # an error ends the command in flight


def test_bad_token_is_refused_without_a_reconnect_storm(hub, page):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    log_in(page, hub, "tok-not-a-real-token")
    expect(page.locator("#login-error")).to_contain_text("unauthorized: unknown token")
    expect(page.locator("#status")).to_have_attribute("data-state", "refused")
    page.wait_for_timeout(timeout(2500))  # longer than the first backoff steps
    assert len(sockets) == 1
    assert page.evaluate("localStorage.getItem('signage.operator.token')") is None


def test_a_command_whose_ack_was_lost_is_resent_with_the_same_id(hub, page, tokens):
    """The hub applies Next, the ack never arrives, the socket drops: the panel
    re-sends the same id after reconnecting and the hub answers with the first result."""
    issued = hub.issue("DUKCAPIL-01")
    sent: list[dict] = []
    connections = []

    def route(ws):
        connections.append(ws)
        upstream = ws.connect_to_server()
        first = len(connections) == 1

        def to_hub(message):
            frame = json.loads(message)
            if frame["type"] == "next":
                sent.append(frame)
            upstream.send(message)

        def to_page(message):
            frame = json.loads(message)
            if first and frame["type"] == "ack":
                ws.close(code=1011, reason="test drops the ack")  # lost on the way back
                return
            ws.send(message)

        ws.on_message(to_hub)
        upstream.on_message(to_page)

    page.route_web_socket(lambda url: True, route)
    log_in(page, hub, tokens["loket-01"])
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    page.keyboard.press("n")
    expect(page.locator("#feedback")).to_contain_text(f"{issued.ticket} dipanggil ke Loket 1")
    expect(page.locator("#feedback")).to_contain_text("sudah diproses sebelumnya")
    expect(page.locator("#current-ticket")).to_have_text(issued.ticket)
    assert len(connections) == 2
    assert len(sent) == 2 and sent[0] == sent[1], sent


def test_panel_shows_reconnecting_while_the_hub_is_down_and_recovers(hub, page, tokens):
    log_in(page, hub, tokens["loket-01"])
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    hub.stop()
    expect(page.locator("#status")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#status")).to_contain_text("Terputus")
    expect(page.locator("[data-action=next]")).to_be_disabled()

    hub.start()  # same port, same journal
    issued = hub.issue("DUKCAPIL-02")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected", timeout=timeout(15) * 1000)
    expect(page.locator("#waiting-total")).to_have_text("1")
    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text(issued.ticket)


# ---------------------------------------------------------------- kiosk


def test_kiosk_issues_a_priority_ticket_and_returns_to_the_start(hub, page, tokens):
    ahead = hub.issue("DUKCAPIL-01")
    page.clock.install()
    page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
    assert "token" not in page.url  # the secret leaves the address bar

    page.click("#agency-list [data-agency=DUKCAPIL]")
    expect(page.locator("#agency-title")).to_have_text("Disdukcapil")
    page.click("#service-list [data-service=DUKCAPIL-01]")
    expect(page.locator("#ticket-number")).to_have_text("A-002")
    expect(page.locator("#ticket-service")).to_have_text("Perekaman KTP-el")
    expect(page.locator("#ticket-where")).to_have_text("Disdukcapil · Loket 1")
    expect(page.locator("#ticket-ahead")).to_have_text("Ada 1 orang di depan Anda")
    expect(page.locator("#ticket-priority")).to_be_hidden()

    page.clock.run_for(16_000)
    expect(page.locator("#agencies")).to_be_visible()

    # A priority ticket goes ahead of the ordinary ones.
    page.click("#agency-list [data-agency=DUKCAPIL]")
    page.click("#priority")
    page.click("#service-list [data-service=DUKCAPIL-01]")
    expect(page.locator("#ticket-number")).to_have_text("A-003")
    expect(page.locator("#ticket-priority")).to_be_visible()
    expect(page.locator("#ticket-ahead")).to_have_text("Anda berikutnya")

    # The operator's Next takes the priority ticket first.
    ack = hub.command(tokens["loket-01"], m.Next(new_id("test"), 1))
    assert ack.event.ticket == "A-003" and ahead.ticket == "A-001"
    page.click("#ticket-done")
    expect(page.locator("#agencies")).to_be_visible()
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "false")


def test_kiosk_setup_prompt_refuses_a_bad_token_then_keeps_a_good_one(hub, page, tokens):
    page.goto(hub.http + "/kiosk")
    expect(page.locator("#setup")).to_be_visible()
    page.fill("#kiosk-token", "tok-wrong")
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#setup-error")).to_contain_text("unauthorized: unknown token")

    page.fill("#kiosk-token", tokens["anjungan-1"])
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#agencies")).to_be_visible()
    page.reload()
    expect(page.locator("#agencies")).to_be_visible()
    page.click("#agency-list [data-agency=POLRES]")
    expect(page.locator("#service-list .tile").first).to_be_enabled()


def test_kiosk_with_an_operator_token_is_refused(hub, page, tokens):
    page.goto(hub.http + "/kiosk?token=" + tokens["loket-01"])
    expect(page.locator("#setup-error")).to_contain_text("forbidden: token 'loket-01' is a operator token")


def test_kiosk_shows_the_hubs_refusal_and_goes_back_to_the_start(hub, page, tokens):
    def route(ws):
        upstream = ws.connect_to_server()

        def to_hub(message):
            frame = json.loads(message)
            if frame["type"] == "issue":  # as if the config had changed under the page
                message = json.dumps({**frame, "service": "NOPE-01"})
            upstream.send(message)

        ws.on_message(to_hub)

    page.route_web_socket(lambda url: True, route)
    page.clock.install()
    page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
    page.click("#agency-list [data-agency=PLN]")
    page.click("#service-list .tile >> nth=0")
    expect(page.locator("#failed")).to_be_visible()
    expect(page.locator("#failed-reason")).to_contain_text("unknown_service: service 'NOPE-01' is not in config")
    page.clock.run_for(16_000)
    expect(page.locator("#agencies")).to_be_visible()


def test_kiosk_without_the_hub_says_so_and_takes_no_taps(hub, page, tokens):
    page.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
    page.click("#agency-list [data-agency=PLN]")
    expect(page.locator("#service-list .tile").first).to_be_enabled()
    hub.stop()
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#service-list .tile").first).to_be_disabled()
    hub.start()
    expect(page.locator("#offline")).to_be_hidden(timeout=timeout(15) * 1000)
    expect(page.locator("#service-list .tile").first).to_be_enabled()


def test_kiosk_hides_the_priority_option_when_the_hall_has_none(config, browser, tokens):
    no_priority = dataclasses.replace(config, queue=dataclasses.replace(config.queue, priority=False))
    running = HubThread(no_priority).start()
    try:
        page = browser.new_page()
        page.goto(running.http + "/kiosk?token=" + tokens["anjungan-1"])
        page.click("#agency-list [data-agency=PLN]")
        expect(page.locator("#service-list .tile").first).to_be_enabled()
        expect(page.locator("#priority")).to_be_hidden()
        page.close()
    finally:
        running.close()


# ---------------------------------------------------------------- screenshots for the README


@pytest.mark.skipif(not os.environ.get("SIGNAGE_SCREENSHOTS"), reason="set SIGNAGE_SCREENSHOTS=docs to refresh")
def test_screenshots(hub, page, tokens):
    out = ROOT / os.environ["SIGNAGE_SCREENSHOTS"]
    for service in ("DUKCAPIL-01", "DUKCAPIL-01", "DUKCAPIL-04", "DUKCAPIL-06", "DUKCAPIL-01", "DUKCAPIL-10",
                    "DUKCAPIL-04"):
        hub.issue(service)
    log_in(page, hub, tokens["loket-01"])
    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text("A-001")
    page.keyboard.press("s")
    expect(page.locator("#no-show-list button")).to_have_count(1)
    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text("A-002")
    page.screenshot(path=str(out / "operator-panel.png"))

    kiosk = page.context.new_page()
    kiosk.set_viewport_size({"width": 1280, "height": 900})
    kiosk.goto(hub.http + "/kiosk?token=" + tokens["anjungan-1"])
    kiosk.click("#agency-list [data-agency=DUKCAPIL]")
    kiosk.click("#service-list [data-service=DUKCAPIL-04]")
    expect(kiosk.locator("#ticket-number")).to_have_text("A-008")
    kiosk.screenshot(path=str(out / "kiosk.png"))


# ---------------------------------------------------------------- voice receipts (docs/voice.md)


def test_the_panel_shows_the_voice_queue_then_diumumkan_after_the_receipt(hub, page, tokens):
    """A voice candidate (the protocol an announcer speaks, raw) holds the zone; the panel follows the call."""
    from websockets.asyncio.client import connect

    display = hub.config.first_token("display").secret
    frames: asyncio.Queue = asyncio.Queue()
    holder: dict = {}

    async def announcer():
        async with connect(hub.ws, compression=None) as ws:
            holder["ws"] = ws
            await ws.send(json.dumps({"type": "hello", "role": "display", "token": display, "client": "pa",
                                      "since": None, "announce": True}))
            async for frame in ws:
                await frames.put(json.loads(frame))

    asyncio.run_coroutine_threadsafe(announcer(), hub.loop)

    async def next_of(kind, **match):
        while True:
            frame = await asyncio.wait_for(frames.get(), timeout(10))
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def beat_until_granted():
        while "ws" not in holder:
            await asyncio.sleep(0.01)
        for n in range(40):  # the hub grants after lease_seconds + margin of its start, to a live candidate
            await holder["ws"].send(json.dumps({"type": "beat", "id": f"b{n}"}))
            try:
                return await asyncio.wait_for(next_of("voice", you=True), 0.5)
            except asyncio.TimeoutError:
                continue
        raise AssertionError("no lease")

    lease = hub.run(beat_until_granted(), wait=30)
    issued = hub.issue("DUKCAPIL-01")
    log_in(page, hub, tokens["loket-01"])
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    page.keyboard.press("n")
    expect(page.locator("#current-ticket")).to_have_text(issued.ticket)
    expect(page.locator("#current-voice")).to_have_text("dalam antrean suara (1)")

    call = hub.run(next_of("called"))
    spoken = {"type": "spoken", "id": "r1", "seq": call["seq"], "zone": lease["zone"], "epoch": lease["epoch"]}
    hub.run(holder["ws"].send(json.dumps(spoken)))
    ack = hub.run(next_of("ack", id="r1"))
    assert ack["seq"] == call["seq"]
    expect(page.locator("#current-voice")).to_have_text("diumumkan ✓")

    page.reload()  # the receipt comes back with the welcome too
    expect(page.locator("#current-voice")).to_have_text("diumumkan ✓")
    hub.run(holder["ws"].close())
