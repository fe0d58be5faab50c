"""Content for the board's media area, as data: the config schema, the manifest, and the schedule. Pure.

Theory of operation
-------------------
The hub reads `content:` from config (a folder and a playlist) and turns it into a
Manifest: every item with its schedule, the SHA-256 and size of its file, or the
text of a generated slide (signage.core.slides). A `content` event carries the
manifest to every display (signage.core.messages.ContentChanged). A display
downloads the files it lacks into its cache, verifies each hash, and then swaps
in the new playlist in one step.

At play time the display asks, for its zone and the hall-local time `now`:

    pick(items, after, now, zone, skip) -> index of the next item due, or None

An item is due when `now` is inside its date range, on one of its weekdays and in
its time-of-day window. A window may wrap past midnight (`from: "22:00", until:
"02:00"`): the hours after midnight then belong to the day the window opened, so
a Friday-night item still plays at 01.00 on Saturday. Items for other zones, and
items in `skip` (a file that failed to download or decode), are passed over.
When nothing is due, the display falls back to the generated slides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Collection, Mapping, Sequence

LAYOUTS = ("queue", "split", "media")
KINDS = ("image", "video", "slide")
SLIDE_KINDS = ("standar-pelayanan", "maklumat", "jam-layanan")
# Monday first, as datetime.weekday() counts; English and Indonesian (KBBI) names.
WEEKDAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"))},
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm")


# ---------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Schedule:
    """When an item may play. Every field is optional: None means no restriction."""

    start_date: date | None = None  # first day, inclusive
    end_date: date | None = None  # last day, inclusive
    weekdays: frozenset[int] | None = None  # 0 = Monday
    window_from: time | None = None  # time-of-day window [from, until); wraps midnight if from > until
    window_until: time | None = None

    def is_due(self, local: datetime) -> bool:
        """Does the item play at `local` (hall time)?"""
        day = self.service_day(local)
        if day is None:
            return False
        if self.start_date is not None and day < self.start_date:
            return False
        if self.end_date is not None and day > self.end_date:
            return False
        return self.weekdays is None or day.weekday() in self.weekdays

    def service_day(self, local: datetime) -> date | None:
        """The day whose window `local` falls in (the day before, after a midnight wrap); None outside it."""
        start, until = self.window_from, self.window_until
        if start is None and until is None:
            return local.date()
        t = local.time().replace(tzinfo=None)
        start = start or time(0)
        if until is None:
            return local.date() if t >= start else None
        if start < until:
            return local.date() if start <= t < until else None
        if t >= start:
            return local.date()
        if t < until:
            return local.date() - timedelta(days=1)
        return None

    @property
    def wraps(self) -> bool:
        return (self.window_from is not None and self.window_until is not None
                and self.window_from > self.window_until)


ALWAYS = Schedule()


# ---------------------------------------------------------------- config schema


@dataclass(frozen=True)
class ServiceStandard:
    """The published standar pelayanan of one service (UU 25/2009): what the slides show."""

    persyaratan: tuple[str, ...] = ()  # requirements, one per line
    prosedur: str = ""  # sistem, mekanisme dan prosedur
    jangka_waktu: str = ""  # "1 hari"
    biaya: str = ""  # "Gratis"
    produk: str = ""  # "KTP-el"

    @property
    def empty(self) -> bool:
        return not (self.persyaratan or self.prosedur or self.jangka_waktu or self.biaya or self.produk)


@dataclass(frozen=True)
class PlaylistItem:
    """One entry of `content.playlist` as configured."""

    kind: str  # image | video | slide
    file: str | None = None  # image and video: a path inside content.dir
    slide: str | None = None  # slide: one of SLIDE_KINDS
    agency: str | None = None  # standar-pelayanan: the agency; None = every agency with standards
    services: tuple[str, ...] | None = None  # standar-pelayanan: just these services
    seconds: float | None = None  # images and slides: how long; video: cut after this (None = to the end)
    schedule: Schedule = ALWAYS
    zones: tuple[str, ...] | None = None  # None = every zone
    title: str = ""  # for logs and `content check`


@dataclass(frozen=True)
class ContentConfig:
    dir: Path | None  # the hub's content folder; None = no files (slides only)
    playlist: tuple[PlaylistItem, ...]
    playlist_file: Path | None  # where the playlist was read from, when not inline
    audio: bool  # play a video's sound (else muted)
    volume: float  # video sound, 0..1
    duck_volume: float  # video sound while the board announces, 0..1
    cache_dir: Path  # a display's local cache
    cache_bytes: int  # its bound
    image_seconds: float  # default duration of an image
    slide_seconds: float  # default duration of a slide
    services_per_slide: int  # standar-pelayanan: services on one slide
    layout: str  # display.layout: queue | split | media
    zone_layouts: Mapping[str, str] = field(default_factory=dict)  # display.zones[].layout
    standards: Mapping[str, ServiceStandard] = field(default_factory=dict)  # service code → standard
    maklumat: str = ""  # hall.maklumat: the service pledge, several lines
    pengaduan: str = ""  # hall.pengaduan: where to complain (shown on each standar-pelayanan slide)

    def layout_for(self, zone: str | None) -> str:
        return self.zone_layouts.get(zone, self.layout) if zone is not None else self.layout


DEFAULT_CACHE_BYTES = 2 * 1024 ** 3

DEFAULT_CONTENT = ContentConfig(
    dir=None, playlist=(), playlist_file=None, audio=False, volume=1.0, duck_volume=0.15,
    cache_dir=Path("var/content-cache"), cache_bytes=DEFAULT_CACHE_BYTES, image_seconds=10.0,
    slide_seconds=12.0, services_per_slide=2, layout="queue")


# ---------------------------------------------------------------- slides and the manifest


@dataclass(frozen=True)
class SlideSection:
    """One block of a slide: a service's standard, or a paragraph."""

    title: str = ""  # "Perekaman KTP-el"
    rows: tuple[tuple[str, str], ...] = ()  # ("Jangka waktu", "1 hari")
    bullets: tuple[str, ...] = ()  # requirements
    bullets_title: str = ""  # "Persyaratan"
    body: str = ""  # free text; newlines separate paragraphs


