"""`signage say TICKET COUNTER`: hear (or read, or save) what the hall would hear.

    signage say A-023 5                      # prints the phrase, plays chime + speech
    signage say AB-7 12 --lang en --text-only
    signage say A-023 5 --out a023.wav       # chime + speech × repeat, as one WAV

The lead wires it into signage/cli.py:

    say = subparsers.add_parser("say", help="speak one call")
    add_say_arguments(say)
    ... return run_say(args, config)
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import wave
from datetime import datetime, timezone
from pathlib import Path

from signage.announcer.chime import chime_wav_bytes
from signage.announcer.speech import Speech
from signage.config import LOCALES, Config, load_config
from signage.core.announcements import (
    CHIME,
    PAUSE,
    AnnouncementQueue,
    CallNotice,
    QueueRules,
    enqueue,
    start_next,
)
from signage.core.phrases import build_phrase

log = logging.getLogger(__name__)


def add_say_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ticket", help='ticket as shown, e.g. "A-023", "A023", "AB-7"')
    parser.add_argument("counter", help="counter number from config (e.g. 5), or a counter name to read")
    parser.add_argument("--lang", choices=LOCALES, default=None,
                        help="phrase language (default: hall.locale from config)")
    parser.add_argument("--form", choices=("call", "recall"), default="call",
                        help="phrase form (default: call)")
    parser.add_argument("--text-only", action="store_true", help="print the phrase, don't synthesise it")
    parser.add_argument("--out", type=Path, metavar="FILE.wav",
                        help="write chime + speech (× announcer.repeat) to a WAV instead of playing")


def run_say(args: argparse.Namespace, config: Config | None = None) -> int:
    """Exit codes: 0 done, 1 audio/speech unavailable (the phrase is still printed), 2 bad input."""
    if config is None:
        config = load_config(getattr(args, "config", None))
    locale = args.lang or config.hall.locale
    counter_number, counter_name = _counter(args.counter, config, locale)
    if counter_name is None:
        known = ", ".join(str(c.number) for c in config.counters)
        print(f"signage say: unknown counter {args.counter!r} (known: {known})", file=sys.stderr)
        return 2
    announcer_config = config.announcer
    text = build_phrase(args.ticket, counter_name, form=args.form, locale=locale, config=announcer_config)
    print(text)
    if args.text_only:
        return 0
    if args.out is not None:
        return _write_wav(args.out, text, locale, args.form, config)
    return _play(args.ticket, counter_number, counter_name, locale, args.form, config)


def _counter(value: str, config: Config, locale: str) -> tuple[int, str | None]:
    if value.isdigit():
        counter = config.counter(int(value))
        return int(value), (counter.name if counter else None)
    return 0, value  # a free-form name: read as given


def _write_wav(out: Path, text: str, locale: str, form: str, config: Config) -> int:
    announcer = config.announcer
    speech = Speech(voice=announcer.voice, rate=announcer.rate, cache_entries=2,
                    voice_pack=announcer.voice_pack)
    try:
        speech.start()
        path = speech.request(text, speech.voice_for(locale)).result(timeout=30)
        chime = _frames(announcer.chime) or _frames(None)
        spoken = _frames(path) if path is not None else None
        parts = _parts(config)
        params = chime[0]
        if spoken is not None and spoken[0] != params:
            log.warning("speech is %s, chime is %s: writing the speech alone", spoken[0], params)
            params, parts, chime = spoken[0], [p for p in parts if p != CHIME], spoken
        silence = bytes(int(0.5 * params[2]) * params[0] * params[1])
        frames = {CHIME: chime[1], PAUSE: silence, "speech": spoken[1] if spoken else b""}
        out.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(out), "wb") as w:
            w.setnchannels(params[0])
            w.setsampwidth(params[1])
            w.setframerate(params[2])
            w.writeframes(b"".join(frames[p] for p in parts if spoken is not None or p == CHIME))
    finally:
        speech.stop()
    print(f"wrote {out}", file=sys.stderr)
    if spoken is None:
        print(f"signage say: {speech.unavailable_reason or 'no speech'}: wrote the chime only",
              file=sys.stderr)
        return 1
    return 0


def _frames(path: Path | None) -> tuple[tuple[int, int, int], bytes] | None:
    """((channels, sample width, rate), frames) of a WAV; the built-in chime for None."""
    try:
        source = str(path) if path is not None else io.BytesIO(chime_wav_bytes())
        with wave.open(source, "rb") as w:
            return (w.getnchannels(), w.getsampwidth(), w.getframerate()), w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return None


def _parts(config: Config) -> list[str]:
    """The parts one announcement plays, as the queue would plan them."""
    rules = QueueRules.from_config(config.announcer)
    now = datetime.now(timezone.utc)
    queue = enqueue(AnnouncementQueue(), CallNotice(0, "call", "", 0, now, True), now, rules)
    _, announcement = start_next(queue, now, rules)
    return list(announcement.parts)


def _play(ticket: str, counter_number: int, counter_name: str, locale: str, form: str,
          config: Config) -> int:
    # `say` never opens a window; the event subsystem is only needed for the mixer's end events.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from signage.announcer.service import Announcer

    announcer = Announcer(config.announcer, {counter_number: counter_name}, locale)
    announcer.start()
    try:
        if announcer.silent:
            print("signage say: no audio device; nothing played", file=sys.stderr)
            return 1
        now = datetime.now(timezone.utc)
        kind = "recall" if form == "recall" else "call"
        announcer.submit(CallNotice(1, kind, ticket, counter_number, now, True), now)
        announcer.tick(now)
        played = announcer.run_until_idle(timeout=120)
        return 0 if played and announcer.speech.tts_available else 1
    finally:
        announcer.stop()


# The names signage.cli looks for in a plugged subcommand module.
add_arguments = add_say_arguments
run = run_say
