"""The hall board as data: build_view(...) -> View. Pure: no pygame, no I/O, no clock.

Theory of operation
-------------------
The display keeps a Snapshot (folded by signage.core.hall) and a LinkStatus. Whenever
either changes, or the wall clock reaches `View.wake_at`, it calls

    build_view(snapshot, config, zone, now, link, size) -> View

and hands the View to signage.display.renderer, which draws only the regions that
differ from the previous View. A View is a tuple of Regions (header, clock, hero,
one per counter cell, history, waiting, status) that tile the screen, plus a
TickerView: the running text is the only thing that moves every frame, so it is
described once and animated by the renderer with `ticker_offset`.

Text is not measured here (that needs fonts); each Text carries its box and a
size range, and `fit_text` (pure, given a `measure` function) picks the size and
line breaks so that it never overflows its box.

Also here: Indonesian/English day and month names and clock formatting, the
palette with WCAG contrast helpers, and the landscape/portrait geometry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence, Union

from signage.config import Config, Zone
from signage.core import hall, messages as m

RGB = tuple[int, int, int]

# ---------------------------------------------------------------- words and dates

DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
WORDS = {
    "id": {
        "now_calling": "NOMOR ANTRIAN DIPANGGIL",
        "calling_again": "PANGGILAN ULANG",
        "welcome": "SELAMAT DATANG",
        "no_calls": "Belum ada panggilan",
        "history": "PANGGILAN TERAKHIR",
        "waiting": "MENUNGGU",
        "nobody_waiting": "Tidak ada antrean",
        "more": "lainnya",
        "offline": "TERPUTUS DARI SERVER sejak {time} · data terakhir tetap ditampilkan",
        "connecting": "BELUM TERHUBUNG KE SERVER · mencoba lagi…",
        "denied": "AKSES DITOLAK OLEH SERVER: {detail} · periksa token display",
    },
    "en": {
        "now_calling": "NOW CALLING",
        "calling_again": "CALLING AGAIN",
        "welcome": "WELCOME",
        "no_calls": "No calls yet",
        "history": "RECENT CALLS",
        "waiting": "WAITING",
        "nobody_waiting": "Nobody waiting",
        "more": "more",
        "offline": "OFFLINE since {time} · showing the last known state",
        "connecting": "NOT CONNECTED TO THE SERVER · retrying…",
        "denied": "ACCESS DENIED BY THE SERVER: {detail} · check the display token",
    },
}


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale, WORDS["id"])


def format_date(now: datetime, locale: str) -> str:
    """'Kamis, 26 November 2026' / 'Thursday, 26 November 2026'."""
    days, months = DAYS.get(locale, DAYS["id"]), MONTHS.get(locale, MONTHS["id"])
    return f"{days[now.weekday()]}, {now.day} {months[now.month - 1]} {now.year}"


def format_time(now: datetime, locale: str, zone_label: str = "") -> str:
    """'09.41 WIB' (Indonesian writes a period) / '09:41 WIB'."""
    sep = "." if locale == "id" else ":"
    text = f"{now.hour:02d}{sep}{now.minute:02d}"
    return f"{text} {zone_label}" if zone_label else text


def format_clock(now: datetime, locale: str, zone_label: str = "") -> str:
    """'Kamis, 26 November 2026 · 09.41 WIB'."""
    return f"{format_date(now, locale)} · {format_time(now, locale, zone_label)}"


# ---------------------------------------------------------------- colour


@dataclass(frozen=True)
class Palette:
    background: RGB = (8, 24, 52)
    header: RGB = (4, 14, 34)
    panel: RGB = (18, 40, 76)
    panel_dim: RGB = (12, 27, 52)
    text: RGB = (255, 255, 255)
    muted: RGB = (170, 188, 214)
    dim_text: RGB = (98, 116, 146)
    ticket: RGB = (255, 202, 40)  # ticket numbers on dark panels
    highlight: RGB = (255, 202, 40)  # background of a fresh call
    on_highlight: RGB = (8, 24, 52)  # text on the highlight background
    ticker_bg: RGB = (240, 244, 250)
    ticker_text: RGB = (8, 24, 52)
    alert_bg: RGB = (176, 18, 28)
    alert_text: RGB = (255, 255, 255)


PALETTE = Palette()


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# ---------------------------------------------------------------- view dataclasses


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def inset(self, dx: int, dy: int | None = None) -> Rect:
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, max(0, self.w - 2 * dx), max(0, self.h - 2 * dy))

    def contains(self, other: Rect) -> bool:
        return (self.x <= other.x and self.y <= other.y and other.right <= self.right
                and other.bottom <= self.bottom)

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.right and other.x < self.right and self.y < other.bottom
                and other.y < self.bottom)

    def rows(self, *fractions: float, gap: int = 0) -> tuple[Rect, ...]:
        """Split top to bottom by fractions of the height (after gaps)."""
        usable = self.h - gap * (len(fractions) - 1)
        out, y = [], self.y
        for i, f in enumerate(fractions):
            h = round(usable * f) if i < len(fractions) - 1 else self.bottom - y
            out.append(Rect(self.x, y, self.w, max(0, h)))
            y += h + gap
        return tuple(out)

    def cols(self, *fractions: float, gap: int = 0) -> tuple[Rect, ...]:
        """Split left to right by fractions of the width (after gaps)."""
        usable = self.w - gap * (len(fractions) - 1)
        out, x = [], self.x
        for i, f in enumerate(fractions):
            w = round(usable * f) if i < len(fractions) - 1 else self.right - x
            out.append(Rect(x, self.y, max(0, w), self.h))
            x += w + gap
        return tuple(out)


@dataclass(frozen=True)
class Fill:
    rect: Rect
    color: RGB


@dataclass(frozen=True)
class Text:
    """A string to fit into `rect`: the largest size in [min_px, max_px] that fits wins."""

    rect: Rect
    text: str
    color: RGB
    bg: RGB  # the colour under the text (text surfaces are opaque, cheap to blit)
    max_px: int
    min_px: int
    bold: bool = False
    align: str = "left"  # left | center | right; always centred vertically
    max_lines: int = 1
    role: str = "label"  # "ticket" for ticket numbers (contrast-checked), else a label


@dataclass(frozen=True)
class Image:
    rect: Rect
    name: str  # "logo"


Item = Union[Fill, Text, Image]


@dataclass(frozen=True)
class Region:
    """A screen area redrawn as a whole when it differs from the previous View."""

    key: str  # "header", "clock", "hero", "cell:5", "history", "waiting", "status"
    rect: Rect
    background: RGB
    items: tuple[Item, ...] = ()

    def texts(self) -> tuple[Text, ...]:
        return tuple(i for i in self.items if isinstance(i, Text))


@dataclass(frozen=True)
class TickerView:
    rect: Rect
    texts: tuple[str, ...]
    color: RGB
    bg: RGB
    px: int  # font size
    speed: float  # pixels per second at this screen size
    gap: int  # pixels between two texts


@dataclass(frozen=True)
class View:
    size: tuple[int, int]
    orientation: str  # "landscape" | "portrait"
    background: RGB
    regions: tuple[Region, ...]
    ticker: TickerView | None  # None while the status bar takes its place
    wake_at: datetime | None  # the view changes by itself at this time (clock, flash, offline)
    seq: int  # the snapshot seq shown
    alert: bool  # the status bar (offline / denied) is shown

    def region(self, key: str) -> Region | None:
        return next((r for r in self.regions if r.key == key), None)


# ---------------------------------------------------------------- link status


@dataclass(frozen=True)
class LinkStatus:
    state: str  # "connecting" (never connected yet) | "online" | "offline" | "denied"
    since: datetime | None = None  # when it entered this state, hall time
    detail: str = ""


# ---------------------------------------------------------------- text fitting

Measure = Callable[[int, bool, str], tuple[int, int]]  # (px, bold, text) -> (w, h)
SMALLEST_PX = 6
ELLIPSIS = "…"


@dataclass(frozen=True)
class Fitted:
    px: int
    lines: tuple[str, ...]


def fit_text(text: str, w: int, h: int, max_px: int, min_px: int, measure: Measure, *,
             bold: bool = False, max_lines: int = 1) -> Fitted:
    """The largest size (max_px → min_px) at which `text` fits w×h in ≤ max_lines lines.

    If it fits at no size ≥ min_px, the text is set at min_px (or smaller, if even
    one line of min_px is taller than the box) and its last line ends with '…'.
    Never returns lines wider than w or a block taller than h.
    """
    if not text or w <= 0 or h <= 0:
        return Fitted(max(min_px, SMALLEST_PX), ())
    min_px = max(SMALLEST_PX, min(min_px, max_px))
    px = max_px
    # Width scales about linearly with size: jump close to the answer, then step down.
    tw, th = measure(px, bold, text)
    if max_lines == 1 and (tw > w or th > h):
        px = max(min_px, min(px, int(px * min(w / max(tw, 1), h / max(th, 1)))))
    while px >= min_px:
        lines = _wrap(text, w, px, bold, measure, max_lines)
        if lines is not None and _height(lines, px, bold, measure) <= h:
            return Fitted(px, lines)
        px -= max(1, px // 24)
    # Last resort: smallest allowed size (smaller only if the box is very low), ellipsis.
    px = min_px
    while px > SMALLEST_PX and measure(px, bold, "Ag")[1] > h:
        px -= 1
    line_h = measure(px, bold, "Ag")[1]
    if line_h > h:
        return Fitted(px, ())
    n = max(1, min(max_lines, h // line_h))
    return Fitted(px, _wrap_truncated(text, w, px, bold, measure, n))


def _height(lines: Sequence[str], px: int, bold: bool, measure: Measure) -> int:
    return measure(px, bold, "Ag")[1] * len(lines)


def _wrap(text: str, w: int, px: int, bold: bool, measure: Measure, max_lines: int) -> tuple[str, ...] | None:
    """Greedy word wrap; None if it needs more than max_lines lines or a word is too wide."""
    if measure(px, bold, text)[0] <= w:
        return (text,)
    if max_lines == 1:
        return None
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if measure(px, bold, trial)[0] <= w:
            current = trial
            continue
        if not current or measure(px, bold, word)[0] > w:
            return None
        lines.append(current)
        current = word
        if len(lines) >= max_lines:
            return None
    lines.append(current)
    return tuple(lines) if len(lines) <= max_lines else None


def _wrap_truncated(text: str, w: int, px: int, bold: bool, measure: Measure, n: int) -> tuple[str, ...]:
    lines: list[str] = []
    rest = text.split()
    while rest and len(lines) < n:
        current = ""
        while rest:
            trial = f"{current} {rest[0]}" if current else rest[0]
            if measure(px, bold, trial)[0] > w:
                break
            current = trial
            rest.pop(0)
        if not current:  # one word wider than the box: cut it
            current = _truncate(rest.pop(0), w, px, bold, measure)
        lines.append(current)
    if rest:
        lines[-1] = _truncate(lines[-1] + ELLIPSIS, w, px, bold, measure)
    return tuple(line for line in lines if line)


def _truncate(text: str, w: int, px: int, bold: bool, measure: Measure) -> str:
    if measure(px, bold, text)[0] <= w:
        return text
    body = text.rstrip(ELLIPSIS)
    while body and measure(px, bold, body.rstrip() + ELLIPSIS)[0] > w:
        body = body[:-1]
    return body.rstrip() + ELLIPSIS if body else ""


# ---------------------------------------------------------------- geometry

TICKET_EM = 3.3  # width of "A-023" in ems (DejaVu Sans Bold), to size cells before measuring
SIDE_BY_SIDE_ASPECT = 2.3  # wider cells put the ticket to the right of the names


@dataclass(frozen=True)
class Geometry:
    orientation: str
    header: Rect
    logo: Rect
    title: Rect
    clock: Rect
    hero: Rect
    grid: Rect
    cells: tuple[Rect, ...]
    history: Rect | None
    waiting: Rect | None
    ticker: Rect
    gap: int


def grid_shape(n: int, w: int, h: int, gap: int) -> tuple[int, int]:
    """(columns, rows) that make the ticket in each cell as large as possible."""
    if n <= 0:
        return (1, 1)
    best: tuple[float, int, int, int] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        cw = (w - gap * (cols - 1)) / cols
        ch = (h - gap * (rows - 1)) / rows
        if cw <= 0 or ch <= 0:
            continue
        score = cell_ticket_px(cw, ch)
        key = (score, -(cols * rows - n), -cols)
        if best is None or key > best[:3]:
            best = (*key, cols)  # type: ignore[assignment]
    assert best is not None
    cols = best[3]
    return cols, math.ceil(n / cols)


def cell_ticket_px(cw: float, ch: float) -> float:
    """Estimated ticket size in a cell of cw×ch (see _cell for the two arrangements)."""
    if cw / ch >= SIDE_BY_SIDE_ASPECT:
        return min(ch * 0.62, cw * 0.5 / TICKET_EM)
    return min(ch * 0.42, cw * 0.86 / TICKET_EM)


def geometry(size: tuple[int, int], n_cells: int, *, history: bool, waiting: bool) -> Geometry:
    w, h = size
    landscape = w >= h
    unit = min(w, h)
    gap = max(4, round(unit * 0.012))
    if landscape:
        header = Rect(0, 0, w, round(h * 0.11))
        ticker = Rect(0, h - round(h * 0.07), w, round(h * 0.07))
        body = Rect(gap, header.bottom + gap, w - 2 * gap, ticker.y - header.bottom - 2 * gap)
        left, grid = body.cols(0.38, 0.62, gap=gap)
        side = history or waiting
        if side:
            hero, below = left.rows(0.54, 0.46, gap=gap)
        else:
            hero, below = left, None
    else:
        header = Rect(0, 0, w, round(h * 0.08))
        ticker = Rect(0, h - round(h * 0.045), w, round(h * 0.045))
        body = Rect(gap, header.bottom + gap, w - 2 * gap, ticker.y - header.bottom - 2 * gap)
        side = history or waiting
        if side:
            hero, grid, below = body.rows(0.27, 0.53, 0.20, gap=gap)
        else:
            hero, grid = body.rows(0.3, 0.7, gap=gap)
            below = None
    history_rect = waiting_rect = None
    if below is not None:
        if history and waiting:
            history_rect, waiting_rect = below.cols(0.5, 0.5, gap=gap)
        elif history:
            history_rect = below
        else:
            waiting_rect = below
    cols, rows = grid_shape(n_cells, grid.w, grid.h, gap)
    cw = (grid.w - gap * (cols - 1)) // cols
    ch = (grid.h - gap * (rows - 1)) // rows
    cells = tuple(Rect(grid.x + (i % cols) * (cw + gap), grid.y + (i // cols) * (ch + gap), cw, ch)
                  for i in range(n_cells))
    pad = gap
    logo = Rect(pad, pad, header.h - 2 * pad, header.h - 2 * pad)
    clock_w = round(w * (0.27 if landscape else 0.36))
    clock = Rect(w - clock_w, 0, clock_w, header.h)
    title = Rect(logo.right + pad, 0, clock.x - logo.right - 2 * pad, header.h)
    return Geometry("landscape" if landscape else "portrait", header, logo, title, clock, hero, grid, cells,
                    history_rect, waiting_rect, ticker, gap)


# ---------------------------------------------------------------- the view

FLASH_PERIOD = 0.5  # seconds per flash phase (on, off, on, ...)


def build_view(snapshot: m.Snapshot, config: Config, zone: Zone, now: datetime, link: LinkStatus,
               size: tuple[int, int], palette: Palette = PALETTE) -> View:
    """Everything the board shows at `now` (aware), as rectangles, texts and colours."""
    now = now.astimezone(config.hall.timezone)
    state = hall.for_day(snapshot, hall.service_day(now))
    d = config.display
    locale = config.hall.locale
    say = words(locale)
    in_zone = set(zone.counters)
    calls = tuple(e for e in state.history if e.counter in in_zone)
    waiting = _waiting_rows(state, config, zone) if d.show_waiting and state.waiting else None
    geo = geometry(size, len(zone.counters), history=d.history > 0, waiting=waiting is not None)
    wakes: list[datetime] = [_next_minute(now)]
    scale = size[1] / 1080 if geo.orientation == "landscape" else size[0] / 1080

    regions = [_header(geo, config, zone, palette), _clock(geo, now, config, palette)]
    regions.append(_hero(geo, calls[0] if calls else None, config, now, palette, say, wakes))
    for rect, number in zip(geo.cells, zone.counters):
        regions.append(_cell(rect, number, state.counters.get(number), config, now, palette, geo.gap, wakes))
    if geo.history is not None:
        regions.append(_history(geo.history, calls[: d.history], config, palette, say, geo.gap))
    if geo.waiting is not None and waiting is not None:
        regions.append(_waiting(geo.waiting, waiting, config, palette, say, geo.gap))

    alert = _alert_text(link, now, d.offline_after_seconds, config, say, wakes)
    ticker = None
    if alert is not None:
        regions.append(Region("status", geo.ticker, palette.alert_bg, (
            Text(geo.ticker.inset(geo.gap * 2, geo.ticker.h // 8), alert, palette.alert_text, palette.alert_bg,
                 max_px=round(geo.ticker.h * 0.5), min_px=10, bold=True, align="center"),)))
    else:
        texts = tuple(t for t in ((state.ticker,) if state.ticker else ()) + d.ticker if t.strip())
        ticker = TickerView(geo.ticker, texts, palette.ticker_text, palette.ticker_bg,
                            px=round(geo.ticker.h * 0.5), speed=d.ticker_speed * scale,
                            gap=round(geo.ticker.h * 1.5))
    future = [t for t in wakes if t > now]
    return View(size, geo.orientation, palette.background, tuple(regions), ticker,
                min(future) if future else None, state.seq, alert is not None)


def _next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _header(geo: Geometry, config: Config, zone: Zone, p: Palette) -> Region:
    title = geo.title
    items: list[Item] = [Image(geo.logo, "logo")]
    if zone.title:
        name_box, zone_box = title.inset(0, geo.gap).rows(0.58, 0.42)
        items.append(Text(name_box, config.hall.name, p.text, p.header, max_px=round(name_box.h * 0.8),
                          min_px=12, bold=True))
        items.append(Text(zone_box, zone.title, p.muted, p.header, max_px=round(zone_box.h * 0.75), min_px=10))
    else:
        box = title.inset(0, geo.gap)
        items.append(Text(box, config.hall.name, p.text, p.header, max_px=round(box.h * 0.6), min_px=12,
                          bold=True, max_lines=2))
    return Region("header", Rect(0, 0, geo.clock.x, geo.header.h), p.header, tuple(items))


def _clock(geo: Geometry, now: datetime, config: Config, p: Palette) -> Region:
    box = geo.clock.inset(geo.gap * 2, geo.gap)
    time_box, date_box = box.rows(0.6, 0.4)
    locale = config.hall.locale
    return Region("clock", geo.clock, p.header, (
        Text(time_box, format_time(now, locale, config.hall.timezone_label), p.text, p.header,
             max_px=round(time_box.h * 0.9), min_px=12, bold=True, align="right"),
        Text(date_box, format_date(now, locale), p.muted, p.header, max_px=round(date_box.h * 0.8), min_px=10,
             align="right"),
    ))


def _describe(entry_service: str | None, counter: int, config: Config) -> str:
    """Service and agency of a call: 'Penerbitan SKCK · Polres', else the agency's name."""
    service = config.service(entry_service) if entry_service else None
    c = config.counter(counter)
    agency = config.agency(service.agency if service else c.agency if c else "")
    if service and agency:
        return f"{service.name} · {agency.short_name}"
    return agency.name if agency else ""


