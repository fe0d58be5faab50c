"""The board's colours, and the WCAG 2.x contrast maths that keeps tickets readable across the hall."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


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
