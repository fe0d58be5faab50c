"""A Report in each format: json (machines), csv (one file per table), xlsx, printable html.

Visitors' comments and config names are text from outside: html escapes them,
csv and xlsx keep them from being read as spreadsheet formulas (a comment that
starts with "=" stays a comment), and every format replaces what the text rule
refuses (an old journal may hold such text).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from html import escape
from pathlib import Path

from signage.core import protocol, report as core_report
from signage.core.report import Report
from signage.core.text import sanitize
from signage.reports import charts
from signage.reports.tables import MINUTES, NUMBER, TEXT, Table, tables

FORMATS = ("json", "csv", "xlsx", "html")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "application/zip",  # one csv per table, zipped for a download
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def file_stem(report: Report) -> str:
    period = report.first_day if report.first_day == report.last_day else f"{report.first_day}_{report.last_day}"
    return f"laporan-{period}"


def render(report: Report, fmt: str, generated_at: datetime | None = None) -> bytes:
    """The report as one file's bytes (csv: a zip of one file per table)."""
    if fmt == "json":
        return to_json(report, generated_at).encode()
    if fmt == "csv":
        return csv_zip(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "html":
        return to_html(report, generated_at).encode()
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def to_json(report: Report, generated_at: datetime | None = None) -> str:
    return protocol.encode_document(core_report.to_document(report, generated_at))


# ---------------------------------------------------------------- csv


def _cell_text(value: object) -> str:
    text = sanitize(str(value), multiline=True)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else _cell_text(v) if c.kind == TEXT else v
                         for v, c in zip(row, table.columns)])
    return out.getvalue()


def csv_files(report: Report) -> dict[str, str]:
    """File name → csv text, one per table."""
    return {f"{t.name}.csv": to_csv(t) for t in tables(report)}


def write_csv_dir(report: Report, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in csv_files(report).items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def csv_zip(report: Report) -> bytes:
    buffer = io.BytesIO()
    stem = file_stem(report)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in csv_files(report).items():
            archive.writestr(f"{stem}/{name}", text)
    return buffer.getvalue()


# ---------------------------------------------------------------- xlsx


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DBEAFE")
    notes = [("Laporan", f"{report.hall_name}, {_period(report)}"),
             ("Definisi", "Lihat docs/reports.md; ringkasnya di sheet ini.")]
    for table in tables(report):
        sheet = book.create_sheet(table.title[:31])
        sheet.append([c.header for c in table.columns])
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(table.rows, start=2):
            for col, (value, column) in enumerate(zip(row, table.columns), start=1):
                cell = sheet.cell(r, col)
                if value is None:
                    continue
                if column.kind == TEXT:
                    cell.value = sanitize(str(value), multiline=True)
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                else:
                    cell.value = value
                    if column.kind == MINUTES or column.kind == NUMBER:
                        cell.number_format = "0.00"
        for col, column in enumerate(table.columns, start=1):
            width = max(len(column.header), *(len(str(row[col - 1])) for row in table.rows)) if table.rows \
                else len(column.header)
            sheet.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)
        sheet.freeze_panes = "A2"
        if table.rows:
            sheet.auto_filter.ref = sheet.dimensions
        if table.note:
            notes.append((table.title, table.note))
    info = book.create_sheet("Keterangan")
    for row in notes + [(term, text) for term, text in DEFINITIONS]:
        info.append(row)
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- html

