"""A Report as tables: what the csv files, the xlsx sheets and the html page show.

One list of tables for every human format, so the three always agree. Headers
are Indonesian (the hall's language); `name` is the csv file name and matches
the json key where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signage.core import survey
from signage.core.report import Entry, Figures, Report, hour_label

TEXT, INT, MINUTES, NUMBER = "text", "int", "minutes", "number"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = INT


@dataclass(frozen=True)
class Table:
    name: str  # file name (csv), stable
    title: str  # sheet title (xlsx, at most 31 characters), heading (html)
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""
    active: tuple[bool, ...] | None = None  # rows with any activity; html shows only those


COUNTS = (Column("Diterbitkan"), Column("Dipanggil"), Column("Dilayani"), Column("Tidak hadir"),
          Column("Dialihkan"))
TIMES = (Column("Tunggu p50 (menit)", MINUTES), Column("Tunggu p90 (menit)", MINUTES),
         Column("Tunggu maks (menit)", MINUTES), Column("Layanan p50 (menit)", MINUTES),
         Column("Layanan p90 (menit)", MINUTES))
IKM = (Column("IKM", NUMBER), Column("Mutu", TEXT), Column("Responden"), Column("Responden bentuk singkat"),
       Column("Rata-rata bentuk singkat", NUMBER))


def _counts(f: Figures) -> tuple:
    return (f.issued, f.called, f.served, f.no_show, f.transferred)


def _times(f: Figures) -> tuple:
    return (f.wait.p50, f.wait.p90, f.wait.max, f.service.p50, f.service.p90)


def _ikm(f: Figures) -> tuple:
    s = f.survey
    grade = f"{s.ikm.grade} ({s.ikm.label})" if s.ikm.grade else None
    return (s.ikm.value, grade, s.ikm.respondents, s.short_respondents, s.short_mean)


def tables(report: Report) -> list[Table]:
    period = report.first_day if report.first_day == report.last_day else f"{report.first_day} s.d. {report.last_day}"
    hall = report.hall
    heatmap_hours = report.heatmap_hours()  # once: it looks at every day
    out = [
        Table("hall", "Ringkasan", (Column("Periode", TEXT), Column("Hari layanan")) + COUNTS + TIMES + IKM,
              ((period, len(report.days)) + _counts(hall) + _times(hall) + _ikm(hall),),
              note="Seluruh MPP: setiap tiket dihitung sekali, ke mana pun dialihkan."),
        Table("agencies", "Instansi", (Column("Kode", TEXT), Column("Instansi", TEXT)) + COUNTS + TIMES + IKM,
              tuple(_entry(e) + _counts(e.figures) + _times(e.figures) + _ikm(e.figures) for e in report.agencies),
              note="Jumlah dari layanan-layanannya.", active=tuple(map(_active, report.agencies))),
        Table("services", "Layanan",
              (Column("Kode", TEXT), Column("Layanan", TEXT), Column("Instansi", TEXT)) + COUNTS + TIMES + IKM,
              tuple(_entry(e) + (e.agency,) + _counts(e.figures) + _times(e.figures) + _ikm(e.figures)
                    for e in report.services),
              note="Kunjungan ke tiap layanan: tiket yang dialihkan dihitung di kedua layanan.",
              active=tuple(map(_active, report.services))),
        Table("counters", "Loket",
              (Column("Loket"), Column("Nama", TEXT), Column("Instansi", TEXT)) + COUNTS[1:] + TIMES
              + (Column("Kerja (menit)", MINUTES), Column("Melayani (menit)", MINUTES),
                 Column("Menganggur (menit)", MINUTES), Column("Menganggur saat ada antrean (menit)", MINUTES)),
              tuple(_entry(e) + (e.agency,) + _counts(e.figures)[1:] + _times(e.figures)
                    + (e.idle.working, e.idle.busy, e.idle.idle, e.idle.idle_while_waiting)
                    for e in report.counters),
              active=tuple(map(_active, report.counters))),
        Table("hours", "Per jam",
              (Column("Jam", TEXT), Column("Kedatangan"), Column("Dilayani"), Column("Tunggu median (menit)", MINUTES)),
              tuple((h.label, h.arrivals, h.served, h.wait_p50) for h in report.hours),
              note=(f"Jam puncak: {report.peak_hour.label} ({report.peak_hour.arrivals} kedatangan)."
                    if report.peak_hour else "Belum ada kedatangan.")),
        Table("days", "Harian", (Column("Tanggal", TEXT),) + COUNTS
              + (Column("Tunggu p50 (menit)", MINUTES), Column("Tunggu p90 (menit)", MINUTES)),
              tuple((d.day, d.issued, d.called, d.served, d.no_show, d.transferred, d.wait_p50, d.wait_p90)
                    for d in report.days)),
        Table("heatmap", "Peta kedatangan",
              (Column("Tanggal", TEXT),) + tuple(Column(hour_label(h)) for h in heatmap_hours),
              tuple((d.day,) + tuple(d.arrivals[h] for h in heatmap_hours) for d in report.days),
              note="Kedatangan (tiket diterbitkan) per hari dan jam."),
        Table("survey_elements", "Unsur SKM",
              (Column("Unsur", TEXT), Column("Kode", TEXT), Column("Nama", TEXT), Column("NRR", NUMBER)),
              tuple((f"U{i + 1}", code, name, report.nrr[i] if report.nrr else None)
                    for i, (code, name) in enumerate(survey.ELEMENTS)),
              note=f"IKM = (Σ NRR / 9) × 25 dari {hall.survey.ikm.respondents} responden bentuk lengkap."),
        Table("comments", "Komentar",
              (Column("Waktu", TEXT), Column("Loket"), Column("Tiket", TEXT), Column("Layanan", TEXT),
               Column("Bentuk", TEXT), Column("Komentar", TEXT)),
              tuple((c.at.strftime("%Y-%m-%d %H.%M"), c.counter, c.ticket, c.service, c.form, c.text)
                    for c in report.comments)),
    ]
    return out


def _entry(e: Entry) -> tuple:
    return (e.key, e.name)


def _active(e: Entry) -> bool:
    f = e.figures
    return bool(f.issued or f.called or f.served or f.transferred or (f.survey and (
        f.survey.ikm.respondents or f.survey.short_respondents)))
