"""Media made by the test suite itself, never downloaded: PyAV encodes test patterns, pygame saves images.

    make_video(path, seconds=1, fps=25, size=(320, 180), codec="libx264", colour=(200, 40, 40))
    make_image(path, size, colour)          # .png or .jpg by suffix
    truncate(path, keep=0.5), scramble(path)

Every video frame is a flat colour with a white bar that moves one step a frame, so a frame
shown on screen can be recognised by its colour and tested in pixels.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import av
import pygame

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
