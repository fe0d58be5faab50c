"""config.yaml's content parts → signage.core.content.ContentConfig. Pure.

Called once by signage.config's validator (one line), which passes its `fail`
(key path, message) so problems read like every other config problem:

    config.yaml: content.playlist[1].weekdays: unknown day 'funday' (use mon..sun or senin..minggu)

Reads, from the raw YAML mapping:
- `content:` (folder, playlist inline or in a file, audio, cache, durations);
- `display.layout` and `display.zones[].layout`;
- the optional standar pelayanan fields of each service (persyaratan, prosedur,
  jangka_waktu, biaya, produk);
- `hall.maklumat` and `hall.pengaduan`.
Every string passes the text rule (signage.core.text); multi-line fields may hold newlines.
Reading a playlist file is the caller's I/O, passed in as `read_yaml`.
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any, Callable

from signage.core import text as text_rule
from signage.core.config import DEFAULTS
from signage.core.content import (KINDS, LAYOUTS, SLIDE_KINDS,
                                  WEEKDAY_NAMES, ContentConfig, PlaylistItem, Schedule, ServiceStandard,
                                  kind_of_file)

# Keys the main validator must allow in sections it owns.
TOP_KEYS = frozenset({"content"})
HALL_KEYS = frozenset({"maklumat", "pengaduan"})
DISPLAY_KEYS = frozenset({"layout"})
ZONE_KEYS = frozenset({"layout"})
SERVICE_KEYS = frozenset({"persyaratan", "prosedur", "jangka_waktu", "biaya", "produk"})

CONTENT_KEYS = frozenset({"dir", "playlist", "audio", "volume", "duck_volume", "cache_dir", "cache_mb",
                          "image_seconds", "slide_seconds", "services_per_slide"})
ITEM_KEYS = frozenset({"type", "file", "slide", "agency", "services", "seconds", "weekdays", "from", "until",
                       "start_date", "end_date", "zones", "title"})
MAX_TEXT = 2000  # characters in one slide field
MAX_ITEMS = 500

Fail = Callable[[str, str], None]


def parse_content(raw: dict, base: Path, fail: Fail, read_yaml: Callable[[Path], Any], *,
                  agencies: set[str] | None = None, services: set[str] | None = None,
                  zones: set[str] | None = None) -> ContentConfig | None:
    """The content config from the whole raw YAML mapping; None after any problem (each reported by `fail`).

    `agencies`, `services` and `zones` are the known codes for cross-checks (None: don't check).
    """
    checker = _Checker(fail)
    section = raw.get("content") if isinstance(raw, dict) else None
    if section is None:
        section = {}
    if not isinstance(section, dict):
        fail("content", f"expected a mapping, got {section!r}")
        return None
    c = "content."
    checker.unknown(section, CONTENT_KEYS, c)
    d = DEFAULTS  # one home for defaults (signage.core.config); DEFAULT_CONTENT agrees (a test checks)
    folder = checker.get(section, "dir", c, _path_text, "a folder path", d["content.dir"])
    audio = checker.get(section, "audio", c, _bool, "true or false", d["content.audio"])
    volume = checker.get(section, "volume", c, _unit, "a number from 0 to 1", d["content.volume"])
    duck = checker.get(section, "duck_volume", c, _unit, "a number from 0 to 1", d["content.duck_volume"])
    cache_dir = checker.get(section, "cache_dir", c, _path_text, "a folder path", d["content.cache_dir"])
    cache_mb = checker.get(section, "cache_mb", c, _int_range(16, 1 << 20), "a size in MB, 16 or more",
                           d["content.cache_mb"])
    image_seconds = checker.get(section, "image_seconds", c, _seconds, "a number of seconds, 1-3600",
                                float(d["content.image_seconds"]))
    slide_seconds = checker.get(section, "slide_seconds", c, _seconds, "a number of seconds, 1-3600",
                                float(d["content.slide_seconds"]))
    per_slide = checker.get(section, "services_per_slide", c, _int_range(1, 6), "an integer 1-6",
                            d["content.services_per_slide"])

    playlist_raw, playlist_file = section.get("playlist"), None
    if isinstance(playlist_raw, str):
        problem = text_rule.problem(playlist_raw)
        if problem or not playlist_raw.strip():
            fail(f"{c}playlist", f"expected a list of items or a file path, got {playlist_raw!r}")
            playlist_raw = []
        else:
            playlist_file = _resolve(base, playlist_raw.strip())
            try:
                playlist_raw = read_yaml(playlist_file)
            except Exception as exc:  # the file is outside input: any failure is a config problem
                fail(f"{c}playlist", f"cannot read playlist file {playlist_file}: {_one_line(exc)}")
                playlist_raw = []
            if isinstance(playlist_raw, dict) and "playlist" in playlist_raw:
                playlist_raw = playlist_raw["playlist"]  # a file may hold {playlist: [...]}
    if playlist_raw is None:
        playlist_raw = []
    where = f"{c}playlist" if playlist_file is None else f"{playlist_file.name}"
    items = checker.playlist(playlist_raw, where, agencies, services, zones)

    layout, zone_layouts = checker.layouts(raw)
    standards = checker.standards(raw)
    maklumat, pengaduan = checker.hall_texts(raw)
    if checker.failed or None in (audio, volume, duck, cache_dir, cache_mb, image_seconds, slide_seconds,
                                  per_slide, items, layout):
        return None
    return ContentConfig(
        dir=_resolve(base, folder) if folder else None, playlist=items, playlist_file=playlist_file,
        audio=audio, volume=volume, duck_volume=duck, cache_dir=_resolve(base, cache_dir),
        cache_bytes=cache_mb * 2 ** 20, image_seconds=image_seconds, slide_seconds=slide_seconds,
        services_per_slide=per_slide, layout=layout, zone_layouts=zone_layouts, standards=standards,
        maklumat=maklumat, pengaduan=pengaduan)


class _Checker:
    def __init__(self, fail: Fail):
        self._fail = fail
        self.failed = False

    def fail(self, key: str, message: str) -> None:
        self.failed = True
        self._fail(key, message)

    def unknown(self, raw: dict, allowed: frozenset[str], prefix: str) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def get(self, raw: dict, key: str, prefix: str, check: Callable[[Any], Any], expected: str,
            default: Any) -> Any:
        value = raw.get(key)
        if value is None:
            return default
        result = check(value)
        if result is None:
            problem = text_rule.problem(value) if isinstance(value, str) else None
            self.fail(f"{prefix}{key}", f"{problem} ({expected})" if problem else f"expected {expected}, got {_show(value)}")
        return result

    def text(self, raw: dict, key: str, prefix: str, *, multiline: bool = False, default: str = "") -> str:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(f"{prefix}{key}", f"expected a string, got {_show(value)}")
            return default
        problem = text_rule.problem(value, multiline=multiline)
        if problem:
            self.fail(f"{prefix}{key}", problem)
            return default
        if len(value) > MAX_TEXT:
            self.fail(f"{prefix}{key}", f"longer than {MAX_TEXT} characters ({len(value)})")
            return default
        return _normalise(value) if multiline else value.strip()

    # -- playlist

    def playlist(self, raw: Any, where: str, agencies, services, zones) -> tuple[PlaylistItem, ...] | None:
        if not isinstance(raw, list):
            self.fail(where, f"expected a list of items, got {_show(raw)}")
            return None
        if len(raw) > MAX_ITEMS:
            self.fail(where, f"more than {MAX_ITEMS} items ({len(raw)})")
            return None
        out = []
        for i, entry in enumerate(raw):
            p = f"{where}[{i}]"
            if not isinstance(entry, dict):
                self.fail(p, f"expected a mapping such as {{type: image, file: poster.png}}, got {_show(entry)}")
                continue
            item = self.item(entry, f"{p}.", agencies, services, zones)
            if item is not None:
                out.append(item)
        return tuple(out)

    def item(self, raw: dict, p: str, agencies, services, zones) -> PlaylistItem | None:
        before = self.failed
        self.failed = False
        self.unknown(raw, ITEM_KEYS, p)
        kind = self.get(raw, "type", p, _choice(KINDS), f"one of {', '.join(KINDS)}", None)
        if kind is None and "type" not in raw:
            self.fail(f"{p}type", f"missing; expected one of {', '.join(KINDS)}")
        file = slide = agency = None
        chosen: tuple[str, ...] | None = None
        if kind in ("image", "video"):
            file = self.get(raw, "file", p, _relative_file, "a file name inside content.dir", None)
            if file is None and "file" not in raw:
                self.fail(f"{p}file", f"missing; a {kind} needs a file inside content.dir")
            elif file is not None and kind_of_file(file) not in (kind, None):
                self.fail(f"{p}file", f"{file!r} looks like a {kind_of_file(file)}, not a {kind}")
            for key in ("slide", "agency", "services"):
                if key in raw:
                    self.fail(f"{p}{key}", f"only slides have {key}; this item is a {kind}")
        elif kind == "slide":
            slide = self.get(raw, "slide", p, _choice(SLIDE_KINDS), f"one of {', '.join(SLIDE_KINDS)}", None)
            if slide is None and "slide" not in raw:
                self.fail(f"{p}slide", f"missing; expected one of {', '.join(SLIDE_KINDS)}")
            if "file" in raw:
                self.fail(f"{p}file", "slides are generated from config and have no file")
            agency = self.get(raw, "agency", p, _code, "an agency code", None)
            if agency is not None and agencies is not None and agency not in agencies:
                self.fail(f"{p}agency", f"unknown agency {agency!r} (not in agencies)")
            chosen = self.get(raw, "services", p, _code_list, "a list of service codes", None)
            for code in chosen or ():
                if services is not None and code not in services:
                    self.fail(f"{p}services", f"unknown service {code!r} (not in services)")
                    break
            if slide is not None and slide != "standar-pelayanan" and ("agency" in raw or "services" in raw):
                self.fail(f"{p}{'agency' if 'agency' in raw else 'services'}",
                          "only standar-pelayanan slides take agency or services")
        seconds = self.get(raw, "seconds", p, _seconds, "a number of seconds, 1-3600", None)
        schedule = self.schedule(raw, p)
        item_zones = self.get(raw, "zones", p, _code_list, "a list of zone names", None)
        for name in item_zones or ():
            if zones is not None and name not in zones:
                self.fail(f"{p}zones", f"unknown zone {name!r} (not in display.zones)")
                break
        title = self.text(raw, "title", p)
        failed, self.failed = self.failed, before or self.failed
        if failed or kind is None or schedule is None:
            return None
        return PlaylistItem(kind, file, slide, agency, tuple(chosen) if chosen else None, seconds, schedule,
                            tuple(item_zones) if item_zones else None, title)

    def schedule(self, raw: dict, p: str) -> Schedule | None:
        ok = True
        weekdays = None
        if raw.get("weekdays") is not None:
            value = raw["weekdays"]
            if not isinstance(value, list) or not value:
                self.fail(f"{p}weekdays", f"expected a list of days such as [mon, tue], got {_show(value)}")
                ok = False
            else:
                days = set()
                for day in value:
                    number = WEEKDAY_NAMES.get(day.strip().lower()) if isinstance(day, str) else None
                    if number is None:
                        self.fail(f"{p}weekdays", f"unknown day {_show(day)} (use mon..sun or senin..minggu)")
                        ok = False
                        break
                    days.add(number)
                weekdays = frozenset(days)
        start = self.get(raw, "from", p, _time_of_day, 'a time of day such as "07:30" (quoted)', None)
        until = self.get(raw, "until", p, _time_of_day, 'a time of day such as "12:00" (quoted)', None)
        if (raw.get("from") is not None and start is None) or (raw.get("until") is not None and until is None):
            ok = False
        if start is not None and until is not None and start == until:
            self.fail(f"{p}until", f"the window is empty: from and until are both {start:%H:%M}")
            ok = False
        first = self.get(raw, "start_date", p, _date, "a date such as 2026-12-01", None)
        last = self.get(raw, "end_date", p, _date, "a date such as 2026-12-31", None)
        if (raw.get("start_date") is not None and first is None) or (raw.get("end_date") is not None and last is None):
            ok = False
        if first is not None and last is not None and last < first:
            self.fail(f"{p}end_date", f"{last.isoformat()} is before start_date {first.isoformat()}")
            ok = False
        return Schedule(first, last, weekdays, start, until) if ok else None

    # -- layouts, standards, hall texts

    def layouts(self, raw: dict) -> tuple[str | None, dict[str, str]]:
        display = raw.get("display") if isinstance(raw.get("display"), dict) else {}
        layout = self.get(display, "layout", "display.", _choice(LAYOUTS), f"one of {', '.join(LAYOUTS)}",
                          DEFAULTS["display.layout"])
        per_zone: dict[str, str] = {}
        zones = display.get("zones")
        for i, zone in enumerate(zones if isinstance(zones, list) else ()):
            if isinstance(zone, dict) and zone.get("layout") is not None:
                value = self.get(zone, "layout", f"display.zones[{i}].", _choice(LAYOUTS),
                                 f"one of {', '.join(LAYOUTS)}", None)
                if value is not None and isinstance(zone.get("name"), str):
                    per_zone[zone["name"]] = value
        return layout, per_zone

    def standards(self, raw: dict) -> dict[str, ServiceStandard]:
        out: dict[str, ServiceStandard] = {}
        entries = raw.get("services")
        for i, service in enumerate(entries if isinstance(entries, list) else ()):
            if not isinstance(service, dict) or not (SERVICE_KEYS & service.keys()):
                continue
            p = f"services[{i}]."
            persyaratan: tuple[str, ...] = ()
            value = service.get("persyaratan")
            if isinstance(value, str):
                text = self.text(service, "persyaratan", p, multiline=True)
                persyaratan = tuple(line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t"))
            elif isinstance(value, list):
                lines = []
                for k, line in enumerate(value):
                    if not isinstance(line, str) or not line.strip():
                        self.fail(f"{p}persyaratan[{k}]", f"expected a non-empty string, got {_show(line)}")
                        continue
                    problem = text_rule.problem(line)
                    if problem:
                        self.fail(f"{p}persyaratan[{k}]", problem)
                        continue
                    lines.append(line.strip())
                persyaratan = tuple(lines)
            elif value is not None:
                self.fail(f"{p}persyaratan", f"expected a list of requirements or a text, got {_show(value)}")
            standard = ServiceStandard(
                persyaratan=persyaratan,
                prosedur=self.text(service, "prosedur", p, multiline=True),
                jangka_waktu=self.text(service, "jangka_waktu", p),
                biaya=self.text(service, "biaya", p),
                produk=self.text(service, "produk", p),
            )
            if isinstance(service.get("code"), str) and not standard.empty:
                out[service["code"]] = standard
        return out

    def hall_texts(self, raw: dict) -> tuple[str, str]:
        hall = raw.get("hall") if isinstance(raw.get("hall"), dict) else {}
        return (self.text(hall, "maklumat", "hall.", multiline=True),
                self.text(hall, "pengaduan", "hall.", multiline=True))


# ---------------------------------------------------------------- value checks (None = invalid)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _normalise(value: str) -> str:
    """Multi-line text: \\r\\n → \\n, tabs → spaces, trailing blanks trimmed."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _unit(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 else None


def _seconds(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v <= 3600 else None


def _int_range(lo: int, hi: int) -> Callable[[Any], int | None]:
    return lambda v: v if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else None


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: v if isinstance(v, str) and v in options else None


def _code(v: Any) -> str | None:
    return v if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", v) else None


def _code_list(v: Any) -> list[str] | None:
    if isinstance(v, list) and v and all(_code(x) for x in v):
        return list(v)
    return None


def _path_text(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() and text_rule.problem(v) is None else None


def _relative_file(v: Any) -> str | None:
    """A file inside content.dir: relative, no '..', no hidden parts."""
    if not isinstance(v, str) or not v.strip() or text_rule.problem(v) is not None or "\\" in v:
        return None
    parts = Path(v.strip()).parts
    if not parts or Path(v.strip()).is_absolute() or any(part in ("..", ".") or part.startswith(".")
                                                         for part in parts):
        return None
    return "/".join(parts)


def _time_of_day(v: Any) -> time | None:
    if not isinstance(v, str):
        return None
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})", v.strip())
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute == 0:
        return time(23, 59, 59, 999999)  # "until 24:00": the end of the day
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _date(v: Any) -> date | None:
    if isinstance(v, date):  # YAML reads an unquoted 2026-12-01 as a date
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None
