"""Text → WAV file, on one worker thread that owns the TTS engine, with a bounded cache.

    speech = Speech(voice="id", rate=140, cache_entries=256)
    speech.start()                      # engine created on the worker; warns once if unavailable
    future = speech.request("Nomor antrian, a, satu, ...")   # non-blocking
    future.result()                     # Path to a 22050 Hz mono WAV, or None: nothing to say it with

pyttsx3 quirks handled here (see /work/shared/STACK.md): one utterance per
runAndWait, save_to_file only (say() shells out to aplay), its "Audio saved to …"
print is filtered out of stdout, and a failed runAndWait is unstuck with
endLoop() so the next utterance can still run. A voice pack, when configured and
complete for a phrase, replaces TTS for that phrase. Every text is made
`speakable` first: a NUL cut espeak's input short (ctypes ends a C string there)
and a lone surrogate made synthesis fail (it can't be encoded to UTF-8).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Protocol

from signage.announcer import voicepack
from signage.core.text import REPLACEMENT, sanitize
from signage.errors import AudioUnavailable

log = logging.getLogger(__name__)

SYNTH_TIMEOUT = 10.0  # seconds for one utterance
MAX_UTTERANCE_CHARS = 500  # the longest phrase is ~200; more would be minutes of audio
_SPACES = re.compile(r"\s+")

# espeak-ng voice for each phrase language; AnnouncerConfig.voice overrides Indonesian.
VOICES = {"id": "id", "en": "en"}


class SpeechEngine(Protocol):
    """The seam between the worker and a TTS library: writes one utterance to a WAV file."""

    def synthesize(self, text: str, voice: str, path: Path) -> None: ...


# pyttsx3.init() hands every caller the same cached engine, and libespeak-ng keeps one voice,
# one rate and one synth callback per process: utterances from two Speech objects (tests,
# `say --out` next to a running announcer) must not interleave.
_ESPEAK_LOCK = threading.Lock()


class Pyttsx3Engine:
    """pyttsx3 driving libespeak-ng. Create and use it on one thread only."""

    def __init__(self, voice: str, rate: int):
        try:
            import pyttsx3
        except ImportError as exc:
            raise AudioUnavailable(f"text-to-speech unavailable: cannot import pyttsx3 ({exc})") from None
        try:
            from pyttsx3.drivers import _espeak  # the driver's libespeak-ng binding: see synthesize()
            self._espeak = _espeak
            self._engine = pyttsx3.init()
            voices = self._engine.getProperty("voices")
        except Exception as exc:  # missing libespeak-ng raises OSError/RuntimeError/...
            raise AudioUnavailable(f"text-to-speech unavailable: pyttsx3 could not start espeak-ng: {exc}") from None
        self._known = voices
        self._rate = rate
        self._check(voice)  # fail now, not at the first call
        # runAndWait returns ~10 ms after synthesis starts, not when libespeak-ng's callback
        # thread has written the file: wait for the driver's own "finished-utterance".
        self._finished = threading.Event()
        self._engine.connect("finished-utterance", lambda **_: self._finished.set())

    def _check(self, voice: str) -> None:
        # SetVoiceByName silently keeps the old voice for an unknown name: check first.
        if not any(_voice_matches(v, voice) for v in self._known):
            raise AudioUnavailable(f"text-to-speech unavailable: espeak-ng has no voice {voice!r}")

    def synthesize(self, text: str, voice: str, path: Path) -> None:
        self._check(voice)
        with _ESPEAK_LOCK:
            # Set every time: the engine is shared, another user may have changed it.
            self._engine.setProperty("voice", voice)
            # Not setProperty("rate"): libespeak-ng queues a rate change behind the previous
            # utterance's tail, and runAndWait's endLoop calls espeak_Cancel while that queue is
            # busy, which drops the change and restores the previous rate (another Speech's, on
            # a shared engine). Set it here and wait until applied, so nothing is left to cancel.
            self._espeak.SetParameter(self._espeak.RATE, self._rate, 0)
            self._espeak.Synchronize()
            self._run(text, path)
        if path.stat().st_size <= 44 and shutil.which("espeak-ng"):
            # pyttsx3 2.99 writes the file before appending the samples of the callback that
            # carries espeak's end-of-message event: an utterance short enough to arrive in
            # that one callback comes out empty. The espeak-ng program says it identically.
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(self._rate), "-w", str(path), "--", text],
                           check=True, capture_output=True, timeout=SYNTH_TIMEOUT)

    def _run(self, text: str, path: Path) -> None:
        self._finished.clear()
        self._engine.save_to_file(text, str(path))
        with _stdout_without_saved_notice():  # until the callback thread has printed its notice
            try:
                self._engine.runAndWait()
            except Exception:
                try:
                    self._engine.endLoop()  # else every later call fails: "run loop already started"
                except Exception:
                    pass
                raise
            if not self._finished.wait(SYNTH_TIMEOUT):
                raise AudioUnavailable(f"espeak-ng did not finish {text!r} within {SYNTH_TIMEOUT:.0f} s")


def speakable(text: str) -> str:
    """`text` as espeak may be given it: what the text rule refuses (NUL, controls, lone
    surrogates) becomes a space, runs of spaces one, and it is cut to MAX_UTTERANCE_CHARS."""
    text = _SPACES.sub(" ", sanitize(text).replace(REPLACEMENT, " ")).strip()
    return text[:MAX_UTTERANCE_CHARS]


def _voice_matches(v, name: str) -> bool:
    name = name.lower()
    return (v.id.lower() == name or v.id.lower().endswith("/" + name) or v.name.lower() == name
            or name in [lang.lower() for lang in (v.languages or [])])


class _WithoutSavedNotice:
    """sys.stdout stand-in that drops pyttsx3's "Audio saved to …" line and passes the rest.

    The line is printed from libespeak-ng's callback thread, not from our worker, so the
    stand-in must cover every thread while runAndWait runs; it filters by content
    rather than muting, so nobody else's output is lost in that window.
    """

    NOTICE = "Audio saved to "

    def __init__(self, target):
        self._target = target
        self._dropped_notice = False

    def write(self, text: str) -> int:
        if text.startswith(self.NOTICE) or (self._dropped_notice and text == "\n"):
            self._dropped_notice = not self._dropped_notice
            return len(text)
        self._dropped_notice = False
        return self._target.write(text) if self._target is not None else len(text)

    def flush(self) -> None:
        if self._target is not None:
            self._target.flush()

    def __getattr__(self, name):
        return getattr(self._target, name)


@contextmanager
def _stdout_without_saved_notice():
    previous = sys.stdout
    filtered = _WithoutSavedNotice(previous)
    sys.stdout = filtered
    try:
        yield
    finally:
        if sys.stdout is filtered:  # someone else swapped it meanwhile: leave theirs alone
            sys.stdout = previous


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


class Speech:
    """Owns the TTS worker thread and the WAV cache keyed by (text, voice, rate)."""

    def __init__(self, *, voice: str = "id", rate: int = 140, cache_entries: int = 256,
                 voice_pack: Path | None = None,
                 engine_factory: Callable[[], SpeechEngine] | None = None,
                 cache_dir: Path | None = None):
        self.voice = voice
        self.rate = rate
        self.cache_entries = cache_entries
        self.voice_pack = voice_pack
        self._engine_factory = engine_factory or (lambda: Pyttsx3Engine(voice, rate))
        self._own_dir = cache_dir is None
        self._dir = Path(cache_dir) if cache_dir else None
        self._cache: OrderedDict[tuple[str, str, int], Path] = OrderedDict()
        self._inflight: dict[tuple[str, str, int], Future] = {}
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine: SpeechEngine | None = None
        self._failures = 0
        self.unavailable_reason: str | None = None
        self.hits = 0
        self.misses = 0

    # -- lifecycle (caller's thread)

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="signage-tts-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="signage-tts", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout)
            self._thread = None
        if self._own_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._cache.clear()

    @property
    def tts_available(self) -> bool:
        return self._ready.is_set() and self._engine is not None

    def voice_for(self, locale: str) -> str:
        return self.voice if locale == "id" else VOICES.get(locale, self.voice)

    # -- requests (any thread)

    def request(self, text: str, voice: str | None = None) -> Future:
        """A Future for the WAV of `text` (made speakable): resolved at once on a cache hit, else by the worker."""
        key = (speakable(text), voice or self.voice, self.rate)
        with self._lock:
            path = self._cache.get(key)
            if path is not None and path.exists():
                self._cache.move_to_end(key)
                self.hits += 1
                done: Future = Future()
                done.set_result(path)
                return done
            if key in self._inflight:
                return self._inflight[key]
            self.misses += 1
            future: Future = Future()
            self._inflight[key] = future
        if self._thread is None:
            self.start()
        self._jobs.put((key, future))
        return future

    # -- worker thread

    def _run(self) -> None:
        try:
            self._engine = self._engine_factory()
        except AudioUnavailable as exc:
            self.unavailable_reason = str(exc)
        except Exception as exc:  # an engine that can't start must not take the caller down
            self.unavailable_reason = f"text-to-speech unavailable: {type(exc).__name__}: {exc}"
        if self._engine is None:
            pack = " (voice pack clips still used)" if self.voice_pack else ""
            log.warning("%s; announcements will be the chime only%s", self.unavailable_reason, pack)
        self._ready.set()
        while (job := self._jobs.get()) is not None:
            key, future = job
            path = None
            try:
                path = self._synthesize(*key)
            except Exception as exc:
                self._failures += 1
                level = logging.WARNING if self._failures == 1 else logging.DEBUG
                log.log(level, "speech synthesis failed for %r: %s (chime only for this call)", key[0], exc)
            with self._lock:
                if path is not None:
                    self._remember(key, path)
                self._inflight.pop(key, None)
            future.set_result(path)

    def _synthesize(self, text: str, voice: str, rate: int) -> Path | None:
        digest = hashlib.sha1(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:20]
        path = self._dir / f"{digest}.wav"
        if self.voice_pack is not None and voicepack.render(text, self.voice_pack, path):
            return path
        if self._engine is None:
            return None
        self._engine.synthesize(text, voice, path)
        if not path.is_file() or path.stat().st_size <= 44:  # 44 = an empty WAV's header
            raise AudioUnavailable(f"speech engine wrote no audio to {path}")
        return path

    def _remember(self, key, path: Path) -> None:
        self._cache[key] = path
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_entries:
            _, old = self._cache.popitem(last=False)
            if old != path:
                old.unlink(missing_ok=True)
