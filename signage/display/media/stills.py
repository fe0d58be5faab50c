"""Images and generated slides for the media area: prepared off the critical path, shown for their seconds.

An ImageSource decodes and scales its file in a worker thread (pygame.image.load and
smoothscale hold no lock the display needs). A SlideSource is drawn by our own renderer
into an offscreen surface a few texts at a time (`step`, a time budget per loop turn),
because fonts belong to the display thread: FreeType must not open faces from two
threads at once. Both are prepared while the previous item still plays.

Both follow the VideoSource interface the player drives: ready, error, start(t0),
picture(now), next_due, end_time, ended(now), close().
"""

from __future__ import annotations

import struct
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import pygame

from signage.core.content import SlideDoc
from signage.core.layout import Rect, Region
from signage.core.slides import slide_region

MAX_SIDE = 8192  # an image larger than this each way is refused before it is decoded
MAX_PIXELS = 40_000_000


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG or JPEG header, without decoding. Raises ValueError."""
    with open(path, "rb") as f:
        head = f.read(32)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            if head[12:16] != b"IHDR":
                raise ValueError("PNG without an IHDR header")
            return struct.unpack(">II", head[16:24])
        if head.startswith(b"\xff\xd8"):
            f.seek(2)
            while True:
                marker = f.read(2)
                if len(marker) < 2 or marker[0] != 0xFF:
                    raise ValueError("JPEG without a frame header (truncated or not a JPEG)")
                if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
                    continue
                length_bytes = f.read(2)
                if len(length_bytes) < 2:
                    raise ValueError("truncated JPEG")
                (length,) = struct.unpack(">H", length_bytes)
                if marker[1] in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                    data = f.read(5)
                    if len(data) < 5:
                        raise ValueError("truncated JPEG")
                    h, w = struct.unpack(">HH", data[1:5])
                    return w, h
                f.seek(length - 2, 1)
    raise ValueError("not a PNG or JPEG file")


def check_image(path: Path) -> tuple[int, int]:
    """Size of a usable image; ValueError if it is not one (bad header, too large, or it won't decode)."""
    w, h = image_size(path)
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE) or w * h > MAX_PIXELS:
        raise ValueError(f"image of {w}x{h} pixels is too large (limit {MAX_SIDE} a side, {MAX_PIXELS:,} pixels)")
    try:
        pygame.image.load(str(path))
    except (pygame.error, OSError) as exc:
        raise ValueError(f"does not decode: {exc}") from None
    return w, h


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled to fit inside `box`, keeping its shape."""
    w, h = size
    k = min(box[0] / max(1, w), box[1] / max(1, h))
    return max(1, round(w * k)), max(1, round(h * k))


class _Still:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.error: str | None = None
        self.t0: float | None = None
        self.last: pygame.Surface | None = None
        self._surface: pygame.Surface | None = None
        self._shown = False
        self.dropped = 0
        self.shown = 0

    @property
    def ready(self) -> bool:
        return self._surface is not None or self.error is not None

    def start(self, t0: float) -> None:
        self.t0 = t0

    def picture(self, now: float) -> pygame.Surface | None:
        if self.t0 is None or self._surface is None or self._shown:
            return None
        self._shown = True
        self.shown = 1
        self.last = self._surface
        return self._surface

    @property
    def next_due(self) -> float | None:
        return self.t0 if (self.t0 is not None and not self._shown and self._surface is not None) else None

    @property
    def end_time(self) -> float | None:
        return None if self.t0 is None else self.t0 + self.seconds

    expected_end = end_time

    def ended(self, now: float) -> bool:
        if self.error is not None:
            return True
        end = self.end_time
        return end is not None and now >= end

    def step(self, budget: float) -> None:
        """Advance the preparation by about `budget` seconds of work (slides only)."""

    def close(self) -> None:
        self._surface = None
        self.last = None


class ImageSource(_Still):
    kind = "image"

    def __init__(self, path: Path, area: tuple[int, int], seconds: float, executor: Executor):
        super().__init__(seconds)
        self.path = Path(path)
        self._future: Future = executor.submit(self._load, area)

    def _load(self, area: tuple[int, int]) -> pygame.Surface:
        check_image(self.path)
        image = pygame.image.load(str(self.path))
        size = fit(image.get_size(), area)
        if image.get_bitsize() not in (24, 32):  # smoothscale needs 24 or 32 bits; no display needed this way
            deep = pygame.Surface(image.get_size(), 0, 24)
            deep.blit(image, (0, 0))
            image = deep
        return pygame.transform.smoothscale(image, size) if size != image.get_size() else image

    @property
    def ready(self) -> bool:
        if self._surface is None and self.error is None and self._future.done():
            try:
                surface = self._future.result()
            except (ValueError, OSError, pygame.error) as exc:
                self.error = str(exc) or type(exc).__name__
            else:
                # convert() needs the display: done here, on the display thread.
                self._surface = surface.convert() if pygame.display.get_surface() is not None else surface
        return self._surface is not None or self.error is not None

    def close(self) -> None:
        self._future.cancel()
        super().close()


class SlideSource(_Still):
    kind = "slide"

    def __init__(self, doc: SlideDoc, area: tuple[int, int], seconds: float, renderer):
        super().__init__(seconds)
        self.doc = doc
        self._renderer = renderer  # a Renderer of its own (its caches are separate from the board's)
        region = slide_region(doc, Rect(0, 0, *area))
        self._canvas = pygame.Surface(area)
        self._canvas.fill(region.background)
        self._todo = list(region.items)

    def step(self, budget: float) -> None:
        if self._surface is not None:
            return
        deadline = time.perf_counter() + budget
        while self._todo:
            item = self._todo.pop(0)
            # One item at a time, through the renderer's own drawing code.
            self._renderer.draw_region(Region("slide", Rect(0, 0, 0, 0), (0, 0, 0), (item,)), self._canvas)
            if time.perf_counter() >= deadline:
                return
        self._surface = self._canvas


def still_picture(item, path: Path | None, area: tuple[int, int], renderer) -> pygame.Surface:
    """One item's picture for a still frame (`signage render`): a slide drawn, an image fitted, a video's first frame.

    Raises ValueError if the file can't be shown.
    """
    if item.kind == "slide":
        surface = pygame.Surface(area)
        renderer.draw_region(slide_region(item.slide, Rect(0, 0, *area)), surface)
        return surface
    if path is None:
        raise ValueError(f"{item.file}: not available")
    if item.kind == "image":
        check_image(path)
        image = pygame.image.load(str(path))
        if image.get_bitsize() not in (24, 32):
            deep = pygame.Surface(image.get_size(), 0, 24)
            deep.blit(image, (0, 0))
            image = deep
        return pygame.transform.smoothscale(image, fit(image.get_size(), area))
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(container.streams.video[0]))
    except (av.FFmpegError, OSError, StopIteration, IndexError) as exc:
        raise ValueError(f"{item.file}: {exc}") from None
    w, h = fit((frame.width, frame.height), area)
    rgb = frame.reformat(width=w, height=h, format="rgb24")
    return pygame.image.frombuffer(bytes(rgb.planes[0]), (w, h), "RGB", rgb.planes[0].line_size).copy()
