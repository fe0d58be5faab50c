"""Run the real Announcer in this process with SDL's disk audio driver; print what was played.

Used by test_playback.py and test_degradation.py in a subprocess, because SDL reads
its driver variables once, before pygame starts.

    python play_and_capture.py RAW_OUT|- SPEC_JSON

SPEC_JSON: {"notices": [[seq, kind, ticket, counter], ...], "announcer": {field overrides},
            "no_tts": bool}. RAW_OUT "-" leaves the SDL audio driver to the environment.
Prints one JSON object: the chime path, each announcement's speech WAV, mixer format, stats.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
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
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

from signage.announcer.service import Announcer  # noqa: E402
from signage.config import load_config  # noqa: E402
from signage.core.announcements import Announcement, CallNotice  # noqa: E402

config = load_config(ROOT / "config.yaml")
announcer_config = dataclasses.replace(config.announcer, **spec.get("announcer", {}))
timeline = []
announcer = Announcer(announcer_config, {c.number: c.name for c in config.counters}, "id",
                      observer=lambda part, a: timeline.append([part, a.notice.seq]))
announcer.start()
now = datetime.now(timezone.utc)
for seq, kind, ticket, counter in spec["notices"]:
    announcer.submit(CallNotice(seq, kind, ticket, counter, now, True), now)
announcer.tick(now)
played = announcer.run_until_idle(timeout=120)

speech = {}
if not announcer.silent:
    for seq, kind, ticket, counter in spec["notices"]:
        notice = CallNotice(seq, kind, ticket, counter, now, True)
        text = announcer.phrase(Announcement(notice, kind, 1, True))
        path = announcer.speech.request(text, announcer.speech.voice_for("id")).result(timeout=30)
        speech[seq] = Path(path).read_bytes().hex() if path else None  # read before stop() cleans up

import pygame  # noqa: E402

result = {
    "played": played,
    "silent": announcer.silent,
    "tts": announcer.speech.tts_available,
    "mixer": pygame.mixer.get_init(),
    "chime": str(announcer_config.chime),
    "speech_wav_hex": speech,
    "timeline": timeline,
    "stats": dataclasses.asdict(announcer.queue.stats),
    "cache": [announcer.speech.hits, announcer.speech.misses],
}
announcer.stop()
print(json.dumps(result))
