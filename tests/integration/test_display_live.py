"""A real display process against a real hub process: calls show up, outages show, replays stay silent.

The display runs headless (`SDL_VIDEODRIVER=dummy`) with `--snapshot-dir DIR`, which
makes it write DIR/frame.png and DIR/frame.json (seq, link state, texts per region)
after every frame in which the board changed. Its log says which call notices it
handed to the announcer and whether they were live.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pygame
import pytest

from signage.config import load_config
from signage.core import hall, messages as m
from signage.core.layout import LinkStatus, build_view
from signage.operator.client import new_id, send
from support import HubProcess, ROOT, timeout, write_config

SIZE = (1280, 720)


class DisplayProcess:
    def __init__(self, config_path: Path, url: str, snapshot_dir: Path, *extra: str):
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
               "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        self.snapshot_dir = snapshot_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "signage", "display", "--config", str(config_path), "--hub", url,
             "--windowed", f"{SIZE[0]}x{SIZE[1]}", "--silent", "--snapshot-dir", str(snapshot_dir), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def frame(self) -> dict | None:
        try:
            return json.loads((self.snapshot_dir / "frame.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    async def wait_frame(self, predicate, seconds: float, what: str) -> dict:
        deadline = time.monotonic() + timeout(seconds)
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"display exited:\n{self.log()}"
            info = self.frame()
            if info is not None and predicate(info):
                return info
            await asyncio.sleep(0.05)
        raise AssertionError(f"display never showed {what}; last frame: {self.frame()}\n{self.log()}")

    async def wait_log(self, predicate, seconds: float, what: str) -> None:
        """Wait until predicate() holds over the log. Lines come through a pipe and a reader thread,
        so a line written before a frame.json may still be on its way when the frame is seen."""
        deadline = time.monotonic() + timeout(seconds)
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"display never logged {what}\n{self.log()}")
            await asyncio.sleep(0.02)

    async def wait_notices(self, seqs, seconds: float = 10) -> dict[int, tuple[str, bool]]:
        """notices(self), once it holds every seq in seqs."""
        wanted = set(seqs)
        await self.wait_log(lambda: wanted <= set(notices(self)), seconds, f"notices for seqs {sorted(wanted)}")
        return notices(self)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout(2))
        return self.proc.returncode


def notices(display: DisplayProcess) -> dict[int, tuple[str, bool]]:
    """seq -> (ticket, live) from the display's 'notice' log lines."""
    out = {}
    for line in display.lines:
        found = re.search(r"notice seq=(\d+) kind=\w+ ticket=(\S+) counter=\d+ live=(True|False)", line)
        if found:
            seq = int(found.group(1))
            assert seq not in out, f"notice for seq {seq} submitted twice"
            out[seq] = (found.group(2), found.group(3) == "True")
    return out


def ocr(png: Path, rect) -> str:
    """Read the text in one rectangle of a frame with tesseract (one line)."""
    crop = pygame.image.load(str(png)).subsurface((rect.x, rect.y, rect.w, rect.h))
    path = png.with_name("crop.png")
    pygame.image.save(crop, str(path))
    # Ticket characters only; without 'O', which tesseract otherwise reads into bold zeros ("E-0O0O1").
    result = subprocess.run(["tesseract", str(path), "-", "--psm", "7", "-c",
                             "tessedit_char_whitelist=ABCDEFGHIJKLMNPQRSTUVWXYZ-0123456789"],
                            capture_output=True, text=True)
    return result.stdout.strip()


async def call(url: str, token: str, counter: int, ticket: str) -> int:
    ack = await send(url, token, m.Call(new_id("test"), counter, ticket))
    return ack.seq


@pytest.fixture
def hall_files(tmp_path):
    config_path = write_config(tmp_path)
    cfg = load_config(config_path)
    tokens = {t.name: t.secret for t in cfg.tokens}
    operator = next(t.secret for t in cfg.tokens if t.role == "operator" and t.counters is None)
    return config_path, cfg, tokens, operator


async def test_calls_appear_outage_shows_and_missed_calls_return_silently(tmp_path, hall_files):
    config_path, cfg, _, operator = hall_files
    hub = HubProcess(config_path).start()
    port = hub.port
    display = DisplayProcess(config_path, hub.url, tmp_path / "frames")
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")

        # A call changes the rendered frame: state texts and the pixels themselves.
        seq = await call(hub.url, operator, 5, "E-001")
        info = await display.wait_frame(lambda f: f["seq"] == seq, 5, f"seq {seq}")
        assert info["texts"]["cell:5"] == ["Loket 5", "Polres", "E-001"]
        assert info["texts"]["hero"][1:3] == ["E-001", "Loket 5"]
        if shutil.which("tesseract"):
            # Where the hero ticket is drawn follows from the pure layout for the same state.
            at = datetime.now(cfg.hall.timezone)
            snapshot = hall.fold([m.Called(seq, at, "x", 5, "E-001")])
            view = build_view(snapshot, cfg, cfg.zone(None), at, LinkStatus("online"), SIZE)
            hero_ticket = next(t for t in view.region("hero").texts() if t.role == "ticket")
            assert ocr(display.snapshot_dir / "frame.png", hero_ticket.rect) == "E-001"

        # The hub dies: after offline_after_seconds the board says so and keeps the last state.
        hub.kill()
        info = await display.wait_frame(lambda f: f["alert"], 5 + cfg.display.offline_after_seconds,
                                        "the offline bar")
        assert info["link"] == "offline" and info["texts"]["status"][0].startswith("TERPUTUS DARI SERVER")
        assert info["texts"]["cell:5"][2] == "E-001"

        # Calls made while this display is cut off (through a hub on another port, same journal).
        other = HubProcess(config_path).start()
        missed = [await call(other.url, operator, 7, "G-001"), await call(other.url, operator, 9, "I-001")]
        other.stop()

        hub = HubProcess(config_path).start(port)
        info = await display.wait_frame(lambda f: f["link"] == "online" and f["seq"] == missed[-1], 25,
                                        "recovery with the missed calls")
        assert not info["alert"]
        assert info["texts"]["cell:7"][2] == "G-001" and info["texts"]["cell:9"][2] == "I-001"
        assert info["texts"]["cell:5"][2] == "E-001"
        await display.wait_log(lambda: "kept own state, 2 event(s) replayed" in display.log(), 5, "the replay")

        # Shown, but never announced: replayed notices are not live.
        seen = await display.wait_notices([seq, *missed])
        assert seen[seq] == ("E-001", True)
        assert seen[missed[0]] == ("G-001", False) and seen[missed[1]] == ("I-001", False)

        # And live again afterwards.
        again = await call(hub.url, operator, 7, "G-002")
        await display.wait_frame(lambda f: f["seq"] == again, 5, f"seq {again}")
        assert (await display.wait_notices([again]))[again] == ("G-002", True)
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()


