"""Generated slides: what they say (from config) and how they sit in a rectangle. Pure.

    documents(item, config) -> SlideDoc, ...     one playlist item → its slides (the hub, when it builds a manifest)
    fallback(config)         -> SlideDoc, ...     what plays when the playlist is empty or nothing is due
    slide_region(doc, rect)  -> Region            the slide laid out in the media area (the display)

Three kinds, all from config.yaml, in the hall's language:
- standar-pelayanan: per agency, the published standard of its services (persyaratan,
  prosedur, jangka waktu, biaya, produk; UU 25/2009), `content.services_per_slide` services
  per slide, and the hall's pengaduan channel in the footer;
- maklumat: the hall's service pledge (hall.maklumat);
- jam-layanan: the opening hours (hall.opening_hours, parts separated by "·").

Text is fitted by the renderer (signage.core.layout.fit_text: never overflows its box). Colours
come from the board's palette, and every text colour is checked against its background with
the palette's contrast rule (7:1, as the board's tickets): see `legible`.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from signage.core.content import SlideDoc, SlideSection
from signage.core.layout import PALETTE, RGB, Fill, Palette, Rect, Region, Text, contrast_ratio

if TYPE_CHECKING:  # the schema lives with the loader today; only its attributes are read here
    from signage.core.config import Config
    from signage.core.content import PlaylistItem

MIN_CONTRAST = 7.0  # WCAG AAA, what the board's tickets reach: slides are read from across a hall

WORDS = {
    "id": {"standar": "STANDAR PELAYANAN", "maklumat": "MAKLUMAT PELAYANAN", "hours": "JAM LAYANAN",
           "persyaratan": "Persyaratan", "prosedur": "Prosedur", "jangka_waktu": "Jangka waktu",
           "biaya": "Biaya", "produk": "Produk", "times_in": "Semua waktu dalam {label}",
           "part": "({n}/{of})"},
    "en": {"standar": "SERVICE STANDARDS", "maklumat": "SERVICE PLEDGE", "hours": "OPENING HOURS",
           "persyaratan": "Requirements", "prosedur": "Procedure", "jangka_waktu": "Time",
           "biaya": "Fee", "produk": "Product", "times_in": "All times in {label}",
           "part": "({n}/{of})"},
}


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale, WORDS["id"])


# ---------------------------------------------------------------- documents


class SlideProblem(ValueError):
    """A slide item that yields nothing (e.g. an agency without any standard); the message says why."""


def documents(item: "PlaylistItem", config: "Config") -> tuple[SlideDoc, ...]:
    """The slides one playlist item stands for. Raises SlideProblem if it stands for none."""
    if item.slide == "standar-pelayanan":
        return standar_pelayanan(config, item.agency, item.services)
    if item.slide == "maklumat":
        return (maklumat(config),)
    if item.slide == "jam-layanan":
        return (opening_hours(config),)
    raise SlideProblem(f"unknown slide {item.slide!r}")


def standar_pelayanan(config: "Config", agency: str | None = None,
                      services: tuple[str, ...] | None = None) -> tuple[SlideDoc, ...]:
    content, say = config.content, words(config.hall.locale)
    chosen = [config.service(code) for code in services] if services else list(config.services)
    agencies = [config.agency(agency)] if agency else list(config.agencies)
    if agency and agencies[0] is None:
        raise SlideProblem(f"unknown agency {agency!r}")
    slides: list[SlideDoc] = []
    for a in agencies:
        documented = [s for s in chosen if s is not None and s.agency == a.code and s.code in content.standards]
        groups = [documented[i:i + content.services_per_slide]
                  for i in range(0, len(documented), content.services_per_slide)]
        for n, group in enumerate(groups, start=1):
            part = f" {say['part'].format(n=n, of=len(groups))}" if len(groups) > 1 else ""
            slides.append(SlideDoc("standar-pelayanan", say["standar"], f"{a.name}{part}",
                                   tuple(_standard_section(s.name, content.standards[s.code], say) for s in group),
                                   content.pengaduan))
    if not slides:
        which = f"agency {agency}" if agency else "any agency"
        raise SlideProblem(f"no service of {which} has standar pelayanan fields "
                           "(persyaratan, jangka_waktu, biaya, produk) in config")
    return tuple(slides)


def _standard_section(name: str, standard, say: dict[str, str]) -> SlideSection:
    rows = tuple((say[key], value) for key, value in (("jangka_waktu", standard.jangka_waktu),
                                                      ("biaya", standard.biaya), ("produk", standard.produk))
                 if value)
    return SlideSection(title=name, rows=rows, bullets=standard.persyaratan,
                        bullets_title=say["persyaratan"] if standard.persyaratan else "",
                        body=f"{say['prosedur']}: {standard.prosedur}" if standard.prosedur else "")


def maklumat(config: "Config") -> SlideDoc:
    text = config.content.maklumat
    if not text:
        raise SlideProblem("hall.maklumat is empty: write the hall's service pledge there")
    return SlideDoc("maklumat", words(config.hall.locale)["maklumat"], config.hall.name,
                    (SlideSection(body=text),), config.hall.short_name)


def opening_hours(config: "Config") -> SlideDoc:
    hours = config.hall.opening_hours
    if not hours:
        raise SlideProblem("hall.opening_hours is empty")
    say = words(config.hall.locale)
    rows = tuple(_split_hours(part) for part in re.split(r"\s*·\s*|\n", hours) if part.strip())
    return SlideDoc("jam-layanan", say["hours"], config.hall.name, (SlideSection(rows=rows),),
                    say["times_in"].format(label=config.hall.timezone_label))


def _split_hours(part: str) -> tuple[str, str]:
    """'Jumat 08.00–11.30 & 13.30–15.00 WIB' → ('Jumat', '08.00–11.30 & 13.30–15.00 WIB')."""
    m = re.search(r"\d", part)
    if not m or m.start() == 0:
        return ("", part.strip())
    return (part[:m.start()].strip(), part[m.start():].strip())


def fallback(config: "Config") -> tuple[SlideDoc, ...]:
    """Every slide the config can generate: each agency's standards, the maklumat, the opening hours."""
    out: list[SlideDoc] = []
    for make in (lambda: standar_pelayanan(config), lambda: (maklumat(config),),
                 lambda: (opening_hours(config),)):
        try:
            out.extend(make())
        except SlideProblem:
            continue
    if not out:  # a hall with nothing configured still shows its name
        out.append(SlideDoc("jam-layanan", config.hall.name.upper(), ""))
    return tuple(out)


