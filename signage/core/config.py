"""The config schema: what config.yaml holds, as frozen dataclasses. Pure: no files, no YAML.

`signage.config` reads and validates the file and builds these; core modules and
shells only ever see the dataclasses (shells may keep importing them from
`signage.config`, which re-exports every name here). Time zones are `tzinfo`
objects built by the loader; `Path`s are already resolved against the config file.

Defaults are stated once, in DEFAULTS below (keyed by YAML key path); the loader
applies them and README's configuration table is checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from signage.core.content import DEFAULT_CONTENT, ContentConfig
from signage.errors import ConfigError

ROLES = ("operator", "display", "kiosk", "survey", "admin")  # survey: SKM tablets; admin: /reports, /status, actions
SURVEY_FORMS = ("full", "short")  # survey.form: the nine elements, or one overall question (signage.core.survey)
LOCALES = ("id", "en")
MIN_SECRET_LENGTH = 8  # shorter token secrets are refused
STRONG_SECRET_LENGTH = 16  # shorter ones are accepted with a warning (check-config --strict refuses them)


def fallback_counter_name(number: int) -> str:
    """The name of a counter that config doesn't name: "Loket 5" (spoken "counter five" in English)."""
    return f"Loket {number}"


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
    server_names: tuple[str, ...] = ()  # Host names the hub answers to; empty: IP literals and localhost
    public_url: str = ""  # how phones reach the hub (QR codes); empty: http://<host>:<port>


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
    show_estimate: bool = False  # the waiting panel also shows each agency's wait estimate (from the hub)


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
class AudioZone:
    """One sound system: the counters whose calls it speaks and who may speak there (see core/voice.py)."""

    name: str
    counters: tuple[int, ...]
    speakers: tuple[str, ...] | None = None  # display token names, most preferred first; None: any announcer
    languages: tuple[str, ...] = ("id",)  # each call is spoken in these, in turn


@dataclass(frozen=True)
class AudioConfig:
    zones: tuple[AudioZone, ...] = ()
    lease_seconds: float = 3.0  # a voice holder not heard from this long loses its zone

    def zone(self, name: str) -> AudioZone | None:
        return next((z for z in self.zones if z.name == name), None)

    def zone_of(self, counter: int) -> AudioZone | None:
        return next((z for z in self.zones if counter in z.counters), None)


@dataclass(frozen=True)
class QueueConfig:
    no_show_window_minutes: float
    transfer: str  # "keep_place" or "back"
    priority: bool  # kiosks may issue priority tickets that go first


@dataclass(frozen=True)
class FleetConfig:
    heartbeat_seconds: float = 5.0  # every display reports its health this often
    alert_after_seconds: float = 15.0  # a known client silent for longer raises "missing"
    disk_low_mb: float = 500.0  # free disk below this raises "disk_low"


@dataclass(frozen=True)
class NotifyConfig:
    when_ahead: int = 3  # "Sebentar lagi giliran Anda" (and the webhook's `near`) at this many ahead or fewer
    webhook: str | None = None  # POST near/called for tickets with a phone number; None: off
    webhook_timeout: float = 5.0  # seconds per attempt
    webhook_retries: int = 4  # attempts after the first, with backoff
    webhook_queue: int = 200  # notifications waiting to be sent; beyond it the oldest is dropped


@dataclass(frozen=True)
class PrinterConfig:
    paper: int = 80  # roll width in mm: 58 or 80


@dataclass(frozen=True)
class SurveyConfig:
    form: str = "full"  # what /survey asks; the hub accepts either form from third-party tablets


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
    notify: NotifyConfig = NotifyConfig()
    printer: PrinterConfig = PrinterConfig()
    fleet: FleetConfig = FleetConfig()
    content: ContentConfig = DEFAULT_CONTENT  # content section, layouts, service standards (core/content.py)
    survey: SurveyConfig = SurveyConfig()
    audio: AudioConfig = AudioConfig()

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

    def counter_name(self, number: int) -> str:
        """The configured name, else the fallback ("Loket 12") for a counter config doesn't know."""
        counter = self._by_number.get(number)
        return counter.name if counter else fallback_counter_name(number)

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


# ---------------------------------------------------------------- defaults

