"""The split and media layouts, rendered for real (pygame, SDL dummy, DejaVu): reference frames, OCR, fitted text.

Reference frames live in tests/fixtures/render/; regenerate them after an intended visual
change with:  SIGNAGE_REGEN_REFS=1 pytest tests/integration/test_content_render.py
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pygame
import pytest

from media import make_image
from signage.config import load_config
from signage.core import protocol, slides
from signage.core.content import PlaylistItem
from signage.core.layout import LinkStatus, Rect
from signage.core.screens import build_screen
from signage.display.cli_render import render_screen_still
from signage.display.renderer import FontBook, Renderer
from support import ROOT, timeout

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 26, 9, 41, 43, tzinfo=WIB)  # 3 s after the demo's last call: the hero is highlighted
LATER = AT + timedelta(minutes=1)
REFS = ROOT / "tests" / "fixtures" / "render"
ONLINE = LinkStatus("online")
SIZES = [(1920, 1080), (1080, 1920)]


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
    return Renderer(fonts)


def differing_fraction(a: pygame.Surface, b: pygame.Surface, step: int = 24) -> float:
    from integration.test_render import differing_fraction as compare  # the board's comparison, same tolerance
    return compare(a, b, step)


@pytest.mark.parametrize("layout", ["split", "media"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layouts_match_their_reference_frames(cfg, demo, layout, size):
    zone = cfg.zone(None)
    surface = render_screen_still(build_screen(demo, cfg, zone, AT, ONLINE, size, layout), cfg, zone, AT)
    ref = REFS / f"{layout}-{size[0]}x{size[1]}.png"
    if os.environ.get("SIGNAGE_REGEN_REFS") == "1":
        pygame.image.save(surface, str(ref))
        pytest.skip(f"regenerated {ref.name}")
    assert ref.exists(), f"missing {ref}; run with SIGNAGE_REGEN_REFS=1 to create it"
    difference = differing_fraction(surface, pygame.image.load(str(ref)))
    assert difference <= 0.005, f"{difference:.2%} of pixels differ from {ref.name}"


def test_the_reference_comparison_notices_another_slide(cfg, demo):
    zone = cfg.zone(None)
    first = render_screen_still(build_screen(demo, cfg, zone, LATER, ONLINE, (1920, 1080), "media"), cfg, zone, LATER)
    moved = dataclasses.replace(cfg, content=dataclasses.replace(cfg.content, playlist=cfg.content.playlist[1:]))
    other = render_screen_still(build_screen(demo, moved, zone, LATER, ONLINE, (1920, 1080), "media"), moved, zone,
                                LATER)
    assert differing_fraction(first, other) > 0.01


@pytest.mark.skipif(not shutil.which("tesseract"), reason="needs tesseract-ocr")
def test_ocr_reads_the_slide_heading(cfg, demo, tmp_path):
    zone = cfg.zone(None)
    screen = build_screen(demo, cfg, zone, LATER, ONLINE, (1920, 1080), "media")
    assert screen.view.region("hero") is None  # the highlight is over: the slide is uncovered
    surface = render_screen_still(screen, cfg, zone, LATER)
    heading = slides.slide_region(slides.fallback(cfg)[0], screen.media).texts()[0]
    assert heading.text == "STANDAR PELAYANAN"
    crop = surface.subsurface((screen.media.x, screen.media.y, screen.media.w, heading.rect.bottom + 40))
    half = pygame.transform.smoothscale(crop, (crop.get_width() // 2, crop.get_height() // 2))
    path = tmp_path / "heading.png"
    pygame.image.save(half, str(path))
    done = subprocess.run(["tesseract", str(path), "-", "--psm", "3"], capture_output=True, text=True,
                          timeout=timeout(60))
    words = done.stdout.upper().split()
    assert "STANDAR" in words and "PELAYANAN" in words, done.stdout


@pytest.mark.parametrize("size", [(1090, 860), (1054, 593), (1920, 980), (1080, 1805), (640, 360)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_generated_slide_fits_its_area(cfg, renderer, size):
    box = Rect(0, 0, *size)
    for doc in slides.fallback(cfg):
        region = slides.slide_region(doc, box)
        for text in region.texts():
            for r in renderer.text_rects(text):
                assert text.rect.x <= r.x and r.right <= text.rect.right, (doc.subheading, text.text)
                assert text.rect.y <= r.y and r.bottom <= text.rect.bottom, (doc.subheading, text.text)
            fitted = renderer.fit(text)
            if fitted.lines and not fitted.lines[-1].endswith("…"):
                assert " ".join(fitted.lines) == " ".join(text.text.split()), ("text lost", text.text)
        surface = pygame.Surface(size)
        renderer.draw_region(region, surface)


def test_render_command_shows_a_playlist_image_in_the_media_area(cfg, tmp_path):
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["content"]["dir"] = str(tmp_path / "content")
    raw["content"]["playlist"] = [{"type": "image", "file": "poster.png"}] + raw["content"]["playlist"]
    raw["display"]["logo"] = str(ROOT / "assets" / "logo.png")
    make_image(tmp_path / "content" / "poster.png", (1280, 720), (30, 160, 90))
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    out = tmp_path / "split.png"
    done = subprocess.run([sys.executable, "-m", "signage", "render", "--config", str(config_path), "--state",
                           str(ROOT / "tests/fixtures/demo_state.json"), "--size", "1920x1080", "--layout", "split",
                           "--out", str(out), "--at", "2026-11-26T10:00:00"],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout(60),
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert done.returncode == 0, done.stderr
    assert "layout split" in done.stdout
    media = build_screen(protocol.snapshot_from_json((ROOT / "tests/fixtures/demo_state.json").read_text()),
                         load_config(config_path), cfg.zone(None), LATER, ONLINE, (1920, 1080), "split").media
    image = pygame.image.load(str(out))
    centre = image.get_at((media.x + media.w // 2, media.y + media.h // 2 + media.h // 3))
    assert all(abs(a - b) <= 8 for a, b in zip(tuple(centre)[:3], (30, 160, 90))), centre
    # Between the board and the poster, the letterbox is black, the board's panels are not.
    assert tuple(image.get_at((media.x + 2, media.y + 2)))[:3] == (0, 0, 0)


def test_an_unusable_playlist_file_renders_the_first_generated_slide(cfg, tmp_path, caplog):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    broken = dataclasses.replace(cfg, content=dataclasses.replace(
        cfg.content, dir=tmp_path / "content", playlist=(PlaylistItem("image", file="broken.png"),)))
    zone = cfg.zone(None)
    surface = render_screen_still(build_screen(hall_empty(), broken, zone, LATER, ONLINE, (1280, 720), "media"),
                                  broken, zone, LATER)
    assert surface.get_size() == (1280, 720)
    assert any("broken.png" in r.getMessage() for r in caplog.records)


def hall_empty():
    from signage.core import hall
    return hall.EMPTY
