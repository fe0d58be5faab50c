"""Running the real player in a subprocess and reading back what SDL's disk driver captured
(raw signed 16-bit samples at the mixer rate)."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from support import timeout

HERE = Path(__file__).parent
RATE = 22050  # the mixer's rate (MIXER_SETTINGS)


def play(tmp_path: Path, spec: dict, *, capture: bool = True, env: dict | None = None):
    """Run play_and_capture.py; returns (its JSON result, the captured raw bytes, its stderr)."""
    raw = tmp_path / "capture.raw"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
    run_env.update(env or {})
    done = subprocess.run([sys.executable, str(HERE / "play_and_capture.py"),
                           str(raw) if capture else "-", json.dumps(spec)],
                          capture_output=True, text=True, timeout=timeout(120), env=run_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, (raw.read_bytes() if capture and raw.exists() else b""), done.stderr


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


@dataclass(frozen=True)
class Played:
    start: int  # sample offset in the capture
    length: int  # samples
    part: str  # "chime" | "speech"
    seq: int

    @property
    def end(self) -> int:
        return self.start + self.length


def played_whole_in_order(result: dict, capture: bytes) -> list[Played]:
    """Every sound the announcer handed to the mixer (result["handed"]), found verbatim in the
    capture in the order handed, each starting after the previous one ended.

    SDL's disk driver writes every buffer the mixer produced (a starved audio thread falls
    behind, it never drops or repeats one), so a sound missing here was cut short, replaced
    or mixed with another by the player: the message says which, and how much of it was heard.
    """
    sounds = {key: bytes.fromhex(data) for key, data in result["sounds"].items()}
    played, at = [], 0
    for part, seq, key in result["handed"]:
        needle = sounds[key]
        found = _find_aligned(capture, needle, at)
        if found is None:
            raise AssertionError(f"{part} of call {seq} (#{len(played) + 1} handed) is not in the capture "
                                 f"whole after {at / RATE:.3f} s: {_heard(capture, needle, at)}")
        played.append(Played(found, len(needle) // 2, part, seq))
        at = found + len(needle) // 2
    return played


def _find_aligned(capture: bytes, needle: bytes, from_sample: int) -> int | None:
    start = from_sample * 2
    while (i := capture.find(needle, start)) != -1:
        if i % 2 == 0:
            return i // 2
        start = i + 1
    return None


def _heard(capture: bytes, needle: bytes, from_sample: int) -> str:
    """How much of `needle` the capture holds verbatim, from its first appearance after from_sample."""
    head = needle[:512]
    at = _find_aligned(capture, head, from_sample)
    if at is None:
        return "not even its first 256 samples were played"
    n = 0
    while n < len(needle) and at * 2 + n < len(capture) and capture[at * 2 + n] == needle[n]:
        n += 1
    return (f"it starts at {at / RATE:.3f} s, but only its first {n // 2} of {len(needle) // 2} samples "
            f"({n / 2 / RATE * 1000:.0f} ms) were played as they are")


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
