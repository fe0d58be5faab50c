"""The Announcer: the I/O shell that plays what the announcement queue decides.

The display owns pygame and its event loop and drives us from its main thread:

    announcer = Announcer(config.announcer, {c.number: c.name for c in config.counters}, "id")
    announcer.start()                        # mixer + TTS worker; degrades with one warning
    ... every call shown:    announcer.submit(notice, now)
    ... every pygame event:  announcer.handle_event(event)
    ... every loop turn:     announcer.tick(now)
    announcer.stop()

One reserved mixer channel plays an announcement's parts back to back (chime,
speech, pause, speech, …). The next part is handed over with Channel.queue as soon
as it exists, so speech follows the chime without a gap. What has really ended is
read from the channel itself (get_sound/get_queue: pygame's own record, updated by
its end-of-sound callback); the mixer's end event (Channel.set_endevent) only says
"look now" — no timers guess, and end events are never counted (see _settle: counted
events cut sounds under CPU load). Speech is requested from the TTS worker the moment
an announcement starts, so it is synthesised while the chime plays. No method raises
into the display loop: failures are logged and the announcer carries on, silent if
it must.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from signage.announcer.chime import chime_wav_bytes
from signage.announcer.speech import Speech
from signage.config import AnnouncerConfig
from signage.core.announcements import (
    CHIME,
    PAUSE,
    SPEECH,
    Announcement,
    AnnouncementQueue,
    CallNotice,
    QueueRules,
    drop_pending,
    enqueue,
    finish,
    start_next,
    take_discarded,
)
from signage.core.config import fallback_counter_name
from signage.core.phrases import build_phrase
from signage.core.text import for_log
from signage.errors import AudioUnavailable

log = logging.getLogger(__name__)

MIXER_SETTINGS = {"frequency": 22050, "size": -16, "channels": 1, "buffer": 512}
PAUSE_SECONDS = 0.5  # between repeats of one announcement
SPEECH_WAIT_LIMIT = 10.0  # give up on a synthesis that takes longer: chime only
STALL_SLACK = 5.0  # a sound still "playing" 2x its length + this after it started: the mixer is stuck

_end_event_type: int | None = None


def end_event_type() -> int:
    """The pygame event type the announcer's channel posts when a sound ends (one per process)."""
    global _end_event_type
    if _end_event_type is None:
        _end_event_type = _pygame().event.custom_type()
    return _end_event_type


def _pygame():
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    return pygame