DEFAULT_TEMPLATES = MappingProxyType({
    "id": "Nomor antrian, {letter}, {number}, silakan menuju, {counter}.",
    "en": "Ticket number, {letter}, {number}, please proceed to, {counter}.",
})
DEFAULT_SHORT_TEMPLATES = MappingProxyType({
    "id": "{letter}, {number}, {counter}.",
    "en": "{letter}, {number}, {counter}.",
})
DEFAULT_RECALL_TEMPLATES = MappingProxyType({
    "id": "Panggilan ulang, nomor antrian, {letter}, {number}, silakan menuju, {counter}.",
    "en": "Calling again, ticket number, {letter}, {number}, please proceed to, {counter}.",
})

# The value a key takes when config.yaml leaves it out, by key path. Keys not here
# are required, or their default is derived from another key (short_name = name,
# a counter's name = fallback_counter_name, a zone's title = its name, the zones
# = one zone of every counter).
DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "hall.timezone": "Asia/Jakarta",
    "hall.timezone_label": "WIB",
    "hall.locale": "id",
    "hall.opening_hours": "",
    "hall.maklumat": "",
    "hall.pengaduan": "",
    "hub.host": "127.0.0.1",
    "hub.port": 8765,
    "hub.journal": "var/journal.sqlite",
    "hub.sync": "full",
    "hub.max_message_bytes": 4096,
    "hub.rate.per_second": 20,
    "hub.rate.burst": 40,
    "hub.send_queue": 256,
    "hub.replay_window": 5000,
    "hub.history": 20,
    "hub.allowed_origins": (),
    "hub.ping_interval": 10,
    "hub.ping_timeout": 10,
    "hub.compression": False,
    "hub.server_names": (),
    "hub.public_url": "",
    "notify.when_ahead": 3,
    "notify.webhook": None,
    "notify.webhook_timeout": 5,
    "notify.webhook_retries": 4,
    "notify.webhook_queue": 200,
    "printer.paper": 80,
    "queue.no_show_window_minutes": 30,
    "queue.transfer": "keep_place",
    "queue.priority": True,
    "display.history": 6,
    "display.highlight_seconds": 8,
    "display.offline_after_seconds": 3,
    "display.show_waiting": True,
    "display.show_estimate": False,
    "display.ticker": (),
    "display.logo": None,  # the built-in logo (signage.display.logo)
    "display.font_dir": None,  # DejaVu from fonts-dejavu-core, else pygame's bundled font
    "display.ticker_speed": 120,
    "display.framebuffer_acceleration": False,
    "display.layout": "queue",
    "announcer.enabled": True,
    "announcer.voice": "id",
    "announcer.rate": 140,
    "announcer.volume": 1.0,
    "announcer.repeat": 2,
    "announcer.max_age_seconds": 120,
    "announcer.queue_size": 64,
    "announcer.burst_threshold": 3,
    "announcer.chime": "assets/chime.wav",
    "announcer.cache_entries": 256,
    "announcer.templates": DEFAULT_TEMPLATES,
    "announcer.short_templates": DEFAULT_SHORT_TEMPLATES,
    "announcer.recall_templates": DEFAULT_RECALL_TEMPLATES,
    "announcer.pronunciations": MappingProxyType({}),
    "announcer.voice_pack": None,
    "audio.lease_seconds": 3,
    "fleet.heartbeat_seconds": 5,
    "fleet.alert_after_seconds": 15,
    "fleet.disk_low_mb": 500,
    "content.dir": None,  # no files: the generated slides only
    "content.playlist": (),
    "content.audio": False,
    "content.volume": 1.0,
    "content.duck_volume": 0.15,
    "content.cache_dir": "var/content-cache",
    "content.cache_mb": 2048,
    "content.image_seconds": 10,
    "content.slide_seconds": 12,
    "content.services_per_slide": 2,
    "survey.form": "full",
})

# String values that may hold newlines and tabs (the text rule's long-text fields), by key
# path with list indexes written "[]": the texts of generated slides (signage.core.content_config).
LONG_TEXT_KEYS: frozenset[str] = frozenset({
    "hall.maklumat",  # the maklumat pelayanan, a pledge of several lines
    "hall.pengaduan",
    "services[].persyaratan",  # a text of one requirement a line (or a list of one-line strings)
    "services[].prosedur",
})
