"""What a printed ticket says, line by line, for 58 or 80 mm paper. Pure: the printer agent draws it.

    Mal Pelayanan Publik Kab. Pandeglang      (hall name, bold)
    Nomor antrean
              A-023                            (as large as the paper allows)
    Perekaman KTP-el                            (service)
    Disdukcapil                                 (agency)
    Ada 4 orang di depan Anda
    Perkiraan tunggu: 10–15 menit
    Rabu, 2 Desember 2026 · 09.41 WIB
    [QR: the phone page]
    Pindai untuk melihat antrean di ponsel
    Simpan tiket ini

Everything is drawn as one image (signage.printer.render): the printer needs no code page
for "–" or "…", and the same bytes print alike on every ESC/POS model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from signage.core import messages as m
from signage.core.config import Config
from signage.core.estimate import UNKNOWN_TEXT

# Printable width in dots at 203 dpi (8 dots/mm): 58 mm rolls print 48 mm, 80 mm rolls 72 mm.
PAPER_DOTS = {58: 384, 80: 576}
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


@dataclass(frozen=True)
class Line:
    text: str
    size: int  # font height in dots
    bold: bool = False


@dataclass(frozen=True)
class TicketLayout:
    width: int  # dots
    top: tuple[Line, ...]
    qr: str  # the URL encoded in the QR code
    qr_size: int  # dots
    bottom: tuple[Line, ...]


def long_date(at: datetime) -> str:
    return f"{DAYS[at.weekday()]}, {at.day} {MONTHS[at.month - 1]} {at.year}"


def layout(job: m.PrintJob, config: Config, paper: int) -> TicketLayout:
    width = PAPER_DOTS[paper]
    scale = width / PAPER_DOTS[80]
    service = config.service(job.service)
    agency = config.agency(service.agency) if service else None
    ahead = job.position - 1
    wait = f"{job.wait.low}–{job.wait.high} menit" if job.wait else UNKNOWN_TEXT
    label = config.hall.timezone_label
    top = [
        Line(config.hall.name, round(30 * scale), bold=True),
        Line("Nomor antrean" + (" · PRIORITAS" if job.priority else ""), round(26 * scale)),
        Line(job.ticket, round(150 * scale), bold=True),
        Line(service.name if service else job.service, round(30 * scale), bold=True),
    ]
    if agency:
        top.append(Line(agency.short_name, round(26 * scale)))
    top += [
        Line(f"Ada {ahead} orang di depan Anda" if ahead > 0 else "Anda berikutnya", round(28 * scale)),
        Line(f"Perkiraan tunggu: {wait}", round(26 * scale)),
        Line(f"{long_date(job.at)} · {job.at:%H.%M} {label}", round(24 * scale)),
    ]
    bottom = [Line("Pindai untuk melihat antrean di ponsel", round(22 * scale)),
              Line("Simpan tiket ini", round(30 * scale), bold=True)]
    if job.reprint:
        bottom.append(Line("(cetak ulang)", round(20 * scale)))
    return TicketLayout(width, tuple(top), job.url, round(260 * scale), tuple(bottom))
