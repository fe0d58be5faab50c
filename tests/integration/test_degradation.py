"""Degraded modes, in real subprocesses: no TTS library, no audio device."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from audio_harness import find_all, play  # noqa: E402

NOTICES = [[1, "call", "A-001", 1], [2, "call", "B-002", 2]]


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("WARNING", "ERROR", "Traceback"))]


def test_without_pyttsx3_the_chime_still_plays_for_every_call(tmp_path):
    result, capture, stderr = play(tmp_path, {"notices": NOTICES, "no_tts": True})
    assert result["played"] and not result["silent"] and not result["tts"]
    with wave.open(result["chime"], "rb") as w:
        chime = w.readframes(w.getnframes())
    chimes = find_all(capture, chime)
    assert len(chimes) == 2
    # Nothing but the chimes was played: the capture is silent outside them.
    outside = bytearray(capture)
    for at in chimes:
        outside[at * 2:at * 2 + len(chime)] = bytes(len(chime))
    assert not any(outside)
    problems = warnings_in(stderr)
    assert len(problems) == 1 and "cannot import pyttsx3" in problems[0], stderr


def test_without_an_audio_device_the_announcer_is_silent_with_one_warning(tmp_path):
    result, _, stderr = play(tmp_path, {"notices": NOTICES}, capture=False,
                             env={"SDL_AUDIODRIVER": "no-such-driver"})
    assert result["silent"] and result["played"]  # the queue drained without a device
    assert result["stats"]["started"] == 2
    problems = warnings_in(stderr)
    assert len(problems) == 1 and "no audio device" in problems[0], stderr