# ---------------------------------------------------------------- layout


def legible(color: RGB, bg: RGB, palette: Palette = PALETTE) -> RGB:
    """`color` if it reaches MIN_CONTRAST on `bg`, else the palette's text colour that contrasts most."""
    if contrast_ratio(color, bg) >= MIN_CONTRAST:
        return color
    return max((palette.text, palette.on_highlight, (0, 0, 0), (255, 255, 255)),
               key=lambda c: contrast_ratio(c, bg))


def slide_region(doc: SlideDoc, rect: Rect, palette: Palette = PALETTE, key: str = "media") -> Region:
    """The slide filling `rect`: a heading band, the sections (side by side when there is room), a footer."""
    bg, band = palette.panel, palette.header
    pad = max(4, round(min(rect.w, rect.h) * 0.035))
    heading_h = round(min(rect.h * (0.20 if doc.subheading else 0.14), rect.w * (0.13 if doc.subheading else 0.09)))
    footer_h = round(rect.h * 0.08) if doc.footer else 0
    head = Rect(rect.x, rect.y, rect.w, heading_h)
    items: list = []
    inner_head = head.inset(pad, max(2, pad // 2))
    if doc.subheading:
        title_box, sub_box = inner_head.rows(0.55, 0.45)
        items.append(_text(title_box, doc.heading, palette.ticket, band, 0.8, bold=True))
        items.append(_text(sub_box, doc.subheading, palette.text, band, 0.7, bold=True))
    else:
        items.append(_text(inner_head, doc.heading, palette.ticket, band, 0.6, bold=True))
    body = Rect(rect.x + pad, head.bottom + pad, rect.w - 2 * pad, rect.h - heading_h - footer_h - 2 * pad)
    if footer_h:
        foot = Rect(rect.x + pad, rect.bottom - footer_h, rect.w - 2 * pad, footer_h - max(2, pad // 3))
        items.append(_text(foot, doc.footer, palette.muted, bg, 0.8, max_lines=2))
    sections = doc.sections
    if sections and body.w > 0 and body.h > 0:
        side_by_side = len(sections) > 1 and body.w / body.h >= 0.9 * len(sections)
        # Estimate how paragraphs wrap at a guessed text size, then once more at the size that gave.
        guess = body.h / 18
        for _ in range(2):
            px = guess
            boxes = (body.cols(*([1 / len(sections)] * len(sections)), gap=pad * 2) if side_by_side
                     else body.rows(*_weights([_units(s, body.w, px) for s in sections]), gap=pad))
            # One text size for every section's rows: the slide reads as one table.
            unit = min(box.h / _units(s, box.w, px) for s, box in zip(sections, boxes))
            guess = unit * 0.62
        for section, box in zip(sections, boxes):
            items.extend(_section(section, box, unit, px, palette, bg))
    return Region(key, rect, bg, (Fill(head, band), *items))


def _text(box: Rect, value: str, color: RGB, bg: RGB, size: float, *, bold: bool = False, max_lines: int = 1,
          align: str = "left", cap: int | None = None) -> Text:
    """A Text whose largest size is `size` of one line's share of the box (capped at `cap`)."""
    px = max(8, round(box.h * size / max_lines))
    if cap is not None:
        px = min(px, cap)
    return Text(box, value, legible(color, bg), bg, max_px=px, min_px=min(px, 10), bold=bold, align=align,
                max_lines=max_lines)


def _lines_for(text: str, width: float, px: float) -> int:
    """Rough line count of `text` set at `px` in a box `width` px wide (DejaVu averages ~0.55 em a character)."""
    chars_per_line = max(8.0, width / max(1.0, 0.55 * px))
    return max(1, math.ceil(len(text) / chars_per_line))


def _units(section: SlideSection, width: float, px: float) -> float:
    """Height of a section in row units (a row = one line of text plus spacing)."""
    units = 1.3 if section.title else 0.0
    if section.bullets:
        units += 0.9 + sum(min(2, _lines_for(b, width, px)) * 0.85 for b in section.bullets)
    value_w = width * (1 - _label_share(section, width, px))
    units += sum(_row_units(value, value_w, px) for _, value in section.rows)
    if section.body:
        units += sum(_lines_for(p, width, px) * 0.85 + 0.3 for p in section.body.split("\n") if p.strip())
    return max(units, 1.0)


def _label_share(section: SlideSection, width: float, px: float) -> float:
    """The label column's share of a row: room for the longest label at the rows' size."""
    longest = max((len(label) for label, _ in section.rows), default=0)
    return min(0.45, max(0.2, longest * 0.62 * px / max(1.0, width) + 0.03))


def _row_units(value: str, width: float, px: float) -> float:
    return min(2, _lines_for(value, width, px)) * 0.85 + 0.15


def _weights(units: list[float]) -> list[float]:
    total = sum(units)
    return [u / total for u in units]


def _section(section: SlideSection, box: Rect, unit: float, px: float, p: Palette, bg: RGB) -> list[Text]:
    items: list[Text] = []
    cap = round(unit * 0.62)  # the largest body text, so one section's rows match the next one's
    y = box.y

    def take(units: float) -> Rect:
        nonlocal y
        h = max(1, round(unit * units))
        r = Rect(box.x, y, box.w, min(h, max(1, box.bottom - y)))
        y += h
        return r

    if section.title:
        items.append(_text(take(1.3), section.title, p.ticket, bg, 0.62, bold=True, max_lines=1,
                           cap=round(unit * 0.8)))
    if section.bullets:
        if section.bullets_title:
            items.append(_text(take(0.9), section.bullets_title, p.muted, bg, 0.62, bold=True, cap=cap))
        for bullet in section.bullets:
            lines = min(2, _lines_for(bullet, box.w, px))
            items.append(_text(take(lines * 0.85), f"• {bullet}", p.text, bg, 0.7, max_lines=lines, cap=cap))
    share = _label_share(section, box.w, px)
    for label, value in section.rows:
        lines = min(2, _lines_for(value, box.w * (1 - share), px))
        row = take(_row_units(value, box.w * (1 - share), px))
        if label:
            left, right = row.cols(share, 1 - share, gap=max(4, round(unit * 0.3)))
            top = Rect(left.x, left.y, left.w, max(1, round(left.h / lines)))  # the label sits on the first line
            items.append(_text(top, label, p.muted, bg, 0.75, bold=True, cap=cap))
            items.append(_text(right, value, p.text, bg, 0.75, bold=True, max_lines=lines, cap=cap))
        else:
            items.append(_text(row, value, p.text, bg, 0.75, bold=True, max_lines=lines, cap=cap))
    if section.body:
        for paragraph in (part for part in section.body.split("\n") if part.strip()):
            lines = _lines_for(paragraph, box.w, px)
            items.append(_text(take(lines * 0.85 + 0.3), paragraph, p.text, bg, 0.72, max_lines=lines + 1,
                               cap=cap))
    return [t for t in items if t.rect.h > 0]
