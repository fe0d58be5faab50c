"""The display's side of the fleet, in process: vitals from /proc, the warning counter, the frame rate,
and the current frame as a bounded PNG (real pygame, SDL dummy driver)."""

from __future__ import annotations

import io
import logging
import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pygame  # noqa: E402

from signage.core import protocol  # noqa: E402
from signage.display import fleet  # noqa: E402


def test_vitals_read_this_process():
    vitals = fleet.Vitals(Path("."))
    started = time.process_time()
    while time.process_time() - started < 0.3:  # burn CPU so the share since the first read is well above 0
        sum(range(1000))
    assert vitals.cpu_percent() > 20
    assert 5_000_000 < vitals.rss_bytes() < 4_000_000_000
    assert vitals.disk_free_bytes() > 0
    assert vitals.uptime() > 0.3


def test_the_warning_counter_counts_and_keeps_the_last_five_one_line_each():
    counter = fleet.WarningCounter()
    log = logging.getLogger("test.fleet.warnings")
    log.addHandler(counter)
    try:
        log.info("not counted")
        for i in range(7):
            log.warning("problem %d\nsecond line", i)
    finally:
        log.removeHandler(counter)
    assert counter.count == 7 and len(counter.last) == 5
    assert counter.last[-1].startswith("WARNING test.fleet.warnings: problem 6") and "\n" not in counter.last[-1]


def test_frame_rate_is_frames_over_time_between_reads():
    now = [100.0]
    rate = fleet.FrameRate(clock=lambda: now[0])
    now[0] = 102.0
    assert rate.read(60) == 30.0
    now[0] = 103.0
    assert rate.read(60) == 0.0


@pytest.fixture
def screen():
    pygame.display.init()
    surface = pygame.display.set_mode((1920, 1080))
    yield surface
    pygame.display.quit()


def test_screenshot_is_the_surface_scaled_to_640(screen):
    screen.fill((10, 40, 90))
    screen.fill((255, 212, 59), pygame.Rect(0, 0, 960, 540))
    data = fleet.screenshot_png(screen, 640, 262144)
    assert protocol.parse_screenshot(data, 262144, 640) == (640, 360)
    picture = pygame.image.load(io.BytesIO(data), "x.png")
    assert near(picture.get_at((10, 10)), (255, 212, 59)) and near(picture.get_at((630, 350)), (10, 40, 90))


def near(color, expected, tolerance: int = 4) -> bool:
    """smoothscale filters: a flat area comes back within a few levels"""
    return all(abs(a - b) <= tolerance for a, b in zip(color[:3], expected))


def test_screenshot_halves_until_it_fits_or_gives_up(screen):
    noise = pygame.image.frombuffer(os.urandom(1920 * 1080 * 3), (1920, 1080), "RGB")
    screen.blit(noise, (0, 0))  # random pixels: PNG can't compress them
    data = fleet.screenshot_png(screen, 640, 200_000)
    width, _ = protocol.parse_screenshot(data, 200_000, 640)
    assert width < 640 and len(data) <= 200_000
    assert fleet.screenshot_png(screen, 640, 100) is None


def test_the_identify_card_is_drawn_over_the_middle(screen):
    from signage.display.renderer import FontBook

    pygame.font.init()
    screen.fill((0, 0, 0))
    box = fleet.draw_identify(screen, FontBook(), ["tv-lantai-1", "IP 10.0.0.7 · zona lantai-1", "signage 0.1.0"])
    assert box.collidepoint(960, 540) and box.width < 1920
    assert screen.get_at((box.x + 2, box.y + 2))[:3] == (255, 200, 0)  # the frame
    assert screen.get_at((5, 5))[:3] == (0, 0, 0)  # the board outside it untouched
