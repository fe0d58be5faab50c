"""The board never raises on any text it is given (issue 10, N1).

A ticker holding a NUL was stored by older hubs, and every board then crashed in
pygame's Font.render, fresh boards included, on their welcome snapshot. The hub now
refuses such text, but old journals, old hubs and bugs remain: the renderer sanitises
at its text boundary (signage.core.text.sanitize) and caps what it lays out. Real
pygame, DejaVu fonts, the SDL dummy driver.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta, timezone

import pygame
import pytest

from signage.config import load_config
from signage.core import hall, messages as m
from signage.core.layout import LinkStatus, build_view
from signage.display.renderer import FontBook, Renderer
import support
from support import ROOT

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 26, 9, 41, 0, tzinfo=WIB)
SIZES = [(1280, 720), (1080, 1920)]

HOSTILE = {
    "nul": "A-0\x0023",
    "lone surrogates": "\ud800B-\udfff7",
    "c0 and c1 controls": "C\x01\x1b[31m\x7f\x85\x9f-9",
    "rtl": "مرحبا بكم في الخدمة שלום",
    "bidi override": "\u202eD-12\u202c",
    "emoji": "👍🏽 🇮🇩 👨‍👩‍👧 E-1",
    "combining marks": "E" + "\u0301\u0302\u0303\u0336" * 40,
    "10,000 characters, one word": "W" * 10_000,
    "10,000 characters, many words": ("kata " * 2_000)[:10_000],
    "newlines and tabs": "F-1\n\r\t\x0bG",
    "noncharacters": "\uffff\ufffe\U0010ffff",
    "only spaces": "   ",
}


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def renderer():
    pygame.font.init()
    fonts = FontBook()
    assert not fonts.bundled, "these tests expect DejaVu (apt install fonts-dejavu-core)"
    return Renderer(fonts)


def hostile_board(cfg, text: str):
    """Every counter called with `text` as ticket and service, and `text` as the ticker; the
    config's names hold it too (an unchecked config, or one from before the text rule)."""
    events = [m.Called(n, AT - timedelta(seconds=60 - n), f"id{n}", counter.number, text, text)
              for n, counter in enumerate(cfg.counters, start=1)]
    events.append(m.TickerSet(len(events) + 1, AT - timedelta(seconds=1), "t", text))
    state = hall.fold(events, cfg.hub.history)
    agencies = tuple(dataclasses.replace(a, name=text, short_name=text) for a in cfg.agencies)
    counters = tuple(dataclasses.replace(c, name=text) for c in cfg.counters)
    services = tuple(dataclasses.replace(s, name=text, code=text) if i == 0 else s
                     for i, s in enumerate(cfg.services))
    return state, dataclasses.replace(cfg, agencies=agencies, counters=counters, services=services)


def ink(surface: pygame.Surface, rect, background) -> int:
    """Pixels in rect that are not the background colour."""
    crop = surface.subsurface((rect.x, rect.y, rect.w, rect.h))
    mask = pygame.mask.from_threshold(crop, background, (8, 8, 8, 255))
    return rect.w * rect.h - mask.count()


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_any_text_is_drawn_and_nothing_raises(cfg, renderer, name, size):
    text = HOSTILE[name]
    state, hostile_cfg = hostile_board(cfg, text)
    for status in (LinkStatus("online"), LinkStatus("offline", AT - timedelta(minutes=2), text)):
        view = build_view(state, hostile_cfg, hostile_cfg.zone(None), AT, status, size)
        surface = pygame.Surface(size)
        started = time.perf_counter()
        rects = renderer.draw(view, surface)
        for elapsed in (0.0, 1.0, 30.0):
            if view.ticker is not None:
                renderer.draw_ticker(view.ticker, surface, elapsed)
        seconds = time.perf_counter() - started
        assert rects == [surface.get_rect()]
        hero = view.region("hero")
        if text.strip():
            assert ink(surface, hero.rect, hero.background) > 0, "the hero ticket was not drawn"
        assert seconds < 10, f"{seconds:.1f} s to draw one frame"  # a sanity bound, not a benchmark
        for region in view.regions:
            for item in region.texts():
                for r in renderer.text_rects(item):
                    assert region.rect.x <= r.x and r.right <= region.rect.right, (region.key, name)


class Handed:
    """The link's seam to the loop (drain() returns what a HubLink would have queued)."""

    def __init__(self, updates):
        self.updates = list(updates)

    def drain(self):
        updates, self.updates = self.updates, []
        return updates


def test_a_fresh_board_draws_announces_and_saves_a_hostile_welcome_snapshot(cfg, tmp_path):
    """What an older hub sent every board after one NUL ticker: it used to crash each of them."""
    from signage.announcer.service import Announcer
    from signage.display.app import Display, HallClock
    from signage.display.link import BoardChanged, StatusChanged

    text = "".join(HOSTILE.values())
    state, hostile_cfg = hostile_board(cfg, text)
    call = m.Called(state.seq + 1, datetime.now(WIB), "live", 5, "A\x00-0\ud8002\x853", None)
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((1280, 720))
    spoken = []
    announcer = Announcer(dataclasses.replace(cfg.announcer, repeat=1), {5: "Loket\x00 \ud800lima\x85"}, "id",
                          observer=lambda part, a: spoken.append(part))
    announcer.start()
    link = Handed([StatusChanged(LinkStatus("online"), 0.0), BoardChanged(state, None),
                   BoardChanged(hall.apply(state, call), call)])
    display = Display(hostile_cfg, hostile_cfg.zone(None), screen, Renderer(FontBook()), link, announcer,
                      clock=HallClock(WIB), snapshot_dir=tmp_path / "frames")
    try:
        display.step(0)
        assert display.frames >= 1 and display.view.seq == call.seq
        saved = (tmp_path / "frames" / "frame.json").read_text(encoding="utf-8")
        assert "\ufffd" in saved and "\x00" not in saved
        assert announcer.run_until_idle(timeout=support.timeout(30)) and "speech" in spoken, spoken
    finally:
        announcer.stop()
        pygame.display.quit()
