"""Draw a View (signage.core.layout) onto any pygame Surface. A thin shell.

`Renderer.draw(view, surface, previous)` redraws only the regions that differ
from `previous` (a full redraw when the set of regions or the size changed) and
returns the rectangles to pass to pygame.display.update. `draw_ticker` paints
the running-text strip for one animation frame. Fonts, fitted text and rendered
text surfaces are cached: Font.render allocates a Surface per call.

No text makes it raise: every string passes `drawable` on its way to pygame
(Font.render refuses NUL, UTF-8 encoding refuses lone surrogates), and text longer
than its box could ever show is cut first (fitting 10,000 characters took a minute).
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pygame

from signage.core.layout import (ELLIPSIS, Fill, Fitted, Image, Rect, Region, Text, TickerView, View, fit_text,
                                 ticker_offset)
from signage.core.text import sanitize

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
TEXT_CACHE_SIZE = 1024  # fitted-text entries
FONT_CACHE_SIZE = 48  # open Font objects (size, weight); a board frame uses fewer than half of that
CACHE_SCREENS = 3  # rendered text kept: 3 screens' worth of pixels (a frame's texts cover less than one)
NARROWEST_GLYPH_EM = 0.25  # DejaVu's narrowest printing glyphs ("i", ".", " ") are wider than this
TICKER_MAX_CHARS = 1000  # per ticker text: ~40,000 px of strip at 1080p, already minutes of scrolling
_SPACING = re.compile("[\t\n\r\x0b\x0c]")


def drawable(text: str) -> str:
    """`text` as pygame can draw it: tabs and line breaks as spaces, then sanitize() (U+FFFD for
    lone surrogates and control characters). Idempotent."""
    return sanitize(_SPACING.sub(" ", text))


def clipped(text: str, w: int, min_px: int, max_lines: int) -> str:
    """`text` cut to what a w-pixel box of max_lines lines could ever show at min_px, plus an
    ellipsis if anything was cut: the fitted result is the same, and fitting stays fast."""
    limit = max_lines * (w // max(1, int(min_px * NARROWEST_GLYPH_EM)) + 1)
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


class FontBook:
    """DejaVu Sans (regular, bold) from font_dir or the system, else pygame's bundled font."""

    def __init__(self, font_dir: Path | None = None):
        self.paths: dict[bool, str | None] = {False: None, True: None}
        for directory in (font_dir, DEJAVU_DIR):
            if directory and (directory / REGULAR).is_file() and (directory / BOLD).is_file():
                self.paths = {False: str(directory / REGULAR), True: str(directory / BOLD)}
                break
        # Each Font keeps its TTF file open, and fitting text tries many pixel sizes: keep the
        # most recently used ones only, or every size ever tried stays open (an fd and a face each).
        self._fonts: collections.OrderedDict[tuple[int, bool], pygame.font.Font] = collections.OrderedDict()
        self._sizes: dict[tuple[int, bool, str], tuple[int, int]] = {}

    @property
    def bundled(self) -> bool:
        return self.paths[False] is None

    def font(self, px: int, bold: bool) -> pygame.font.Font:
        key = (px, bold)
        font = self._fonts.get(key)
        if font is None:
            font = pygame.font.Font(self.paths[bold], px)
            self._fonts[key] = font
            if len(self._fonts) > FONT_CACHE_SIZE:
                self._fonts.popitem(last=False)
        else:
            self._fonts.move_to_end(key)
        return font

    def measure(self, px: int, bold: bool, text: str) -> tuple[int, int]:
        key = (px, bold, text)
        size = self._sizes.get(key)
        if size is None:
            if len(self._sizes) > 20000:
                self._sizes.clear()
            size = self._sizes[key] = self.font(px, bold).size(drawable(text))
        return size


