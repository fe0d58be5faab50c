"""The Announcer shell on SDL's dummy audio driver (sounds take their real time, nothing is heard).

The TTS engine is the one seam faked here: it writes a short tone instead of speech.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import wave
from array import array
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from signage.announcer.service import Announcer, end_event_type  # noqa: E402
from signage.announcer.speech import Speech  # noqa: E402
from signage.config import load_config  # noqa: E402
from signage.core.announcements import CallNotice  # noqa: E402
from support import timeout  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone(timedelta(hours=7)))


def tone(path: Path, seconds: float, freq: float = 440.0) -> Path:
    samples = array("h", (int(8000 * math.sin(2 * math.pi * freq * i / 22050))
                          for i in range(int(seconds * 22050))))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(samples.tobytes())
    return path


class ToneEngine:
    """Stands in for espeak: 0.1 s of tone per utterance, and records what it was asked."""

    def __init__(self, fail: bool = False):
        self.texts: list[str] = []
        self.fail = fail

    def synthesize(self, text, voice, path):
        self.texts.append(text)
        if self.fail:
            raise RuntimeError("espeak crashed")
        tone(path, 0.1)


@pytest.fixture
def make(tmp_path):
    created = []

    def build(engine=None, observer=None, **overrides):
        config = load_config(ROOT / "config.yaml").announcer
        changes = {"chime": tone(tmp_path / "chime.wav", 0.1, 660), "repeat": 1, **overrides}
        config = dataclasses.replace(config, **changes)
        engine = engine or ToneEngine()
        speech = Speech(voice="id", rate=140, cache_dir=tmp_path / "cache", engine_factory=lambda: engine)
        announcer = Announcer(config, {5: "Loket 5", 12: "Loket 12"}, "id", speech=speech, observer=observer)
        announcer.start()
        created.append(announcer)
        return announcer, engine

    yield build
    for announcer in created:
        announcer.stop()


def notice(seq, counter=5, ticket="A-023", kind="call", live=True):
    return CallNotice(seq, kind, ticket, counter, NOW, live)


def test_plays_chime_and_speech_for_each_call_in_order(make):
    parts = []
    announcer, engine = make(observer=lambda part, a: parts.append((part, a.notice.seq)))
    announcer.submit(notice(1, 5, "A-023"), NOW)
    announcer.submit(notice(2, 12, "B-007"), NOW)
    announcer.tick(NOW)
    assert announcer.busy
    assert announcer.run_until_idle(timeout=timeout(10))
    assert parts == [("chime", 1), ("speech", 1), ("end", 1), ("chime", 2), ("speech", 2), ("end", 2)]
    assert engine.texts == ["Nomor antrian, a, dua puluh tiga, silakan menuju, loket lima.",
                            "Nomor antrian, be, tujuh, silakan menuju, loket dua belas."]


def test_replayed_and_stale_calls_are_not_played(make):
    announcer, engine = make()
    announcer.submit(notice(1, live=False), NOW)
    announcer.submit(dataclasses.replace(notice(2), at=NOW - timedelta(minutes=5)), NOW)
    announcer.tick(NOW)
    assert not announcer.busy and engine.texts == []
    assert (announcer.queue.stats.replayed, announcer.queue.stats.stale) == (1, 1)


def test_a_failing_speech_engine_leaves_the_chime(make, caplog):
    parts = []
    announcer, engine = make(engine=ToneEngine(fail=True), observer=lambda part, a: parts.append(part))
    with caplog.at_level(logging.WARNING):
        for seq in (1, 2):
            announcer.submit(notice(seq, counter=5 if seq == 1 else 12), NOW)
            announcer.tick(NOW)
            assert announcer.run_until_idle(timeout=timeout(10))
    assert parts == ["chime", "end", "chime", "end"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "espeak crashed" in warnings[0].getMessage()


def test_nothing_raises_into_the_display_loop(make, caplog):
    def broken_observer(part, announcement):
        raise ZeroDivisionError("observer bug")

    announcer, _ = make(observer=broken_observer)
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)  # the observer raises inside: swallowed, logged, announcement abandoned
    announcer.handle_event(object())  # not a pygame event at all
    announcer.submit(notice(2, kind="bogus"), NOW)  # refused by the queue: logged, not raised
    assert not announcer.busy
    assert any("observer bug" in r.getMessage() or r.exc_info for r in caplog.records)


def test_foreign_events_are_ignored(make):
    import pygame

    announcer, _ = make()
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)
    playback = announcer._playback
    announcer.handle_event(pygame.event.Event(pygame.USEREVENT + 5))
    assert announcer._playback is playback and len(playback.in_mixer) >= 1  # the chime still plays
    assert end_event_type() != pygame.USEREVENT + 5
    assert announcer.run_until_idle(timeout=timeout(10))


def test_late_or_repeated_end_events_never_cut_a_sound(make, tmp_path):
    """An end event means "look now", not "one sound ended": a busy loop reads them late, and
    counting them once cut the chime with the speech (issue 10's CI flake)."""
    import pygame

    parts = []
    announcer, _ = make(observer=lambda part, a: parts.append(part), chime=tone(tmp_path / "long.wav", 1.5, 660))
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)
    playback = announcer._playback
    language = playback.announcement.languages[0]
    assert playback.speech[language].result(timeout(5)) is not None  # synthesised while the chime plays
    for _ in range(3):
        announcer.handle_event(pygame.event.Event(end_event_type()))
        announcer.tick(NOW)
    channel = announcer._channel
    assert channel.get_sound() is announcer._chime  # still the chime: nothing cut it
    assert channel.get_queue() is playback.speech_sounds[language]  # the speech waits behind it
    assert parts == ["chime", "speech"]
    assert announcer.run_until_idle(timeout=timeout(10))
    assert parts == ["chime", "speech", "end"]


