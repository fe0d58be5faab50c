"""The media player with real PyAV decoding and real pygame (SDL dummy): order, gaps, faults, switches, overlays.

Media are made here (tests/media.py): H.264 and VP9 test patterns, PNG and JPEG. Playback is
driven on the player's own clock (time is passed in), so a test waits on conditions, never on
sleeps: `play_until` steps the player at its own due times until a predicate holds.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pygame
import pytest

from media import AREA, Stage, file_item, make_image, make_video, playlist, scramble, slide_item, truncate, with_paths
from signage.config import load_config
from signage.core import hall, messages as m
from signage.core.content import Schedule
from signage.core.layout import LinkStatus, Rect
from signage.display.app import Display
from signage.display.link import BoardChanged, StatusChanged
from signage.display.logo import draw_logo
from signage.display.media.player import MediaPlayer
from signage.display.media.sync import Mailbox
from signage.display.renderer import FontBook, Renderer
from support import ROOT, timeout

WIB = timezone(timedelta(hours=7))
RED, GREEN, BLUE = (200, 40, 40), (40, 200, 40), (40, 40, 200)


@pytest.fixture(scope="module")
def cfg():
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def screen():
    pygame.display.init()
    pygame.font.init()
    return pygame.display.set_mode((1280, 720))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {
        "red": make_video(d / "red.mp4", seconds=0.4, colour=RED),
        "green": make_video(d / "green.webm", seconds=0.4, codec="libvpx-vp9", colour=GREEN),
        "blue_png": make_image(d / "blue.png", colour=BLUE),
        "blue_jpg": make_image(d / "blue.jpg", colour=BLUE),
        "long": make_video(d / "long.mp4", seconds=4, colour=RED),
    }


def near(c1, c2, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(c1, c2))


def keys_played(stage: Stage) -> list[str]:
    out = []
    for _, key in stage.drawn:
        if not out or out[-1] != key:
            out.append(key)
    return out


# ---------------------------------------------------------------- order, formats, gaps


def test_videos_images_and_slides_play_in_order_and_loop(cfg, screen, clips):
    items = (file_item("a", clips["red"]), file_item("b", clips["green"]),
             file_item("c", clips["blue_png"], "image", 0.3), slide_item("d"), file_item("e", clips["blue_jpg"], "image", 0.3))
    stage = Stage(cfg, screen, with_paths(playlist(*items), clips["red"], clips["green"], clips["blue_png"],
                                          clips["blue_jpg"]))
    seen_colours = {}
    try:
        def looped():
            if stage.player.current is not None and stage.player.current.started:
                seen_colours.setdefault(stage.player.current.item.key, set()).add(stage.colour_at_centre())
            return keys_played(stage)[:6] == ["a", "b", "c", "d", "e", "a"]
        stage.play_until(looped, what="a, b, c, d, e, then a again")
        assert any(near(c, RED) for c in seen_colours["a"]) and any(near(c, GREEN) for c in seen_colours["b"])
        assert any(near(c, BLUE) for c in seen_colours["c"]) and any(near(c, BLUE) for c in seen_colours["e"])
        assert stage.player.errors == {}
    finally:
        stage.close()


def test_one_video_loops_without_a_gap(cfg, screen, clips):
    stage = Stage(cfg, screen, with_paths(playlist(file_item("loop", clips["red"])), clips["red"]), virtual=True)
    try:
        stage.play_until(lambda: len(stage.player.switches) >= 4, what="four loops")
        frame = 1 / 25
        for _, _, gap in stage.player.switches:
            # From the last picture of one pass to the first of the next: one frame's time, not more.
            assert gap == pytest.approx(frame, abs=1e-6), stage.player.switches
        assert [g for _, _, g in stage.player.schedule_gaps] == [0.0] * len(stage.player.schedule_gaps)
        assert stage.player.describe()["dropped"] == 0
    finally:
        stage.close()


def test_the_next_video_is_open_before_the_current_one_ends(cfg, screen, clips):
    stage = Stage(cfg, screen, with_paths(playlist(file_item("a", clips["red"]), file_item("b", clips["green"])),
                                          clips["red"], clips["green"]))
    try:
        stage.play_until(lambda: stage.player.current is not None and stage.player.current.started, what="a start")
        stage.play_until(lambda: stage.player.next is not None and stage.player.next.source.ready, seconds=5,
                         what="b preloaded")
        assert stage.player.current.item.key == "a" and stage.player.next.item.key == "b"
    finally:
        stage.close()


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("damage", ["scrambled", "truncated", "not-a-video", "unsupported-codec", "missing-from-cache"])
def test_a_bad_file_is_skipped_with_one_error_and_the_next_item_plays(cfg, screen, clips, tmp_path, damage, caplog):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(clips["long"].read_bytes())
    if damage == "scrambled":
        scramble(bad)
    elif damage == "truncated":
        truncate(bad, 0.3)
    elif damage == "not-a-video":
        bad.write_text("hello, this is not a video\n" * 100)
    elif damage == "unsupported-codec":
        bad = make_video(tmp_path / "bad.mkv", seconds=0.3, codec="ffv1", colour=GREEN)
    items = (file_item("bad", bad), file_item("good", clips["green"]))
    paths = [clips["green"]] + ([] if damage == "missing-from-cache" else [bad])
    stage = Stage(cfg, screen, with_paths(playlist(*items), *paths))
    try:
        stage.play_until(lambda: sum(to == "good" for _, to, _ in stage.player.switches) >= 2,
                         what="the good item, looping")
        assert set(keys_played(stage)) == {"good"}
        (label, error), = stage.player.errors.items()
        assert label.startswith("bad video bad.")
        expected = {"unsupported-codec": "unsupported codec 'ffv1'", "missing-from-cache": "not in the cache"}
        if damage in expected:
            assert expected[damage] in error
        skipped = [r for r in caplog.records if "skipped bad" in r.getMessage()]
        # One line, not one per loop (a file missing from the cache is the sync thread's line to log).
        assert len(skipped) == (0 if damage == "missing-from-cache" else 1), [r.getMessage() for r in skipped]
    finally:
        stage.close()


def test_nothing_due_plays_the_generated_slides(cfg, screen, clips):
    friday_morning = datetime(2026, 11, 27, 9, 0, tzinfo=WIB)
    evening_only = file_item("evening", clips["red"], schedule=Schedule(window_from=datetime.min.time().replace(hour=18)))
    stage = Stage(cfg, screen, with_paths(playlist(evening_only, fallback=(slide_item("g0", "SATU"),
                                                                            slide_item("g1", "DUA"))), clips["red"]),
                  hall_time=friday_morning)
    try:
        stage.play_until(lambda: keys_played(stage)[:3] == ["g0", "g1", "g0"], what="the fallback slides")
        assert stage.player.describe()["fallback"]
        stage.hall_time = friday_morning.replace(hour=18, minute=30)
        stage.play_until(lambda: "evening" in keys_played(stage), what="the evening item once due")
    finally:
        stage.close()


# ---------------------------------------------------------------- manifest switches


def test_a_manifest_switch_mid_video_starts_the_new_playlist_and_frees_the_old(cfg, screen, clips):
    stage = Stage(cfg, screen, with_paths(playlist(file_item("long", clips["long"])), clips["long"]))
    try:
        stage.play_until(lambda: stage.player.describe()["frames"] >= 10, what="the long video playing")
        assert near(stage.colour_at_centre(), RED)
        old = [s.source for s in (stage.player.current, stage.player.next) if s is not None]
        stage.mailbox.put(with_paths(playlist(file_item("new", clips["green"])), clips["green"]))
        switched_at = stage.now
        stage.play_until(lambda: near(stage.colour_at_centre(), GREEN), what="the new playlist's video")
        # The old video had more than 3.5 s to go: the new playlist did not wait for its end.
        assert stage.now - switched_at < 2.0, "the switch waited for the old video to end"
        assert stage.player.describe()["item"] == "new"
        stage.play_until(lambda: not any(source.decoding for source in old), what="the old decoders stopping")
        assert all(source.last is None and source._head is None for source in old), "old pictures released"
    finally:
        stage.close()


def test_an_item_in_both_playlists_keeps_playing_through_a_switch(cfg, screen, clips):
    long = file_item("long", clips["long"])
    stage = Stage(cfg, screen, with_paths(playlist(long), clips["long"]))
    try:
        stage.play_until(lambda: stage.player.describe()["frames"] >= 10, what="the long video playing")
        source = stage.player.current.source
        stage.mailbox.put(with_paths(playlist(file_item("first", clips["green"]), dataclasses.replace(long, key="x")),
                                     clips["green"], clips["long"]))
        stage.step()
        assert stage.player.current.source is source and stage.player.current.item.key == "x"
        stage.play_until(lambda: keys_played(stage)[-1] == "first", what="the new order after it")
    finally:
        stage.close()


# ---------------------------------------------------------------- painting around overlays


def test_pictures_are_painted_around_covers(cfg, screen, clips):
    stage = Stage(cfg, screen, with_paths(playlist(file_item("long", clips["long"])), clips["long"]))
    hole = Rect(AREA.x + 100, AREA.y + 100, 200, 100)
    try:
        stage.play_until(lambda: stage.player.describe()["frames"] >= 2, what="pictures")
        screen.fill((1, 2, 3), (hole.x, hole.y, hole.w, hole.h))
        for _ in range(10):
            rects = stage.step(covers=(hole,))
            for r in rects:
                assert not pygame.Rect(r).colliderect((hole.x, hole.y, hole.w, hole.h)) or r.w * r.h == AREA.w * AREA.h
        assert tuple(screen.get_at((hole.x + 5, hole.y + 5)))[:3] == (1, 2, 3)
        assert near(tuple(screen.get_at((hole.x - 5, hole.y + 5)))[:3], RED)
    finally:
        stage.close()


class FakeLink:
    """The link's interface to the loop: updates to drain. The network is not what is tested here."""

    def __init__(self):
        self.pending = []

    def drain(self):
        out, self.pending = self.pending, []
        return out


