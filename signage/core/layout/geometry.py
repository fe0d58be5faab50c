"""Where things go: rectangles, and the landscape and portrait arrangement of the board's regions."""

from __future__ import annotations

import math
from dataclasses import dataclass


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
