"""The board's view-model (signage.core.layout): pure, no pygame."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from signage.config import load_config
from signage.core import hall, messages as m
from signage.core.layout import (PALETTE, LinkStatus, Rect, build_view, contrast_ratio, fit_text,
                                 format_clock, format_date, format_time, geometry, grid_shape, ticker_offset)
from support import ROOT

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 26, 9, 41, 0, tzinfo=WIB)  # a Thursday
ONLINE = LinkStatus("online")
SIZES = [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920), (1024, 768), (800, 1280)]


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


def with_display(cfg, **changes):
    return dataclasses.replace(cfg, display=dataclasses.replace(cfg.display, **changes))


def with_locale(cfg, locale):
    return dataclasses.replace(cfg, hall=dataclasses.replace(cfg.hall, locale=locale))


def mono_measure(px: int, bold: bool, text: str) -> tuple[int, int]:
    """A fixed-pitch stand-in for font.size: 0.6 em per character, 1.2 em lines."""
    return (round(len(text) * px * (0.65 if bold else 0.6)), round(px * 1.2))


def state_of(*events) -> m.Snapshot:
    return hall.fold(events)


def called(seq, counter, ticket, at, service=None, replay=False):
    return m.Called(seq, at, f"c{seq}", counter, ticket, service, replay=replay)


# ---------------------------------------------------------------- dates and words


class TestClock:
    def test_indonesian_date_and_time(self):
        assert format_clock(T0, "id", "WIB") == "Kamis, 26 November 2026 · 09.41 WIB"

    def test_english_date_and_time(self):
        assert format_clock(T0, "en", "WIB") == "Thursday, 26 November 2026 · 09:41 WIB"

    def test_every_weekday_and_month_name(self):
        days_id = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
        monday = datetime(2026, 11, 23, tzinfo=WIB)
        for i, name in enumerate(days_id):
            day = monday + timedelta(days=i)
            assert format_date(day, "id").startswith(name + ",")
            assert format_date(day, "en").startswith(day.strftime("%A") + ",")
        assert format_date(datetime(2027, 8, 17, tzinfo=WIB), "id") == "Selasa, 17 Agustus 2027"
        assert format_date(datetime(2027, 2, 1, tzinfo=WIB), "id").endswith("1 Februari 2027")

    def test_time_pads_hours_and_minutes(self):
        assert format_time(datetime(2026, 1, 2, 7, 5, tzinfo=WIB), "id") == "07.05"


# ---------------------------------------------------------------- colour


class TestContrast:
    def test_known_ratios(self):
        assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
        assert contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1.0)
        # WCAG's own example: #767676 on white is the 4.5:1 boundary.
        assert contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)

    def test_ticket_pairs_of_the_palette_reach_7_to_1(self):
        pairs = [(PALETTE.ticket, PALETTE.panel), (PALETTE.on_highlight, PALETTE.highlight),
                 (PALETTE.ticket, PALETTE.background)]
        for fg, bg in pairs:
            assert contrast_ratio(fg, bg) >= 7.0, (fg, bg)

    def test_every_ticket_drawn_on_the_board_reaches_7_to_1(self, cfg):
        # Fresh calls (highlighted cells, flashing hero) and older ones, at several moments.
        state = state_of(called(1, 1, "A-001", T0 - timedelta(minutes=5)), called(2, 2, "B-001", T0))
        tickets = []
        for seconds in (0.1, 0.6, 3.2, 30):
            view = build_view(state, cfg, cfg.zone(None), T0 + timedelta(seconds=seconds), ONLINE, (1920, 1080))
            tickets += [t for r in view.regions for t in r.texts() if t.role == "ticket"]
        assert {t.bg for t in tickets} >= {PALETTE.highlight, PALETTE.panel}
        for t in tickets:
            assert contrast_ratio(t.color, t.bg) >= 7.0, t


# ---------------------------------------------------------------- text fitting


class TestFitText:
    def test_short_text_keeps_its_largest_size(self):
        fitted = fit_text("A-023", 1000, 200, 100, 10, mono_measure, bold=True)
        assert fitted.px == 100 and fitted.lines == ("A-023",)

    def test_long_text_shrinks_to_fit_the_width(self):
        fitted = fit_text("Dinas Kependudukan dan Pencatatan Sipil", 300, 60, 50, 6, mono_measure)
        assert fitted.px < 50 and len(fitted.lines) == 1
        assert mono_measure(fitted.px, False, fitted.lines[0])[0] <= 300

    def test_wraps_to_two_lines_before_shrinking_further(self):
        text = "Badan Pendapatan Daerah Kabupaten Pandeglang"
        one = fit_text(text, 300, 80, 30, 6, mono_measure, max_lines=1)
        two = fit_text(text, 300, 80, 30, 6, mono_measure, max_lines=2)
        assert len(two.lines) == 2 and two.px > one.px
        assert " ".join(two.lines) == text

    def test_ellipsis_when_even_the_smallest_size_is_too_wide(self):
        text = "X" * 60
        fitted = fit_text(text, 100, 20, 20, 12, mono_measure)
        assert fitted.lines and fitted.lines[0].endswith("…")
        assert mono_measure(fitted.px, False, fitted.lines[0])[0] <= 100

    @settings(max_examples=300, deadline=None)
    @given(text=st.text(alphabet="AB Cdefgh-0123 ", min_size=1, max_size=80),
           w=st.integers(1, 800), h=st.integers(1, 300), max_px=st.integers(6, 200),
           min_px=st.integers(6, 60), lines=st.integers(1, 3), bold=st.booleans())
    def test_never_overflows_its_box(self, text, w, h, max_px, min_px, lines, bold):
        fitted = fit_text(text, w, h, max_px, min_px, mono_measure, bold=bold, max_lines=lines)
        assert len(fitted.lines) <= lines
        for line in fitted.lines:
            assert mono_measure(fitted.px, bold, line)[0] <= w
        assert mono_measure(fitted.px, bold, "Ag")[1] * len(fitted.lines) <= h
        assert fitted.px <= max(max_px, 6)


# ---------------------------------------------------------------- geometry


class TestGeometry:
    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("n", [1, 4, 10, 11, 21, 40])
    def test_cells_inside_the_grid_and_apart(self, size, n):
        geo = geometry(size, n, history=True, waiting=True)
        screen = Rect(0, 0, *size)
        assert len(geo.cells) == n
        for i, cell in enumerate(geo.cells):
            assert geo.grid.contains(cell) and screen.contains(cell) and cell.w > 0 and cell.h > 0
            for other in geo.cells[i + 1:]:
                assert not cell.overlaps(other)

    def test_orientation_follows_the_screen(self):
        assert geometry((1920, 1080), 21, history=True, waiting=False).orientation == "landscape"
        assert geometry((1080, 1920), 21, history=True, waiting=False).orientation == "portrait"

    def test_grid_shape_holds_every_cell_and_wastes_little(self):
        for n in range(1, 41):
            cols, rows = grid_shape(n, 1130, 860, 12)
            assert cols * rows >= n and cols * (rows - 1) < n

    def test_landscape_hero_is_large(self):
        geo = geometry((1920, 1080), 21, history=True, waiting=True)
        assert geo.hero.h >= 0.4 * 1080 and geo.hero.w >= 0.35 * 1920


# ---------------------------------------------------------------- build_view


def regions_by_key(view):
    return {r.key: r for r in view.regions}


def texts_of(region):
    return [t.text for t in region.texts()]


class TestBuildView:
    @pytest.mark.parametrize("size", SIZES)
    def test_regions_tile_inside_the_screen_without_overlap(self, cfg, size):
        state = state_of(called(1, 3, "C-001", T0))
        view = build_view(state, cfg, cfg.zone(None), T0, ONLINE, size)
        screen = Rect(0, 0, *size)
        for i, region in enumerate(view.regions):
            assert screen.contains(region.rect), region.key
            for item in region.items:
                assert region.rect.contains(item.rect), (region.key, item)
            for other in view.regions[i + 1:]:
                assert not region.rect.overlaps(other.rect), (region.key, other.key)
        assert view.ticker is not None and screen.contains(view.ticker.rect)
        assert not any(view.ticker.rect.overlaps(r.rect) for r in view.regions)

    def test_one_cell_per_counter_of_the_zone(self, cfg):
        view = build_view(hall.EMPTY, cfg, cfg.zone("semua"), T0, ONLINE, (1920, 1080))
        assert [r.key for r in view.regions if r.key.startswith("cell:")] == [f"cell:{n}" for n in range(1, 22)]
        view = build_view(hall.EMPTY, cfg, cfg.zone("lantai-2"), T0, ONLINE, (1920, 1080))
        assert [r.key for r in view.regions if r.key.startswith("cell:")] == [f"cell:{n}" for n in range(11, 22)]
        assert "Lantai 2 · Loket 11–21" in texts_of(view.region("header"))

    def test_cell_shows_name_agency_and_ticket(self, cfg):
        view = build_view(state_of(called(1, 5, "E-007", T0 - timedelta(minutes=1))), cfg, cfg.zone(None), T0,
                          ONLINE, (1920, 1080))
        assert texts_of(view.region("cell:5")) == ["Loket 5", "Polres", "E-007"]
        assert texts_of(view.region("cell:6")) == ["Loket 6", "Imigrasi", "—"]

    def test_hero_is_the_latest_call_of_the_zone(self, cfg):
        state = state_of(called(1, 12, "L-001", T0 - timedelta(seconds=30), "KEMENAG-01"),
                         called(2, 5, "E-001", T0 - timedelta(seconds=20), "POLRES-01"))
        everywhere = build_view(state, cfg, cfg.zone("semua"), T0, ONLINE, (1920, 1080))
        upstairs = build_view(state, cfg, cfg.zone("lantai-2"), T0, ONLINE, (1920, 1080))
        hero = texts_of(everywhere.region("hero"))
        assert hero[1:3] == ["E-001", "Loket 5"] and "Polres" in hero[3]
        assert texts_of(upstairs.region("hero"))[1:3] == ["L-001", "Loket 12"]

    def test_recall_is_labelled_as_such(self, cfg):
        state = state_of(called(1, 5, "E-001", T0 - timedelta(seconds=60)),
                         m.Recalled(2, T0 - timedelta(seconds=1), "r", 5, "E-001"))
        assert texts_of(build_view(state, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080)).region("hero"))[0] \
            == "PANGGILAN ULANG"

    def test_fresh_call_highlights_its_cell_then_settles(self, cfg):
        state = state_of(called(1, 5, "E-001", T0))
        seconds = cfg.display.highlight_seconds
        fresh = build_view(state, cfg, cfg.zone(None), T0 + timedelta(seconds=1), ONLINE, (1920, 1080))
        later = build_view(state, cfg, cfg.zone(None), T0 + timedelta(seconds=seconds + 0.1), ONLINE, (1920, 1080))
        assert fresh.region("cell:5").background == PALETTE.highlight
        assert later.region("cell:5").background == PALETTE.panel
        assert later.region("cell:6").background == PALETTE.panel_dim  # idle: dimmed

    def test_hero_flashes_during_the_highlight_and_wakes_the_loop_for_each_phase(self, cfg):
        state = state_of(called(1, 5, "E-001", T0))
        at = lambda s: build_view(state, cfg, cfg.zone(None), T0 + timedelta(seconds=s), ONLINE, (1920, 1080))
        assert at(0.1).region("hero").background == PALETTE.highlight
        assert at(0.6).region("hero").background == PALETTE.panel
        assert at(1.1).region("hero").background == PALETTE.highlight
        assert at(0.1).wake_at == T0 + timedelta(seconds=0.5)
        settled = at(cfg.display.highlight_seconds + 1)
        assert settled.region("hero").background == PALETTE.panel
        assert settled.wake_at == T0.replace(second=0) + timedelta(minutes=1)  # only the clock

    def test_clock_in_header_and_wake_at_next_minute(self, cfg):
        now = T0 + timedelta(seconds=12.5)
        view = build_view(hall.EMPTY, cfg, cfg.zone(None), now, ONLINE, (1920, 1080))
        assert texts_of(view.region("clock")) == ["09.41 WIB", "Kamis, 26 November 2026"]
        assert view.wake_at == datetime(2026, 11, 26, 9, 42, tzinfo=WIB)

    def test_now_in_another_offset_is_shown_in_hall_time(self, cfg):
        utc = T0.astimezone(timezone.utc)
        assert texts_of(build_view(hall.EMPTY, cfg, cfg.zone(None), utc, ONLINE, (1920, 1080))
                        .region("clock"))[0] == "09.41 WIB"

    def test_english_locale(self, cfg):
        en = with_locale(cfg, "en")
        state = state_of(called(1, 5, "E-001", T0 - timedelta(minutes=1)))
        view = build_view(state, en, en.zone(None), T0, ONLINE, (1920, 1080))
        assert texts_of(view.region("hero"))[0] == "NOW CALLING"
        assert texts_of(view.region("clock")) == ["09:41 WIB", "Thursday, 26 November 2026"]
        assert texts_of(view.region("history"))[0] == "RECENT CALLS"

    def test_history_lists_the_last_n_calls_newest_first(self, cfg):
        events = [called(i, (i % 21) + 1, f"A-{i:03d}", T0 - timedelta(minutes=30 - i)) for i in range(1, 15)]
        view = build_view(state_of(*events), with_display(cfg, history=4), cfg.zone(None), T0, ONLINE,
                          (1920, 1080))
        tickets = [t.text for t in view.region("history").texts() if t.role == "ticket"]
        assert tickets == ["A-014", "A-013", "A-012", "A-011"]

    def test_no_history_panel_when_history_is_zero(self, cfg):
        view = build_view(hall.EMPTY, with_display(cfg, history=0, show_waiting=False), cfg.zone(None), T0,
                          ONLINE, (1920, 1080))
        assert view.region("history") is None and view.region("waiting") is None

    def test_a_new_day_starts_with_an_empty_board(self, cfg):
        yesterday = state_of(called(1, 5, "E-001", T0 - timedelta(days=1)))
        view = build_view(yesterday, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080))
        assert "E-001" not in texts_of(view.region("cell:5"))
        assert texts_of(view.region("hero"))[0] == "SELAMAT DATANG"

    def test_ticker_carries_the_operator_text_then_the_configured_lines(self, cfg):
        state = state_of(m.TickerSet(1, T0, "t", "Loket 6 tutup pukul 12.00"))
        view = build_view(state, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080))
        assert view.ticker.texts == ("Loket 6 tutup pukul 12.00",) + cfg.display.ticker
        assert view.ticker.speed == pytest.approx(cfg.display.ticker_speed)
        assert build_view(state, cfg, cfg.zone(None), T0, ONLINE, (3840, 2160)).ticker.speed \
            == pytest.approx(2 * cfg.display.ticker_speed)


class TestWaiting:
    def state(self, waiting):
        return state_of(m.Issued(1, T0, "i", "A-001", "DUKCAPIL-01", 1, waiting=waiting))

    def test_counts_are_summed_per_agency_of_the_zone(self, cfg):
        view = build_view(self.state({"DUKCAPIL-01": 4, "DUKCAPIL-06": 3, "PLN-01": 2}), cfg, cfg.zone("lantai-1"),
                          T0, ONLINE, (1920, 1080))
        assert texts_of(view.region("waiting"))[1:] == ["Disdukcapil", "7"]  # PLN (counter 16) is upstairs

    def test_hidden_when_switched_off_or_without_data(self, cfg):
        state = self.state({"DUKCAPIL-01": 4})
        assert build_view(state, with_display(cfg, show_waiting=False), cfg.zone(None), T0, ONLINE,
                          (1920, 1080)).region("waiting") is None
        assert build_view(hall.EMPTY, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080)).region("waiting") is None

    def test_estimates_are_an_option_shown_only_while_online(self, cfg):
        state = self.state({"DUKCAPIL-01": 4, "DUKCAPIL-06": 3, "BPJSKES-01": 2})
        estimates = m.Estimates(T0, {"DUKCAPIL": m.Wait(10, 15)})  # BPJS Kesehatan: not yet known
        on = with_display(cfg, show_estimate=True)
        view = build_view(state, on, cfg.zone(None), T0, ONLINE, (1920, 1080), estimates=estimates)
        texts = texts_of(view.region("waiting"))
        assert texts[0] == "MENUNGGU · PERKIRAAN MENIT"
        assert texts[1:4] == ["10–15", "Disdukcapil", "7"]
        assert not any("–" in t for t in texts[4:])  # the agency without an estimate shows its count only
        for args in ((cfg, ONLINE, estimates), (on, LinkStatus("offline", T0, "x"), estimates), (on, ONLINE, None)):
            plain = texts_of(build_view(state, args[0], cfg.zone(None), T0, args[1], (1920, 1080),
                                        estimates=args[2]).region("waiting"))
            assert plain[0] == "MENUNGGU" and not any("–" in t for t in plain)

    @pytest.mark.parametrize("size", SIZES)
    def test_estimates_fit_every_screen(self, cfg, size):
        every = {s.code: 3 for s in cfg.services if s.code.endswith("-01")}
        estimates = m.Estimates(T0, {a.code: m.Wait(50, 120) for a in cfg.agencies})
        view = build_view(self.state(every), with_display(cfg, show_estimate=True), cfg.zone(None), T0, ONLINE,
                          size, estimates=estimates)
        region = view.region("waiting")
        texts = region.texts()
        waits = [t for t in texts if t.text == "50–120"]
        assert waits

        def px(t):
            return fit_text(t.text, t.rect.w, t.rect.h, t.max_px, t.min_px, mono_measure)

        for item in waits:  # the widest range fits whole (no "…"), as large as its row's agency name or 12 px
            name = next(t for t in texts if t.rect.y == item.rect.y and t.rect.x < item.rect.x)
            assert region.rect.contains(item.rect)
            fitted = px(item)
            assert not fitted.lines[-1].endswith("…"), (size, item.rect, fitted)
            assert fitted.px >= min(12, px(name).px), (size, item.rect, fitted, name.text, px(name))

    def test_overflow_says_how_many_more(self, cfg):
        every = {s.code: 1 for s in cfg.services if s.code.endswith("-01")}
        view = build_view(self.state(every), cfg, cfg.zone(None), T0, ONLINE, (1920, 1080))
        texts = texts_of(view.region("waiting"))
        assert texts[-1].startswith("+") and texts[-1].endswith("lainnya")


class TestOffline:
    def test_online_shows_the_ticker(self, cfg):
        view = build_view(hall.EMPTY, cfg, cfg.zone(None), T0, ONLINE, (1920, 1080))
        assert view.region("status") is None and view.ticker is not None and not view.alert

    def test_short_outage_is_not_shown_yet_but_wakes_the_loop(self, cfg):
        down = LinkStatus("offline", T0 - timedelta(seconds=1), "connection closed")
        view = build_view(hall.EMPTY, cfg, cfg.zone(None), T0, down, (1920, 1080))
        assert not view.alert
        assert view.wake_at == T0 + timedelta(seconds=cfg.display.offline_after_seconds - 1)

    def test_longer_outage_replaces_the_ticker_with_a_status_bar_and_keeps_the_board(self, cfg):
        state = state_of(called(1, 5, "E-001", T0 - timedelta(minutes=2)))
        down = LinkStatus("offline", T0 - timedelta(seconds=cfg.display.offline_after_seconds + 1))
        view = build_view(state, cfg, cfg.zone(None), T0, down, (1920, 1080))
        assert view.alert and view.ticker is None
        status = view.region("status")
        assert status.background == PALETTE.alert_bg
        assert texts_of(status)[0].startswith("TERPUTUS DARI SERVER sejak 09.40 WIB")
        assert "E-001" in texts_of(view.region("cell:5"))

    def test_denied_is_shown_at_once_with_the_reason(self, cfg):
        view = build_view(hall.EMPTY, cfg, cfg.zone(None), T0, LinkStatus("denied", T0, "unauthorized: unknown token"),
                          (1920, 1080))
        assert view.alert and "unauthorized: unknown token" in texts_of(view.region("status"))[0]


class TestTickerMotion:
    def test_enters_from_the_right_and_moves_left(self):
        assert ticker_offset(0, 100, 500, 1000) == 1000
        assert ticker_offset(1, 100, 500, 1000) == 900
        assert ticker_offset(10, 100, 500, 1000) == 0

    def test_starts_again_after_a_full_pass(self):
        assert ticker_offset(15, 100, 500, 1000) == 1000
        assert ticker_offset(15.5, 100, 500, 1000) == 950
