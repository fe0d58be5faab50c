"""Generated slides (what they say, how they sit in a box, their contrast) and the split/media screens' geometry."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from signage.config import load_config
from signage.core import hall, messages as m, protocol, slides
from signage.core.layout import PALETTE, LinkStatus, Rect, Text, contrast_ratio
from signage.core.screens import around, build_screen, media_rect, moved
from support import ROOT

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 41, 0, tzinfo=WIB)
ONLINE = LinkStatus("online")
SIZES = [(1920, 1080), (1080, 1920), (1280, 720), (3840, 2160), (1024, 768), (800, 1280)]


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def demo():
    return protocol.snapshot_from_json((ROOT / "tests" / "fixtures" / "demo_state.json").read_text())


# ---------------------------------------------------------------- slide documents


class TestDocuments:
    def test_standar_pelayanan_groups_an_agencys_services(self, cfg):
        docs = slides.standar_pelayanan(cfg, "DUKCAPIL")
        assert len(docs) == 2 and cfg.content.services_per_slide == 2
        assert docs[0].heading == "STANDAR PELAYANAN"
        assert docs[0].subheading == "Dinas Kependudukan dan Pencatatan Sipil (1/2)"
        ktp = docs[0].sections[0]
        assert ktp.title == "Perekaman KTP-el" and ktp.bullets_title == "Persyaratan"
        assert ktp.bullets[0] == "Fotokopi Kartu Keluarga"
        assert ktp.rows == (("Jangka waktu", "1 hari"), ("Biaya", "Gratis"), ("Produk", "KTP-el"))
        assert docs[0].footer == cfg.content.pengaduan
        assert [s.title for d in docs for s in d.sections] == ["Perekaman KTP-el", "Kartu Keluarga Baru",
                                                               "Akta Kelahiran"]

    def test_chosen_services_only(self, cfg):
        (doc,) = slides.standar_pelayanan(cfg, "POLRES", ("POLRES-02",))
        assert [s.title for s in doc.sections] == ["Perpanjangan SKCK"]

    def test_an_agency_without_standards_says_so(self, cfg):
        with pytest.raises(slides.SlideProblem, match="no service of agency PDAM has standar pelayanan"):
            slides.standar_pelayanan(cfg, "PDAM")

    def test_maklumat_and_opening_hours(self, cfg):
        pledge = slides.maklumat(cfg)
        assert pledge.heading == "MAKLUMAT PELAYANAN" and pledge.sections[0].body == cfg.content.maklumat
        hours = slides.opening_hours(cfg)
        assert hours.sections[0].rows == (("Senin–Kamis", "08.00–15.00"),
                                          ("Jumat", "08.00–11.30 & 13.30–15.00 WIB"))
        assert hours.footer == "Semua waktu dalam WIB"

    def test_english_hall(self, cfg):
        english = dataclasses.replace(cfg, hall=dataclasses.replace(cfg.hall, locale="en"))
        doc = slides.standar_pelayanan(english, "SAMSAT")[0]
        assert doc.heading == "SERVICE STANDARDS" and doc.sections[0].bullets_title == "Requirements"
        assert doc.sections[0].rows[0][0] == "Time"

    def test_fallback_has_every_kind(self, cfg):
        kinds = [d.kind for d in slides.fallback(cfg)]
        assert kinds.count("standar-pelayanan") >= 5 and "maklumat" in kinds and "jam-layanan" in kinds

    def test_fallback_of_a_bare_hall_is_its_name(self, cfg):
        bare = dataclasses.replace(cfg, hall=dataclasses.replace(cfg.hall, opening_hours=""),
                                   content=dataclasses.replace(cfg.content, standards={}, maklumat=""))
        (doc,) = slides.fallback(bare)
        assert doc.heading == cfg.hall.name.upper()


# ---------------------------------------------------------------- slide layout


def all_docs(cfg):
    return slides.fallback(cfg)


@pytest.mark.parametrize("w,h", [(1090, 860), (1054, 593), (1920, 980), (1080, 1800), (400, 300)])
def test_slide_texts_stay_inside_and_apart(cfg, w, h):
    box = Rect(20, 40, w, h)
    for doc in all_docs(cfg):
        region = slides.slide_region(doc, box)
        texts = region.texts()
        assert texts and region.rect == box
        for t in texts:
            assert box.contains(t.rect), (doc.kind, t.text, t.rect)
            assert t.max_px >= t.min_px >= 6
        for a, b in itertools.combinations(texts, 2):
            assert not a.rect.overlaps(b.rect), (doc.subheading, a.text, b.text)


def test_slide_text_reaches_the_contrast_rule(cfg):
    for doc in all_docs(cfg):
        for t in slides.slide_region(doc, Rect(0, 0, 1090, 860)).texts():
            assert contrast_ratio(t.color, t.bg) >= slides.MIN_CONTRAST, (t.text, t.color, t.bg)


def test_legible_replaces_a_colour_that_fails():
    assert slides.legible(PALETTE.ticket, PALETTE.panel) == PALETTE.ticket
    swapped = slides.legible(PALETTE.ticket, PALETTE.highlight)  # amber on amber
    assert contrast_ratio(swapped, PALETTE.highlight) >= slides.MIN_CONTRAST


# ---------------------------------------------------------------- screens


def called(seq, counter, ticket, at):
    return m.Called(seq, at, f"c{seq}", counter, ticket)


def fresh_state(cfg):
    return hall.fold([called(1, 1, "A-001", T0 - timedelta(minutes=5)), called(2, 5, "E-002", T0)])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_split_puts_the_queue_beside_or_below_the_media(cfg, demo, size):
    screen = build_screen(demo, cfg, cfg.zone(None), T0, ONLINE, size, "split")
    whole = Rect(0, 0, *size)
    media = screen.media
    assert screen.layout == "split" and whole.contains(media) and screen.covers == ()
    keys = [r.key for r in screen.view.regions]
    assert keys[:2] == ["header", "clock"] and "hero" in keys and "history" in keys and "waiting" in keys
    assert sum(k.startswith("cell:") for k in keys) == 21
    for region in screen.view.regions:
        assert whole.contains(region.rect), region.key
        assert not region.rect.overlaps(media), region.key
        for t in region.texts():
            assert region.rect.contains(t.rect), (region.key, t.text)
    ticker = screen.view.ticker.rect
    assert ticker.w == size[0] and not ticker.overlaps(media)
    if size[0] >= size[1]:
        assert media.x > screen.view.region("hero").rect.right  # beside
    else:
        assert media.w / media.h == pytest.approx(16 / 9, abs=0.01)  # below, 16:9 at full width
        assert media.bottom < screen.view.region("hero").rect.y
    assert media_rect(size, 21, "split") == media


def test_split_cells_are_the_queue_boards_own(cfg, demo):
    screen = build_screen(demo, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080), "split")
    texts = [t.text for t in screen.view.region("cell:5").texts()]
    assert texts == ["Loket 5", "Polres", "E-008"]
    # Nothing squashed: a text keeps the shape of its box within rounding.
    for region in screen.view.regions:
        for t in region.texts():
            assert t.rect.w > 0 and t.rect.h > 0


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_media_layout_strip_and_hero_overlay(cfg, size):
    state = fresh_state(cfg)
    zone = cfg.zone(None)
    during = build_screen(state, cfg, zone, T0 + timedelta(seconds=1), ONLINE, size, "media")
    media = during.media
    assert media.w == size[0] and media.y == 0
    strip = during.view.region("strip")
    assert strip.rect.y == media.bottom and strip.rect.bottom == size[1]
    hero = during.view.region("hero")
    assert hero is not None and media.contains(hero.rect) and during.covers == (hero.rect,)
    assert "E-002" in [t.text for t in hero.texts()]
    assert "E-002" in [t.text for t in strip.texts()]
    assert during.view.ticker is None
    after = build_screen(state, cfg, zone, T0 + timedelta(seconds=cfg.display.highlight_seconds), ONLINE, size,
                         "media")
    assert after.view.region("hero") is None and after.covers == ()
    assert during.wake_at <= T0 + timedelta(seconds=cfg.display.highlight_seconds)


def test_media_layout_hero_overlay_for_a_call_in_another_zone_does_not_show(cfg):
    state = hall.fold([called(1, 15, "O-001", T0)])
    screen = build_screen(state, cfg, cfg.zone("lantai-1"), T0 + timedelta(seconds=1), ONLINE, (1920, 1080), "media")
    assert screen.view.region("hero") is None


def test_media_layout_offline_bar_covers_the_media(cfg):
    down = LinkStatus("offline", T0 - timedelta(minutes=2))
    screen = build_screen(hall.EMPTY, cfg, cfg.zone(None), T0, down, (1920, 1080), "media")
    status = screen.view.region("status")
    assert status is not None and screen.view.alert
    assert status.rect in screen.covers and screen.media.contains(status.rect)
    assert status.texts()[0].text.startswith("TERPUTUS DARI SERVER")


def test_queue_layout_is_todays_board(cfg, demo):
    from signage.core.layout import build_view
    screen = build_screen(demo, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080), "queue")
    assert screen.media is None and screen.view == build_view(demo, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080))


def test_around_cuts_holes_into_disjoint_pieces():
    rect = Rect(0, 0, 100, 60)
    holes = [Rect(30, 10, 40, 20), Rect(90, 50, 30, 30)]
    pieces = around(rect, holes)
    area = sum(p.w * p.h for p in pieces)
    assert area == 100 * 60 - 40 * 20 - 10 * 10
    for a, b in itertools.combinations(pieces, 2):
        assert not a.overlaps(b)
    for p in pieces:
        assert rect.contains(p) and not any(p.overlaps(h) for h in holes)
    assert around(rect, []) == (rect,)


def test_moved_maps_items_with_their_region():
    from signage.core.layout import Region
    region = Region("x", Rect(0, 0, 100, 50), (0, 0, 0), (Text(Rect(10, 10, 50, 20), "A", (255,) * 3, (0,) * 3,
                                                                 max_px=20, min_px=10),))
    out = moved(region, Rect(0, 0, 100, 50), Rect(200, 100, 200, 100))
    assert out.rect == Rect(200, 100, 200, 100)
    (t,) = out.texts()
    assert t.rect == Rect(220, 120, 100, 40) and t.max_px == 40 and t.min_px == 20
