"""config.yaml → frozen dataclasses, validated as a whole.

Loaded once by the entry point and passed down; nothing else reads the file.
Every problem names the file, the key path and the bad value, e.g.
``config.yaml: counters[4].number: expected a positive integer, got 'lima'``.
All problems are collected, so a technician fixes a file in one pass.

The dataclasses (the schema) and the defaults live in the pure core,
`signage.core.config`; they are re-exported here for the shells.
"""

from __future__ import annotations

import math
import os
import re
from datetime import timezone, timedelta, tzinfo
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from signage.core import content_config, tickets
from signage.core.config import (DEFAULTS, LOCALES, LONG_TEXT_KEYS, MIN_SECRET_LENGTH, ROLES, SURVEY_FORMS, Agency,
                                 AnnouncerConfig, AudioConfig, AudioZone, Config, Counter, DisplayConfig, FleetConfig,
                                 HallConfig, HubConfig, NotifyConfig, PrinterConfig, QueueConfig, RateLimit, Service,
                                 SurveyConfig, Token, Zone, fallback_counter_name)
from signage.core.text import problem as text_problem
from signage.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "LOCALES", "ROLES", "Agency", "AudioConfig", "AudioZone", "AnnouncerConfig", "Config",
           "Counter", "DisplayConfig", "FleetConfig", "SurveyConfig",
           "HallConfig", "HubConfig", "QueueConfig", "RateLimit", "Service", "Token", "Zone", "load_config",
           "parse_config"]

