"""config.yaml → frozen dataclasses, validated as a whole.

Loaded once by the entry point and passed down; nothing else reads the file.
Every problem names the file, the key path and the bad value, e.g.
``config.yaml: counters[4].number: expected a positive integer, got 'lima'``.
All problems are collected, so a technician fixes a file in one pass.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timezone, timedelta, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from signage.core.survey import SurveyConfig, parse_survey
from signage.errors import ConfigError

DEFAULT_CONFIG = "config.yaml"
ROLES = ("operator", "display", "kiosk", "survey", "admin")  # survey: SKM tablets; admin: reports
LOCALES = ("id", "en")
TICKET_PREFIX = re.compile(r"^[A-Z]{1,3}$")


# ---------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    short_name: str


@dataclass(frozen=True)
class Counter:
    number: int
    name: str
    agency: str  # Agency.code


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    agency: str  # Agency.code
    prefix: str  # ticket series; services sharing a prefix share its numbers
    counters: tuple[int, ...]


@dataclass(frozen=True)
class Token:
    name: str
    role: str  # operator | display | kiosk | survey | admin
    secret: str = field(repr=False)
    counters: tuple[int, ...] | None = None  # operators: None means every counter; survey: always a list


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int


@dataclass(frozen=True)
class HubConfig:
    host: str
    port: int
    journal: Path
    sync: str  # "full" (power-loss safe) or "normal" (crash safe)
    max_message_bytes: int
    rate: RateLimit
    send_queue: int  # frames buffered per client before it is dropped
    replay_window: int  # events kept in memory for `since` replay
    history: int  # calls kept in the snapshot
    allowed_origins: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    compression: bool


@dataclass(frozen=True)
class Zone:
    name: str
    title: str
    counters: tuple[int, ...]


@dataclass(frozen=True)
class DisplayConfig:
    zones: tuple[Zone, ...]
    history: int
    highlight_seconds: float  # hero flash and "recently called" cell highlight
    offline_after_seconds: float
    show_waiting: bool
    ticker: tuple[str, ...]
    logo: Path | None
    font_dir: Path | None
    ticker_speed: float  # pixels per second at 1080p; scaled with screen height
    framebuffer_acceleration: bool


@dataclass(frozen=True)
class AnnouncerConfig:
    enabled: bool
    voice: str  # espeak-ng voice name, e.g. "id"
    rate: int  # words per minute
    volume: float  # 0..1
    repeat: int  # times each full announcement is spoken
    max_age_seconds: float  # older calls are shown but not spoken
    queue_size: int
    burst_threshold: int  # backlog at which the short form is used
    chime: Path
    cache_entries: int
    templates: dict[str, str]  # locale -> template with {letter} {number} {counter}
    short_templates: dict[str, str]
    recall_templates: dict[str, str]
    pronunciations: dict[str, str]
    voice_pack: Path | None


@dataclass(frozen=True)
class QueueConfig:
    no_show_window_minutes: float
    transfer: str  # "keep_place" or "back"
    priority: bool  # kiosks may issue priority tickets that go first


@dataclass(frozen=True)
class HallConfig:
    name: str
    short_name: str
    timezone: tzinfo = field(compare=False)
    timezone_name: str
    timezone_label: str  # "WIB"
    locale: str
    opening_hours: str


@dataclass(frozen=True)
class Config:
    path: Path
    hall: HallConfig
    hub: HubConfig
    agencies: tuple[Agency, ...]
    counters: tuple[Counter, ...]
    services: tuple[Service, ...]
    queue: QueueConfig
    display: DisplayConfig
    announcer: AnnouncerConfig
    tokens: tuple[Token, ...]
    survey: SurveyConfig = SurveyConfig()

    # Lookups derived once (cached_property writes __dict__ directly, so frozen is fine).
    @cached_property
    def _by_number(self) -> dict[int, Counter]:
        return {c.number: c for c in self.counters}

    @cached_property
    def _by_agency(self) -> dict[str, Agency]:
        return {a.code: a for a in self.agencies}

    @cached_property
    def _by_service(self) -> dict[str, Service]:
        return {s.code: s for s in self.services}

    @cached_property
    def _by_secret(self) -> dict[str, Token]:
        return {t.secret: t for t in self.tokens}

    def counter(self, number: int) -> Counter | None:
        return self._by_number.get(number)

    def agency(self, code: str) -> Agency | None:
        return self._by_agency.get(code)

    def service(self, code: str) -> Service | None:
        return self._by_service.get(code)

    def token(self, secret: str) -> Token | None:
        return self._by_secret.get(secret)

    def zone(self, name: str | None) -> Zone:
        if name is None:
            return self.display.zones[0]
        for zone in self.display.zones:
            if zone.name == name:
                return zone
        names = ", ".join(z.name for z in self.display.zones)
        raise ConfigError(f"{self.path.name}: display.zones: no zone named {name!r} (have: {names})")

    def services_for_counter(self, number: int) -> tuple[Service, ...]:
        return tuple(s for s in self.services if number in s.counters)

    def first_token(self, role: str) -> Token | None:
        return next((t for t in self.tokens if t.role == role), None)


# ---------------------------------------------------------------- loading


def load_config(path: str | os.PathLike | None = None, *, environ: dict | None = None) -> Config:
    """Read and validate a config file. Raises ConfigError naming every bad key."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("SIGNAGE_CONFIG") or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {where}invalid YAML: {problem}") from None
    return parse_config(raw, path=path)


