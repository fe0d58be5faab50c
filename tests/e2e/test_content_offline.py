"""Real processes: a hub serves content, a display downloads it, then plays it with the hub gone and after a restart.

The display runs headless (SDL dummy) with --snapshot-dir: frame.json carries what the media
area plays (item, source of the playlist, errors) after every change of item.
"""

from __future__ import annotations

import hashlib

import pytest
import yaml

from integration.test_display_live import DisplayProcess
from media import make_image, make_video
from support import HubProcess, write_config


def media_config(tmp_path, playlist):
    path = write_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["display"]["layout"] = "split"
    raw["content"]["dir"] = str(tmp_path / "content")
    raw["content"]["playlist"] = playlist
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


def media(info: dict | None) -> dict:
    return (info or {}).get("media") or {}


@pytest.mark.e2e
async def test_downloads_then_plays_with_the_hub_down_and_after_a_restart(tmp_path):
    folder = tmp_path / "content"
    video = make_video(folder / "profil.mp4", seconds=0.6)
    image = make_image(folder / "jam.png")
    path = media_config(tmp_path, [{"type": "video", "file": "profil.mp4"},
                                   {"type": "image", "file": "jam.png", "seconds": 1}])
    hub = HubProcess(path).start()
    display = DisplayProcess(path, hub.url, tmp_path / "frames")
    cache = tmp_path / "var" / "content-cache" / "semua"
    try:
        info = await display.wait_frame(lambda f: media(f).get("source") == "hub" and media(f).get("item"), 30,
                                        "content from the hub")
        assert media(info)["errors"] == {}
        for f in (video, image):  # verified copies, named by hash
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            assert (cache / "files" / digest).read_bytes() == f.read_bytes()
        assert (cache / "manifest.json").exists()

        hub.kill()
        await display.wait_frame(lambda f: f["link"] == "offline", 15, "the offline bar")
        first = media(display.frame())["started"]
        await display.wait_frame(lambda f: media(f).get("started", 0) >= first + 3, 20,
                                 "items still playing with the hub down")
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()

    # A restart with the hub still down: the cached manifest, straight from the cache.
    again = DisplayProcess(path, hub.url, tmp_path / "frames2")
    try:
        info = await again.wait_frame(lambda f: media(f).get("source") == "cache" and media(f).get("started", 0) >= 3,
                                      30, "cached content after a restart")
        assert media(info)["errors"] == {} and info["link"] in ("connecting", "offline")
        assert media(info)["item"] in ("playlist[0]", "playlist[1]")
        assert "from the cache" in again.log()
    finally:
        assert again.stop() == 0, again.log()


@pytest.mark.e2e
async def test_a_new_manifest_replaces_the_playlist_live(tmp_path):
    folder = tmp_path / "content"
    make_video(folder / "a.mp4", seconds=0.6, colour=(200, 40, 40))
    make_video(folder / "b.mp4", seconds=0.6, colour=(40, 200, 40))
    path = media_config(tmp_path, [{"type": "video", "file": "a.mp4"}])
    hub = HubProcess(path).start()
    display = DisplayProcess(path, hub.url, tmp_path / "frames")
    try:
        await display.wait_frame(lambda f: media(f).get("file") == "a.mp4" and media(f).get("source") == "hub", 30,
                                 "a.mp4 from the hub")
        raw = yaml.safe_load(path.read_text())
        raw["content"]["playlist"] = [{"type": "video", "file": "b.mp4"}, {"type": "slide", "slide": "maklumat"}]
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
        import subprocess
        import sys

        from support import ROOT, timeout
        done = subprocess.run([sys.executable, "-m", "signage", "content", "publish", "--config", str(path),
                               "--hub", hub.url], capture_output=True, text=True, cwd=ROOT, timeout=timeout(60))
        assert done.returncode == 0 and "published" in done.stdout, done.stderr
        info = await display.wait_frame(lambda f: media(f).get("file") == "b.mp4", 30, "b.mp4 after publish")
        assert media(info)["errors"] == {}
        await display.wait_frame(lambda f: media(f).get("kind") == "slide", 30, "the maklumat slide next")
    finally:
        assert display.stop() == 0, display.log()
        hub.stop()
