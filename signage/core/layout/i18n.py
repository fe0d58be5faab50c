"""The board's words and dates in Indonesian (KBBI) and English: labels, day and month names, clock text.

Indonesian writes times with a period ("09.41 WIB") and dates as "Kamis, 26 November 2026".
Hand-written rather than Babel: see README's dependency notes.
"""

from __future__ import annotations

from datetime import datetime

DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
WORDS = {
    "id": {
        "now_calling": "NOMOR ANTRIAN DIPANGGIL",
        "calling_again": "PANGGILAN ULANG",
        "welcome": "SELAMAT DATANG",
        "no_calls": "Belum ada panggilan",
        "history": "PANGGILAN TERAKHIR",
        "waiting": "MENUNGGU",
        "waiting_estimate": "MENUNGGU · PERKIRAAN MENIT",
        "nobody_waiting": "Tidak ada antrean",
        "more": "lainnya",
        "offline": "TERPUTUS DARI SERVER sejak {time} · data terakhir tetap ditampilkan",
        "connecting": "BELUM TERHUBUNG KE SERVER · mencoba lagi…",
        "denied": "AKSES DITOLAK OLEH SERVER: {detail} · periksa token display",
    },
    "en": {
        "now_calling": "NOW CALLING",
        "calling_again": "CALLING AGAIN",
        "welcome": "WELCOME",
        "no_calls": "No calls yet",
        "history": "RECENT CALLS",
        "waiting": "WAITING",
        "waiting_estimate": "WAITING · ESTIMATE, MINUTES",
        "nobody_waiting": "Nobody waiting",
        "more": "more",
        "offline": "OFFLINE since {time} · showing the last known state",
        "connecting": "NOT CONNECTED TO THE SERVER · retrying…",
        "denied": "ACCESS DENIED BY THE SERVER: {detail} · check the display token",
    },
}


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale, WORDS["id"])


def format_date(now: datetime, locale: str) -> str:
    """'Kamis, 26 November 2026' / 'Thursday, 26 November 2026'."""
    days, months = DAYS.get(locale, DAYS["id"]), MONTHS.get(locale, MONTHS["id"])
    return f"{days[now.weekday()]}, {now.day} {months[now.month - 1]} {now.year}"


def format_time(now: datetime, locale: str, zone_label: str = "") -> str:
    """'09.41 WIB' (Indonesian writes a period) / '09:41 WIB'."""
    sep = "." if locale == "id" else ":"
    text = f"{now.hour:02d}{sep}{now.minute:02d}"
    return f"{text} {zone_label}" if zone_label else text


def format_clock(now: datetime, locale: str, zone_label: str = "") -> str:
    """'Kamis, 26 November 2026 · 09.41 WIB'."""
    return f"{format_date(now, locale)} · {format_time(now, locale, zone_label)}"
