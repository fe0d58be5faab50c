"""`signage demo` end to end: real hub, real board process, simulated hall.

Each test runs `python -m signage demo` as a user would, on SDL's dummy drivers,
with its data dir (journal and frames) under tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pygame
import pytest

from signage.config import load_config
from signage.core import hall, messages as m
from signage.core.layout import LinkStatus, build_view
from support import ROOT, timeout

pytestmark = pytest.mark.e2e

TICKET = re.compile(r"^[A-Z]{1,3}-\d{3}$")


def demo_env(**changes: str | None) -> dict[str, str]:
    env = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("SIGNAGE_TOKEN", None)
    env.pop("SIGNAGE_HUB", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def demo_command(tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "signage", "demo", "--config", str(ROOT / "config.yaml"),
            "--data-dir", str(tmp_path / "data"), "--port", "0", *extra]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def ocr_hero_ticket(png: Path, info: dict) -> str:
    """Read the hero's ticket from the frame; its box follows from the pure layout for that call."""
    cfg = load_config(ROOT / "config.yaml")
    ticket, counter = info["texts"]["hero"][1:3]
    at = datetime.now(cfg.hall.timezone)
    snapshot = hall.fold([m.Called(info["seq"], at, "x", int(counter.split()[-1]), ticket)])
    view = build_view(snapshot, cfg, cfg.zone(None), at, LinkStatus("online"), tuple(info["size"]))
    box = next(t for t in view.region("hero").texts() if t.role == "ticket").rect
    crop = pygame.image.load(str(png)).subsurface((box.x, box.y, box.w, box.h))
    crop_path = png.with_name("hero-crop.png")
    pygame.image.save(crop, str(crop_path))
    # Ticket characters only; without 'O', which tesseract otherwise reads into bold zeros.
    result = subprocess.run(["tesseract", str(crop_path), "-", "--psm", "7", "-c",
                             "tessedit_char_whitelist=ABCDEFGHIJKLMNPQRSTUVWXYZ-0123456789"],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_headless_demo_writes_frames_of_a_hall_calling_tickets(tmp_path):
    out = tmp_path / "frames"
    done = subprocess.run(demo_command(tmp_path, "--headless", "--duration", "8", "--speed", "4",
                                       "--frame-every", "1", "--out-dir", str(out), "--seed", "7"),
                          env=demo_env(DISPLAY=None, WAYLAND_DISPLAY=None), capture_output=True, text=True,
                          timeout=timeout(60), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "/operator" in done.stdout and "/kiosk" in done.stdout
    # The journal lives in the data dir, not in the working directory's var/.
    assert (tmp_path / "data" / "demo-journal.sqlite").exists()
    assert not (tmp_path / "var").exists()

    frames = sorted(out.glob("frame-*.png"))
    assert len(frames) >= 2, f"expected a frame every second or so, got {[f.name for f in frames]}"
    for png in frames:
        assert png.with_suffix(".json").exists()
    last = frames[-1]
    info = json.loads(last.with_suffix(".json").read_text())
    assert info["link"] == "online" and info["size"] == [1600, 900]
    hero_ticket = info["texts"]["hero"][1]
    assert TICKET.match(hero_ticket), info["texts"]["hero"]
    assert hero_ticket in info["texts"]["history"]  # the newest call (its counter may be done already)
    if shutil.which("tesseract"):
        # In DejaVu Sans Bold tesseract reads the letter I as a one ("I-004" -> "1-004").
        assert ocr_hero_ticket(last, info).replace("1", "I") == hero_ticket.replace("1", "I")


@pytest.mark.parametrize("env_changes", [
    {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SDL_VIDEODRIVER": None},
    {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SDL_VIDEODRIVER": "dummy"},
], ids=["no-display", "dummy-driver"])
def test_without_a_screen_it_says_so_in_one_line_and_exits_2(tmp_path, env_changes):
    done = subprocess.run(demo_command(tmp_path), env=demo_env(**env_changes), capture_output=True, text=True,
                          timeout=timeout(30), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "--headless" in lines[0], done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_everything_cleanly(tmp_path, signum):
    out = tmp_path / "frames"
    proc = subprocess.Popen(demo_command(tmp_path, "--headless", "--speed", "4", "--out-dir", str(out)),
                            env=demo_env(DISPLAY=None, WAYLAND_DISPLAY=None), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        live = out / "live" / "frame.json"
        deadline = time.monotonic() + timeout(30)
        while time.monotonic() < deadline:  # the board is up, online and has shown a call
            if live.exists():
                try:
                    info = json.loads(live.read_text())
                except ValueError:
                    info = {}
                if info.get("link") == "online" and info.get("seq", 0) > 0:
                    break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        else:
            pytest.fail("the board never showed a call")
        board = children(proc.pid)
        assert board, "the board runs as a child process"
        proc.send_signal(signum)
        try:
            stdout, stderr = proc.communicate(timeout=timeout(20))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            pytest.fail(f"the demo did not stop within 20 s of {signum.name}:\n{stderr[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "demo stopped" in stderr
    for pid in board:
        assert not Path(f"/proc/{pid}").exists(), f"board process {pid} outlived the demo"
