"""What a display tells the fleet: its heartbeat figures, its current frame, its identify card.

Kept cheap (a heartbeat every few seconds costs two small /proc reads and a
statvfs): CPU% and RSS from /proc/self, free disk from shutil.disk_usage, the
warnings from a logging handler that only counts and keeps the last few.
Screenshots and the identify card are drawn on the render thread, which owns
the pygame surface; the link thread only carries bytes.
"""

from __future__ import annotations

import collections
import io
import logging
import os
import shutil
import socket
import time
from datetime import datetime
from pathlib import Path

from signage.core import messages as m, text

MAX_KEPT_WARNINGS = 5


def version() -> str:
    import signage

    return signage.__version__


class WarningCounter(logging.Handler):
    """Counts WARNING and worse, keeps the last few (one line each, for the heartbeat)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0
        self.last: collections.deque[str] = collections.deque(maxlen=MAX_KEPT_WARNINGS)

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        try:
            line = record.getMessage()
        except Exception:  # a bad format string must not break logging
            line = str(record.msg)
        self.last.append(text.for_log(f"{record.levelname} {record.name}: {line}", 190))


class Vitals:
    """CPU% and RSS of this process, free disk where it keeps its data."""

    def __init__(self, disk_path: Path, clock=time.monotonic):
        self.disk_path = disk_path
        self.clock = clock
        self.started = clock()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._cpu = (self.started, self._cpu_seconds())

    def _cpu_seconds(self) -> float:
        try:
            with open("/proc/self/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
        except (OSError, IndexError, ValueError):
            return 0.0

    def cpu_percent(self) -> float:
        """Of one core, since the last call."""
        now, cpu = self.clock(), self._cpu_seconds()
        then, before = self._cpu
        self._cpu = (now, cpu)
        return max(0.0, 100.0 * (cpu - before) / (now - then)) if now > then else 0.0

    def rss_bytes(self) -> int:
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * self._page
        except (OSError, IndexError, ValueError):
            return 0

    def disk_free_bytes(self) -> int:
        try:
            return shutil.disk_usage(self.disk_path).free
        except OSError:
            return 0

    def uptime(self) -> float:
        """Since the process started (not since this object was made): /proc/self/stat's starttime."""
        try:
            with open("/proc/self/stat", "rb") as f:
                started = int(f.read().rsplit(b")", 1)[1].split()[19]) / self._tick
            with open("/proc/uptime", "rb") as f:
                return max(0.0, float(f.read().split()[0]) - started)
        except (OSError, IndexError, ValueError):
            return self.clock() - self.started


class FrameRate:
    """Frames drawn per second between two reads (the render loop bumps `frames`)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._last = (clock(), 0)

    def read(self, frames: int) -> float:
        now = self.clock()
        then, before = self._last
        self._last = (now, frames)
        return round((frames - before) / (now - then), 2) if now > then else 0.0


def local_address(hub_url: str) -> str:
    """The address this machine uses to reach the hub (what a technician types to ssh in)."""
    from urllib.parse import urlsplit

    parts = urlsplit(hub_url)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((parts.hostname or "127.0.0.1", parts.port or 80))  # UDP: no packet is sent
            return s.getsockname()[0]
    except OSError:
        return "?"


def heartbeat(*, name: str, vitals: Vitals, fps: float, seq: int, zone: str | None, size: tuple[int, int] | None,
              rtt: float | None, clock: datetime, audio: str, audio_reason: str, broken: tuple[str, ...],
              warnings: WarningCounter, cache_bytes: int = 0, layout: str | None = None) -> m.Heartbeat:
    return m.Heartbeat(
        name=name, version=version(), uptime_s=round(vitals.uptime(), 1), fps=fps, seq=seq,
        cpu_percent=round(vitals.cpu_percent(), 2), rss_bytes=vitals.rss_bytes(),
        disk_free_bytes=vitals.disk_free_bytes(), audio=audio, audio_reason=audio_reason[:200], zone=zone,
        layout=layout, resolution=size, rtt_ms=None if rtt is None else round(rtt * 1000, 2), clock=clock,
        cache_bytes=cache_bytes, broken=broken[:5], warnings=warnings.count, last_warnings=tuple(warnings.last))


# ---------------------------------------------------------------- render thread


def screenshot_png(surface, max_width: int, max_bytes: int) -> bytes | None:
    """The surface as a PNG at most max_width wide and max_bytes long (halving the width until it fits)."""
    import pygame

    width = min(max_width, surface.get_width())
    while width >= 40:
        height = max(1, round(surface.get_height() * width / surface.get_width()))
        scaled = surface if width == surface.get_width() else pygame.transform.smoothscale(surface, (width, height))
        out = io.BytesIO()
        pygame.image.save(scaled, out, "frame.png")
        data = out.getvalue()
        if len(data) <= max_bytes:
            return data
        width //= 2
    return None


def draw_identify(surface, fonts, lines: list[str]) -> "object":
    """The identify card, centred over the board; returns the rect to update."""
    import pygame

    w, h = surface.get_size()
    box = pygame.Rect(0, 0, int(w * 0.8), int(h * 0.6))
    box.center = (w // 2, h // 2)
    surface.fill((255, 200, 0), box)
    surface.fill((20, 20, 20), box.inflate(-max(8, h // 60), -max(8, h // 60)))
    px = max(12, box.h // (len(lines) * 2 + 1))
    y = box.y + (box.h - px * 1.5 * len(lines)) // 2
    for i, line in enumerate(lines):
        font = fonts.font(int(px * (1.3 if i == 0 else 1.0)), i == 0)
        while font.size(line)[0] > box.w - 40 and px > 10:
            px -= 2
            font = fonts.font(px, i == 0)
        rendered = font.render(line, True, (255, 255, 255), (20, 20, 20))
        surface.blit(rendered, (box.centerx - rendered.get_width() // 2, int(y)))
        y += px * 1.5
    return box