def parse_config(raw: Any, *, path: Path = Path(DEFAULT_CONFIG)) -> Config:
    v = _Validator(path)
    cfg = v.build(raw)
    if v.problems:
        raise ConfigError(v.problems)
    assert cfg is not None
    return cfg


_MISSING = object()


class _Anything(set):
    """Stands in for a set of known keys after their section failed: contains everything."""

    def __contains__(self, item: object) -> bool:
        return True


class _Validator:
    """Walks the raw YAML, records problems with key paths, and builds dataclasses."""

    def __init__(self, path: Path):
        self.path = path
        self.base = path.parent
        self.problems: list[str] = []

    # -- primitives

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{self.path.name}: {key}: {message}")

    def section(self, raw: dict, key: str, prefix: str, required: bool = True) -> dict:
        value = raw.get(key, _MISSING) if isinstance(raw, dict) else _MISSING
        where = f"{prefix}{key}"
        if value is _MISSING or value is None:
            if required:
                self.fail(where, "missing section")
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {value!r}")
            return {}
        return value

    def get(self, raw: dict, key: str, prefix: str, check: Callable[[Any], Any], expected: str,
            default: Any = _MISSING) -> Any:
        where = f"{prefix}{key}"
        value = raw.get(key, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.fail(where, f"missing; expected {expected}")
                return None
            return default
        try:
            result = check(value)
        except (TypeError, ValueError):
            result = None
        if result is None:
            self.fail(where, f"expected {expected}, got {value!r}")
        return result

    def entries(self, raw: dict, key: str, prefix: str, allowed: set[str], required: bool = True):
        """Yield (key path prefix, mapping) for each well-formed entry of a list section."""
        for i, item in enumerate(self.items(raw, key, prefix, required)):
            where = f"{prefix}{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, f"expected a mapping, got {item!r}")
                continue
            self.unknown_keys(item, allowed, f"{where}.")
            yield f"{where}.", item

    def unknown_keys(self, raw: dict, allowed: set[str], prefix: str) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def items(self, raw: dict, key: str, prefix: str, required: bool = True) -> list:
        value = raw.get(key, _MISSING)
        where = f"{prefix}{key}"
        if value is _MISSING or value is None:
            if required:
                self.fail(where, "missing; expected a list")
            return []
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {value!r}")
            return []
        return value

    # -- whole file

    def build(self, raw: Any) -> Config | None:
        if not isinstance(raw, dict):
            self.fail("(top level)", f"expected a mapping of sections, got {type(raw).__name__}")
            return None
        self.unknown_keys(raw, {"hall", "hub", "agencies", "counters", "services", "queue",
                                "display", "announcer", "tokens", "survey"}, "")
        hall = self.hall(self.section(raw, "hall", ""))
        hub = self.hub(self.section(raw, "hub", ""))
        before = len(self.problems)
        agencies = self.agencies(raw)
        # A broken entry would make every reference to it "unknown" too: one mistake, one line.
        agency_codes = _Anything() if len(self.problems) > before else {a.code for a in agencies}
        before = len(self.problems)
        counters = self.counters(raw, agency_codes)
        numbers = _Anything() if len(self.problems) > before else {c.number for c in counters}
        services = self.services(raw, agency_codes, numbers)
        queue = self.queue(self.section(raw, "queue", "", required=False))
        display = self.display(self.section(raw, "display", "", required=False), numbers)
        announcer = self.announcer(self.section(raw, "announcer", "", required=False))
        tokens = self.tokens(raw, numbers)
        survey, problems = parse_survey(raw.get("survey"))
        for key, message in problems:
            self.fail(key, message)
        if self.problems:
            return None
        return Config(self.path, hall, hub, agencies, counters, services, queue, display,
                      announcer, tokens, survey)

    def hall(self, raw: dict) -> HallConfig | None:
        p = "hall."
        self.unknown_keys(raw, {"name", "short_name", "timezone", "timezone_label", "locale",
                                "opening_hours"}, p)
        name = self.get(raw, "name", p, _text, "a non-empty string")
        short = self.get(raw, "short_name", p, _text, "a non-empty string", default=name)
        tz_name = self.get(raw, "timezone", p, _text, "a time zone name such as Asia/Jakarta",
                           default="Asia/Jakarta")
        tz = _timezone(tz_name) if tz_name else None
        if tz_name and tz is None:
            self.fail(f"{p}timezone", f"expected a time zone name such as Asia/Jakarta or +07:00, got {tz_name!r}")
        label = self.get(raw, "timezone_label", p, _text, "a short label such as WIB", default="WIB")
        locale = self.get(raw, "locale", p, _choice(LOCALES), f"one of {', '.join(LOCALES)}", default="id")
        hours = self.get(raw, "opening_hours", p, _text, "a string", default="")
        if None in (name, tz, locale):
            return None
        return HallConfig(name, short, tz, tz_name, label, locale, hours)

    def hub(self, raw: dict) -> HubConfig | None:
        p = "hub."
        self.unknown_keys(raw, {"host", "port", "journal", "sync", "max_message_bytes", "rate",
                                "send_queue", "replay_window", "history", "allowed_origins",
                                "ping_interval", "ping_timeout", "compression"}, p)
        host = self.get(raw, "host", p, _text, "a host name or address", default="127.0.0.1")
        port = self.get(raw, "port", p, _int_range(0, 65535), "a port number 0-65535", default=8765)
        journal = self.get(raw, "journal", p, _text, "a file path", default="var/journal.sqlite")
        sync = self.get(raw, "sync", p, _choice(("full", "normal")), "full or normal", default="full")
        max_bytes = self.get(raw, "max_message_bytes", p, _int_range(256, 1 << 20),
                             "an integer 256-1048576", default=4096)
        rate_raw = self.section(raw, "rate", p, required=False)
        self.unknown_keys(rate_raw, {"per_second", "burst"}, f"{p}rate.")
        per_second = self.get(rate_raw, "per_second", f"{p}rate.", _pos_number, "a positive number", default=20)
        burst = self.get(rate_raw, "burst", f"{p}rate.", _pos_int, "a positive integer", default=40)
        send_queue = self.get(raw, "send_queue", p, _pos_int, "a positive integer", default=256)
        replay = self.get(raw, "replay_window", p, _pos_int, "a positive integer", default=5000)
        history = self.get(raw, "history", p, _pos_int, "a positive integer", default=20)
        origins = self.get(raw, "allowed_origins", p, _str_list, "a list of origins such as http://10.0.0.5:8765",
                           default=())
        ping_interval = self.get(raw, "ping_interval", p, _pos_number, "a positive number of seconds", default=10)
        ping_timeout = self.get(raw, "ping_timeout", p, _pos_number, "a positive number of seconds", default=10)
        compression = self.get(raw, "compression", p, _bool, "true or false", default=False)
        if None in (host, port, journal, sync, max_bytes, per_second, burst, send_queue, replay, history,
                    origins, ping_interval, ping_timeout, compression):
            return None
        return HubConfig(host, port, self.resolve(journal), sync, max_bytes, RateLimit(per_second, burst),
                         send_queue, replay, history, tuple(origins), ping_interval, ping_timeout,
                         compression)

    def resolve(self, value: str) -> Path:
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else (self.base / path)

    def agencies(self, raw: dict) -> tuple[Agency, ...]:
        out, seen = [], set()
        for p, item in self.entries(raw, "agencies", "", {"code", "name", "short_name"}):
            code = self.get(item, "code", p, _code, "a code of letters, digits, - or _")
            name = self.get(item, "name", p, _text, "a non-empty string")
            short = self.get(item, "short_name", p, _text, "a non-empty string", default=name)
            if code in seen:
                self.fail(f"{p}code", f"duplicate agency code {code!r}")
            seen.add(code)
            if None not in (code, name):
                out.append(Agency(code, name, short))
        return tuple(out)

    def counters(self, raw: dict, agency_codes: set[str]) -> tuple[Counter, ...]:
        out, seen = [], set()
        for p, item in self.entries(raw, "counters", "", {"number", "name", "agency"}):
            number = self.get(item, "number", p, _pos_int, "a positive integer")
            name = self.get(item, "name", p, _text, "a non-empty string",
                            default=f"Loket {number}" if number else None)
            agency = self.get(item, "agency", p, _text, "an agency code")
            if agency is not None and agency not in agency_codes:
                self.fail(f"{p}agency", f"unknown agency {agency!r} (not in agencies)")
                agency = None
            if number in seen:
                self.fail(f"{p}number", f"duplicate counter number {number}")
            seen.add(number)
            if None not in (number, name, agency):
                out.append(Counter(number, name, agency))
        if not out and not self.problems:
            self.fail("counters", "expected at least one counter")
        return tuple(out)

    def services(self, raw: dict, agency_codes: set[str], numbers: set[int]) -> tuple[Service, ...]:
        out, seen = [], set()
        allowed = {"code", "name", "agency", "prefix", "counters"}
        for p, item in self.entries(raw, "services", "", allowed, required=False):
            code = self.get(item, "code", p, _code, "a code of letters, digits, - or _")
            name = self.get(item, "name", p, _text, "a non-empty string")
            agency = self.get(item, "agency", p, _text, "an agency code")
            if agency is not None and agency not in agency_codes:
                self.fail(f"{p}agency", f"unknown agency {agency!r} (not in agencies)")
                agency = None
            prefix = self.get(item, "prefix", p, _prefix, "1-3 capital letters such as A")
            counters = self.get(item, "counters", p, _int_list, "a non-empty list of counter numbers")
            for n in counters or ():
                if n not in numbers:
                    self.fail(f"{p}counters", f"unknown counter {n} (not in counters)")
                    counters = None
                    break
            if code in seen:
                self.fail(f"{p}code", f"duplicate service code {code!r}")
            seen.add(code)
            if None not in (code, name, agency, prefix, counters):
                out.append(Service(code, name, agency, prefix, tuple(counters)))
        return tuple(out)

    def queue(self, raw: dict) -> QueueConfig | None:
        p = "queue."
        self.unknown_keys(raw, {"no_show_window_minutes", "transfer", "priority"}, p)
        window = self.get(raw, "no_show_window_minutes", p, _nonneg_number, "a number of minutes >= 0",
                          default=30)
        transfer = self.get(raw, "transfer", p, _choice(("keep_place", "back")), "keep_place or back",
                            default="keep_place")
        priority = self.get(raw, "priority", p, _bool, "true or false", default=True)
        if None in (window, transfer, priority):
            return None
        return QueueConfig(window, transfer, priority)

    def display(self, raw: dict, numbers: set[int]) -> DisplayConfig | None:
        p = "display."
        self.unknown_keys(raw, {"zones", "history", "highlight_seconds", "offline_after_seconds",
                                "show_waiting", "ticker", "logo", "font_dir", "ticker_speed",
                                "framebuffer_acceleration"}, p)
        zones = []
        for zp, item in self.entries(raw, "zones", p, {"name", "title", "counters"}, required=False):
            name = self.get(item, "name", zp, _code, "a name of letters, digits, - or _")
            title = self.get(item, "title", zp, _text, "a non-empty string", default=name)
            counters = self.get(item, "counters", zp, _int_list, "a non-empty list of counter numbers")
            for n in counters or ():
                if n not in numbers:
                    self.fail(f"{zp}counters", f"unknown counter {n} (not in counters)")
                    counters = None
                    break
            if None not in (name, title, counters):
                zones.append(Zone(name, title, tuple(counters)))
        if not zones and not isinstance(numbers, _Anything):
            zones.append(Zone("all", "", tuple(sorted(numbers))))
        history = self.get(raw, "history", p, _int_range(0, 50), "an integer 0-50", default=6)
        highlight = self.get(raw, "highlight_seconds", p, _nonneg_number, "a number of seconds >= 0", default=8)
        offline = self.get(raw, "offline_after_seconds", p, _nonneg_number, "a number of seconds >= 0",
                           default=3)
        waiting = self.get(raw, "show_waiting", p, _bool, "true or false", default=True)
        ticker = self.get(raw, "ticker", p, _str_list, "a list of strings", default=())
        logo = self.get(raw, "logo", p, _text, "a file path", default=None)
        font_dir = self.get(raw, "font_dir", p, _text, "a directory path", default=None)
        speed = self.get(raw, "ticker_speed", p, _pos_number, "a positive number of pixels per second",
                         default=120)
        accel = self.get(raw, "framebuffer_acceleration", p, _bool, "true or false", default=False)
        if None in (history, highlight, offline, waiting, ticker, speed, accel):
            return None
        return DisplayConfig(tuple(zones), history, highlight, offline, waiting, tuple(ticker),
                             self.resolve(logo) if logo else None,
                             self.resolve(font_dir) if font_dir else None, speed, accel)

    def announcer(self, raw: dict) -> AnnouncerConfig | None:
        p = "announcer."
        self.unknown_keys(raw, {"enabled", "voice", "rate", "volume", "repeat", "max_age_seconds",
                                "queue_size", "burst_threshold", "chime", "cache_entries", "templates",
                                "short_templates", "recall_templates", "pronunciations", "voice_pack"}, p)
        enabled = self.get(raw, "enabled", p, _bool, "true or false", default=True)
        voice = self.get(raw, "voice", p, _text, "an espeak-ng voice name such as id", default="id")
        rate = self.get(raw, "rate", p, _int_range(60, 400), "words per minute, 60-400", default=140)
        volume = self.get(raw, "volume", p, _unit, "a number from 0 to 1", default=1.0)
        repeat = self.get(raw, "repeat", p, _int_range(1, 5), "an integer 1-5", default=2)
        max_age = self.get(raw, "max_age_seconds", p, _pos_number, "a positive number of seconds", default=120)
        queue_size = self.get(raw, "queue_size", p, _pos_int, "a positive integer", default=64)
        burst = self.get(raw, "burst_threshold", p, _pos_int, "a positive integer", default=3)
        chime = self.get(raw, "chime", p, _text, "a WAV file path", default="assets/chime.wav")
        cache = self.get(raw, "cache_entries", p, _pos_int, "a positive integer", default=256)
        templates = self.templates(raw, "templates", p, DEFAULT_TEMPLATES)
        short = self.templates(raw, "short_templates", p, DEFAULT_SHORT_TEMPLATES)
        recall = self.templates(raw, "recall_templates", p, DEFAULT_RECALL_TEMPLATES)
        pron = self.get(raw, "pronunciations", p, _str_map, "a mapping of word to spoken form", default={})
        pack = self.get(raw, "voice_pack", p, _text, "a directory path", default=None)
        if None in (enabled, voice, rate, volume, repeat, max_age, queue_size, burst, chime, cache,
                    templates, short, recall, pron):
            return None
        return AnnouncerConfig(enabled, voice, rate, volume, repeat, max_age, queue_size, burst,
                               self.resolve(chime), cache, templates, short, recall, dict(pron),
                               self.resolve(pack) if pack else None)

    def templates(self, raw: dict, key: str, prefix: str, defaults: dict[str, str]) -> dict | None:
        value = self.get(raw, key, prefix, _str_map, "a mapping of locale to template", default=defaults)
        if value is None:
            return None
        merged = {**defaults, **value}
        for locale, template in merged.items():
            try:
                template.format(letter="A", number="satu", counter="loket satu", ticket="A satu")
            except (KeyError, IndexError, ValueError) as exc:
                self.fail(f"{prefix}{key}.{locale}",
                          f"bad template {template!r}: unknown or broken placeholder {exc}; "
                          "use {letter}, {number}, {counter}, {ticket}")
                return None
        return merged

    def tokens(self, raw: dict, numbers: set[int]) -> tuple[Token, ...]:
        out, names, secrets = [], set(), set()
        for p, item in self.entries(raw, "tokens", "", {"name", "role", "token", "counters"}):
            name = self.get(item, "name", p, _code, "a name of letters, digits, - or _")
            role = self.get(item, "role", p, _choice(ROLES), f"one of {', '.join(ROLES)}")
            secret = self.get(item, "token", p, _secret, "a secret of at least 8 characters")
            counters = None
            if role in ("operator", "survey"):
                value = item.get("counters", "all" if role == "operator" else None)
                if value == "all" and role == "survey":
                    self.fail(f"{p}counters", "a survey tablet rates the counters it stands at: list them, not 'all'")
                elif value != "all":
                    counters = _int_list(value) if value is not None else None
                    if counters is None:
                        either = "'all' or " if role == "operator" else ""
                        self.fail(f"{p}counters", f"expected {either}a list of counter numbers, got {value!r}")
                    else:
                        for n in counters:
                            if n not in numbers:
                                self.fail(f"{p}counters", f"unknown counter {n} (not in counters)")
                        counters = tuple(counters)
            elif role is not None and "counters" in item:
                self.fail(f"{p}counters", f"only operator and survey tokens have counters, this one is role {role!r}")
            if name in names:
                self.fail(f"{p}name", f"duplicate token name {name!r}")
            if secret in secrets:
                self.fail(f"{p}token", "duplicate token secret (each client needs its own)")
            names.add(name)
            secrets.add(secret)
            if None not in (name, role, secret):
                out.append(Token(name, role, secret, counters))
        return tuple(out)


DEFAULT_TEMPLATES = {
    "id": "Nomor antrian, {letter}, {number}, silakan menuju, {counter}.",
    "en": "Ticket number, {letter}, {number}, please proceed to, {counter}.",
}
DEFAULT_SHORT_TEMPLATES = {
    "id": "{letter}, {number}, {counter}.",
    "en": "{letter}, {number}, {counter}.",
}
DEFAULT_RECALL_TEMPLATES = {
    "id": "Panggilan ulang, nomor antrian, {letter}, {number}, silakan menuju, {counter}.",
    "en": "Calling again, ticket number, {letter}, {number}, please proceed to, {counter}.",
}


# ---------------------------------------------------------------- value checks
# Each returns the cleaned value, or None when the value is invalid.


def _text(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _secret(v: Any) -> str | None:
    return v if isinstance(v, str) and len(v) >= 8 and v == v.strip() else None


def _code(v: Any) -> str | None:
    return v if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", v) else None


def _prefix(v: Any) -> str | None:
    return v if isinstance(v, str) and TICKET_PREFIX.fullmatch(v) else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _pos_int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _int_range(lo: int, hi: int) -> Callable[[Any], int | None]:
    def check(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else None
    return check


def _pos_number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


def _nonneg_number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else None


def _unit(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 else None


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: v if v in options else None


def _int_list(v: Any) -> list[int] | None:
    """A list of positive ints; "1-10" ranges are allowed as items."""
    if not isinstance(v, list) or not v:
        return None
    out: list[int] = []
    for item in v:
        if isinstance(item, str) and re.fullmatch(r"\d+-\d+", item):
            lo, hi = map(int, item.split("-"))
            if not 0 < lo <= hi:
                return None
            out.extend(range(lo, hi + 1))
        elif _pos_int(item) is not None:
            out.append(item)
        else:
            return None
    return out


def _str_list(v: Any) -> tuple[str, ...] | None:
    if isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v):
        return tuple(s.strip() for s in v)
    return None


def _str_map(v: Any) -> dict[str, str] | None:
    if isinstance(v, dict) and all(isinstance(k, str) and isinstance(s, str) for k, s in v.items()):
        return dict(v)
    return None


def _timezone(name: str) -> tzinfo | None:
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
