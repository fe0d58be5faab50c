"""A live fleet: a real hub process and three real `signage display` processes (SDL dummy driver).

What a technician relies on, end to end: /status lists every screen with its heartbeat;
a frozen screen (SIGSTOP) raises `missing` within alert_after_seconds + one heartbeat and
clears when it runs again; `signage screenshot` returns what the screen shows (tesseract
reads the called ticket from the PNG); `signage identify` changes the screen; Chromium
shows the alert on /status; `signage restart` makes the display exit cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from support import ROOT, HubProcess, timeout, write_config

HEARTBEAT, ALERT_AFTER = 1.0, 3.0
NAMES = ("tv-satu", "tv-dua", "tv-tiga")
ENV = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

pytestmark = pytest.mark.e2e


class Fleet:
    def __init__(self, tmp: Path):
        path = write_config(tmp)
        raw = yaml.safe_load(path.read_text())
        raw["fleet"] = {"heartbeat_seconds": HEARTBEAT, "alert_after_seconds": ALERT_AFTER}
        raw["display"]["logo"] = str(ROOT / "assets" / "logo.png")
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
        self.config = path
        self.tokens = {t["name"]: t["token"] for t in raw["tokens"]}
        self.tmp = tmp
        self.hub = HubProcess(path, env=ENV).start()
        self.http = f"http://127.0.0.1:{self.hub.port}"
        self.displays: dict[str, subprocess.Popen] = {}
        for name in NAMES:
            log = open(tmp / f"{name}.log", "w")
            self.displays[name] = subprocess.Popen(
                [sys.executable, "-m", "signage", "display", "--config", str(path), "--hub", self.hub.url,
                 "--token", self.tokens["tv-semua"], "--name", name, "--windowed", "1280x720", "--silent"],
                stdout=log, stderr=subprocess.STDOUT, env=ENV)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "signage", *args, "--config", str(self.config),
                               "--hub", self.hub.url], capture_output=True, text=True, env=ENV,
                              timeout=timeout(30))
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def status(self) -> dict:
        request = urllib.request.Request(f"{self.http}/status/data",
                                         headers={"Authorization": f"Bearer {self.tokens['teknisi']}"})
        with urllib.request.urlopen(request, timeout=timeout(5)) as response:
            return json.loads(response.read())

    def until(self, predicate, seconds: float, step: float = 0.1):
        deadline = time.monotonic() + timeout(seconds)
        while True:
            data = self.status()
            if predicate(data):
                return data
            if time.monotonic() > deadline:
                raise AssertionError(f"not met within {seconds} s: {json.dumps(data)[:2000]}")
            time.sleep(step)

    def close(self) -> None:
        for proc in self.displays.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        for proc in self.displays.values():
            try:
                proc.wait(timeout(10))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.hub.stop()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(tmp_path_factory.mktemp("fleet"))
    try:
        f.until(lambda d: {c["name"] for c in d["clients"] if c["heartbeat"]} == set(NAMES), 30)
        yield f
    finally:
        f.close()


def alerts(data: dict, kind: str) -> set[str]:
    return {a["name"] for a in data["alerts"] if a["kind"] == kind}


def ocr(png: Path) -> str:
    done = subprocess.run(["tesseract", str(png), "stdout", "--psm", "11"], capture_output=True, text=True,
                          timeout=timeout(60))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_lists_all_three_with_their_heartbeats(fleet):
    data = fleet.status()
    clients = {c["name"]: c for c in data["clients"]}
    assert set(clients) == set(NAMES)
    for name in NAMES:
        beat = clients[name]["heartbeat"]
        assert clients[name]["online"] and clients[name]["token"] == "tv-semua"
        assert beat["resolution"] == [1280, 720] and beat["zone"] == "semua" and beat["audio"] == "off"
        assert beat["rss_bytes"] > 10_000_000 and beat["disk_free_bytes"] > 0 and beat["uptime_s"] > 0
        assert beat["version"] and abs(clients[name]["skew_s"]) < 5
    assert data["alerts"] == []


def test_screenshot_after_a_call_shows_the_ticket(fleet, tmp_path):
    fleet.cli("call", "5", "E-012", "--token", fleet.tokens["supervisor"])
    fleet.until(lambda d: all(c["heartbeat"]["seq"] >= 1 for c in d["clients"]), 10)
    out = tmp_path / "shot.png"
    done = fleet.cli("screenshot", "tv-satu", "--out", str(out))
    assert "bytes" in done.stdout
    import pygame

    picture = pygame.image.load(str(out))
    assert picture.get_size() == (640, 360)  # scaled from the 1280x720 window
    assert "E-012" in ocr(out).replace(" ", "")


def test_identify_changes_the_screen(fleet, tmp_path):
    before, after = tmp_path / "before.png", tmp_path / "after.png"
    fleet.cli("screenshot", "tv-dua", "--out", str(before))
    done = fleet.cli("identify", "tv-dua")
    assert "tv-dua" in done.stdout and "signage" in done.stdout
    deadline = time.monotonic() + timeout(10)
    while True:  # one screenshot per second per screen: retry until the card was drawn
        time.sleep(1.05)
        fleet.cli("screenshot", "tv-dua", "--out", str(after))
        if after.read_bytes() != before.read_bytes() or time.monotonic() > deadline:
            break
    assert after.read_bytes() != before.read_bytes()
    text = ocr(after).lower()
    assert "tv-dua" in text.replace(" ", "") and "zona" in text, text


def test_a_frozen_screen_raises_missing_in_time_and_clears_when_it_runs(fleet):
    proc = fleet.displays["tv-dua"]
    os.kill(proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        data = fleet.until(lambda d: "tv-dua" in alerts(d, "missing"), ALERT_AFTER + HEARTBEAT + 2, step=0.05)
        elapsed = time.monotonic() - stopped
        assert elapsed <= timeout(ALERT_AFTER + HEARTBEAT + 0.5), elapsed  # 0.5 s for the poll and a busy CPU
        assert alerts(data, "missing") == {"tv-dua"}
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    fleet.until(lambda d: not d["alerts"], 15)
    health = json.loads(urllib.request.urlopen(f"{fleet.http}/healthz", timeout=timeout(5)).read())
    assert health["alerts"] == []


def test_chromium_shows_the_alert_on_status(fleet):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    proc = fleet.displays["tv-tiga"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            page.goto(f"{fleet.http}/status")
            page.fill("#token", fleet.tokens["teknisi"])
            page.click("#login-form button[type=submit]")
            expect(page.locator(".fleet-card")).to_have_count(3, timeout=timeout(10) * 1000)
            expect(page.locator(".alert")).to_have_count(0)
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                alert = page.locator(".alert[data-kind=missing][data-name=tv-tiga]")
                expect(alert).to_be_visible(timeout=timeout(ALERT_AFTER + HEARTBEAT + 5) * 1000)
                expect(alert).to_contain_text("tv-tiga")
                expect(page.locator(".fleet-card.has-alert[data-name=tv-tiga]")).to_have_count(1)
                # The supervisor (an all-counter operator token) sees it as a banner on the operator panel;
                # a one-counter operator does not.
                for token, shown in (("supervisor", True), ("loket-05", False)):
                    panel = browser.new_page()
                    panel.goto(f"{fleet.http}/operator")
                    panel.fill("#token", fleet.tokens[token])
                    panel.click("#login-form button[type=submit]")
                    expect(panel.locator("#logout")).to_be_visible(timeout=timeout(10) * 1000)
                    banner = panel.locator("#fleet-banner")
                    if shown:
                        expect(banner).to_be_visible(timeout=timeout(10) * 1000)
                        expect(banner).to_contain_text("tv-tiga")
                    else:
                        panel.wait_for_timeout(1000)  # the banner would be filled by the first /healthz poll
                        expect(banner).to_be_hidden()
                    panel.close()
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            expect(page.locator(".alert")).to_have_count(0, timeout=timeout(15) * 1000)
            # The identify button goes through the admin websocket to that screen and back.
            page.locator(".fleet-card[data-name=tv-satu] button[data-action=identify]").click()
            expect(page.locator("#feedback")).to_contain_text("tv-satu: identify OK", timeout=timeout(10) * 1000)
            page.locator(".fleet-card[data-name=tv-satu] button[data-action=screenshot]").click()
            expect(page.locator("#feedback")).to_contain_text("tv-satu: screenshot OK", timeout=timeout(10) * 1000)
            thumb = page.locator(".fleet-card[data-name=tv-satu] img.thumb")
            expect(thumb).to_be_visible(timeout=timeout(10) * 1000)
            page.wait_for_function("() => { const i = document.querySelector("
                                   "'.fleet-card[data-name=tv-satu] img.thumb'); return i && i.naturalWidth === 640; }",
                                   timeout=timeout(10) * 1000)  # loaded under the CSP, 640 px wide
        finally:
            browser.close()


def test_restart_exits_the_display_cleanly(fleet):
    proc = fleet.displays["tv-tiga"]
    done = fleet.cli("restart", "tv-tiga")
    assert "restart done" in done.stdout
    assert proc.wait(timeout(10)) == 0  # systemd's Restart=always starts it again
    log = (fleet.tmp / "tv-tiga.log").read_text()
    assert "restart asked by the hub" in log


def test_other_roles_are_refused_on_the_command_line(fleet):
    for token in ("supervisor", "tv-semua", "anjungan-1"):
        done = fleet.cli("identify", "tv-satu", "--token", fleet.tokens[token], check=False)
        assert done.returncode == 1 and "forbidden" in done.stderr, done.stderr