def test_a_call_during_fullscreen_media_shows_the_hero_in_the_next_frame(cfg, screen, clips):
    from signage.display.media.area import MediaArea
    from signage.display.media.cache import ContentCache
    from signage.display.media.sync import ContentSync

    mailbox = Mailbox()
    mailbox.put(with_paths(playlist(file_item("long", clips["long"])), clips["long"]))
    clock_now = [datetime.now(WIB)]
    fonts = FontBook()
    player = MediaPlayer(cfg.content, "semua", clock=lambda: clock_now[0], fonts=fonts, mailbox=mailbox)
    media = MediaArea(player, ContentSync(None, ContentCache(Path(pytest_tmp()) / "cache", 10 ** 8), Mailbox()))
    link = FakeLink()
    wake = threading.Event()

    class Clock:
        offset = 0.0

        def __call__(self):
            return clock_now[0]

    display = Display(cfg, cfg.zone(None), screen, Renderer(fonts, {"logo": draw_logo()}), link, clock=Clock(),
                      wakeup=wake, layout="media", media=media)
    try:
        link.pending.append(StatusChanged(LinkStatus("online", clock_now[0])))
        deadline = time.monotonic() + timeout(10)
        while player.describe()["frames"] < 5:
            assert time.monotonic() < deadline, player.describe()
            display.step(display._timeout())
            clock_now[0] = datetime.now(WIB)
        assert display.view.region("hero") is None
        # The call arrives; the very next loop turn draws the hero over the video.
        at = datetime.now(WIB)
        clock_now[0] = at
        state = hall.apply(display.snapshot, m.Called(display.snapshot.seq + 1, at, "c1", 5, "E-042"))
        link.pending.append(BoardChanged(state, None))
        display.step(0)
        hero = display.view.region("hero")
        assert hero is not None and "E-042" in [t.text for t in hero.texts()]
        inside = (hero.rect.x + hero.rect.w // 2, hero.rect.y + 4)
        assert tuple(screen.get_at(inside))[:3] == hero.background
        # Video frames keep coming, around the hero, never over it.
        frames = player.describe()["frames"]
        while player.describe()["frames"] < frames + 5:
            assert time.monotonic() < deadline + timeout(10)
            display.step(display._timeout())
            clock_now[0] = at + timedelta(seconds=0.1)  # still within highlight_seconds
        assert tuple(screen.get_at(inside))[:3] == display.view.region("hero").background
        outside = (display.covers[0].x - 10, display.covers[0].y + 10)
        assert near(tuple(screen.get_at(outside))[:3], RED)
    finally:
        media.stop()


_tmp = []


def pytest_tmp() -> str:
    import tempfile
    _tmp.append(tempfile.mkdtemp(prefix="media-test-"))
    return _tmp[-1]


# ---------------------------------------------------------------- sound


def test_video_sound_plays_on_its_own_channel_and_ducks_while_the_board_speaks(cfg, screen, tmp_path):
    from signage.announcer.service import MIXER_SETTINGS
    from signage.display.media.audio import VIDEO_CHANNEL, AudioOut

    clip = make_video(tmp_path / "voice.mp4", seconds=3, audio=True)
    loud = dataclasses.replace(cfg.content, audio=True, volume=0.8, duck_volume=0.1)
    assert AudioOut.open(dataclasses.replace(loud, audio=False), lambda: False) is None  # muted by default
    pygame.mixer.init(**MIXER_SETTINGS)
    try:
        speaking = [False]
        audio = AudioOut.open(loud, lambda: speaking[0])
        stage = Stage(cfg, screen, with_paths(playlist(file_item("voice", clip)), clip))
        stage.player.audio = audio
        try:
            stage.play_until(lambda: audio.channel.get_busy(), what="the video's sound playing")
            assert audio.channel.get_volume() == pytest.approx(0.8, abs=0.01)
            assert audio.channel.get_sound() is not None and pygame.mixer.Channel(0).get_sound() is None
            speaking[0] = True  # the board starts announcing a call
            stage.step()
            assert audio.channel.get_volume() == pytest.approx(0.1, abs=0.01)
            speaking[0] = False
            stage.step()
            assert audio.channel.get_volume() == pytest.approx(0.8, abs=0.01)
            assert VIDEO_CHANNEL == 1  # channel 0 stays the announcer's
        finally:
            stage.close()
    finally:
        pygame.mixer.quit()


def test_media_threads_yield_the_cpu_to_the_display_loop(cfg, screen, clips):
    """Calls come first: decoders, image loading and downloads run at a lower priority (nice) than the loop."""
    def nice_of(name_prefix: str) -> set[int]:
        found = set()
        for thread in threading.enumerate():
            if thread.name.startswith(name_prefix) and thread.native_id is not None:
                stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
                found.add(int(stat.rsplit(")", 1)[1].split()[16]))  # field 19: nice
        return found

    stage = Stage(cfg, screen, with_paths(playlist(file_item("red", clips["red"]), file_item("png", clips["blue_png"],
                                                                                           "image", 0.3)),
                                          clips["red"], clips["blue_png"]))
    try:
        stage.play_until(lambda: "png" in keys_played(stage), what="a video, then an image")
        import os
        main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert nice_of("video-decoder") and all(n >= main + 10 for n in nice_of("video-decoder"))
        assert nice_of("media-stills") and all(n >= main + 10 for n in nice_of("media-stills"))
    finally:
        stage.close()
