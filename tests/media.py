"""Media made by the test suite itself, never downloaded: PyAV encodes test patterns, pygame saves images.

    make_video(path, seconds=1, fps=25, size=(320, 180), codec="libx264", colour=(200, 40, 40))
    make_image(path, size, colour)          # .png or .jpg by suffix
    truncate(path, keep=0.5), scramble(path)
    Stage(cfg, screen, playlist(file_item(...), ...))   # a player stepped as the display loop steps it

Every video frame is a flat colour with a white bar that moves one step a frame, so a frame
shown on screen can be recognised by its colour and tested in pixels.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import av
import pygame

from signage.core import protocol
from signage.core.content import ManifestItem, SlideDoc, SlideSection
from signage.core.layout import Rect
from signage.display.media.player import MediaPlayer
from signage.display.media.sync import Mailbox, Playlist
from signage.display.media.video import PixelFormat
from signage.display.renderer import FontBook
from signage.hub.content import sha256_of
from support import timeout

WIB = timezone(timedelta(hours=7))
AREA = Rect(100, 50, 640, 360)

CONTAINER = {"libx264": ".mp4", "libvpx-vp9": ".webm", "mpeg4": ".mp4"}


def make_video(path: Path, *, seconds: float = 1.0, fps: int = 25, size: tuple[int, int] = (320, 180),
               codec: str = "libx264", colour: tuple[int, int, int] = (200, 40, 40), audio: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    frames = max(1, round(seconds * fps))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        elif codec == "libvpx-vp9":
            stream.options = {"deadline": "realtime", "cpu-used": "8"}
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=22050)
            sound.layout = "mono"
        surface = pygame.Surface(size)
        bar = max(2, w // 20)
        for i in range(frames):
            surface.fill(colour)
            pygame.draw.rect(surface, (255, 255, 255), ((i * bar) % max(1, w - bar), h // 3, bar, h // 3))
            frame = av.VideoFrame(w, h, "rgb24")
            frame.planes[0].update(pygame.image.tobytes(surface, "RGB"))
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            _tone(out, sound, seconds)
    return path


def _tone(out, stream, seconds: float) -> None:
    rate = 22050
    samples = int(rate * seconds)
    block = 1024
    for start in range(0, samples, block):
        n = min(block, samples - start)
        data = bytes()
        import array
        values = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * (start + k) / rate)) for k in range(n)))
        data = values.tobytes()
        frame = av.AudioFrame(format="s16", layout="mono", samples=n)
        frame.planes[0].update(data)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def make_image(path: Path, size: tuple[int, int] = (640, 360), colour: tuple[int, int, int] = (30, 120, 200),
               text: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    surface = pygame.Surface(size)
    surface.fill(colour)
    pygame.draw.rect(surface, (255, 255, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), width=8)
    if text:
        pygame.font.init()
        font = pygame.font.Font("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", size[1] // 6)
        label = font.render(text, True, (255, 255, 255))
        surface.blit(label, ((size[0] - label.get_width()) // 2, (size[1] - label.get_height()) // 2))
    pygame.image.save(surface, str(path))
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(int(size * keep))
    return path


def scramble(path: Path) -> Path:
    """Same size, garbage content: not decodable."""
    size = os.path.getsize(path)
    Path(path).write_bytes(bytes((i * 73 + 41) % 251 for i in range(size)))
    return path


# ---------------------------------------------------------------- playing them


def file_item(key: str, path: Path, kind: str = "video", seconds: float | None = None, **kw) -> ManifestItem:
    return ManifestItem(key, kind, seconds, file=path.name, sha256=sha256_of(path), size=path.stat().st_size, **kw)


def slide_item(key: str, heading: str = "UJI", seconds: float = 0.3) -> ManifestItem:
    return ManifestItem(key, "slide", seconds, slide=SlideDoc("maklumat", heading, "", (SlideSection(body="Isi"),)))


def playlist(*items: ManifestItem, fallback=()) -> Playlist:
    manifest = protocol.make_manifest(items, fallback)
    return Playlist(manifest, {}, "test")


def with_paths(pl: Playlist, *paths: Path) -> Playlist:
    return dataclasses.replace(pl, paths={sha256_of(p): p for p in paths})


class Stage:
    """A player on a screen, stepped like the display loop does: sleep until it is due, present.

    virtual=True runs on a clock of its own that jumps to each due time, but never past a
    picture that isn't decoded yet: playback as a perfectly punctual loop would see it, as fast
    as the decoders go, whatever else loads the machine.
    """

    def __init__(self, cfg, screen, first: Playlist, hall_time: datetime | None = None, virtual: bool = False):
        self.virtual = virtual
        self.mailbox = Mailbox()
        self.mailbox.put(first)
        self.now = time.monotonic()
        self.hall_time = hall_time
        self.player = MediaPlayer(cfg.content, "semua", clock=self._hall_clock, fonts=FontBook(),
                                  mailbox=self.mailbox)
        self.player.place(AREA, PixelFormat.for_surface(screen))
        self.screen = screen
        self.drawn: list[tuple[float, str]] = []  # (clock, item key) of every picture drawn

    def _hall_clock(self) -> datetime:
        return self.hall_time or datetime.now(WIB)

    def step(self, covers=(), repaint=False) -> list:
        if not self.virtual:
            self.now = time.monotonic()
        rects = self.player.present(self.screen, self.now, covers, repaint)
        if rects and self.player.current is not None:
            self.drawn.append((self.now, self.player.current.item.key))
        if self.virtual:
            due = self.player.due_in(self.now)
            if self._waiting() or due is None:
                time.sleep(0.001)  # a decoder or a worker is behind: real time passes, the clock waits
            else:
                self.now += due
        else:
            due = self.player.due_in(time.monotonic())
            time.sleep(min(0.25, due if due is not None else 0.25))
        return rects

    def _waiting(self) -> bool:
        p = self.player
        if any(slot is not None and not slot.source.ready for slot in (p.current, p.next)):
            return True
        source = p.current.source if p.current is not None and p.current.started else None
        return source is not None and source.kind == "video" and source.next_due is None and source.end_time is None

    def play_until(self, predicate, seconds: float = 10.0, what: str = "it") -> None:
        deadline = time.monotonic() + timeout(seconds)
        while not predicate():
            assert time.monotonic() < deadline, f"never saw {what}; player: {self.player.describe()}"
            self.step()

    def colour_at_centre(self):
        # Below the test pattern's moving bar (it spans the middle third of the height).
        return tuple(self.screen.get_at((AREA.x + AREA.w // 2, AREA.y + AREA.h * 85 // 100)))[:3]

    def close(self):
        self.player.close()