@dataclass(frozen=True)
class SlideDoc:
    """What a generated slide says, independent of any screen size (signage.core.slides lays it out)."""

    kind: str  # one of SLIDE_KINDS
    heading: str  # "STANDAR PELAYANAN"
    subheading: str = ""  # the agency's name
    sections: tuple[SlideSection, ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class ManifestItem:
    """One playable item, as the hub publishes it."""

    key: str  # stable label for logs and errors: "playlist[2]" or "playlist[3].1"
    kind: str  # image | video | slide
    seconds: float | None
    schedule: Schedule = ALWAYS
    zones: tuple[str, ...] | None = None
    file: str | None = None  # the name in content.dir, for logs
    sha256: str | None = None  # files: the content address (hex)
    size: int | None = None  # files: bytes
    slide: SlideDoc | None = None

    @property
    def identity(self) -> tuple:
        """Two items with the same identity play the same thing (a manifest switch keeps it playing)."""
        return (self.kind, self.sha256, self.slide, self.seconds)


@dataclass(frozen=True)
class Manifest:
    items: tuple[ManifestItem, ...]
    digest: str  # SHA-256 of the items' canonical form: equal digests, equal manifests
    fallback: tuple[ManifestItem, ...] = ()  # generated slides: what plays when no item is due

    def files(self) -> dict[str, int]:
        """sha256 → size of every file the manifest needs."""
        return {i.sha256: i.size or 0 for i in self.items if i.sha256 is not None}


# ---------------------------------------------------------------- what plays next


def shows_in(item: ManifestItem, zone: str | None) -> bool:
    return item.zones is None or zone is None or zone in item.zones


def is_due(item: ManifestItem, local: datetime, zone: str | None) -> bool:
    return shows_in(item, zone) and item.schedule.is_due(local)


def pick(items: Sequence[ManifestItem], after: int | None, local: datetime, zone: str | None,
         skip: Collection[int] = ()) -> int | None:
    """Index of the next item due after index `after` (from the start if None), wrapping; None if none is."""
    n = len(items)
    first = 0 if after is None else after + 1
    for k in range(n):
        i = (first + k) % n
        if i not in skip and is_due(items[i], local, zone):
            return i
    return None


def duration(item: ManifestItem, defaults: ContentConfig) -> float | None:
    """How long an item plays; None for a video without `seconds` (it plays to its end)."""
    if item.seconds is not None:
        return item.seconds
    if item.kind == "image":
        return defaults.image_seconds
    if item.kind == "slide":
        return defaults.slide_seconds
    return None


def kind_of_file(name: str) -> str | None:
    """'image' or 'video' from a file name's suffix, None if unsupported."""
    lower = name.lower()
    if lower.endswith(IMAGE_SUFFIXES):
        return "image"
    if lower.endswith(VIDEO_SUFFIXES):
        return "video"
    return None


def video_volume(content: ContentConfig, speaking: bool) -> float:
    """A video's sound level: muted unless content.audio, lowered to duck_volume while the board speaks."""
    if not content.audio:
        return 0.0
    return content.duck_volume if speaking else content.volume
