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

One module per concern, every public name importable from here:

    i18n      labels, Indonesian/English day and month names, clock text
    palette   colours and WCAG contrast
    fitting   text fitting (size, wrap, ellipsis)
    geometry  Rect and the landscape/portrait arrangement of regions
    view      the view dataclasses, LinkStatus and build_view
"""

from signage.core.layout.fitting import ELLIPSIS, SMALLEST_PX, Fitted, Measure, fit_text
from signage.core.layout.geometry import (SIDE_BY_SIDE_ASPECT, TICKET_EM, Geometry, Rect, cell_ticket_px, geometry,
                                          grid_shape)
from signage.core.layout.i18n import DAYS, MONTHS, WORDS, format_clock, format_date, format_time, words
from signage.core.layout.palette import PALETTE, RGB, Palette, contrast_ratio, relative_luminance
from signage.core.layout.view import (FLASH_PERIOD, Fill, Image, Item, LinkStatus, Region, Text, TickerView, View,
                                      build_view, ticker_offset)

__all__ = [
    "DAYS", "ELLIPSIS", "FLASH_PERIOD", "MONTHS", "PALETTE", "RGB", "SIDE_BY_SIDE_ASPECT", "SMALLEST_PX", "TICKET_EM",
    "WORDS", "Fill", "Fitted", "Geometry", "Image", "Item", "LinkStatus", "Measure", "Palette", "Rect", "Region",
    "Text", "TickerView", "View", "build_view", "cell_ticket_px", "contrast_ratio", "fit_text", "format_clock",
    "format_date", "format_time", "geometry", "grid_shape", "relative_luminance", "ticker_offset", "words",
]
