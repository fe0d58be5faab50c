"""The view builder: build_view(...) -> View, the whole board as rectangles, texts and colours.

A View is a tuple of Regions (header, clock, hero, one per counter cell, history,
waiting, status) that tile the screen, plus a TickerView: the running text is the
only thing that moves every frame, so it is described once and animated by the
renderer with `ticker_offset`. See the package docstring for the whole picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence, Union

from signage.core import hall, messages as m
from signage.core.config import Config, Zone
from signage.core.layout.geometry import SIDE_BY_SIDE_ASPECT, Geometry, Rect, geometry
from signage.core.layout.i18n import format_date, format_time, words
from signage.core.layout.palette import PALETTE, RGB, Palette


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


# ---------------------------------------------------------------- the view

FLASH_PERIOD = 0.5  # seconds per flash phase (on, off, on, ...)


def build_view(snapshot: m.Snapshot, config: Config, zone: Zone, now: datetime, link: LinkStatus,
               size: tuple[int, int], palette: Palette = PALETTE, estimates: m.Estimates | None = None) -> View:
    """Everything the board shows at `now` (aware), as rectangles, texts and colours.

    `estimates`: the hub's last per-agency waits (display.show_estimate), shown only while online.
    """
    now = now.astimezone(config.hall.timezone)
    state = hall.for_day(snapshot, hall.service_day(now))
    d = config.display
    locale = config.hall.locale
    say = words(locale)
    in_zone = set(zone.counters)
    calls = tuple(e for e in state.history if e.counter in in_zone)
    if not (d.show_estimate and link.state == "online") or estimates is None:
        estimates = None  # offline, the hub's range goes stale: show none rather than a wrong one
    waiting = _waiting_rows(state, config, zone, estimates) if d.show_waiting and state.waiting else None
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
        regions.append(_waiting(geo.waiting, waiting, config, palette, say, geo.gap, estimates is not None))

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
        Text(counter_box, config.counter_name(call.counter), fg_text, bg, max_px=round(counter_box.h * 0.86),
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
        Text(name_box, config.counter_name(number), name_fg, bg, max_px=round(name_box.h * 0.8), min_px=9,
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
        name = config.counter_name(call.counter) + (" ↻" if call.recall else "")
        items.append(Text(counter_box, name, p.text, p.panel, max_px=round(row_h * 0.6), min_px=9))
        items.append(Text(time_box, format_time(call.at.astimezone(config.hall.timezone), locale), p.muted,
                          p.panel, max_px=round(row_h * 0.5), min_px=8, align="right"))
    return Region("history", rect, p.panel, tuple(items))


def _waiting_rows(state: m.Snapshot, config: Config, zone: Zone,
                  estimates: m.Estimates | None = None) -> tuple[tuple[str, int, str], ...]:
    """(agency short name, people waiting, estimate or "") for the agencies serving this zone, config order."""
    agencies_in_zone = {c.agency for n in zone.counters if (c := config.counter(n))}
    totals: dict[str, int] = {}
    for code, count in state.waiting.items():
        service = config.service(code)
        if service and service.agency in agencies_in_zone and count > 0:
            totals[service.agency] = totals.get(service.agency, 0) + count
    waits = estimates.agencies if estimates is not None else {}

    def wait(code: str) -> str:  # minutes: the panel's title says so, the column stays narrow
        w = waits.get(code)
        return f"{w.low}–{w.high}" if w is not None else ""

    return tuple((a.short_name, totals[a.code], wait(a.code)) for a in config.agencies if a.code in totals)


def _waiting(rect: Rect, rows: Sequence[tuple[str, int, str]], config: Config, p: Palette, say: dict[str, str],
             gap: int, with_estimate: bool = False) -> Region:
    inner = rect.inset(gap * 2, gap)
    slots = max(4, config.display.history)  # same rhythm as the history panel beside it
    title_box, list_box = inner.rows(1 / (slots + 1.5), 1 - 1 / (slots + 1.5))
    row_h = list_box.h // slots
    title = say["waiting_estimate"] if with_estimate else say["waiting"]
    items: list[Item] = [Text(title_box, title, p.muted, p.panel, max_px=round(title_box.h * 0.7),
                              min_px=9, bold=True)]
    columns = 2 if list_box.w > row_h * (22 if with_estimate else 16) else 1
    capacity = slots * columns
    entries = [(name, str(count), wait) for name, count, wait in rows]
    if not entries:
        entries = [(say["nobody_waiting"], "", "")]
    elif len(entries) > capacity:
        hidden = len(entries) - (capacity - 1)
        entries = entries[: capacity - 1] + [(f"+{hidden} {say['more']}", "", "")]
    col_w = (list_box.w - gap * (columns - 1)) // columns
    for i, (name, count, wait) in enumerate(entries):
        col, row = divmod(i, slots)
        box = Rect(list_box.x + col * (col_w + gap), list_box.y + row * row_h, col_w, row_h)
        if with_estimate:
            name_box, wait_box, count_box = box.cols(0.48, 0.32, 0.20, gap=gap // 2)
            if wait:
                items.append(Text(wait_box, wait, p.muted, p.panel, max_px=round(row_h * 0.5), min_px=8,
                                  align="right"))
        else:
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