DEFINITIONS = (
    ("Diterbitkan", "tiket yang diambil di anjungan (atau diterbitkan operator) pada hari layanan."),
    ("Dipanggil", "tiket yang dipanggil pertama kali; panggilan ulang tidak dihitung lagi."),
    ("Dilayani", "tiket yang ditandai Selesai."),
    ("Tidak hadir", "tiket yang dilewati dan tidak dipanggil kembali sampai akhir hari."),
    ("Dialihkan", "tiket yang dialihkan ke layanan lain."),
    ("Tunggu", "dari tiket diterbitkan (atau dialihkan) sampai panggilan pertama, dalam menit; p50 = median, "
               "p90 = 9 dari 10 pengunjung menunggu paling lama selama ini."),
    ("Layanan", "dari tiket tiba di loket (dipanggil) sampai Selesai, dalam menit."),
    ("Menganggur", "waktu loket tanpa tiket di antara dua tiket; 'saat ada antrean' hanya ketika ada yang "
                   "menunggu layanan loket itu."),
    ("IKM", "Indeks Kepuasan Masyarakat (PermenPANRB 14/2017): NRR tiap unsur = rata-rata nilainya; "
            "IKM = (Σ NRR / 9) × 25. Mutu: A 88,31–100 Sangat Baik; B 76,61–88,30 Baik; "
            "C 65,00–76,60 Kurang Baik; D 25,00–64,99 Tidak Baik. Survei bentuk singkat dihitung terpisah "
            "dan tidak masuk IKM."),
)

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#111827;margin:24px;font-size:13px}
h1{font-size:22px;margin:0}h2{font-size:16px;margin:28px 0 8px;border-bottom:2px solid #2563eb;padding-bottom:4px}
header p{margin:2px 0;color:#374151}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}
.card{border:1px solid #d1d5db;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#4b5563}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border:1px solid #d1d5db;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#dbeafe;font-weight:bold;text-align:center}
td.text{text-align:left}tr:nth-child(even) td{background:#f9fafb}
.note{color:#4b5563;margin:4px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:bold}dd{margin:0}
@media print{body{margin:10mm;font-size:10px}h2{break-after:avoid}tr,svg{break-inside:avoid}
 @page{size:A4 landscape;margin:10mm}}
"""


def _period(report: Report) -> str:
    from signage.core.layout import format_date  # the board's layout package: not for json

    first = format_date(datetime.fromisoformat(report.first_day), "id")
    if report.first_day == report.last_day:
        return first
    return f"{first} s.d. {format_date(datetime.fromisoformat(report.last_day), 'id')}"


def _number(value: object, kind: str) -> str:
    if value is None:
        return "–"
    if kind in (MINUTES, NUMBER) and isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return escape(sanitize(str(value), multiline=True))


def _table_html(table: Table) -> str:
    rows = table.rows
    hidden = 0
    if table.active is not None:
        rows = tuple(r for r, active in zip(table.rows, table.active) if active)
        hidden = len(table.rows) - len(rows)
    head = "".join(f"<th>{escape(c.header)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"text" if c.kind == TEXT else "num"}">{_number(v, c.kind)}</td>'
                         for v, c in zip(row, table.columns)) + "</tr>"
        for row in rows)
    notes = [table.note] if table.note else []
    if hidden:
        notes.append(f"{hidden} baris tanpa kegiatan tidak ditampilkan (ada di xlsx dan csv).")
    if not rows:
        body = f'<tr><td class="text" colspan="{len(table.columns)}">Tidak ada data.</td></tr>'
    note = "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    return (f'<section id="table-{table.name}"><h2>{escape(table.title)}</h2>{note}'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")


def to_html(report: Report, generated_at: datetime | None = None, zone_label: str = "WIB") -> str:
    from signage.core.layout import format_date, format_time

    hall = report.hall
    ikm = hall.survey.ikm
    cards = [
        ("Diterbitkan", hall.issued), ("Dilayani", hall.served), ("Tidak hadir", hall.no_show),
        ("Dialihkan", hall.transferred),
        ("Tunggu median", f"{_number(hall.wait.p50, MINUTES)} mnt"), ("Tunggu p90", f"{_number(hall.wait.p90, MINUTES)} mnt"),
        ("Jam puncak", report.peak_hour.label if report.peak_hour else "–"),
        ("IKM", f"{_number(ikm.value, NUMBER)} ({ikm.grade} · {ikm.label})" if ikm.grade else "–"),
        ("Responden", ikm.respondents),
    ]
    card_html = "".join(f'<div class="card"><b>{escape(str(value))}</b><span>{escape(label)}</span></div>'
                        for label, value in cards)
    made = (f"Dibuat {format_date(generated_at, 'id')} {format_time(generated_at, 'id', zone_label)}"
            if generated_at else "")
    by_name = {t.name: t for t in tables(report)}
    sections = [
        f'<section id="summary"><div class="cards">{card_html}</div></section>',
        f'<section><h2>Kedatangan dan dilayani per jam</h2>{charts.arrivals_per_hour(report)}</section>',
        f'<section><h2>Waktu tunggu per instansi</h2>{charts.wait_per_agency(report)}</section>',
        f'<section><h2>Peta kedatangan (hari × jam)</h2>{charts.heatmap(report)}</section>',
    ]
    for name in ("hall", "agencies", "services", "counters", "hours", "days", "survey_elements", "comments"):
        sections.append(_table_html(by_name[name]))
    definitions = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in DEFINITIONS)
    sections.append(f'<section id="definitions"><h2>Definisi</h2><dl>{definitions}</dl></section>')
    title = f"Laporan {report.hall_name} · {_period(report)}"
    return (f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><header><h1>Laporan Pelayanan dan Survei Kepuasan</h1>"
            f"<p>{escape(report.hall_name)}</p><p>{escape(_period(report))}</p><p>{escape(made)}</p></header>"
            f"{''.join(sections)}</body></html>")
