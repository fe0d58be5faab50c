"""The board with a media area: the `split` and `media` layouts as data. Pure.

    build_screen(snapshot, config, zone, now, link, size, layout) -> Screen

`queue` is today's board (signage.core.layout.build_view) and no media area.

`split` keeps the queue board's header, clock and running text, and puts the queue's body
(hero, counter cells, last calls, waiting) beside the media area in landscape, below it in
portrait (where the media area is 16:9 at the full width). The body is the queue board's own:
it is built by build_view at a virtual size whose body has exactly the area's size, then
moved there, so every cell, flash and fitted text is the queue board's, nothing redrawn here.

`media` gives the media area the whole screen but a strip of the last calls (with the clock)
along the bottom. While a call is fresh (highlight_seconds) the queue board's hero is shown over
the media area, centred; then the media returns. The offline bar, if any, lies over its bottom.

A Screen is the View the renderer draws, plus where the media goes and which of the View's
regions lie over it (`covers`): the media player paints around those, so a call shows
at once and stays on top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from signage.core import hall, messages as m
from signage.core.layout import (PALETTE, Fill, Geometry, Image, LinkStatus, Palette, Rect, Region, Text, View,
                                 build_view, format_time, geometry, words)

if TYPE_CHECKING:  # the schema lives with the loader today; only attributes are read here
    from signage.core.config import Config, Zone

MEDIA_BG = (0, 0, 0)  # letterbox bars: a video's own black
BODY_KEYS = ("hero", "history", "waiting")
SPLIT_QUEUE_SHARE = 0.42  # landscape split: the queue body's share of the width
STRIP_SHARE = {"landscape": 0.09, "portrait": 0.06}  # media layout: the last-calls strip's share of the height
OVERLAY_SHARE = {"landscape": (0.62, 0.62), "portrait": (0.92, 0.5)}  # media layout: the hero overlay's largest
# share of the media area (width, height); portrait heroes are wide, so they may take nearly the full width


@dataclass(frozen=True)
class Screen:
    view: View  # what signage.display.renderer draws
    layout: str  # queue | split | media
    media: Rect | None  # where the media plays; None in the queue layout
    covers: tuple[Rect, ...] = ()  # regions of `view` over the media area: paint around them

    @property
    def wake_at(self) -> datetime | None:
        return self.view.wake_at


def build_screen(snapshot: m.Snapshot, config: "Config", zone: "Zone", now: datetime, link: LinkStatus,
                 size: tuple[int, int], layout: str, palette: Palette = PALETTE,
                 estimates: m.Estimates | None = None) -> Screen:
    full = build_view(snapshot, config, zone, now, link, size, palette, estimates)
    if layout == "split":
        return _split(full, snapshot, config, zone, now, link, size, palette, estimates)
    if layout == "media":
        return _media(full, snapshot, config, zone, now, size, palette)
    return Screen(full, "queue", None)


def media_rect(size: tuple[int, int], n_cells: int, layout: str, *, history: bool = True,
               waiting: bool = True) -> Rect | None:
    """Where the media area lies for a layout at a size (for `content check` and the player's first size)."""
    if layout == "split":
        return _split_rects(geometry(size, n_cells, history=history, waiting=waiting), size)[1]
    if layout == "media":
        return _media_rects(size)[0]
    return None


# ---------------------------------------------------------------- split


def _split_rects(geo: Geometry, size: tuple[int, int]) -> tuple[Rect, Rect]:
    """(queue body, media area) between the header and the running text."""
    w, _ = size
    gap = geo.gap
    body = Rect(gap, geo.header.bottom + gap, w - 2 * gap, geo.ticker.y - geo.header.bottom - 2 * gap)
    if geo.orientation == "landscape":
        queue, media = body.cols(SPLIT_QUEUE_SHARE, 1 - SPLIT_QUEUE_SHARE, gap=gap)
        return queue, media
    media = Rect(body.x, body.y, body.w, min(round(body.w * 9 / 16), body.h // 2))
    queue = Rect(body.x, media.bottom + gap, body.w, body.bottom - media.bottom - gap)
    return queue, media


def _split(full: View, snapshot, config, zone, now, link, size, palette, estimates=None) -> Screen:
    waiting = _shows_waiting(snapshot, config, now)
    history = config.display.history > 0
    n = len(zone.counters)
    geo = geometry(size, n, history=history, waiting=waiting)
    queue_box, media = _split_rects(geo, size)
    vsize, vbody = _virtual_board(queue_box.w, queue_box.h, n, history, waiting)
    inner = build_view(snapshot, config, zone, now, link, vsize, palette, estimates)
    body = [moved(r, vbody, queue_box) for r in inner.regions if _in_body(r.key)]
    edges = [r for r in full.regions if not _in_body(r.key)]  # header, clock, status
    wakes = [t for t in (full.wake_at, inner.wake_at) if t is not None]
    view = replace(full, regions=tuple(edges[:2] + body + edges[2:]), wake_at=min(wakes) if wakes else None)
    return Screen(view, "split", media)


def _in_body(key: str) -> bool:
    return key in BODY_KEYS or key.startswith("cell:")


def _shows_waiting(snapshot: m.Snapshot, config, now: datetime) -> bool:
    """Whether build_view shows the waiting panel (it does when any count is known)."""
    state = hall.for_day(snapshot, hall.service_day(now.astimezone(config.hall.timezone)))
    return bool(config.display.show_waiting and state.waiting)


def _body_of(geo: Geometry) -> Rect:
    rects = [r for r in (geo.hero, geo.grid, geo.history, geo.waiting) if r is not None]
    x, y = min(r.x for r in rects), min(r.y for r in rects)
    return Rect(x, y, max(r.right for r in rects) - x, max(r.bottom for r in rects) - y)


def _virtual_board(w: int, h: int, n: int, history: bool, waiting: bool) -> tuple[tuple[int, int], Rect]:
    """A board size whose body (hero, cells, panels) is w×h, or as close as rounding allows."""
    vw, vh = w, h
    best = None
    for _ in range(8):
        body = _body_of(geometry((vw, vh), n, history=history, waiting=waiting))
        miss = abs(body.w - w) + abs(body.h - h)
        if best is None or miss < best[0]:
            best = (miss, (vw, vh), body)
        if miss == 0:
            break
        vw, vh = max(64, vw + w - body.w), max(64, vh + h - body.h)
    return best[1], best[2]


# ---------------------------------------------------------------- media


def _media_rects(size: tuple[int, int]) -> tuple[Rect, Rect]:
    """(media area, last-calls strip)."""
    w, h = size
    strip_h = max(24, round(h * STRIP_SHARE["landscape" if w >= h else "portrait"]))
    return Rect(0, 0, w, h - strip_h), Rect(0, h - strip_h, w, strip_h)


def _media(full: View, snapshot, config, zone, now, size, palette) -> Screen:
    media, strip_rect = _media_rects(size)
    regions: list[Region] = [_strip(strip_rect, snapshot, config, zone, now, palette)]
    covers: list[Rect] = []
    hero = full.region("hero")
    if hero is not None and _fresh_call(snapshot, config, zone, now):
        box = _overlay_box(hero.rect, media)
        regions.append(moved(hero, hero.rect, box))
        covers.append(box)
    status = full.region("status")
    if status is not None:
        bar_h = min(media.h, max(status.rect.h, round(size[1] * 0.06)))
        bar = Rect(0, media.bottom - bar_h, size[0], bar_h)
        regions.append(moved(status, status.rect, bar))
        covers.append(bar)
    view = replace(full, regions=tuple(regions), ticker=None)
    return Screen(view, "media", media, tuple(covers))


def _fresh_call(snapshot: m.Snapshot, config, zone, now: datetime) -> bool:
    """The latest call in the zone is within its highlight time: the hero is shown over the media."""
    latest = _calls(snapshot, config, zone, now)[:1]
    if not latest:
        return False
    age = (now - latest[0].at).total_seconds()
    return 0 <= age < config.display.highlight_seconds


def _calls(snapshot: m.Snapshot, config, zone, now: datetime) -> tuple[m.HistoryEntry, ...]:
    state = hall.for_day(snapshot, hall.service_day(now.astimezone(config.hall.timezone)))
    in_zone = set(zone.counters)
    return tuple(e for e in state.history if e.counter in in_zone)


def _overlay_box(hero: Rect, media: Rect) -> Rect:
    """The hero's shape, as large as OVERLAY_SHARE of the media area allows, centred on it."""
    share_w, share_h = OVERLAY_SHARE["landscape" if media.w >= media.h else "portrait"]
    k = min(media.w * share_w / max(1, hero.w), media.h * share_h / max(1, hero.h))
    w, h = max(1, round(hero.w * k)), max(1, round(hero.h * k))
    return Rect(media.x + (media.w - w) // 2, media.y + (media.h - h) // 2, w, h)


def _strip(rect: Rect, snapshot: m.Snapshot, config, zone, now: datetime, p: Palette) -> Region:
    """Label, the last calls (newest first, the fresh one highlighted), and the clock at the right."""
    local = now.astimezone(config.hall.timezone)
    say = words(config.hall.locale)
    pad = max(4, rect.h // 8)
    inner = rect.inset(pad, pad // 2)
    landscape = rect.w >= rect.h * 12
    label_box, calls_box, clock_box = inner.cols(*((0.15, 0.72, 0.13) if landscape else (0.14, 0.62, 0.24)), gap=pad)
    items: list = [
        Text(label_box, say["history"], p.muted, p.header, max_px=round(label_box.h * 0.42), min_px=8, bold=True,
             max_lines=2),
        Text(clock_box, format_time(local, config.hall.locale, config.hall.timezone_label), p.text, p.header,
             max_px=round(clock_box.h * 0.62), min_px=8, bold=True, align="right"),
    ]
    slots = max(1, min(6, round(calls_box.w / max(1, calls_box.h * 3.2))))
    calls = _calls(snapshot, config, zone, now)[:slots]
    if not calls:
        items.append(Text(calls_box, say["no_calls"], p.muted, p.header, max_px=round(calls_box.h * 0.5),
                          min_px=8))
    slot_w = (calls_box.w - pad * (slots - 1)) // slots
    for i, call in enumerate(calls):
        box = Rect(calls_box.x + i * (slot_w + pad), calls_box.y, slot_w, calls_box.h)
        fresh = 0 <= (now - call.at).total_seconds() < config.display.highlight_seconds
        bg = p.highlight if fresh else p.panel
        ticket_fg, name_fg = (p.on_highlight, p.on_highlight) if fresh else (p.ticket, p.text)
        ticket_box, name_box = box.inset(pad // 2, pad // 3).cols(0.52, 0.48, gap=pad // 2)
        counter = config.counter(call.counter)
        items += [
            Fill(box, bg),
            Text(ticket_box, call.ticket, ticket_fg, bg, max_px=round(ticket_box.h * 0.7), min_px=8, bold=True,
                 align="right", role="ticket"),
            Text(name_box, (counter.name if counter else f"Loket {call.counter}") + (" ↻" if call.recall else ""),
                 name_fg, bg, max_px=round(name_box.h * 0.5), min_px=8, bold=True),
        ]
    return Region("strip", rect, p.header, tuple(items))


# ---------------------------------------------------------------- moving regions


def moved(region: Region, src: Rect, dst: Rect) -> Region:
    """`region`, laid out inside `src`, mapped onto `dst`: rects scaled and moved, text sizes scaled with height."""
    sx, sy = dst.w / max(1, src.w), dst.h / max(1, src.h)

    def place(r: Rect) -> Rect:
        x0, y0 = dst.x + round((r.x - src.x) * sx), dst.y + round((r.y - src.y) * sy)
        x1, y1 = dst.x + round((r.right - src.x) * sx), dst.y + round((r.bottom - src.y) * sy)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    return replace(region, rect=place(region.rect), items=tuple(_moved_item(i, place, sx, sy) for i in region.items))


def _moved_item(item, place, sx: float, sy: float):
    if isinstance(item, Text):
        max_px = max(6, round(item.max_px * sy))
        return replace(item, rect=place(item.rect), max_px=max_px,
                       min_px=min(max_px, max(6, round(item.min_px * min(sx, sy)))))
    if isinstance(item, (Fill, Image)):
        return replace(item, rect=place(item.rect))
    return item


def around(rect: Rect, holes: Iterable[Rect]) -> tuple[Rect, ...]:
    """`rect` minus the `holes`, as disjoint rectangles (horizontal bands, then pieces beside each hole)."""
    pieces = [rect]
    for hole in holes:
        next_pieces = []
        for piece in pieces:
            next_pieces.extend(_minus(piece, hole))
        pieces = next_pieces
    return tuple(p for p in pieces if p.w > 0 and p.h > 0)


def _minus(a: Rect, b: Rect) -> list[Rect]:
    if not a.overlaps(b):
        return [a]
    top = Rect(a.x, a.y, a.w, max(0, b.y - a.y))
    bottom = Rect(a.x, b.bottom, a.w, max(0, a.bottom - b.bottom))
    y0, y1 = max(a.y, b.y), min(a.bottom, b.bottom)
    left = Rect(a.x, y0, max(0, b.x - a.x), y1 - y0)
    right = Rect(b.right, y0, max(0, a.right - b.right), y1 - y0)
    return [r for r in (top, bottom, left, right) if r.w > 0 and r.h > 0]
