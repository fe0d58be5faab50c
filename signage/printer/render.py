"""A ticket layout (core/ticket_layout.py) drawn as a 1-bit image for the printer, with Pillow and segno."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from signage.core.ticket_layout import Line, TicketLayout

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
MARGIN = 8


def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return ImageFont.truetype(str(directory / name), size)
    return ImageFont.load_default(size)


def _fit(draw: ImageDraw.ImageDraw, line: Line, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The line's font, shrunk for a single big word or wrapped for sentences, so nothing is cut off."""
    size = line.size
    while True:
        font = _font(size, line.bold)
        words, rows, row = line.text.split(), [], ""
        for word in words:
            candidate = f"{row} {word}".strip()
            if draw.textlength(candidate, font=font) <= width or not row:
                row = candidate
            else:
                rows.append(row)
                row = word
        rows.append(row)
        if all(draw.textlength(r, font=font) <= width for r in rows) or size <= 12:
            return font, rows
        size = int(size * 0.9)


def render(ticket: TicketLayout) -> Image.Image:
    width = ticket.width
    inner = width - 2 * MARGIN
    canvas = Image.new("L", (width, 2400), 255)
    draw = ImageDraw.Draw(canvas)
    y = MARGIN

    def lines(items) -> None:
        nonlocal y
        for line in items:
            font, rows = _fit(draw, line, inner)
            for row in rows:
                left, top, right, bottom = draw.textbbox((0, 0), row, font=font)
                draw.text(((width - (right - left)) / 2 - left, y - top), row, font=font, fill=0)
                y += (bottom - top) + max(6, line.size // 4)

    lines(ticket.top)
    y += 10
    qr = qr_image(ticket.qr, ticket.qr_size)
    canvas.paste(qr, ((width - qr.width) // 2, y))
    y += qr.height + 10
    lines(ticket.bottom)
    return canvas.crop((0, 0, width, y + MARGIN)).convert("1")


def qr_image(url: str, size: int) -> Image.Image:
    code = segno.make(url, error="m")
    modules = code.symbol_size(scale=1, border=4)[0]
    out = BytesIO()
    code.save(out, kind="png", scale=max(2, size // modules), border=4)
    out.seek(0)
    return Image.open(out).convert("L")
