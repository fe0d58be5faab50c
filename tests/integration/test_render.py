"""Real pygame rendering (SDL dummy driver, DejaVu fonts) of the board at several sizes.

Reference frames live in tests/fixtures/render/; regenerate them after an intended
visual change with:  SIGNAGE_REGEN_REFS=1 pytest tests/integration/test_render.py
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta, timezone

import pygame
import pytest

from signage.config import load_config
from signage.core import hall, messages as m, protocol
from signage.core.layout import PALETTE, LinkStatus, Rect, build_view
from signage.display.logo import draw_logo
from signage.display.renderer import FontBook, Renderer, still_ticker_elapsed
from support import ROOT

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 26, 9, 41, 43, tzinfo=WIB)  # 3 s after the demo's last call (a recall): highlighted
LATER = AT + timedelta(minutes=1)  # nothing highlighted any more
SIZES = [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920)]
REFS = ROOT / "tests" / "fixtures" / "render"
ONLINE = LinkStatus("online")


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def demo():
    return protocol.snapshot_from_json((ROOT / "tests" / "fixtures" / "demo_state.json").read_text())


@pytest.fixture(scope="module")
def renderer():
    pygame.font.init()
    fonts = FontBook()
    assert not fonts.bundled, "these tests expect DejaVu (apt install fonts-dejavu-core)"
    return Renderer(fonts, {"logo": draw_logo()})


def frame(renderer, view) -> pygame.Surface:
    surface = pygame.Surface(view.size)
    renderer.draw(view, surface)
    if view.ticker is not None:
        renderer.draw_ticker(view.ticker, surface, still_ticker_elapsed(view.ticker))
    return surface


def inside(outer: Rect, rect: pygame.Rect) -> bool:
    return outer.x <= rect.x and outer.y <= rect.y and rect.right <= outer.right and rect.bottom <= outer.bottom


def assert_all_text_fits(renderer, view):
    screen = Rect(0, 0, *view.size)
    drawn = 0
    for region in view.regions:
        assert screen.contains(region.rect), region.key
        for text in region.texts():
            rects = renderer.text_rects(text)
            assert rects or not text.text, (region.key, text.text)
            for r in rects:
                assert inside(text.rect, r), (region.key, text.text, text.rect, r)
                assert inside(region.rect, r) and inside(screen, r)
            fitted = renderer.fit(text)
            if fitted.lines and not fitted.lines[-1].endswith("…"):
                assert " ".join(fitted.lines) == " ".join(text.text.split()), "text lost without an ellipsis"
            drawn += 1
    return drawn


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hero_cells_and_text_inside_the_screen(cfg, demo, renderer, size):
    view = build_view(demo, cfg, cfg.zone(None), AT, ONLINE, size)
    screen = Rect(0, 0, *size)
    cells = [r for r in view.regions if r.key.startswith("cell:")]
    assert len(cells) == 21
    for region in cells + [view.region("hero")]:
        assert screen.contains(region.rect) and region.rect.w > 0 and region.rect.h > 0
    assert assert_all_text_fits(renderer, view) > 60
    surface = frame(renderer, view)
    assert surface.get_size() == size


def test_offline_bar_text_fits_everywhere(cfg, demo, renderer):
    down = LinkStatus("offline", AT - timedelta(minutes=3))
    for size in SIZES:
        view = build_view(demo, cfg, cfg.zone(None), AT, down, size)
        assert view.alert
        assert_all_text_fits(renderer, view)


def test_sixty_character_agency_name_does_not_overflow(cfg, renderer):
    long_name = "Badan Pengelolaan Keuangan, Pendapatan dan Aset Daerah Banten"[:60]
    assert len(long_name) == 60
    agencies = tuple(dataclasses.replace(a, name=long_name, short_name=long_name) if a.code == "POLRES" else a
                     for a in cfg.agencies)
    long_cfg = dataclasses.replace(cfg, agencies=agencies)
    state = hall.fold([m.Called(1, AT - timedelta(seconds=30), "c", 5, "E-007")])  # no service: agency name
    for size in SIZES:
        view = build_view(state, long_cfg, long_cfg.zone(None), AT, ONLINE, size)
        assert long_name in [t.text for t in view.region("cell:5").texts()]
        assert long_name in [t.text for t in view.region("hero").texts()]
        assert_all_text_fits(renderer, view)


def ink_height(surface: pygame.Surface, box: Rect, colour) -> int:
    crop = surface.subsurface((box.x, box.y, box.w, box.h))
    mask = pygame.mask.from_threshold(crop, colour, (40, 40, 40, 255))
    rects = mask.get_bounding_rects()
    assert rects, "no ticket pixels found"
    return max(r.bottom for r in rects) - min(r.top for r in rects)


def test_hero_ticket_glyphs_are_at_least_12_percent_of_1080p(cfg, demo, renderer):
    view = build_view(demo, cfg, cfg.zone(None), LATER, ONLINE, (1920, 1080))
    ticket = next(t for t in view.region("hero").texts() if t.role == "ticket")
    assert ticket.text == "E-008" and ticket.color == PALETTE.ticket
    surface = frame(renderer, view)
    height = ink_height(surface, ticket.rect, PALETTE.ticket)
    assert height >= 0.12 * 1080, height


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_demo_board_matches_its_reference_image(cfg, demo, renderer, size):
    surface = frame(renderer, build_view(demo, cfg, cfg.zone(None), AT, ONLINE, size))
    ref_path = REFS / f"board-{size[0]}x{size[1]}.png"
    if os.environ.get("SIGNAGE_REGEN_REFS") == "1":
        REFS.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surface, str(ref_path))
        pytest.skip(f"regenerated {ref_path.name}")
    assert ref_path.exists(), f"missing {ref_path}; run with SIGNAGE_REGEN_REFS=1 to create it"
    difference = differing_fraction(surface, pygame.image.load(str(ref_path)))
    assert difference <= 0.005, f"{difference:.2%} of pixels differ from {ref_path.name}"


def differing_fraction(a: pygame.Surface, b: pygame.Surface, step: int = 24) -> float:
    """Share of pixels (compared at 640 px wide) differing by more than `step` in a channel."""
    assert a.get_size() == b.get_size()
    w, h = a.get_size()
    small = (640, max(1, round(640 * h / w)))
    pa = pygame.image.tobytes(pygame.transform.smoothscale(a.convert(24) if a.get_bitsize() != 24 else a, small), "RGB")
    pb = pygame.image.tobytes(pygame.transform.smoothscale(b.convert(24) if b.get_bitsize() != 24 else b, small), "RGB")
    bad = sum(1 for i in range(0, len(pa), 3)
              if abs(pa[i] - pb[i]) > step or abs(pa[i + 1] - pb[i + 1]) > step or abs(pa[i + 2] - pb[i + 2]) > step)
    return bad / (small[0] * small[1])


def test_reference_comparison_notices_a_changed_ticket(cfg, demo, renderer):
    """The tolerance is not so loose that a different ticket in one cell passes."""
    before = frame(renderer, build_view(demo, cfg, cfg.zone(None), LATER, ONLINE, (1920, 1080)))
    changed = hall.apply(demo, m.Called(demo.seq + 1, demo.history[0].at, "x", 9, "I-777"))
    view = build_view(changed, cfg, cfg.zone(None), demo.history[0].at + timedelta(minutes=1), ONLINE, (1920, 1080))
    assert differing_fraction(before, frame(renderer, view)) > 0.002


def test_partial_redraw_equals_a_full_redraw(cfg, demo, renderer):
    size = (1280, 720)
    first = build_view(demo, cfg, cfg.zone(None), LATER, ONLINE, size)
    call_at = LATER + timedelta(seconds=5)
    after = hall.apply(demo, m.Called(demo.seq + 1, call_at, "x", 9, "I-015", "BPJSKES-01"))
    second = build_view(after, cfg, cfg.zone(None), call_at + timedelta(seconds=0.1), ONLINE, size)

    partial = pygame.Surface(size)
    renderer.draw(first, partial)
    dirty = renderer.draw(second, partial, first)
    changed_keys = {r.key for r in second.regions if first.region(r.key) != r}
    assert changed_keys == {"hero", "cell:9", "history"}
    assert len(dirty) == 3 and all(r.w * r.h < size[0] * size[1] / 3 for r in dirty)

    full = pygame.Surface(size)
    renderer.draw(second, full)
    assert pygame.image.tobytes(partial, "RGB") == pygame.image.tobytes(full, "RGB")


def test_nothing_changed_draws_nothing(cfg, demo, renderer):
    view = build_view(demo, cfg, cfg.zone(None), LATER, ONLINE, (1280, 720))
    surface = pygame.Surface((1280, 720))
    renderer.draw(view, surface)
    again = build_view(demo, cfg, cfg.zone(None), LATER + timedelta(seconds=3), ONLINE, (1280, 720))
    assert renderer.draw(again, surface, view) == []


def test_ticker_moves_inside_its_strip_only(cfg, demo, renderer):
    view = build_view(demo, cfg, cfg.zone(None), LATER, ONLINE, (1280, 720))
    surface = pygame.Surface((1280, 720))
    renderer.draw(view, surface)
    above = pygame.image.tobytes(surface.subsurface((0, 0, 1280, view.ticker.rect.y)), "RGB")
    strip = renderer.draw_ticker(view.ticker, surface, 2.0)
    assert (strip.x, strip.y, strip.w, strip.h) == (view.ticker.rect.x, view.ticker.rect.y, view.ticker.rect.w,
                                                    view.ticker.rect.h)
    assert renderer.draw_ticker(view.ticker, surface, 2.0) is None  # same position: nothing to do
    assert renderer.draw_ticker(view.ticker, surface, 2.5) is not None
    assert pygame.image.tobytes(surface.subsurface((0, 0, 1280, view.ticker.rect.y)), "RGB") == above


def test_text_cache_stays_within_its_byte_budget(cfg):
    budget = 6 * 1024 * 1024
    renderer = Renderer(FontBook(), {"logo": draw_logo()}, cache_bytes=budget)
    surface = pygame.Surface((1920, 1080))
    state, previous = hall.EMPTY, None
    for i in range(1, 120):  # a morning of calls: every one brings new ticket texts
        at = AT + timedelta(seconds=20 * i)
        state = hall.apply(state, m.Called(i, at, f"c{i}", i % 21 + 1, f"A-{i:03d}"))
        view = build_view(state, cfg, cfg.zone(None), at, ONLINE, (1920, 1080))
        renderer.draw(view, surface, previous)
        previous = view
        assert renderer.cached_text_bytes <= budget
    assert renderer.cached_text_bytes > budget / 2  # it was really under pressure
