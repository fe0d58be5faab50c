"""Run the real Announcer in this process with SDL's disk audio driver; print what was played.

Used by test_playback.py and test_degradation.py in a subprocess, because SDL reads
its driver variables once, before pygame starts.

    python play_and_capture.py RAW_OUT|- SPEC_JSON

SPEC_JSON: {"notices": [[seq, kind, ticket, counter], ...], "announcer": {field overrides},
            "no_tts": bool, "busy_ms": N}. RAW_OUT "-" leaves the SDL audio driver to the environment.
busy_ms: before every tick the main thread computes for N ms holding the GIL, as a board does
while it draws a frame or decodes video: sounds then end while nobody is looking.
Prints one JSON object: the chime path, each announcement's speech WAV, every sound handed to the
mixer in order ("handed": [part, seq, key]; "sounds": key -> raw samples hex), mixer format, stats.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import sys
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

raw_out, spec = sys.argv[1], json.loads(sys.argv[2])
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
if raw_out != "-":
    os.environ["SDL_AUDIODRIVER"] = "disk"
    os.environ["SDL_DISKAUDIOFILE"] = raw_out
if spec.get("no_tts"):
    sys.modules["pyttsx3"] = None  # import pyttsx3 → ImportError, as if it were not installed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

from signage.announcer.service import Announcer  # noqa: E402
from signage.config import load_config  # noqa: E402
from signage.core.announcements import Announcement, CallNotice  # noqa: E402
from support import timeout  # noqa: E402


def raw_frames(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.readframes(w.getnframes())


config = load_config(ROOT / "config.yaml")
announcer_config = dataclasses.replace(config.announcer, **spec.get("announcer", {}))
timeline = []
handed = []


def observe(part: str, announcement: Announcement) -> None:
    timeline.append([part, announcement.notice.seq])
    if part in ("chime", "speech"):
        key = "chime" if part == "chime" else announcer.phrase(announcement)
        handed.append([part, announcement.notice.seq, key])


announcer = Announcer(announcer_config, {c.number: c.name for c in config.counters}, "id", observer=observe)
if spec.get("busy_ms"):
    def busy_tick(now, _tick=announcer.tick, _seconds=spec["busy_ms"] / 1000):
        until = time.perf_counter() + _seconds
        while time.perf_counter() < until:  # pure Python: holds the GIL, like drawing a frame
            pass
        _tick(now)

    announcer.tick = busy_tick
announcer.start()
now = datetime.now(timezone.utc)
for seq, kind, ticket, counter in spec["notices"]:
    announcer.submit(CallNotice(seq, kind, ticket, counter, now, True), now)
announcer.tick(now)
played = announcer.run_until_idle(timeout=timeout(120))

speech = {}
sounds = {"chime": raw_frames(Path(announcer_config.chime).read_bytes()).hex()}
if not announcer.silent:
    for seq, kind, ticket, counter in spec["notices"]:
        notice = CallNotice(seq, kind, ticket, counter, now, True)
        text = announcer.phrase(Announcement(notice, kind, 1, True))
        path = announcer.speech.request(text, announcer.speech.voice_for("id")).result(timeout=timeout(30))
        speech[seq] = Path(path).read_bytes().hex() if path else None  # read before stop() cleans up

    for _, _, key in handed:
        if key != "chime" and key not in sounds:
            path = announcer.speech.request(key, announcer.speech.voice_for("id")).result(timeout=timeout(30))
            sounds[key] = raw_frames(Path(path).read_bytes()).hex()

import pygame  # noqa: E402

result = {
    "played": played,
    "silent": announcer.silent,
    "tts": announcer.speech.tts_available,
    "mixer": pygame.mixer.get_init(),
    "chime": str(announcer_config.chime),
    "speech_wav_hex": speech,
    "timeline": timeline,
    "handed": handed,
    "sounds": sounds,
    "stats": dataclasses.asdict(announcer.queue.stats),
    "cache": [announcer.speech.hits, announcer.speech.misses],
}
announcer.stop()
print(json.dumps(result))
