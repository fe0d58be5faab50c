"""The media player inside one display process under Xvfb 1920×1080: sound while video plays, and the loop gap.

    .venv/bin/python bench/bench_content_player.py [--events 20] [--switches 30]

Runs the real display loop (signage.display.app.Display) in this process on an x11 window
(SDL_FRAMEBUFFER_ACCELERATION=0) with the real MediaPlayer, the real Announcer (espeak-ng, the
real chime) and SDL's disk audio driver, which writes every sample the mixer plays to a file in
real time. Calls are fed to the loop as the link thread would (an update queued, the loop woken).

1. Chime onset and chime → speech gap, with a 720p H.264 clip playing in the split layout's media
   area, against the same board showing a slide (no video). The two alternate call by call.
   Onset: from the moment the call is queued for the loop to Channel.play(chime), the loop's
   share, which is what video could delay (the mixer adds its buffer after that: 7 ms p50, 28 ms
   p99 in bench_announcer.py's capture). Gap: from the chime's last sample to the first sample of
   the speech, exact in the captured audio. Targets: onset p99 ≤ 100 ms, gap ≤ 50 ms, with video.
2. Loop gap: two 720p clips alternating in the media layout (fullscreen media), the time from
   the last picture of one to the first picture of the next, in frames of the clip (0 = gapless).
   Baseline in the same run: the same player without preloading (the next clip opened when the
   current one ends), as naive players do.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from _common import header, percentile, ratio, start_xvfb, stop, table  # noqa: E402

CAPTURE = Path(tempfile.mkdtemp(prefix="bench-content-player-")) / "capture.raw"


def find_all(capture: bytes, needle: bytes, start: int = 0) -> list[int]:
    """Sample offsets (16-bit mono) where `needle` occurs in the captured audio."""
    found = []
    while (i := capture.find(needle, start)) != -1:
        if i % 2 == 0:
            found.append(i // 2)
        start = i + 2
    return found


def frames_of(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


class Feed:
    """Stands in for the link: updates the loop drains (the hub is not what is measured here)."""

    def __init__(self):
        self.pending = []
        self.lock = threading.Lock()

    def put(self, update) -> None:
        with self.lock:
            self.pending.append(update)

    def drain(self):
        with self.lock:
            out, self.pending = self.pending, []
            return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20, help="calls per variant")
    parser.add_argument("--switches", type=int, default=30, help="clip switches per variant")
    args = parser.parse_args()

    xvfb, x_display = start_xvfb("1920x1080")
    os.environ.update({"DISPLAY": x_display, "SDL_VIDEODRIVER": "x11", "SDL_FRAMEBUFFER_ACCELERATION": "0",
                       "SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(CAPTURE),
                       "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
    try:
        return run(args)
    finally:
        stop(xvfb)


def run(args) -> int:
    import pygame

    from bench_content import make_clip
    from signage.announcer.phrases import build_phrase
    from signage.announcer.service import MIXER_SETTINGS, Announcer
    from signage.config import load_config
    from signage.core import hall, manifest as manifests, messages as m, protocol
    from signage.core.content import ManifestItem
    from signage.core.layout import LinkStatus
    from signage.display.app import Display, HallClock
    from signage.display.link import BoardChanged, StatusChanged
    from signage.display.logo import draw_logo
    from signage.display.media.area import MediaArea
    from signage.display.media.cache import ContentCache
    from signage.display.media.player import MediaPlayer
    from signage.display.media.sync import ContentSync, Mailbox, Playlist
    from signage.display.renderer import FontBook, Renderer
    from signage.hub.content import sha256_of

    tmp = CAPTURE.parent
    clip = make_clip(tmp / "clip.mp4")
    clip2 = make_clip(tmp / "clip2.mp4", seconds=6)
    config = load_config(ROOT / "config.yaml")
    base = config.announcer
    quick = dataclasses.replace(base, repeat=1, templates={**base.templates, "id": "{letter} {number}."})
    config = dataclasses.replace(config, announcer=quick)

    def item(key, path, seconds=None):
        return ManifestItem(key, "video", seconds, file=path.name, sha256=sha256_of(path), size=path.stat().st_size)

    def playlist_of(*items):
        paths = {i.sha256: (clip if i.file == clip.name else clip2) for i in items if i.sha256}
        return Playlist(protocol.make_manifest(items, manifests.local(config).fallback), paths, "bench")

    video_playlist = playlist_of(item("video", clip))
    slide_playlist = Playlist(protocol.make_manifest(manifests.local(config).items[4:5]), {}, "bench")

    pygame.display.init()
    pygame.font.init()
    pygame.mixer.init(**MIXER_SETTINGS)
    screen = pygame.display.set_mode((1920, 1080))
    fonts = FontBook()
    mailbox = Mailbox()
    clock = HallClock(config.hall.timezone)
    wakeup = threading.Event()
    player = MediaPlayer(config.content, "semua", clock=clock, fonts=fonts, mailbox=mailbox, wake=wakeup.set)
    media = MediaArea(player, ContentSync(None, ContentCache(tmp / "cache", 10 ** 9), Mailbox()))
    chime_calls: list[float] = []
    announcer = Announcer(quick, {c.number: c.name for c in config.counters}, "id",
                          observer=lambda part, a: chime_calls.append(time.monotonic()) if part == "chime" else None)
    announcer.start()
    feed = Feed()
    display = Display(config, config.zone(None), screen, Renderer(fonts, {"logo": draw_logo()}), feed, announcer,
                      clock=clock, wakeup=wakeup, layout="split", media=media)
    feed.put(StatusChanged(LinkStatus("online", clock())))

    def run_for(seconds: float, until=lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            display.step(display._timeout())

    # ---- 1. calls while video plays, and while a slide shows
    chime = frames_of(quick.chime)
    chime_samples = len(chime) // 2
    queued: list[tuple[str, float, str]] = []  # (variant, time queued, phrase)
    rng = random.Random(3)
    seq = 0
    order = ["video", "slide"] * args.events
    for variant in order:
        mailbox.put(video_playlist if variant == "video" else slide_playlist)
        wakeup.set()
        wanted = "video" if variant == "video" else "slide"
        run_for(10, until=lambda: player.current is not None and player.current.started
                and player.current.item.kind == wanted and player.describe()["frames"] >= 1)
        run_for(rng.uniform(0.5, 1.0))  # a random moment of playback
        seq += 1
        ticket = f"C-{100 + seq}"
        counter = 1 + seq % 21
        at = clock()
        state = hall.apply(display.snapshot, m.Called(display.snapshot.seq + 1, at, f"b{seq}", counter, ticket))
        event = m.Called(state.seq, at, f"b{seq}", counter, ticket)
        queued.append((variant, time.monotonic(), build_phrase(ticket, config.counter(counter).name, config=quick)))
        feed.put(BoardChanged(state, event))
        wakeup.set()
        run_for(30, until=lambda: not announcer.busy and time.monotonic() - queued[-1][1] > 0.5)
    run_for(0.5)
    capture = CAPTURE.read_bytes()
    chimes = find_all(capture, chime)
    onsets: dict[str, list[float]] = {"video": [], "slide": []}
    gaps: dict[str, list[float]] = {"video": [], "slide": []}
    rate = MIXER_SETTINGS["frequency"]
    for (variant, t, phrase), at, played in zip(queued, chimes, chime_calls):
        onsets[variant].append((played - t) * 1000)
        speech = announcer.speech.request(phrase, "id").result(timeout=30)
        found = find_all(capture, frames_of(speech)[:4000], at * 2)
        if found:
            gaps[variant].append((found[0] - (at + chime_samples)) / rate * 1000)
    announcer.stop()

    # ---- 2. the loop gap: two clips alternating, with and without preloading
    display.layout = "media"
    display.stale = True
    pair = playlist_of(item("a", clip, seconds=3), item("b", clip2, seconds=3))
    loop_gaps: dict[str, list[float]] = {}
    frame = 1 / 25
    for name, preload in (("preloaded (ours)", True), ("baseline: opened at the switch", False)):
        player.preload = preload
        player.switches.clear()
        mailbox.put(pair)
        wakeup.set()
        run_for(args.switches * 3.2 + 10, until=lambda: len(player.switches) > args.switches)
        loop_gaps[name] = [max(0.0, gap / frame - 1) for _, _, gap in player.switches[1:]]  # the first is the switch in
    media.stop()
    pygame.quit()

    out = [header("Media player in the display loop: sound while video plays, loop gap (Xvfb 1920×1080)")]
    rows = []
    for variant, label in (("video", "split, 720p H.264 video playing"), ("slide", "baseline: split, a slide")):
        o, g = onsets[variant], gaps[variant]
        rows.append([label, len(o), f"{percentile(o, 50):.1f}", f"{percentile(o, 99):.1f}", f"{max(o):.1f}",
                     f"{percentile(g, 50):.1f}" if g else "n/a", f"{percentile(g, 99):.1f}" if g else "n/a"])
    out.append(f"{args.events} calls per variant, alternating call by call; mixer {MIXER_SETTINGS['frequency']} Hz, "
               f"buffer {MIXER_SETTINGS['buffer']}; {len(chimes)} chimes found in the captured audio.\n")
    out.append(table(["variant", "n", "call → Channel.play(chime) p50 ms", "p99 ms", "max ms",
                      "chime → speech p50 ms", "p99 ms"],
                     rows))
    ov, os_ = onsets["video"], onsets["slide"]
    out.append(f"\nOnset with video / without: p50 {ratio(percentile(ov, 50), percentile(os_, 50))}, "
               f"p99 {ratio(percentile(ov, 99), percentile(os_, 99))}. Targets with video: onset p99 ≤ 100 ms "
               f"({'met' if percentile(ov, 99) <= 100 else 'NOT met'}), gap ≤ 50 ms "
               f"({'met' if gaps['video'] and max(gaps['video']) <= 50 else 'NOT met'}).\n")
    rows = [[name, len(g), f"{percentile(g, 50):.2f}", f"{percentile(g, 99):.2f}", f"{max(g):.2f}"]
            for name, g in loop_gaps.items()]
    out.append(f"Loop gap: two 720p clips cut at 3 s, alternating in the media layout; {args.switches} switches "
               "each; gap = (last picture of one → first picture of the next) / frame time − 1.\n")
    out.append(table(["player", "switches", "gap p50 (frames)", "p99", "max"], rows))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