class Renderer:
    def __init__(self, fonts: FontBook, images: dict[str, pygame.Surface] | None = None,
                 cache_bytes: int | None = None):
        self.fonts = fonts
        self.cache_bytes = cache_bytes  # None: CACHE_SCREENS × the first surface drawn on
        self._surface_bytes = 0
        self.images = images or {}
        self._fits: collections.OrderedDict = collections.OrderedDict()
        self._surfaces: collections.OrderedDict = collections.OrderedDict()
        self._scaled: dict[tuple[str, int, int], pygame.Surface] = {}
        self._ticker_key: tuple | None = None
        self._ticker_segments: list[pygame.Surface] = []
        self._ticker_x: int | None = None

    # ------------------------------------------------------------ board

    def draw(self, view: View, surface: pygame.Surface, previous: View | None = None) -> list[pygame.Rect]:
        """Draw what changed since `previous` (everything if None); return the dirty rects."""
        if self.cache_bytes is None:
            self.cache_bytes = CACHE_SCREENS * surface.get_pitch() * surface.get_height()
        full = (previous is None or previous.size != view.size or surface.get_size() != view.size
                or [r.key for r in previous.regions] != [r.key for r in view.regions]
                or (previous.ticker is None) != (view.ticker is None))
        if full:
            surface.fill(view.background)
            for region in view.regions:
                self.draw_region(region, surface)
            self._ticker_x = None  # the strip must be painted again too
            return [surface.get_rect()]
        old = {r.key: r for r in previous.regions}
        dirty = []
        for region in view.regions:
            if old.get(region.key) != region:
                self.draw_region(region, surface)
                dirty.append(pygame.Rect(_xywh(region.rect)))
        return dirty

    def draw_region(self, region: Region, surface: pygame.Surface) -> None:
        surface.fill(region.background, _xywh(region.rect))
        for item in region.items:
            if isinstance(item, Fill):
                surface.fill(item.color, _xywh(item.rect))
            elif isinstance(item, Text):
                for line_surface, rect in self._placed(item):
                    surface.blit(line_surface, rect)
            elif isinstance(item, Image):
                self._draw_image(item, surface)

    # ------------------------------------------------------------ text

    def fit(self, text: Text) -> Fitted:
        key = (text.text, text.rect.w, text.rect.h, text.max_px, text.min_px, text.bold, text.max_lines)
        fitted = self._fits.get(key)
        if fitted is None:
            safe = clipped(drawable(text.text), text.rect.w, text.min_px, text.max_lines)
            fitted = fit_text(safe, text.rect.w, text.rect.h, text.max_px, text.min_px,
                              self.fonts.measure, bold=text.bold, max_lines=text.max_lines)
            self._fits[key] = fitted
            if len(self._fits) > TEXT_CACHE_SIZE:
                self._fits.popitem(last=False)
        return fitted

    def text_rects(self, text: Text) -> list[pygame.Rect]:
        """Where each line of `text` is drawn (for tests: all inside text.rect)."""
        return [rect for _, rect in self._placed(text)]

    def _placed(self, text: Text) -> list[tuple[pygame.Surface, pygame.Rect]]:
        fitted = self.fit(text)
        if not fitted.lines:
            return []
        surfaces = [self._render(line, fitted.px, text.bold, text.color, text.bg) for line in fitted.lines]
        total_h = sum(s.get_height() for s in surfaces)
        y = text.rect.y + (text.rect.h - total_h) // 2
        out = []
        for s in surfaces:
            w = s.get_width()
            if text.align == "center":
                x = text.rect.x + (text.rect.w - w) // 2
            elif text.align == "right":
                x = text.rect.right - w
            else:
                x = text.rect.x
            out.append((s, pygame.Rect(x, y, w, s.get_height())))
            y += s.get_height()
        return out

    def _render(self, line: str, px: int, bold: bool, color, bg) -> pygame.Surface:
        key = (line, px, bold, color, bg)
        surface = self._surfaces.get(key)
        if surface is None:
            # Opaque (rendered onto bg): blits are plain copies, no per-pixel alpha.
            surface = self.fonts.font(px, bold).render(drawable(line), True, color, bg)
            self._surfaces[key] = surface
            self._surface_bytes += _bytes(surface)
            # Bounded by bytes, least recently used first: every call brings new ticket texts.
            while self.cache_bytes and self._surface_bytes > self.cache_bytes and len(self._surfaces) > 1:
                _, old = self._surfaces.popitem(last=False)
                self._surface_bytes -= _bytes(old)
        else:
            self._surfaces.move_to_end(key)
        return surface

    # ------------------------------------------------------------ images

    def _draw_image(self, item: Image, surface: pygame.Surface) -> None:
        source = self.images.get(item.name)
        if source is None or item.rect.w <= 0 or item.rect.h <= 0:
            return
        key = (item.name, item.rect.w, item.rect.h)
        scaled = self._scaled.get(key)
        if scaled is None:
            sw, sh = source.get_size()
            k = min(item.rect.w / sw, item.rect.h / sh)
            scaled = pygame.transform.smoothscale(source, (max(1, int(sw * k)), max(1, int(sh * k))))
            self._scaled[key] = scaled
        x = item.rect.x + (item.rect.w - scaled.get_width()) // 2
        y = item.rect.y + (item.rect.h - scaled.get_height()) // 2
        surface.blit(scaled, (x, y))

    # ------------------------------------------------------------ ticker

    def draw_ticker(self, ticker: TickerView, surface: pygame.Surface, elapsed: float) -> pygame.Rect | None:
        """Paint the strip at `elapsed` seconds into its cycle; None if nothing moved."""
        key = (ticker.texts, ticker.px, ticker.color, ticker.bg, ticker.rect)
        if key != self._ticker_key:
            self._ticker_key = key
            self._ticker_x = None
            px = ticker.px
            while px > 6 and self.fonts.measure(px, False, "Ag")[1] > ticker.rect.h:
                px -= 1
            texts = (drawable(t) for t in ticker.texts)
            self._ticker_segments = [self._render(t if len(t) <= TICKER_MAX_CHARS else t[:TICKER_MAX_CHARS] + ELLIPSIS,
                                                  px, False, ticker.color, ticker.bg) for t in texts]
        content_w = sum(s.get_width() + ticker.gap for s in self._ticker_segments)
        x = ticker_offset(elapsed, ticker.speed, content_w, ticker.rect.w)
        if x == self._ticker_x:
            return None
        self._ticker_x = x
        strip = pygame.Rect(_xywh(ticker.rect))
        surface.fill(ticker.bg, strip)
        previous_clip = surface.get_clip()
        surface.set_clip(strip)  # the marquee enters and leaves at the screen edges
        cx = strip.x + x
        for segment in self._ticker_segments:
            w = segment.get_width()
            if cx + w > strip.x and cx < strip.right:
                surface.blit(segment, (cx, strip.y + (strip.h - segment.get_height()) // 2))
            cx += w + ticker.gap
        surface.set_clip(previous_clip)
        return strip

    @property
    def cached_text_bytes(self) -> int:
        return self._surface_bytes

    def ticker_content_width(self) -> int:
        return sum(s.get_width() for s in self._ticker_segments)


def still_ticker_elapsed(ticker: TickerView) -> float:
    """The moment at which the ticker's first text starts at the left edge (for still frames)."""
    return ticker.rect.w / ticker.speed if ticker.speed > 0 else 0.0


def _bytes(surface: pygame.Surface) -> int:
    return surface.get_pitch() * surface.get_height()


def _xywh(rect: Rect) -> tuple[int, int, int, int]:
    return (rect.x, rect.y, rect.w, rect.h)