def _counter_name(number: int, config: Config) -> str:
    c = config.counter(number)
    return c.name if c else f"Loket {number}"


def _flash_on(age: float, highlight_seconds: float) -> bool:
    return 0 <= age < highlight_seconds and int(age / FLASH_PERIOD) % 2 == 0


def _hero(geo: Geometry, call: m.HistoryEntry | None, config: Config, now: datetime, p: Palette,
          say: dict[str, str], wakes: list[datetime]) -> Region:
    rect = geo.hero
    inner = rect.inset(geo.gap * 2, geo.gap)
    if call is None:
        label_box, body = inner.rows(0.2, 0.8)
        return Region("hero", rect, p.panel, (
            Text(label_box, say["welcome"], p.muted, p.panel, max_px=round(label_box.h * 0.6), min_px=10,
                 bold=True, align="center"),
            Text(body.inset(0, body.h // 6), say["no_calls"], p.text, p.panel, max_px=round(body.h * 0.3),
                 min_px=12, align="center", max_lines=2),
        ))
    age = (now - call.at).total_seconds()
    highlight = config.display.highlight_seconds
    if 0 <= age < highlight:
        # Wake at the next flash phase (or when the flashing ends).
        wakes.append(call.at + timedelta(seconds=min(highlight, FLASH_PERIOD * (int(age / FLASH_PERIOD) + 1))))
    elif age < 0:
        wakes.append(call.at)
    on = _flash_on(age, highlight)
    bg = p.highlight if on else p.panel
    fg_ticket = p.on_highlight if on else p.ticket
    fg_text = p.on_highlight if on else p.text
    fg_muted = p.on_highlight if on else p.muted
    label_box, ticket_box, counter_box, service_box = inner.rows(0.13, 0.50, 0.22, 0.15)
    label = say["calling_again"] if call.recall else say["now_calling"]
    return Region("hero", rect, bg, (
        Text(label_box, label, fg_muted, bg, max_px=round(label_box.h * 0.8), min_px=10, bold=True,
             align="center"),
        Text(ticket_box, call.ticket, fg_ticket, bg, max_px=round(ticket_box.h * 0.86), min_px=24, bold=True,
             align="center", role="ticket"),
        Text(counter_box, _counter_name(call.counter, config), fg_text, bg, max_px=round(counter_box.h * 0.86),
             min_px=14, bold=True, align="center"),
        Text(service_box, _describe(call.service, call.counter, config), fg_muted, bg,
             max_px=round(service_box.h * 0.62), min_px=10, align="center", max_lines=2),
    ))


def _cell(rect: Rect, number: int, now_at: m.CounterNow | None, config: Config, now: datetime, p: Palette,
          gap: int, wakes: list[datetime]) -> Region:
    ticket = now_at.ticket if now_at else None
    fresh = False
    if ticket and now_at.since is not None:
        age = (now - now_at.since).total_seconds()
        fresh = 0 <= age < config.display.highlight_seconds
        if fresh:
            wakes.append(now_at.since + timedelta(seconds=config.display.highlight_seconds))
        elif age < 0:
            wakes.append(now_at.since)
    if fresh:
        bg, name_fg, agency_fg, ticket_fg = p.highlight, p.on_highlight, p.on_highlight, p.on_highlight
    elif ticket:
        bg, name_fg, agency_fg, ticket_fg = p.panel, p.text, p.muted, p.ticket
    else:
        bg, name_fg, agency_fg, ticket_fg = p.panel_dim, p.dim_text, p.dim_text, p.dim_text
    c = config.counter(number)
    agency = config.agency(c.agency) if c else None
    agency_name = agency.short_name if agency else ""
    inner = rect.inset(max(2, gap), max(2, gap // 2))
    if rect.w / max(rect.h, 1) >= SIDE_BY_SIDE_ASPECT:
        names, ticket_box = inner.cols(0.48, 0.52, gap=gap)
        name_box, agency_box = names.rows(0.52, 0.48)
        ticket_px = round(ticket_box.h * 0.8)
        align = "right"
    else:
        name_box, ticket_box, agency_box = inner.rows(0.27, 0.48, 0.25)
        ticket_px = round(ticket_box.h * 0.95)
        align = "center"
    items: list[Item] = [
        Text(name_box, _counter_name(number, config), name_fg, bg, max_px=round(name_box.h * 0.8), min_px=9,
             bold=True, align="left" if align == "right" else "center"),
        Text(agency_box, agency_name, agency_fg, bg, max_px=round(agency_box.h * 0.7), min_px=8,
             align="left" if align == "right" else "center", max_lines=2),
    ]
    if ticket:
        items.append(Text(ticket_box, ticket, ticket_fg, bg, max_px=ticket_px, min_px=10, bold=True, align=align,
                          role="ticket"))
    else:
        items.append(Text(ticket_box, "—", ticket_fg, bg, max_px=ticket_px, min_px=10, bold=True, align=align))
    return Region(f"cell:{number}", rect, bg, tuple(items))


def _history(rect: Rect, calls: Sequence[m.HistoryEntry], config: Config, p: Palette, say: dict[str, str],
             gap: int) -> Region:
    inner = rect.inset(gap * 2, gap)
    slots = max(1, config.display.history)
    title_box, list_box = inner.rows(1 / (slots + 1.5), 1 - 1 / (slots + 1.5))
    items: list[Item] = [Text(title_box, say["history"], p.muted, p.panel, max_px=round(title_box.h * 0.7),
                              min_px=9, bold=True)]
    row_h = list_box.h // slots
    locale = config.hall.locale
    for i, call in enumerate(calls[:slots]):
        row = Rect(list_box.x, list_box.y + i * row_h, list_box.w, row_h)
        ticket_box, counter_box, time_box = row.cols(0.36, 0.42, 0.22, gap=gap)
        items.append(Text(ticket_box, call.ticket, p.ticket, p.panel, max_px=round(row_h * 0.72), min_px=9, bold=True,
                          role="ticket"))
        name = _counter_name(call.counter, config) + (" ↻" if call.recall else "")
        items.append(Text(counter_box, name, p.text, p.panel, max_px=round(row_h * 0.6), min_px=9))
        items.append(Text(time_box, format_time(call.at.astimezone(config.hall.timezone), locale), p.muted,
                          p.panel, max_px=round(row_h * 0.5), min_px=8, align="right"))
    return Region("history", rect, p.panel, tuple(items))


def _waiting_rows(state: m.Snapshot, config: Config, zone: Zone) -> tuple[tuple[str, int], ...]:
    """(agency short name, people waiting) for the agencies serving this zone, config order."""
    agencies_in_zone = {c.agency for n in zone.counters if (c := config.counter(n))}
    totals: dict[str, int] = {}
    for code, count in state.waiting.items():
        service = config.service(code)
        if service and service.agency in agencies_in_zone and count > 0:
            totals[service.agency] = totals.get(service.agency, 0) + count
    return tuple((a.short_name, totals[a.code]) for a in config.agencies if a.code in totals)


def _waiting(rect: Rect, rows: Sequence[tuple[str, int]], config: Config, p: Palette, say: dict[str, str],
             gap: int) -> Region:
    inner = rect.inset(gap * 2, gap)
    slots = max(4, config.display.history)  # same rhythm as the history panel beside it
    title_box, list_box = inner.rows(1 / (slots + 1.5), 1 - 1 / (slots + 1.5))
    row_h = list_box.h // slots
    items: list[Item] = [Text(title_box, say["waiting"], p.muted, p.panel, max_px=round(title_box.h * 0.7),
                              min_px=9, bold=True)]
    columns = 2 if list_box.w > row_h * 16 else 1
    capacity = slots * columns
    entries = [(name, str(count)) for name, count in rows]
    if not entries:
        entries = [(say["nobody_waiting"], "")]
    elif len(entries) > capacity:
        hidden = len(entries) - (capacity - 1)
        entries = entries[: capacity - 1] + [(f"+{hidden} {say['more']}", "")]
    col_w = (list_box.w - gap * (columns - 1)) // columns
    for i, (name, count) in enumerate(entries):
        col, row = divmod(i, slots)
        box = Rect(list_box.x + col * (col_w + gap), list_box.y + row * row_h, col_w, row_h)
        name_box, count_box = box.cols(0.75, 0.25, gap=gap // 2)
        items.append(Text(name_box, name, p.text, p.panel, max_px=round(row_h * 0.6), min_px=8))
        if count:
            items.append(Text(count_box, count, p.ticket, p.panel, max_px=round(row_h * 0.72), min_px=8,
                              bold=True, align="right"))
    return Region("waiting", rect, p.panel, tuple(items))


def _alert_text(link: LinkStatus, now: datetime, offline_after: float, config: Config, say: dict[str, str],
                wakes: list[datetime]) -> str | None:
    if link.state == "online":
        return None
    if link.state == "denied":
        return say["denied"].format(detail=link.detail or "?")
    since = link.since or now
    shown_at = since + timedelta(seconds=offline_after)
    if now < shown_at:
        wakes.append(shown_at)
        return None
    if link.state == "connecting":
        return say["connecting"]
    local = since.astimezone(config.hall.timezone)
    return say["offline"].format(time=format_time(local, config.hall.locale, config.hall.timezone_label))


# ---------------------------------------------------------------- ticker motion


def ticker_offset(elapsed: float, speed: float, content_width: int, strip_width: int) -> int:
    """x of the content's left edge: enters from the right, leaves left, then starts again."""
    cycle = content_width + strip_width
    if cycle <= 0 or speed <= 0:
        return 0
    travelled = (elapsed * speed) % cycle
    return strip_width - int(travelled)