DEFAULT_CONFIG = "config.yaml"


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
        raw = _read_yaml(text, path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {where}invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    return parse_config(raw, path=path)


MAX_INT_DIGITS = 18  # a longer integer is a typo (and int() refuses strings of 4300+ digits)
MAX_COUNT = 10**9  # no count, size or duration in config comes near this
MAX_RANGE = 10_000  # counters in one "1-10" range item


def _read_yaml(text: str, path: Path) -> Any:
    """yaml.safe_load, but duplicate keys and absurd integers are config errors naming their key path.

    PyYAML silently keeps the last of two equal keys, so a technician's second
    `port:` line would win unseen.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = [f"{path.name}: {where or '(top level)'}: {message}" for where, message in _node_problems(node)]
        if problems:
            raise ConfigError(problems)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _node_problems(node: yaml.Node, where: str = "", seen: set[int] | None = None):
    """(key path, problem) for each duplicate key and over-long integer in a composed YAML tree."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias: checked where its anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            path = f"{where}.{key}" if where else key
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key in first_line:
                    yield path, f"duplicate key (line {line}, first at line {first_line[key]})"
                first_line.setdefault(key, line)
            yield from _node_problems(value_node, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _node_problems(item, f"{where}[{i}]", seen)
    elif node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_DIGITS:
        yield where, f"expected a number of at most {MAX_INT_DIGITS} digits, got one of {len(node.value)}"


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
        self.bad_text: list[str] = []  # key paths refused by the text rule

    # -- primitives

    def fail(self, key: str, message: str) -> None:
        # A value already refused by the text rule (or holding one) is one mistake: one line.
        if any(bad == key or bad.startswith((f"{key}.", f"{key}[")) for bad in self.bad_text):
            return
        self.problems.append(f"{self.path.name}: {key}: {message}")

    def check_text(self, raw: Any) -> None:
        for where, message in _text_problems(raw):
            self.fail(where, message)
            self.bad_text.append(where)

    def section(self, raw: dict, key: str, prefix: str, required: bool = True) -> dict:
        value = raw.get(key, _MISSING) if isinstance(raw, dict) else _MISSING
        where = f"{prefix}{key}"
        if value is _MISSING or value is None:
            if required:
                self.fail(where, "missing section")
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_shown(value)}")
            return {}
        return value

    def get(self, raw: dict, key: str, prefix: str, check: Callable[[Any], Any], expected: str,
            default: Any = _MISSING) -> Any:
        where = f"{prefix}{key}"
        value = raw.get(key, _MISSING)
        if default is _MISSING:
            default = DEFAULTS.get(where, _MISSING)
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
            self.fail(where, f"expected {expected}, got {_shown(value)}")
        return result

    def entries(self, raw: dict, key: str, prefix: str, allowed: set[str], required: bool = True):
        """Yield (key path prefix, mapping) for each well-formed entry of a list section."""
        for i, item in enumerate(self.items(raw, key, prefix, required)):
            where = f"{prefix}{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, f"expected a mapping, got {_shown(item)}")
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
            self.fail(where, f"expected a list, got {_shown(value)}")
            return []
        return value

    # -- whole file

    def build(self, raw: Any) -> Config | None:
        if not isinstance(raw, dict):
            self.fail("(top level)", f"expected a mapping of sections, got {type(raw).__name__}")
            return None
        self.check_text(raw)
        self.unknown_keys(raw, {"hall", "hub", "agencies", "counters", "services", "queue",
                                "display", "announcer", "tokens", "notify", "printer", "fleet", "survey", "audio",
                                "audio_zones"} | content_config.TOP_KEYS, "")
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
        notify = self.notify(self.section(raw, "notify", "", required=False))
        printer = self.printer(self.section(raw, "printer", "", required=False))
        fleet = self.fleet(self.section(raw, "fleet", "", required=False))
        content = content_config.parse_content(
            raw, self.base, self.fail, _read_playlist, agencies={a.code for a in agencies},
            services={s.code for s in services}, zones={z.name for z in display.zones} if display else None)
        survey = self.survey(self.section(raw, "survey", "", required=False))
        audio = self.audio(raw, numbers, tokens, hall)
        if self.problems:
            return None
        return Config(self.path, hall, hub, agencies, counters, services, queue, display,
                      announcer, tokens, notify, printer, fleet, content, survey, audio)

    def notify(self, raw: dict) -> NotifyConfig | None:
        p = "notify."
        self.unknown_keys(raw, {"when_ahead", "webhook", "webhook_timeout", "webhook_retries", "webhook_queue"}, p)
        ahead = self.get(raw, "when_ahead", p, _int_range(0, 100), "an integer 0-100")
        webhook = self.get(raw, "webhook", p, _http_url, "an http:// or https:// URL")
        timeout = self.get(raw, "webhook_timeout", p, _pos_number, "a positive number of seconds")
        retries = self.get(raw, "webhook_retries", p, _int_range(0, 20), "an integer 0-20")
        queue = self.get(raw, "webhook_queue", p, _int_range(1, 100_000), "an integer 1-100000")
        if None in (ahead, timeout, retries, queue) or ("webhook" in raw and raw["webhook"] and webhook is None):
            return None
        return NotifyConfig(ahead, webhook, timeout, retries, queue)

    def printer(self, raw: dict) -> PrinterConfig | None:
        self.unknown_keys(raw, {"paper"}, "printer.")
        paper = self.get(raw, "paper", "printer.", _choice((58, 80)), "58 or 80 (mm)")
        return PrinterConfig(paper) if paper is not None else None

    def fleet(self, raw: dict) -> FleetConfig | None:
        p = "fleet."
        self.unknown_keys(raw, {"heartbeat_seconds", "alert_after_seconds", "disk_low_mb"}, p)
        beat = self.get(raw, "heartbeat_seconds", p, _pos_number, "a positive number of seconds")
        after = self.get(raw, "alert_after_seconds", p, _pos_number, "a positive number of seconds")
        disk = self.get(raw, "disk_low_mb", p, _nonneg_number, "a number of megabytes >= 0")
        if None in (beat, after, disk):
            return None
        if after < beat:
            self.fail(f"{p}alert_after_seconds", f"{after:g} is shorter than fleet.heartbeat_seconds ({beat:g}): "
                                                 "every client would look missing between heartbeats")
        return FleetConfig(float(beat), float(after), float(disk))

    def survey(self, raw: dict) -> SurveyConfig | None:
        self.unknown_keys(raw, {"form"}, "survey.")
        form = self.get(raw, "form", "survey.", _choice(SURVEY_FORMS), " or ".join(SURVEY_FORMS))
        return SurveyConfig(form) if form is not None else None

    def hall(self, raw: dict) -> HallConfig | None:
        p = "hall."
        self.unknown_keys(raw, {"name", "short_name", "timezone", "timezone_label", "locale",
                                "opening_hours"} | content_config.HALL_KEYS, p)
        name = self.get(raw, "name", p, _text, "a non-empty string")
        short = self.get(raw, "short_name", p, _text, "a non-empty string", default=name)
        tz_name = self.get(raw, "timezone", p, _text, "a time zone name such as Asia/Jakarta")
        tz = _timezone(tz_name) if tz_name else None
        if tz_name and tz is None:
            self.fail(f"{p}timezone", f"expected a time zone name such as Asia/Jakarta or +07:00, got {tz_name!r}")
        label = self.get(raw, "timezone_label", p, _text, "a short label such as WIB")
        locale = self.get(raw, "locale", p, _choice(LOCALES), f"one of {', '.join(LOCALES)}")
        hours = self.get(raw, "opening_hours", p, _text, "a string")
        if None in (name, tz, locale):
            return None
        return HallConfig(name, short, tz, tz_name, label, locale, hours)

    def hub(self, raw: dict) -> HubConfig | None:
        p = "hub."
        self.unknown_keys(raw, {"host", "port", "journal", "sync", "max_message_bytes", "rate",
                                "send_queue", "replay_window", "history", "allowed_origins",
                                "ping_interval", "ping_timeout", "compression", "server_names", "public_url"}, p)
        host = self.get(raw, "host", p, _text, "a host name or address")
        port = self.get(raw, "port", p, _int_range(0, 65535), "a port number 0-65535")
        journal = self.get(raw, "journal", p, _text, "a file path")
        sync = self.get(raw, "sync", p, _choice(("full", "normal")), "full or normal")
        max_bytes = self.get(raw, "max_message_bytes", p, _int_range(256, 1 << 20),
                             "an integer 256-1048576")
        rate_raw = self.section(raw, "rate", p, required=False)
        self.unknown_keys(rate_raw, {"per_second", "burst"}, f"{p}rate.")
        per_second = self.get(rate_raw, "per_second", f"{p}rate.", _pos_number, "a positive number")
        burst = self.get(rate_raw, "burst", f"{p}rate.", _pos_int, "a positive integer")
        send_queue = self.get(raw, "send_queue", p, _pos_int, "a positive integer")
        replay = self.get(raw, "replay_window", p, _pos_int, "a positive integer")
        history = self.get(raw, "history", p, _pos_int, "a positive integer")
        origins = self.get(raw, "allowed_origins", p, _str_list, "a list of origins such as http://10.0.0.5:8765")
        ping_interval = self.get(raw, "ping_interval", p, _pos_number, "a positive number of seconds")
        ping_timeout = self.get(raw, "ping_timeout", p, _pos_number, "a positive number of seconds")
        compression = self.get(raw, "compression", p, _bool, "true or false")
        names = self.get(raw, "server_names", p, _str_list, "a list of host names such as hub.mpp.local")
        public_url = self.get(raw, "public_url", p, _http_url, "an http:// or https:// URL such as http://10.0.0.5:8765")
        if None in (host, port, journal, sync, max_bytes, per_second, burst, send_queue, replay, history,
                    origins, ping_interval, ping_timeout, compression, names):
            return None
        return HubConfig(host, port, self.resolve(journal), sync, max_bytes, RateLimit(per_second, burst),
                         send_queue, replay, history, tuple(origins), ping_interval, ping_timeout,
                         compression, tuple(n.lower() for n in names), (public_url or "").rstrip("/"))

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
                            default=fallback_counter_name(number) if number else None)
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
        allowed = {"code", "name", "agency", "prefix", "counters"} | content_config.SERVICE_KEYS
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
        window = self.get(raw, "no_show_window_minutes", p, _nonneg_number, "a number of minutes >= 0")
        transfer = self.get(raw, "transfer", p, _choice(("keep_place", "back")), "keep_place or back")
        priority = self.get(raw, "priority", p, _bool, "true or false")
        if None in (window, transfer, priority):
            return None
        return QueueConfig(window, transfer, priority)

    def display(self, raw: dict, numbers: set[int]) -> DisplayConfig | None:
        p = "display."
        self.unknown_keys(raw, {"zones", "history", "highlight_seconds", "offline_after_seconds",
                                "show_waiting", "show_estimate", "ticker", "logo", "font_dir", "ticker_speed",
                                "framebuffer_acceleration"} | content_config.DISPLAY_KEYS, p)
        zones = []
        for zp, item in self.entries(raw, "zones", p, {"name", "title", "counters"} | content_config.ZONE_KEYS,
                                     required=False):
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
        history = self.get(raw, "history", p, _int_range(0, 50), "an integer 0-50")
        highlight = self.get(raw, "highlight_seconds", p, _nonneg_number, "a number of seconds >= 0")
        offline = self.get(raw, "offline_after_seconds", p, _nonneg_number, "a number of seconds >= 0")
        waiting = self.get(raw, "show_waiting", p, _bool, "true or false")
        estimate = self.get(raw, "show_estimate", p, _bool, "true or false")
        ticker = self.get(raw, "ticker", p, _str_list, "a list of strings")
        logo = self.get(raw, "logo", p, _text, "a file path")
        font_dir = self.get(raw, "font_dir", p, _text, "a directory path")
        speed = self.get(raw, "ticker_speed", p, _pos_number, "a positive number of pixels per second")
        accel = self.get(raw, "framebuffer_acceleration", p, _bool, "true or false")
        if None in (history, highlight, offline, waiting, estimate, ticker, speed, accel):
            return None
        return DisplayConfig(tuple(zones), history, highlight, offline, waiting, tuple(ticker),
                             self.resolve(logo) if logo else None,
                             self.resolve(font_dir) if font_dir else None, speed, accel, estimate)

    def announcer(self, raw: dict) -> AnnouncerConfig | None:
        p = "announcer."
        self.unknown_keys(raw, {"enabled", "voice", "rate", "volume", "repeat", "max_age_seconds",
                                "queue_size", "burst_threshold", "chime", "cache_entries", "templates",
                                "short_templates", "recall_templates", "pronunciations", "voice_pack"}, p)
        enabled = self.get(raw, "enabled", p, _bool, "true or false")
        voice = self.get(raw, "voice", p, _text, "an espeak-ng voice name such as id")
        rate = self.get(raw, "rate", p, _int_range(60, 400), "words per minute, 60-400")
        volume = self.get(raw, "volume", p, _unit, "a number from 0 to 1")
        repeat = self.get(raw, "repeat", p, _int_range(1, 5), "an integer 1-5")
        max_age = self.get(raw, "max_age_seconds", p, _pos_number, "a positive number of seconds")
        queue_size = self.get(raw, "queue_size", p, _pos_int, "a positive integer")
        burst = self.get(raw, "burst_threshold", p, _pos_int, "a positive integer")
        chime = self.get(raw, "chime", p, _text, "a WAV file path")
        cache = self.get(raw, "cache_entries", p, _pos_int, "a positive integer")
        templates = self.templates(raw, "templates", p)
        short = self.templates(raw, "short_templates", p)
        recall = self.templates(raw, "recall_templates", p)
        pron = self.get(raw, "pronunciations", p, _str_map, "a mapping of word to spoken form")
        pack = self.get(raw, "voice_pack", p, _text, "a directory path")
        if None in (enabled, voice, rate, volume, repeat, max_age, queue_size, burst, chime, cache,
                    templates, short, recall, pron):
            return None
        return AnnouncerConfig(enabled, voice, rate, volume, repeat, max_age, queue_size, burst,
                               self.resolve(chime), cache, templates, short, recall, dict(pron),
                               self.resolve(pack) if pack else None)

    def templates(self, raw: dict, key: str, prefix: str) -> dict | None:
        defaults = DEFAULTS[f"{prefix}{key}"]
        value = self.get(raw, key, prefix, _str_map, "a mapping of locale to template")
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

    def audio(self, raw: dict, numbers: set[int], tokens: tuple[Token, ...],
              hall: HallConfig | None) -> AudioConfig | None:
        """audio.lease_seconds and audio_zones[]; no zones: one zone `hall` of every counter, any speaker."""
        section = self.section(raw, "audio", "", required=False)
        self.unknown_keys(section, {"lease_seconds"}, "audio.")
        lease = self.get(section, "lease_seconds", "audio.", _pos_number, "a positive number of seconds")
        displays = {t.name for t in tokens if t.role == "display"}
        zones: list[AudioZone] = []
        owner: dict[int, str] = {}
        allowed = {"name", "counters", "speakers", "languages"}
        for zp, item in self.entries(raw, "audio_zones", "", allowed, required=False):
            name = self.get(item, "name", zp, _code, "a name of letters, digits, - or _")
            value = item.get("counters", "all")
            counters = (sorted(numbers) if value == "all" and not isinstance(numbers, _Anything)
                        else _int_list(value))
            if counters is None:
                self.fail(f"{zp}counters", f"expected 'all' or a non-empty list of counter numbers, got "
                                           f"{_shown(value)}")
            for n in counters or ():
                if n not in numbers:
                    self.fail(f"{zp}counters", f"unknown counter {n} (not in counters)")
                elif n in owner and owner[n] != name:
                    self.fail(f"{zp}counters", f"counter {n} is already in audio zone {owner[n]!r}; "
                                               "a call is spoken in one zone")
                else:
                    owner[n] = name
            speakers = None
            if "speakers" in item:
                speakers = self.get(item, "speakers", zp, _str_list, "a list of display token names")
                for speaker in speakers or ():
                    if not isinstance(displays, _Anything) and speaker not in displays:
                        self.fail(f"{zp}speakers", f"unknown token name {speaker!r} (display tokens: "
                                                   f"{', '.join(sorted(displays)) or 'none'})")
                if speakers == ():
                    self.fail(f"{zp}speakers", "empty: nobody could speak in this zone")
            languages = self.get(item, "languages", zp, _str_list, "a list of languages such as [id, en]",
                                 default=(hall.locale,) if hall else ("id",))
            for language in languages or ():
                if language not in LOCALES:
                    self.fail(f"{zp}languages", f"unknown language {language!r} (known: {', '.join(LOCALES)})")
            if name in {z.name for z in zones}:
                self.fail(f"{zp}name", f"duplicate audio zone {name!r}")
            if None not in (name, counters, languages):
                zones.append(AudioZone(name, tuple(counters), tuple(speakers) if speakers else None,
                                       tuple(dict.fromkeys(languages))))
        if "audio_zones" in raw and raw["audio_zones"] is not None and not raw["audio_zones"]:
            self.fail("audio_zones", "empty list: leave the key out for one zone `hall` of every counter")
        if not zones and not isinstance(numbers, _Anything) and "audio_zones" not in raw:
            zones.append(AudioZone("hall", tuple(sorted(numbers)), None, (hall.locale,) if hall else ("id",)))
        if lease is None:
            return None
        return AudioConfig(tuple(zones), lease)

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
                        self.fail(f"{p}counters", f"expected {either}a list of counter numbers, got {_shown(value)}")
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


