"""Soak: 1,000 loops of a playlist (an H.264 clip, a VP9 clip, a PNG, a slide) on one player; memory and descriptors stay flat.

Signage players are known to leak until someone restarts them (Anthias #744 and #892,
xibo-linux #190). Every loop opens two decoders, loads an image and draws a slide, so a leak
of one file, one thread or one frame per item shows up as growth. The player runs on its own
clock (media.Stage, virtual): as fast as the decoders go, the same code path as on a screen.
RSS is read after a warm-up and at the end, descriptors as the most open over the 20 loops
before each point (a decoder may hold its file at the moment of a reading): growth must stay ≤ 5%.
SIGNAGE_MEDIA_SOAK_LOOPS changes the loop count (default 1,000).
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pygame
import pytest

from media import Stage, file_item, make_image, make_video, playlist, slide_item, with_paths
from signage.config import load_config
from support import ROOT, timeout

LOOPS = int(os.environ.get("SIGNAGE_MEDIA_SOAK_LOOPS", "1000"))
WARM_UP = max(10, LOOPS // 5)  # glibc's per-thread arenas settle within a few hundred loops


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.e2e
def test_a_thousand_playlist_loops_keep_memory_and_descriptors_flat(tmp_path):
    cfg = load_config(ROOT / "config.yaml")
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((1280, 720))
    h264 = make_video(tmp_path / "a.mp4", seconds=0.12, colour=(200, 40, 40))
    vp9 = make_video(tmp_path / "b.webm", seconds=0.12, codec="libvpx-vp9", colour=(40, 200, 40))
    png = make_image(tmp_path / "c.png")
    items = (file_item("a", h264), file_item("b", vp9), file_item("c", png, "image", 0.05), slide_item("d", seconds=0.05))
    stage = Stage(cfg, screen, with_paths(playlist(*items), h264, vp9, png), virtual=True)
    readings = {}
    open_fds: list[int] = []
    try:
        deadline_per_loop = timeout(2.0)
        for loop in range(1, LOOPS + 1):
            target = loop * len(items)
            stage.play_until(lambda: stage.player.items_started >= target, seconds=deadline_per_loop,
                             what=f"loop {loop}")
            open_fds.append(fds())
            if loop in (WARM_UP, LOOPS):
                gc.collect()
                readings[loop] = {"rss_kb": rss_kb(), "fds": max(open_fds[-20:]),
                                  "threads": threading.active_count()}
        assert stage.player.errors == {}
        gaps = [g for _, _, g in stage.player.schedule_gaps]
        assert gaps and max(gaps) == 0.0, "every item took over exactly when the previous one ended"
    finally:
        stage.close()
    start, end = readings[WARM_UP], readings[LOOPS]
    print(f"after {WARM_UP} loops: {start}; after {LOOPS}: {end}")
    assert end["rss_kb"] <= start["rss_kb"] * 1.05, f"RSS grew {end['rss_kb'] / start['rss_kb'] - 1:.1%}"
    assert end["fds"] <= start["fds"] * 1.05, f"descriptors grew {start['fds']} → {end['fds']}"
    assert end["threads"] <= start["threads"] + 1