async def test_rejected_token_is_shown_and_not_retried(tmp_path, hall_files):
    config_path, _, _, _ = hall_files
    hub = HubProcess(config_path).start()
    display = DisplayProcess(config_path, hub.url, tmp_path / "frames", "--token", "not-a-real-token")
    try:
        info = await display.wait_frame(lambda f: f["link"] == "denied", 15, "the denied message")
        assert info["alert"] and "unauthorized" in info["texts"]["status"][0]
        await asyncio.sleep(timeout(3))  # a retry storm would show up as more attempts
        assert display.proc.poll() is None, "the board stays up, showing why"
        refusals = [line for line in display.lines if "not retrying" in line]
        assert len(refusals) == 1, display.log()
        assert "unauthorized" in refusals[0]
    finally:
        assert display.stop() == 1  # exit status says the display never got in
        hub.stop()


async def test_render_command_from_a_hub_and_from_a_state_file(tmp_path, hall_files):
    config_path, cfg, _, operator = hall_files
    hub = HubProcess(config_path).start()
    try:
        seq = await call(hub.url, operator, 9, "K-042")
        out = tmp_path / "hub.png"
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "signage", "render", "--config", str(config_path), "--hub", hub.url,
                             "--size", "1280x720", "--out", str(out)],
            capture_output=True, text=True, cwd=ROOT, timeout=timeout(30))
        assert result.returncode == 0, result.stderr
        assert f"seq {seq}" in result.stdout
        assert pygame.image.load(str(out)).get_size() == SIZE
        if shutil.which("tesseract"):
            at = datetime.now(cfg.hall.timezone)
            view = build_view(hall.fold([m.Called(seq, at, "x", 9, "K-042")]), cfg, cfg.zone(None), at,
                              LinkStatus("online"), SIZE)
            hero_ticket = next(t for t in view.region("hero").texts() if t.role == "ticket")
            assert ocr(out, hero_ticket.rect) == "K-042"
    finally:
        hub.stop()

    # --state: the demo snapshot renders exactly like the reference frame of the render tests.
    out = tmp_path / "state.png"
    result = subprocess.run(
        [sys.executable, "-m", "signage", "render", "--state", str(ROOT / "tests/fixtures/demo_state.json"),
         "--size", "1080x1920", "--out", str(out), "--at", "2026-11-26T09:41:43"],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout(30))
    assert result.returncode == 0, result.stderr
    reference = pygame.image.load(str(ROOT / "tests/fixtures/render/board-1080x1920.png"))
    assert pygame.image.tobytes(pygame.image.load(str(out)), "RGB") == pygame.image.tobytes(reference, "RGB")


async def test_the_waiting_panel_shows_the_hubs_estimate_when_switched_on(tmp_path):
    import yaml

    config_path = write_config(tmp_path)
    raw = yaml.safe_load(config_path.read_text())
    raw["display"]["show_estimate"] = True
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    cfg = load_config(config_path)
    operator = next(t.secret for t in cfg.tokens if t.role == "operator" and t.counters is None)
    kiosk = cfg.first_token("kiosk").secret
    hub = HubProcess(config_path).start()
    display = DisplayProcess(config_path, hub.url, tmp_path / "frames")
    try:
        await display.wait_frame(lambda f: f["link"] == "online", 20, "the link online")
        for _ in range(6):
            await send(hub.url, kiosk, m.Issue(new_id("k"), "DUKCAPIL-01"), role="kiosk")
        # Six waiting and no service time yet: the count alone.
        await display.wait_frame(lambda f: f["texts"].get("waiting") == ["MENUNGGU · PERKIRAAN MENIT", "Disdukcapil",
                                                                         "6"], 5, "6 waiting, no estimate")
        for _ in range(3):  # three service times at counter 1: enough for an estimate
            await send(hub.url, operator, m.Next(new_id("t"), 1))
            await send(hub.url, operator, m.Done(new_id("t"), 1))
        info = await display.wait_frame(lambda f: f["texts"].get("waiting", [""])[-1] == "3"
                                        and len(f["texts"]["waiting"]) == 4, 5, "3 waiting with the estimate")
        title, wait, name, count = info["texts"]["waiting"]
        assert (title, name, count) == ("MENUNGGU · PERKIRAAN MENIT", "Disdukcapil", "3")
        low, high = (int(x) for x in wait.split("–"))
        issued = await send(hub.url, kiosk, m.Issue(new_id("k"), "DUKCAPIL-01"), role="kiosk")
        # The next visitor's ticket (3 ahead) gets the very range the board showed: they never disagree.
        assert issued.wait is not None and (issued.wait.low, issued.wait.high) == (low, high)
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()
