"""Text fitting: the largest size at which a text fits its box, with word wrap and an ellipsis.

Pure: the caller passes `measure(px, bold, text) -> (w, h)` (pygame's Font.size in
the renderer, a fake in tests), so no font is needed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

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
