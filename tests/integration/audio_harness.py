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
from pathlib import Path

HERE = Path(__file__).parent
TIMEOUT = float(os.environ.get("SIGNAGE_TEST_TIMEOUT", "120"))


def play(tmp_path: Path, spec: dict, *, capture: bool = True, env: dict | None = None):
    """Run play_and_capture.py; returns (its JSON result, the captured raw bytes, its stderr)."""
    raw = tmp_path / "capture.raw"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("SDL_")}
    run_env.update(env or {})
    done = subprocess.run([sys.executable, str(HERE / "play_and_capture.py"),
                           str(raw) if capture else "-", json.dumps(spec)],
                          capture_output=True, text=True, timeout=TIMEOUT, env=run_env)
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
