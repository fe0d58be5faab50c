"""The real player, captured: SDL's disk driver writes what the mixer played, sample by sample.

Runs the Announcer in a subprocess (SDL reads its driver variables once) and finds the
chime and each speech WAV verbatim in the capture. A sound found bit-exactly was
played alone: anything overlapping it would have been mixed in and changed the bytes.
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from audio_harness import find_all, play, played_whole_in_order, samples, tone_power, wav_frames  # noqa: E402

FAST = {"rate": 260, "templates": {"id": "{letter} {number}, {counter}.", "en": "{letter} {number}, {counter}."}}


@pytest.fixture(scope="module")
def two_announcements(tmp_path_factory):
    spec = {"notices": [[1, "call", "A-023", 5], [2, "call", "B-007", 12]], "announcer": FAST}
    return play(tmp_path_factory.mktemp("two"), spec)


def test_mixer_runs_at_the_speech_rate(two_announcements):
    result, capture, _ = two_announcements
    assert result["played"] and not result["silent"] and result["tts"]
    assert result["mixer"] == [22050, -16, 1]
    assert len(capture) > 22050 * 2 * 3  # at least 3 s of audio was written


def test_chime_then_speech_then_the_next_announcement_without_overlap(two_announcements):
    result, capture, _ = two_announcements
    rate = 22050
    with wave.open(result["chime"], "rb") as w:
        chime = w.readframes(w.getnframes())
    speech = {int(seq): wav_frames(bytes.fromhex(h))[1] for seq, h in result["speech_wav_hex"].items()}

    chimes = find_all(capture, chime)
    first, second = find_all(capture, speech[1]), find_all(capture, speech[2])
    assert len(chimes) == 2, chimes  # one chime per announcement
    assert len(first) == 2 and len(second) == 2  # repeat: 2

    segments = sorted([(at, len(chime) // 2, "chime") for at in chimes]
                      + [(at, len(speech[1]) // 2, "A-023") for at in first]
                      + [(at, len(speech[2]) // 2, "B-007") for at in second])
    assert [name for _, _, name in segments] == ["chime", "A-023", "A-023", "chime", "B-007", "B-007"]
    for (start, length, name), (next_start, _, next_name) in zip(segments, segments[1:]):
        assert start + length <= next_start, f"{name} overlaps {next_name}"

    chime_end = chimes[0] + len(chime) // 2
    assert (first[0] - chime_end) / rate <= 0.05  # speech follows the chime at once
    pause = (first[1] - (first[0] + len(speech[1]) // 2)) / rate
    assert 0.45 <= pause <= 0.6  # the silence between repeats
    # The next announcement starts as the previous one really ends (an end event, not a timer).
    assert (chimes[1] - (first[1] + len(speech[1]) // 2)) / rate <= 0.1


def test_captured_chime_has_its_two_tone_signature(two_announcements):
    result, capture, _ = two_announcements
    with wave.open(result["chime"], "rb") as w:
        chime = w.readframes(w.getnframes())
    start = find_all(capture, chime)[0]
    audio = samples(capture)
    ding = audio[start + 2205:start + 2205 + 2048]  # 0.1 s into the chime
    dong = audio[start + int(0.75 * 22050):start + int(0.75 * 22050) + 2048]
    assert tone_power(ding, 659.25, 22050) > 10 * tone_power(ding, 523.25, 22050)
    assert tone_power(dong, 523.25, 22050) > 10 * tone_power(dong, 659.25, 22050)


def test_burst_is_spoken_short_once_each_and_chimed_once(tmp_path):
    notices = [[seq, "call", f"A-{seq:03d}", seq] for seq in range(1, 5)]
    result, capture, _ = play(tmp_path, {"notices": notices, "announcer": {"rate": 260}})
    with wave.open(result["chime"], "rb") as w:
        chime = w.readframes(w.getnframes())
    # burst_threshold 3: two short announcements (one chime), then two in full (chimed, twice each)
    assert [part for part, _ in result["timeline"] if part == "chime"] == ["chime"] * 3
    played = played_whole_in_order(result, capture)
    assert [(p.part, p.seq) for p in played] == [("chime", 1), ("speech", 1), ("speech", 2),
                                                 ("chime", 3), ("speech", 3), ("speech", 3),
                                                 ("chime", 4), ("speech", 4), ("speech", 4)]
    assert len(find_all(capture, chime)) == 3
    assert result["stats"]["started"] == 4


def test_a_busy_main_thread_never_cuts_a_sound(tmp_path):
    """A board that draws a frame or decodes video holds the GIL for tens of milliseconds: sounds
    end while its loop is not looking, and their end events are read late. Every sound must still
    be played whole, in order, one at a time. (The announcer used to count end events and also
    trust an idle channel; one sound ending in that gap was counted twice, and the next
    Channel.play cut the chime that had just started: the CI flake of issue 10.)"""
    notices = [[seq, "call", f"A-{seq:03d}", seq] for seq in range(1, 5)]
    result, capture, _ = play(tmp_path, {"notices": notices, "announcer": {"rate": 260}, "busy_ms": 30})
    played = played_whole_in_order(result, capture)
    assert [p.part for p in played] == ["chime", "speech", "speech"] + ["chime", "speech", "speech"] * 2
    assert result["stats"]["started"] == 4