def _shown(value: Any) -> str:
    """A bad value as an error shows it: repr (controls escaped), capped, with why a number is refused."""
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, float) and not math.isfinite(value):
        return f"{text} (not a finite number)"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_COUNT:
        return f"{text} (more than {MAX_COUNT:,})"
    return text


def _text_problems(value: Any, where: str = "", seen: set[int] | None = None):
    """(key path, problem) for every string anywhere in the raw tree that the text rule refuses."""
    seen = set() if seen is None else seen
    if isinstance(value, str):
        long_text = re.sub(r"\[\d+\]", "[]", where) in LONG_TEXT_KEYS
        why = text_problem(value, multiline=long_text)
        if why:
            yield where, why
        return
    if not isinstance(value, (dict, list)) or id(value) in seen:  # aliases share objects: check once
        return
    seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (why := text_problem(key)):
                yield where or "(top level)", f"key {key!r} {why}"
                continue
            yield from _text_problems(item, f"{where}.{key}" if where else str(key), seen)
    else:
        for i, item in enumerate(value):
            yield from _text_problems(item, f"{where}[{i}]", seen)


# ---------------------------------------------------------------- value checks
# Each returns the cleaned value, or None when the value is invalid.


def _text(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _http_url(v: Any) -> str | None:
    if v == "":
        return ""
    return v.strip() if isinstance(v, str) and re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", v.strip()) else None


def _secret(v: Any) -> str | None:
    return v if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH and v == v.strip() else None


def _code(v: Any) -> str | None:
    return v if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", v) else None


def _prefix(v: Any) -> str | None:
    return v if isinstance(v, str) and tickets.PREFIX.fullmatch(v) else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _pos_int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_COUNT else None


def _int_range(lo: int, hi: int) -> Callable[[Any], int | None]:
    def check(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else None
    return check


def _number(v: Any) -> float | None:
    """A finite int or float, not a bool (YAML reads yes/no/on/off as booleans) and not .inf/.nan."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or abs(v) > MAX_COUNT:
        return None
    return float(v) if math.isfinite(v) else None


def _pos_number(v: Any) -> float | None:
    n = _number(v)
    return n if n is not None and n > 0 else None


def _nonneg_number(v: Any) -> float | None:
    n = _number(v)
    return n if n is not None and n >= 0 else None


def _unit(v: Any) -> float | None:
    n = _number(v)
    return n if n is not None and 0 <= n <= 1 else None


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: v if v in options else None


def _int_list(v: Any) -> list[int] | None:
    """A list of positive ints; "1-10" ranges are allowed as items."""
    if not isinstance(v, list) or not v:
        return None
    out: list[int] = []
    for item in v:
        if isinstance(item, str) and re.fullmatch(r"[0-9]{1,9}-[0-9]{1,9}", item):
            lo, hi = map(int, item.split("-"))
            if not 0 < lo <= hi or hi - lo >= MAX_RANGE:
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


def _read_playlist(path: Path) -> Any:
    """A playlist file named by content.playlist: read as strictly as config.yaml (duplicate keys refused)."""
    return _read_yaml(path.read_text(encoding="utf-8"), path)


def _timezone(name: str) -> tzinfo | None:
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
