"""Reading back what SDL's disk driver captured: raw signed 16-bit samples at the mixer rate."""

from __future__ import annotations

import io
import math
import wave
from array import array


def wav_frames(data: bytes) -> tuple[int, bytes]:
    with wave.open(io.BytesIO(data), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2), "expected mono 16-bit"
        return w.getframerate(), w.readframes(w.getnframes())


def find_all(capture: bytes, needle: bytes) -> list[int]:
    """Sample offsets where `needle` appears verbatim (a sound played alone at full volume is
    copied bit-exactly into the mix; if anything overlapped it, it would not be found)."""
    found, start = [], 0
    while (i := capture.find(needle, start)) != -1:
        if i % 2 == 0:
            found.append(i // 2)
        start = i + 1
    return found


def samples(data: bytes) -> array:
    out = array("h")
    out.frombytes(data)
    return out


def tone_power(chunk: array, freq: float, rate: int) -> float:
    """Goertzel: power of one frequency in a block of samples."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in chunk:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2
