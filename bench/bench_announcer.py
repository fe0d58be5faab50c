"""Announcer latency and burst drain, measured on the real mixer (SDL disk driver) and espeak-ng.

    .venv/bin/python bench/bench_announcer.py [--events 30] [--gaps 10]

1. event → chime onset: a simulated 60 fps display loop receives a call at a random moment,
   submits it and ticks. Reported twice: to the Channel.play call (software), and to the
   first chime sample in the captured audio (adds the mixer buffer; audio clock mapped to
   wall time, drift reported).
2. chime end → speech start: the gap in the captured audio, with a cold and a warm TTS cache;
   plus how long synthesis took (it runs while the chime plays).
3. burst of 21 calls: drain time under the queue's burst rules vs speaking every full
   phrase, computed from the real WAV lengths of every phrase.
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import tempfile
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CAPTURE = Path(tempfile.mkdtemp(prefix="bench-announcer-")) / "capture.raw"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "disk"
os.environ["SDL_DISKAUDIOFILE"] = str(CAPTURE)

import pygame  # noqa: E402

from signage.core.phrases import build_phrase  # noqa: E402
from signage.announcer.service import MIXER_SETTINGS, PAUSE_SECONDS, Announcer  # noqa: E402
from signage.announcer.speech import Speech, wav_seconds  # noqa: E402
from signage.config import load_config  # noqa: E402
from signage.core.announcements import (  # noqa: E402
    AnnouncementQueue, CallNotice, QueueRules, enqueue, finish, planned_seconds, start_next)

RATE = MIXER_SETTINGS["frequency"]
FRAME = 1 / 60


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def find_all(capture: bytes, needle: bytes, start: int = 0) -> list[int]:
    found = []
    while (i := capture.find(needle, start)) != -1:
        if i % 2 == 0:
            found.append(i // 2)
        start = i + 2
    return found


def frames_of(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


class DisplayLoop:
    """A 60 fps loop like the display's: forward events, submit what arrived, tick."""

    def __init__(self, announcer: Announcer):
        self.announcer = announcer
        self.play_calls: list[float] = []

    def run(self, arrivals: list[tuple[float, CallNotice]]) -> None:
        arrivals = sorted(arrivals, key=lambda a: a[0])
        while arrivals or self.announcer.busy:
            frame_start = time.monotonic()
            for event in pygame.event.get():
                self.announcer.handle_event(event)
            now = datetime.now(timezone.utc)
            while arrivals and arrivals[0][0] <= frame_start:
                self.announcer.submit(arrivals.pop(0)[1], now)
            self.announcer.tick(now)
            time.sleep(max(0.0, FRAME - (time.monotonic() - frame_start)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--gaps", type=int, default=10)
    args = parser.parse_args()

    config = load_config(ROOT / "config.yaml")
    counters = {c.number: c.name for c in config.counters}
    base = config.announcer
    # Short phrases keep the run short; onset and gap don't depend on the phrase length.
    quick = dataclasses.replace(base, repeat=1, templates={**base.templates, "id": "{letter} {number}."})

    pygame.display.init()
    pygame.mixer.init(**MIXER_SETTINGS)
    audio_zero = time.monotonic()  # the disk driver starts writing when the device opens
    chime_frames = frames_of(quick.chime)
    chime_samples = len(chime_frames) // 2

    # ---- 1 and 2: one announcer, calls one at a time
    chime_calls: list[float] = []
    announcer = Announcer(quick, counters, "id",
                          observer=lambda part, a: chime_calls.append(time.monotonic()) if part == "chime" else None)
    announcer.start()
    loop = DisplayLoop(announcer)
    submitted, synth_times = [], []
    rng = random.Random(7)
    tickets = [f"C-{100 + i}" for i in range(args.events)]
    for i, ticket in enumerate(tickets):
        arrival = time.monotonic() + rng.uniform(0.05, 0.2)
        notice = CallNotice(i + 1, "call", ticket, 1 + i % 21, datetime.now(timezone.utc), True)
        submitted.append(arrival)
        loop.run([(arrival, notice)])
    # Cold vs warm: the same `gaps` phrases twice (the second time every phrase is cached).
    gap_tickets = [f"D-{200 + i}" for i in range(args.gaps)]
    gap_marks = []
    for round_name in ("cold", "warm"):
        for i, ticket in enumerate(gap_tickets):
            notice = CallNotice(1000 + len(gap_marks), "call", ticket, 1 + i % 21, datetime.now(timezone.utc), True)
            text = build_phrase(ticket, counters[notice.counter], config=quick)
            t0 = time.perf_counter()
            hit = announcer.speech.request(text, "id") if round_name == "warm" else None
            if hit is not None:
                synth_times.append((round_name, time.perf_counter() - t0))
            gap_marks.append((round_name, text))
            loop.run([(time.monotonic(), notice)])
    # Cold synthesis time, measured on a separate worker (fresh phrases, engine warm).
    probe = Speech(voice=quick.voice, rate=quick.rate, cache_entries=64)
    probe.start()
    for ticket in gap_tickets:
        text = build_phrase(ticket, "Loket 3", config=base)
        t0 = time.perf_counter()
        probe.request(text, "id").result(timeout=30)
        synth_times.append(("cold", time.perf_counter() - t0))
    probe.stop()

    time.sleep(0.3)
    elapsed_wall = time.monotonic() - audio_zero
    capture = CAPTURE.read_bytes()
    captured_seconds = len(capture) / 2 / RATE
    # The disk driver paces itself with whole-millisecond sleeps, so its clock drifts from the
    # wall clock by a fraction of a percent; map sample positions to wall time linearly.
    scale = elapsed_wall / captured_seconds

    chimes = find_all(capture, chime_frames)
    onsets_audio = [audio_zero + at / RATE * scale - t for at, t in zip(chimes, submitted)]
    onsets_call = [c - t for c, t in zip(chime_calls, submitted)]

    gaps = {"cold": [], "warm": []}
    for (round_name, text), at in zip(gap_marks, chimes[len(tickets):]):
        speech_path = announcer.speech.request(text, "id").result(timeout=30)
        found = find_all(capture, frames_of(speech_path), at * 2)
        if found:
            gaps[round_name].append((found[0] - (at + chime_samples)) / RATE)
    announcer.stop()

    # ---- 3: burst of 21, from real WAV lengths (default config: full phrase, repeat as configured)
    speech = Speech(voice=base.voice, rate=base.rate, cache_entries=128)
    speech.start()
    chime_s = wav_seconds(base.chime)

    def spoken_seconds(notice, form):
        text = build_phrase(notice.ticket, counters[notice.counter], form=form, config=base)
        return wav_seconds(speech.request(text, speech.voice_for("id")).result(timeout=30))

    now = datetime.now(timezone.utc)
    rules = QueueRules.from_config(base)
    burst = [CallNotice(c, "call", f"{chr(64 + c)}-001", c, now, True) for c in range(1, 22)]
    queue = AnnouncementQueue()
    for n in burst:
        queue = enqueue(queue, n, now, rules)
    with_rules, forms = 0.0, []
    while True:
        queue, a = start_next(queue, now, rules)
        if a is None:
            break
        forms.append(a.form)
        with_rules += planned_seconds(a, chime=chime_s, speech=spoken_seconds(a.notice, a.form), pause=PAUSE_SECONDS)
        queue = finish(queue)
    naive = sum(chime_s + base.repeat * spoken_seconds(n, "call") + (base.repeat - 1) * PAUSE_SECONDS
                for n in burst)
    speech.stop()

    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    print(f"\n### Announcer ({len(tickets)} calls, 60 fps loop, mixer {RATE} Hz mono, buffer "
          f"{MIXER_SETTINGS['buffer']} samples)\n")
    print("| measure | p50 | p99 | max | target |")
    print("|---|---|---|---|---|")
    print(f"| event → Channel.play(chime) | {ms(percentile(onsets_call, 50))} | {ms(percentile(onsets_call, 99))} "
          f"| {ms(max(onsets_call))} | |")
    print(f"| event → first chime sample (captured audio) | {ms(percentile(onsets_audio, 50))} | "
          f"{ms(percentile(onsets_audio, 99))} | {ms(max(onsets_audio))} | p99 ≤ 100 ms |")
    for name in ("cold", "warm"):
        g = gaps[name]
        if g:
            print(f"| chime end → speech start, {name} cache (n={len(g)}) | {ms(percentile(g, 50))} | "
                  f"{ms(percentile(g, 99))} | {ms(max(g))} | ≤ 50 ms |")
    for name in ("cold", "warm"):
        t = [s for r, s in synth_times if r == name]
        if t:
            print(f"| synthesis time, {name} (runs during the {chime_s:.2f} s chime) | {ms(percentile(t, 50))} | "
                  f"{ms(percentile(t, 99))} | {ms(max(t))} | < chime |")
    print(f"\nAudio clock vs wall clock over the run: {captured_seconds:.2f} s captured in {elapsed_wall:.2f} s "
          f"(sample positions rescaled by {scale:.4f}).\n")
    print(f"### Burst of 21 calls at once (repeat {base.repeat}, rate {base.rate} wpm, "
          f"burst_threshold {base.burst_threshold})\n")
    print("| strategy | drain time | speed-up |")
    print("|---|---|---|")
    print(f"| naive: chime + full phrase × {base.repeat} for every call | {naive:.1f} s | 1.0× |")
    print(f"| queue rules: {forms.count('short')} short (one chime per run) + {forms.count('call')} full "
          f"| {with_rules:.1f} s | {naive / with_rules:.1f}× |")


if __name__ == "__main__":
    main()