def _never_raises(method):
    """The display loop must survive anything the announcer does."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception:
            self._errors += 1
            if self._errors <= 3:
                log.exception("announcer: %s failed; announcement abandoned", method.__name__)
            self._abandon()
            return None

    return guarded


@dataclass
class _Playback:
    announcement: Announcement
    text: str  # in the first language, for logs
    speech: dict[str, Future]  # language -> WAV path
    parts: list[str]  # not yet handed to the mixer
    languages: list[str]  # the language of each speech part not yet handed over
    in_mixer: list = field(default_factory=list)  # Sounds handed to the channel, not yet ended, oldest first
    speech_sounds: dict = field(default_factory=dict)  # language -> Sound
    started: float = field(default_factory=time.monotonic)
    last_change: float = field(default_factory=time.monotonic)


class Announcer:
    def __init__(self, config: AnnouncerConfig, counters: dict[int, str], locale: str = "id", *,
                 speech: Speech | None = None,
                 observer: Callable[[str, Announcement], None] | None = None,
                 languages: tuple[str, ...] | None = None,
                 gate: Callable[[], bool] | None = None):
        self.config = config
        self.counters = dict(counters)
        self.locale = locale
        self.rules = QueueRules.from_config(config, languages or (locale,))
        # The voice lease (docs/voice.md): nothing starts, and no further part is played, unless gate() holds;
        # a playing sound is cut the moment it stops holding.
        self.gate = gate
        self.speech = speech or Speech(voice=config.voice, rate=config.rate,
                                       cache_entries=config.cache_entries, voice_pack=config.voice_pack)
        self.observer = observer  # ("chime" | "speech" | "end", announcement): for benchmarks and tests
        self.queue = AnnouncementQueue()
        self.silent = True  # no mixer: calls are still queued and dropped in order, nothing is heard
        self.end_events = False
        self._started = False
        self._owns_mixer = False
        self._channel = None
        self._chime = None
        self._pause = None
        self._playback: _Playback | None = None
        self._clock_base: tuple[datetime, float] | None = None
        self._errors = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the mixer and start the TTS worker. Never raises: degrades with one warning each."""
        if self._started:
            return
        self._started = True
        if not self.config.enabled:
            log.info("announcer disabled in config (announcer.enabled: false)")
            return
        try:
            self._open_mixer()
            self.silent = False
        except AudioUnavailable as exc:
            log.warning("%s; the announcer stays silent, the board still shows every call", exc)
        except Exception as exc:
            log.warning("audio unavailable (%s: %s); the announcer stays silent", type(exc).__name__, exc)
        if not self.silent:
            self.speech.start()

    def _open_mixer(self) -> None:
        pygame = _pygame()
        if not pygame.display.get_init():
            # Channel end events are only posted once SDL's video/event subsystem is up.
            try:
                pygame.display.init()
            except pygame.error as exc:
                log.warning("no pygame event subsystem (%s): announcement ends are polled", exc)
        self.end_events = pygame.display.get_init()
        if pygame.mixer.get_init() is None:
            try:
                pygame.mixer.init(**MIXER_SETTINGS)
            except pygame.error as exc:
                raise AudioUnavailable(f"no audio device: pygame.mixer.init failed: {exc}") from None
            self._owns_mixer = True
        if pygame.mixer.get_num_channels() < 1:
            pygame.mixer.set_num_channels(8)
        pygame.mixer.set_reserved(1)  # channel 0 is ours: find_channel() never hands it out
        self._channel = pygame.mixer.Channel(0)
        self._channel.set_endevent(end_event_type())
        self._chime = self._load_chime(pygame)
        frequency, size, channels = pygame.mixer.get_init()
        frames = int(PAUSE_SECONDS * frequency)
        self._pause = pygame.mixer.Sound(buffer=bytes(frames * channels * (abs(size) // 8)))

    def _load_chime(self, pygame):
        path = self.config.chime
        try:
            sound = pygame.mixer.Sound(file=str(path))
        except (pygame.error, FileNotFoundError, OSError) as exc:
            log.warning("chime %s unreadable (%s); using the built-in chime "
                        "(regenerate: python -m signage.announcer.chime)", path, exc)
            sound = pygame.mixer.Sound(file=io.BytesIO(chime_wav_bytes()))
        sound.set_volume(self.config.volume)
        return sound

    def stop(self) -> None:
        try:
            if self._channel is not None:
                self._channel.set_endevent()
                self._channel.stop()
            self.speech.stop()
            if self._owns_mixer:
                _pygame().mixer.quit()
        except Exception as exc:
            log.debug("announcer stop: %s", exc)
        self._channel = None
        self._playback = None

    # ------------------------------------------------------------ called by the display loop

    @property
    def busy(self) -> bool:
        """Something is playing or waiting to be played."""
        return self._playback is not None or bool(self.queue.pending)

    @_never_raises
    def submit(self, notice: CallNotice, now: datetime) -> None:
        self._set_clock(now)
        self.queue = enqueue(self.queue, notice, now, self.rules)

    @property
    def playing(self) -> bool:
        return self._playback is not None

    def take_discarded(self) -> tuple[tuple[CallNotice, str], ...]:
        """Live notices the queue let go unspoken since the last call, with the reason."""
        self.queue, discarded = take_discarded(self.queue)
        return discarded

    def drop_pending(self) -> tuple[CallNotice, ...]:
        self.queue, dropped = drop_pending(self.queue)
        return dropped

    def _allowed(self) -> bool:
        return self.gate is None or self.gate()

    @_never_raises
    def tick(self, now: datetime) -> None:
        self._set_clock(now)
        playback = self._playback
        if playback is not None and not self._allowed():
            self._cut(playback)
            return
        if playback is None:
            if self.queue.pending:
                self._start_next(now)
            return
        self._feed(playback)
        if self._playback is playback:  # not finished or cut by the lease meanwhile
            self._check_stall(playback)

    @_never_raises
    def handle_event(self, event) -> None:
        if getattr(event, "type", None) != _end_event_type or self._playback is None:
            return
        self._feed(self._playback)  # a hint to look now: which sound ended is read from the channel

    def run_until_idle(self, timeout: float = 120.0) -> bool:
        """A small event loop for standalone use (signage say, tests): True when all was played."""
        pygame = _pygame()
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            if self.end_events:
                event = pygame.event.wait(10)
                events = [event] + pygame.event.get()
            else:
                time.sleep(0.01)
                events = []
            for event in events:
                self.handle_event(event)
            self.tick(self._now())
        return not self.busy

    # ------------------------------------------------------------ playback

    def _set_clock(self, now: datetime) -> None:
        self._clock_base = (now, time.monotonic())

    def _now(self) -> datetime:
        """The caller's clock, advanced by the time passed since it last told us."""
        if self._clock_base is None:
            return datetime.now().astimezone()
        base, at = self._clock_base
        return base + timedelta(seconds=time.monotonic() - at)

    def phrase(self, announcement: Announcement, locale: str | None = None) -> str:
        notice = announcement.notice
        name = self.counters.get(notice.counter) or fallback_counter_name(notice.counter)
        return build_phrase(notice.ticket, name, form=announcement.form, locale=locale or self.locale,
                            config=self.config)

    def _start_next(self, now: datetime) -> None:
        if not self._allowed():
            return
        self.queue, announcement = start_next(self.queue, now, self.rules)
        if announcement is None:
            return
        if self.silent:
            self.queue = finish(self.queue)  # nothing to play: keep the queue moving
            return
        texts = {language: self.phrase(announcement, language) for language in announcement.languages}
        # Synthesis starts now and overlaps the chime.
        speech = {language: self.speech.request(text, self.speech.voice_for(language))
                  for language, text in texts.items()}
        self._playback = _Playback(announcement, texts[announcement.languages[0]], speech,
                                   list(announcement.parts), list(announcement.speech_languages))
        self._feed(self._playback)

    def _feed(self, playback: _Playback) -> None:
        """Hand parts to the channel: one playing plus one queued behind it."""
        self._settle(playback)
        while playback.parts and len(playback.in_mixer) < 2:
            if not self._allowed():
                self._cut(playback)
                return
            sound = self._sound_for(playback, playback.parts[0])
            if sound is None:
                break  # speech still being synthesised
            if playback.in_mixer and playback.in_mixer[-1] is sound:
                break  # the same Sound twice in a row could not be told apart by _settle: wait for it
            if playback.in_mixer:
                self._channel.queue(sound)  # behind the one playing: the mixer starts it without a gap
            else:
                self._channel.play(sound)  # nothing of ours plays (_settle): this cuts nothing
            part = playback.parts.pop(0)
            if part == SPEECH:
                playback.languages.pop(0)
            playback.in_mixer.append(sound)
            playback.last_change = time.monotonic()
            if self.observer and part in (CHIME, SPEECH):
                self.observer(part, playback.announcement)
        if not playback.in_mixer and not playback.parts:
            self._finish(playback)

    def _settle(self, playback: _Playback) -> None:
        """Drop from in_mixer the sounds that have really ended, as the channel itself tells.

        Not by counting end events: pygame posts one before its callback has updated the
        channel, and a busy loop reads it late, so a count drifts. It did: a sound ending
        while the loop was drawing was counted by an idle-channel check and again by its
        late event, and the next Channel.play cut the chime that had just started (the
        CI flake of issue 10, and a clipped chime in a busy hall). get_sound() and
        get_queue() are pygame's own record, read under the GIL; a sound that has just
        ended may still be get_sound() for a moment, which only delays the next step.
        """
        channel = self._channel
        current, queued = channel.get_sound(), channel.get_queue()
        if current is None and queued is not None and not channel.get_busy():
            # pygame-ce's end callback looks for a queued sound before it takes the GIL: a sound
            # queued in that instant is left queued behind nothing. Start it (late, never lost).
            channel.play(queued)
            current = queued
        flight = playback.in_mixer
        ended = next((i for i, sound in enumerate(flight) if sound is current), len(flight))
        if ended:
            del flight[:ended]
            playback.last_change = time.monotonic()

    def _check_stall(self, playback: _Playback) -> None:
        """A mixer that stopped making progress (device lost) must not hold the queue forever."""
        if not playback.in_mixer:
            return
        limit = 2 * max(sound.get_length() for sound in playback.in_mixer) + STALL_SLACK
        if time.monotonic() - playback.last_change > limit:
            log.warning("announcer: the mixer has played nothing new for %.0f s; announcement of %s abandoned",
                        limit, for_log(playback.announcement.notice.ticket))
            self._abandon()

    def _sound_for(self, playback: _Playback, part: str):
        if part == CHIME:
            return self._chime
        if part == PAUSE:
            return self._pause
        language = playback.languages[0]
        if language not in playback.speech_sounds:
            future = playback.speech[language]
            if not future.done():
                if time.monotonic() - playback.started > SPEECH_WAIT_LIMIT:
                    log.warning("speech for %r not ready after %.0f s; chime only",
                                playback.text, SPEECH_WAIT_LIMIT)
                    playback.parts = []
                return None
            path = future.result()
            if path is None:  # no TTS and no voice-pack clips: the chime alone
                playback.parts = []
                return None
            sound = _pygame().mixer.Sound(file=str(path))
            sound.set_volume(self.config.volume)
            playback.speech_sounds[language] = sound
        return playback.speech_sounds[language]

    def _finish(self, playback: _Playback) -> None:
        self._playback = None
        self.queue = finish(self.queue)
        if self.observer:
            self.observer("end", playback.announcement)
        if self.queue.pending:
            self._start_next(self._now())  # back to back: the next starts as this one really ends

    def _cut(self, playback: _Playback) -> None:
        """The lease ran out: silence now, and no receipt (the next holder speaks this call again)."""
        log.warning("voice lease lost: cutting seq %d short", playback.announcement.notice.seq)
        channel = self._channel
        if channel is not None:
            # Channel.stop() starts the sound queued behind (pygame's end callback plays the queue):
            # muted, that one is stopped too.
            queued = channel.get_queue() is not None
            if queued:
                channel.set_volume(0.0)
            channel.stop()
            if queued:
                channel.stop()
                channel.set_volume(1.0)
        self._playback = None
        self.queue = finish(self.queue)
        if self.observer:
            self.observer("cut", playback.announcement)

    def _abandon(self) -> None:
        try:
            if self._channel is not None:
                self._channel.stop()
        except Exception:
            pass
        if self._playback is not None:
            self._playback = None
            self.queue = finish(self.queue)
