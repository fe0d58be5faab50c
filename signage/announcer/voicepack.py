"""Recorded clips instead of TTS: a phrase is spoken from a folder of WAV files, one per word.

Pure Python (wave): a phrase is split into word tokens; when every token has a clip
(`<word>.wav`, lowercase), the clips are joined with short silences at commas and
written as one WAV. When any clip is missing, `render` writes nothing and the caller
falls back to TTS. docs/voice-pack.md lists the clip names.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

from signage.errors import AudioUnavailable

PAUSE = ","  # token for a short silence (a comma, colon or semicolon in the phrase)
PAUSE_SECONDS = 0.25

_TOKEN = re.compile(r"[^\W\d_]+|[,;:]")


def clip_tokens(text: str) -> list[str]:
    """"Nomor antrian, a, dua puluh tiga." → ["nomor", "antrian", ",", "a", ",", "dua", "puluh", "tiga"]."""
    tokens = [t if t in ",;:" else t.lower() for t in _TOKEN.findall(text)]
    tokens = [PAUSE if t in ",;:" else t for t in tokens]
    # No silence at the edges, and never two in a row.
    out: list[str] = []
    for token in tokens:
        if token == PAUSE and (not out or out[-1] == PAUSE):
            continue
        out.append(token)
    while out and out[-1] == PAUSE:
        out.pop()
    return out


def clip_path(pack: Path, word: str) -> Path:
    return pack / f"{word}.wav"


def missing_clips(text: str, pack: Path) -> list[str]:
    """Words of `text` that have no clip in `pack`, in order, without repeats."""
    missing: list[str] = []
    for token in clip_tokens(text):
        if token != PAUSE and token not in missing and not clip_path(pack, token).is_file():
            missing.append(token)
    return missing


def render(text: str, pack: Path, out: Path) -> bool:
    """Write `text` spoken from clips to `out`. False (nothing written) when a clip is missing.

    Raises AudioUnavailable when the clips exist but can't be joined (unreadable,
    or not all the same rate, width and channel count).
    """
    tokens = clip_tokens(text)
    if not tokens or missing_clips(text, pack):
        return False
    params = None
    frames: list[bytes] = []
    for token in tokens:
        if token == PAUSE:
            frames.append(None)  # filled in once the format is known
            continue
        path = clip_path(pack, token)
        try:
            with wave.open(str(path), "rb") as clip:
                these = (clip.getnchannels(), clip.getsampwidth(), clip.getframerate())
                data = clip.readframes(clip.getnframes())
        except (OSError, EOFError, wave.Error) as exc:
            raise AudioUnavailable(f"voice pack clip {path} is not a readable PCM WAV: {exc}") from None
        if params is None:
            params = these
        elif these != params:
            raise AudioUnavailable(
                f"voice pack clip {path} is {these[2]} Hz/{these[1] * 8}-bit/{these[0]} ch, "
                f"others are {params[2]} Hz/{params[1] * 8}-bit/{params[0]} ch: all clips must match")
        frames.append(data)
    channels, width, rate = params
    silence = bytes(int(PAUSE_SECONDS * rate) * width * channels)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"".join(silence if f is None else f for f in frames))
    return True


def required_words(config, locale: str = "id", counters: tuple[str, ...] = (),
                   highest_number: int = 999) -> list[str]:
    """Every clip name the phrases can need: all forms, letters A-Z, numbers 0..highest_number,
    and the given counter names (spoken with config.pronunciations)."""
    from signage.core.phrases import build_phrase

    words: set[str] = set()
    for form in ("call", "recall", "short"):
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            words.update(clip_tokens(build_phrase(f"{letter}-1", "Loket 1", form=form, locale=locale,
                                                  config=config)))
        for n in range(highest_number + 1):
            words.update(clip_tokens(build_phrase(f"A-{n}", "Loket 1", form=form, locale=locale, config=config)))
        for name in counters:
            words.update(clip_tokens(build_phrase("A-1", name, form=form, locale=locale, config=config)))
    words.discard(PAUSE)
    return sorted(words)


def main(argv: list[str] | None = None) -> int:
    """python -m signage.announcer.voicepack [--lang id|en] [--config PATH] [--check DIR]"""
    import argparse

    from signage.config import load_config

    parser = argparse.ArgumentParser(prog="python -m signage.announcer.voicepack",
                                     description="List the clips a voice pack needs; --check a folder.")
    parser.add_argument("--lang", choices=("id", "en"), default="id")
    parser.add_argument("--config", default=None)
    parser.add_argument("--check", type=Path, metavar="DIR", help="list the clips missing from DIR")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    words = required_words(config.announcer, args.lang, tuple(c.name for c in config.counters))
    if args.check:
        missing = [w for w in words if not clip_path(args.check, w).is_file()]
        print("\n".join(f"{w}.wav" for w in missing) or "complete")
        return 1 if missing else 0
    print("\n".join(f"{w}.wav" for w in words))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
