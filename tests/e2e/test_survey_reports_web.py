"""The SKM tablet (/survey) and the supervisor's page (/reports) in Debian's Chromium, against a real hub.

The hub runs on its own event loop thread (port 0, journal in tmp_path, the real
clock); Playwright's sync API drives the browser. Needs /usr/bin/chromium.

Screenshots for the docs: SIGNAGE_SCREENSHOTS=docs pytest tests/e2e/test_survey_reports_web.py -k screenshot
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from signage.config import Config
from signage.config import RateLimit, SurveyConfig
from signage.core import messages as m, protocol
from signage.hub import server
from signage.operator.client import new_id, send
from support import ROOT, hall_config, timeout

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = timeout(10) * 1000
TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True, "is_mobile": True, "locale": "id-ID"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=WAIT_MS)


class HubThread:
    """A real hub on a background event loop; `run` executes coroutines there."""

    def __init__(self, config: Config):
        self.config = config
        self.secrets = {t.name: t.secret for t in config.tokens}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hub-loop", daemon=True)
        self.thread.start()
        self.hub = server.Hub(config, host="127.0.0.1", port=0)
        self.run(self.hub.start())

    def run(self, coro, wait: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout(wait))

    def close(self) -> None:
        self.run(self.hub.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout(5))

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.hub.port}"

    def command(self, who: str, command: m.Command) -> m.Event:
        role = next(t.role for t in self.config.tokens if t.name == who)
        return self.run(send(self.hub.url, self.secrets[who], command, role=role)).event

    def serve(self, service: str, counter: int) -> str:
        """Issue a ticket, call it to the counter and mark it done; returns the ticket."""
        ticket = self.command("anjungan-1", m.Issue(new_id("k"), service)).ticket
        called = self.command(f"loket-{counter:02d}", m.Next(new_id("n"), counter))
        assert called.ticket == ticket
        self.command(f"loket-{counter:02d}", m.Done(new_id("d"), counter))
        return ticket

    def ratings(self) -> list[m.Rated]:
        """The `rated` events in the journal, read as a report reads it (read-only)."""
        db = sqlite3.connect(f"file:{self.config.hub.journal}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT body FROM events WHERE type = 'rated' ORDER BY seq").fetchall()
        finally:
            db.close()
        return [protocol.decode_event(body) for (body,) in rows]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def start_hub(tmp_path: Path, **changes) -> HubThread:
    config = hall_config(tmp_path)
    config = dataclasses.replace(config, hub=dataclasses.replace(config.hub, rate=RateLimit(10_000, 10_000)), **changes)
    return HubThread(config)


@pytest.fixture
def hub(tmp_path):
    running = start_hub(tmp_path)
    yield running
    running.close()


def new_page(browser, **options) -> Page:
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


@pytest.fixture
def tablet(browser):
    page = new_page(browser, **TABLET)
    yield page
    errors = page.js_errors
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def desk(browser):
    page = new_page(browser, viewport={"width": 1366, "height": 900}, locale="id-ID", accept_downloads=True)
    yield page
    errors = page.js_errors
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    target = os.environ.get("SIGNAGE_SCREENSHOTS")
    if target:
        page.screenshot(path=str(ROOT / target / name))


# ---------------------------------------------------------------- the survey tablet


def test_tablet_rates_the_ticket_its_counter_just_served(hub, tablet):
    tablet.goto(hub.http + "/survey?token=" + hub.secrets["survei-01"])
    assert "token" not in tablet.url
    expect(tablet.locator("#idle")).to_be_visible()
    expect(tablet.locator("#status")).to_have_attribute("data-state", "connected")

    ticket = hub.serve("DUKCAPIL-01", 1)
    expect(tablet.locator("#rate")).to_be_visible()
    expect(tablet.locator("#rate-ticket")).to_have_text(ticket)
    expect(tablet.locator("#rate-where")).to_have_text("Perekaman KTP-el · Loket 1")
    expect(tablet.locator("#faces button.face")).to_have_count(4)

    shot(tablet, "survey-tablet.png")
    chosen = [4, 3, 4, 4, 3, 4, 4, 2, 1]
    for i, score in enumerate(chosen):
        expect(tablet.locator("#question-number")).to_have_text(f"{i + 1}/9")
        expect(tablet.locator("#question-element")).to_have_text(QUESTION_ELEMENTS[i])
        if i == 3:  # a visitor changes their mind: back one question, then on
            tablet.locator("#back-question").tap()
            expect(tablet.locator("#question-number")).to_have_text("3/9")
            expect(tablet.locator("#faces [data-score='4']")).to_have_class("face chosen")
            tablet.locator("#faces [data-score='4']").tap()
        tablet.locator(f"#faces [data-score='{score}']").tap()
    expect(tablet.locator("#comment")).to_be_visible()
    comment = "Petugas sangat membantu.\nRuang tunggu panas."
    tablet.fill("#comment-text", comment)
    expect(tablet.locator("#comment-count")).to_have_text(f"{len(comment)} / 500")
    tablet.locator("#send").tap()
    expect(tablet.locator("#thanks")).to_be_visible()

    (rated,) = hub.ratings()
    assert (rated.counter, rated.ticket, rated.service, rated.form) == (1, ticket, "DUKCAPIL-01", "full")
    assert rated.scores == tuple(chosen) and rated.comment == comment
    expect(tablet.locator("#idle")).to_be_visible(timeout=timeout(10) * 1000)


QUESTION_ELEMENTS = ["Persyaratan", "Prosedur", "Waktu", "Biaya", "Produk", "Kompetensi pelaksana",
                     "Perilaku pelaksana", "Sarana dan prasarana", "Penanganan pengaduan"]


def test_other_counters_tablet_stays_idle_and_the_next_call_withdraws_the_form(hub, tablet, browser):
    other = new_page(browser, **TABLET)
    try:
        other.goto(hub.http + "/survey?token=" + hub.secrets["survei-05"])
        tablet.goto(hub.http + "/survey?token=" + hub.secrets["survei-01"])
        expect(other.locator("#status")).to_have_attribute("data-state", "connected")
        expect(tablet.locator("#status")).to_have_attribute("data-state", "connected")
        first = hub.serve("DUKCAPIL-01", 1)
        expect(tablet.locator("#rate-ticket")).to_have_text(first)
        expect(other.locator("#idle")).to_be_visible()  # counter 5's tablet: not its visitor

        tablet.reload()  # a tablet restarted mid-rating asks the hub what is still open
        expect(tablet.locator("#rate-ticket")).to_have_text(first)

        second = hub.command("anjungan-1", m.Issue(new_id("k"), "DUKCAPIL-02")).ticket
        hub.command("loket-01", m.Next(new_id("n"), 1))  # the next visitor: the first one has left
        expect(tablet.locator("#idle")).to_be_visible()
        expect(tablet.locator("#idle-counter")).to_have_text(f"Loket 1 sedang melayani {second}")
        assert hub.ratings() == []
        expect(other.locator("#rate")).to_be_hidden()  # it saw both events and never asked
        assert not other.js_errors
    finally:
        other.context.close()


def test_a_rating_from_another_tablet_of_the_same_counter_closes_the_form(hub, tablet, browser):
    twin = new_page(browser, **TABLET)
    try:
        for page in (tablet, twin):
            page.goto(hub.http + "/survey?token=" + hub.secrets["survei-01"])
            expect(page.locator("#status")).to_have_attribute("data-state", "connected")
        ticket = hub.serve("DUKCAPIL-01", 1)
        for page in (tablet, twin):
            expect(page.locator("#rate-ticket")).to_have_text(ticket)
        for _ in range(9):
            twin.locator("#faces [data-score='3']").tap()
        twin.locator("#send").tap()
        expect(twin.locator("#thanks")).to_be_visible()
        expect(tablet.locator("#thanks")).to_be_visible()  # told by the `rated` event
        expect(tablet.locator("#thanks-text")).to_contain_text("sudah diterima")
        assert [r.scores for r in hub.ratings()] == [(3,) * 9]
    finally:
        twin.context.close()


def test_short_form_asks_one_question(tmp_path, tablet):
    running = start_hub(tmp_path, survey=SurveyConfig("short"))
    try:
        tablet.goto(running.http + "/survey?token=" + running.secrets["survei-05"])
        expect(tablet.locator("#status")).to_have_attribute("data-state", "connected")
        ticket = running.serve("POLRES-01", 5)
        expect(tablet.locator("#rate-ticket")).to_have_text(ticket)
        expect(tablet.locator("#question-element")).to_have_text("Kepuasan")
        expect(tablet.locator("#question-number")).to_have_text("")
        expect(tablet.locator("#progress .dot")).to_have_count(0)
        tablet.locator("#faces [data-score='2']").tap()
        tablet.locator("#send").tap()  # no comment: it is optional
        expect(tablet.locator("#thanks")).to_be_visible()
        (rated,) = running.ratings()
        assert (rated.form, rated.scores, rated.comment, rated.service) == ("short", (2,), "", "POLRES-01")
    finally:
        running.close()


def test_tablet_setup_refuses_a_non_survey_token(hub, tablet):
    tablet.goto(hub.http + "/survey")
    expect(tablet.locator("#setup")).to_be_visible()
    tablet.fill("#survey-token", hub.secrets["loket-01"])
    tablet.click("#setup-form button[type=submit]")
    expect(tablet.locator("#setup-error")).to_contain_text("forbidden: token 'loket-01' is a operator token")
    tablet.fill("#survey-token", hub.secrets["survei-01"])
    tablet.click("#setup-form button[type=submit]")
    expect(tablet.locator("#idle")).to_be_visible()


# ---------------------------------------------------------------- the supervisor's page


def log_in(page: Page, hub: HubThread, who: str) -> None:
    page.goto(hub.http + "/reports")
    page.fill("#token", hub.secrets[who])
    page.click("#login-form button[type=submit]")


@pytest.mark.parametrize("who", ["loket-01", "anjungan-1", "survei-01"])
def test_reports_page_refuses_tokens_without_the_right(hub, desk, who):
    log_in(desk, hub, who)
    expect(desk.locator("#login-error")).to_contain_text("Token ini tidak berhak melihat laporan")
    expect(desk.locator("#login-error")).to_contain_text("forbidden")
    expect(desk.locator("#view")).to_be_hidden()
    assert desk.evaluate("localStorage.getItem('signage.reports.token')") is None


def test_reports_page_shows_todays_figures_live_and_downloads(hub, desk):
    served = hub.serve("DUKCAPIL-01", 1)
    hub.command("anjungan-1", m.Issue(new_id("k"), "POLRES-01"))
    hub.command("survei-01", m.Rate(new_id("v"), 1, served, (4,) * 9))
    log_in(desk, hub, "kepala-mpp")
    expect(desk.locator("#stat-issued")).to_have_text("2")
    expect(desk.locator("#stat-served")).to_have_text("1")
    expect(desk.locator("#stat-ikm")).to_have_text("100 (A)")
    expect(desk.locator("#stat-respondents")).to_have_text("1")
    expect(desk.locator("#status")).to_have_attribute("data-state", "connected")
    frame = desk.frame_locator("#report-frame")
    expect(frame.locator("svg#chart-heatmap")).to_be_visible()
    expect(frame.locator("svg#chart-hours")).to_be_visible()
    expect(frame.locator("#table-services")).to_contain_text("Perekaman KTP-el")
    # The frame inherits the page's Content-Security-Policy: the report's own stylesheet must still apply.
    expect(frame.locator("h1")).to_have_css("font-size", "22px")

    hub.command("anjungan-1", m.Issue(new_id("k"), "POLRES-02"))  # live: the page follows the hall
    expect(desk.locator("#stat-issued")).to_have_text("3")
    shot(desk, "reports-page.png")

    with desk.expect_download() as download:
        desk.click("[data-format=xlsx]")
    today = desk.locator("#date-from").input_value()
    assert download.value.suggested_filename == f"laporan-{today}.xlsx"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book["Ringkasan"]["C2"].value == 3  # Diterbitkan

    desk.fill("#date-from", "2026-01-05")  # a day without events: an archive, not live
    desk.click("#range-form button[type=submit]")
    expect(desk.locator("#stat-issued")).to_have_text("0")
    expect(desk.locator("#status")).to_have_text("Arsip")


def test_an_all_counter_operator_may_read_reports(hub, desk):
    log_in(desk, hub, "supervisor")
    expect(desk.locator("#stat-issued")).to_have_text("0")
    expect(desk.locator("#status")).to_have_attribute("data-state", "connected")
