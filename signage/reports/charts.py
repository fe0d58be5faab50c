"""The html report's charts as inline SVG: no plotting library, no CDN, prints sharp.

Each function returns one <svg> element with an id (tests look for it), a
<title> for screen readers, and a viewBox, so it scales to the page width.
"""

from __future__ import annotations

from html import escape

from signage.core.report import Report, hour_label

FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\""
BLUE, GREEN, LIGHT_BLUE, GREY, INK = "#2563eb", "#16a34a", "#bfdbfe", "#d1d5db", "#111827"


def _svg(chart_id: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" {FONT} font-size="12">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value: 1, 2, 5 × 10^n."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step  # pragma: no cover


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")  # Indonesian decimal comma


def arrivals_per_hour(report: Report) -> str:
    """Arrivals and served per hour, side by side; the peak hour is marked."""
    hours = report.hours
    left, top, bottom, slot = 44, 24, 40, 56
    width, plot_h = left + slot * max(len(hours), 1) + 16, 200
    height = top + plot_h + bottom
    peak = max((max(h.arrivals, h.served) for h in hours), default=0)
    axis = _nice_max(peak)
    body = [f'<g class="legend"><rect x="{left}" y="4" width="10" height="10" fill="{BLUE}"/>'
            f'<text x="{left + 14}" y="13">Kedatangan</text>'
            f'<rect x="{left + 100}" y="4" width="10" height="10" fill="{GREEN}"/>'
            f'<text x="{left + 114}" y="13">Dilayani</text></g>']
    for i in range(5):
        value = axis * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GREY}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(round(value, 1))}</text>')
    for i, h in enumerate(hours):
        x = left + i * slot + 6
        is_peak = report.peak_hour is not None and h.hour == report.peak_hour.hour
        for j, (value, colour, kind) in enumerate(((h.arrivals, BLUE, "arrivals"), (h.served, GREEN, "served"))):
            bar = plot_h * value / axis
            outline = f' stroke="{INK}" stroke-width="2"' if is_peak and kind == "arrivals" else ""
            body.append(f'<rect class="bar {kind}" data-hour="{h.hour}" data-value="{value}" x="{x + j * 22}" '
                        f'y="{top + plot_h - bar:.1f}" width="20" height="{bar:.1f}" fill="{colour}"{outline}>'
                        f"<title>{escape(hour_label(h.hour))}: {value}</title></rect>")
        body.append(f'<text x="{x + 21}" y="{top + plot_h + 16}" text-anchor="middle">{h.hour:02d}</text>')
        if is_peak:
            body.append(f'<text x="{x + 21}" y="{top + plot_h + 32}" text-anchor="middle" font-weight="bold">'
                        f"puncak</text>")
    if not hours:
        body.append(f'<text x="{left + 8}" y="{top + plot_h / 2}">Belum ada kedatangan.</text>')
    return _svg("chart-hours", "Kedatangan dan dilayani per jam", width, height, body)


def wait_per_agency(report: Report) -> str:
    """Median and p90 wait per agency, longest median first."""
    rows = sorted((e for e in report.agencies if e.figures.wait.n), key=lambda e: (-e.figures.wait.p50, e.key))
    label_w, bar_w, row_h, top = 170, 420, 26, 28
    width, height = label_w + bar_w + 90, top + row_h * max(len(rows), 1) + 10
    axis = _nice_max(max((e.figures.wait.p90 for e in rows), default=0))
    body = [f'<g class="legend"><rect x="{label_w}" y="6" width="10" height="10" fill="{BLUE}"/>'
            f'<text x="{label_w + 14}" y="15">median (p50)</text>'
            f'<rect x="{label_w + 120}" y="6" width="10" height="10" fill="{LIGHT_BLUE}"/>'
            f'<text x="{label_w + 134}" y="15">p90, menit</text></g>']
    for i, e in enumerate(rows):
        y = top + i * row_h
        w = e.figures.wait
        p90, p50 = bar_w * w.p90 / axis, bar_w * w.p50 / axis
        name = escape(e.short_name or e.name)
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{name}</text>'
                    f'<rect class="bar p90" data-agency="{escape(str(e.key))}" x="{label_w}" y="{y + 3}" '
                    f'width="{p90:.1f}" height="18" fill="{LIGHT_BLUE}"/>'
                    f'<rect class="bar p50" data-agency="{escape(str(e.key))}" data-value="{w.p50}" x="{label_w}" '
                    f'y="{y + 3}" width="{p50:.1f}" height="18" fill="{BLUE}"/>'
                    f'<text x="{label_w + p90 + 6:.1f}" y="{y + 16}">{_fmt(w.p50)} / {_fmt(w.p90)}</text>')
    if not rows:
        body.append(f'<text x="{label_w}" y="{top + 16}">Belum ada tiket yang dipanggil.</text>')
    return _svg("chart-wait", "Waktu tunggu per instansi (menit)", width, height, body)


def heatmap(report: Report) -> str:
    """Arrivals per day (rows) and hour (columns), darker = more."""
    hours = report.heatmap_hours()
    days = report.days
    label_w, cell_w, top = 92, 38, 22
    cell_h = max(3.0, min(20.0, 480 / max(len(days), 1)))
    width = label_w + cell_w * max(len(hours), 1) + 10
    height = top + cell_h * max(len(days), 1) + 30
    peak = max((d.arrivals[h] for d in days for h in hours), default=0) or 1
    body = [f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{top - 8}" text-anchor="middle">{h:02d}</text>'
            for j, h in enumerate(hours)]
    month = None
    for i, d in enumerate(days):
        y = top + i * cell_h
        if cell_h >= 12:
            body.append(f'<text x="{label_w - 6}" y="{y + cell_h - 5:.1f}" text-anchor="end">{d.day}</text>')
        elif d.day[:7] != month:
            body.append(f'<text x="{label_w - 6}" y="{y + 9:.1f}" text-anchor="end">{d.day[:7]}</text>')
        month = d.day[:7]
        for j, h in enumerate(hours):
            value = d.arrivals[h]
            body.append(f'<rect class="cell" data-day="{d.day}" data-hour="{h}" data-value="{value}" '
                        f'x="{label_w + j * cell_w}" y="{y:.1f}" width="{cell_w - 1}" height="{max(cell_h - 1, 1):.1f}" '
                        f'fill="{_shade(value / peak)}"><title>{d.day} {hour_label(h)}: {value}</title></rect>')
            if cell_h >= 14 and value:
                ink = "#ffffff" if value / peak > 0.55 else INK
                body.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{y + cell_h - 5:.1f}" '
                            f'text-anchor="middle" fill="{ink}" font-size="10">{value}</text>')
    body.append(f'<text x="{label_w}" y="{height - 8:.1f}">Putih = 0, biru tua = {peak} kedatangan per jam</text>')
    if not days:
        body.append(f'<text x="{label_w}" y="{top + 14}">Belum ada kedatangan.</text>')
    return _svg("chart-heatmap", "Peta kedatangan per hari dan jam", width, int(height), body)


def _shade(fraction: float) -> str:
    """White to dark blue (#08306b), linear in each channel."""
    start, end = (255, 255, 255), (8, 48, 107)
    r, g, b = (round(a + (z - a) * fraction) for a, z in zip(start, end))
    return f"#{r:02x}{g:02x}{b:02x}"