def test_a_mixer_that_stops_playing_does_not_hold_the_queue(make, monkeypatch, caplog):
    """A lost audio device leaves the sound "playing" for ever: the announcement is given up."""
    import pygame

    from signage.announcer import service

    monkeypatch.setattr(service, "STALL_SLACK", 0.3)
    parts = []
    announcer, _ = make(observer=lambda part, a: parts.append((part, a.notice.seq)))
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)
    pygame.mixer.pause()  # the chime stays busy, nothing progresses
    try:
        with caplog.at_level(logging.WARNING):
            assert announcer.run_until_idle(timeout=timeout(10))
    finally:
        pygame.mixer.unpause()
    assert ("chime", 1) in parts and ("end", 1) not in parts
    assert [r.getMessage() for r in caplog.records if "played nothing new" in r.getMessage()]
    announcer.submit(notice(2, counter=12, ticket="B-007"), NOW)  # and the next call plays normally
    announcer.tick(NOW)
    assert announcer.run_until_idle(timeout=timeout(10))
    assert parts[-3:] == [("chime", 2), ("speech", 2), ("end", 2)]


def test_disabled_in_config_means_silent(make):
    announcer, engine = make(enabled=False)
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)
    assert announcer.silent and not announcer.busy and engine.texts == []


def _until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def test_a_late_end_event_is_not_taken_as_lost(make, tmp_path):
    """A busy loop turn between a sound's end and its end event must not cut the next announcement.

    Before the fix an idle-channel watchdog declared the pending event lost and started the next
    announcement; the late event was then counted as the end of *its* chime, and the next
    Channel.play cut it. Now the channel itself says what ended (_settle): the late events are
    only hints to look, and cut nothing.
    """
    import pygame

    parts = []
    announcer, _ = make(observer=lambda part, a: parts.append((part, a.notice.seq)),
                        chime=tone(tmp_path / "long.wav", 1.5, 660))
    announcer.submit(notice(1, 5, "A-023"), NOW)
    announcer.submit(notice(2, 12, "B-007"), NOW)
    announcer.tick(NOW)
    playback = announcer._playback
    assert _until(lambda: (announcer.tick(NOW), len(playback.in_mixer) == 2)[1])  # chime playing, speech queued
    # Let announcement 1 play out without handling its end events, as a stalled loop would.
    assert _until(lambda: not announcer._channel.get_busy(), timeout(10))
    playback.last_change -= 5  # the parts were handed over long ago
    announcer.tick(NOW)  # the loop wakes before the end events are handled: the channel says all ended
    started = time.monotonic()  # announcement 2's 1.5 s chime is on the channel from here
    assert ("end", 1) in parts and announcer._playback is not None and announcer._playback is not playback
    for event in pygame.event.get() + [pygame.event.Event(end_event_type())] * 2:  # late, and repeated
        announcer.handle_event(event)
        announcer.tick(NOW)
    # Announcement 2's chime: nothing cut it. (On a machine so busy that this thread stalled for the whole
    # chime, it may have ended by itself; a cut shows on any machine that is not stalled that long.)
    sound = announcer._channel.get_sound()
    assert sound is announcer._chime or time.monotonic() - started >= 1.4, sound
    assert announcer.run_until_idle(timeout=timeout(10))
    assert parts == [("chime", 1), ("speech", 1), ("end", 1), ("chime", 2), ("speech", 2), ("end", 2)]
    pygame.event.clear()


def test_nothing_starts_without_the_gate_and_a_closed_gate_cuts(make):
    parts = []
    allowed = [False]
    announcer, _ = make(observer=lambda part, a: parts.append((part, a.notice.seq)))
    announcer.gate = lambda: allowed[0]
    announcer.submit(notice(1), NOW)
    announcer.tick(NOW)
    assert parts == [] and not announcer.playing
    allowed[0] = True
    announcer.tick(NOW)
    assert announcer.playing and parts[0] == ("chime", 1)
    allowed[0] = False
    announcer.tick(NOW)
    assert not announcer.playing and parts[-1] == ("cut", 1) and not announcer._channel.get_busy()
