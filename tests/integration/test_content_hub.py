"""Content on a real hub (127.0.0.1, port 0, real SQLite): publishing, the journaled `content` event, files by hash.

Also the two commands: `signage content check` (exit 2, one line per problem) and
`signage content publish` against a hub process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from media import make_image, make_video, scramble, truncate
from signage.config import load_config
from signage.core import protocol
from support import ROOT, HubProcess, raw_client, running_hub, timeout, write_config


def content_config(tmp_path: Path, playlist: list[dict], layout: str = "split") -> Path:
    path = write_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["display"]["layout"] = layout
    raw["content"]["dir"] = str(tmp_path / "content")
    raw["content"]["playlist"] = playlist
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "content"
    make_video(d / "profil.mp4", seconds=0.6)
    make_image(d / "jam.png")
    return d


PLAYLIST = [{"type": "video", "file": "profil.mp4"}, {"type": "image", "file": "jam.png", "seconds": 5},
            {"type": "slide", "slide": "maklumat"}]


def http(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout(10)) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


async def get(hub, path: str, headers: dict | None = None):
    return await asyncio.to_thread(http, f"http://127.0.0.1:{hub.port}{path}", headers)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_published_once_journaled_and_served_by_hash(tmp_path, folder):
    cfg = load_config(content_config(tmp_path, PLAYLIST))
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        event = hub.journal.last_of_type("content")
        assert event is not None and event.seq == hub.seq == 1
        manifest = event.manifest
        assert [i.kind for i in manifest.items] == ["video", "image", "slide"]
        assert manifest.items[0].sha256 == sha(folder / "profil.mp4")
        assert manifest.items[1].seconds == 5 and manifest.fallback

        status, headers, body = await get(hub, "/content/manifest.json")
        assert status == 200 and protocol.decode_manifest(body) == manifest and headers["X-Content-Seq"] == "1"

        video = (folder / "profil.mp4").read_bytes()
        status, headers, body = await get(hub, f"/content/files/{sha(folder / 'profil.mp4')}")
        assert status == 200 and body == video and headers["Content-Type"] == "video/mp4"
        assert "immutable" in headers["Cache-Control"]
        status, headers, body = await get(hub, f"/content/files/{sha(folder / 'profil.mp4')}", {"Range": "bytes=10-109"})
        assert status == 206 and body == video[10:110]
        assert headers["Content-Range"] == f"bytes 10-109/{len(video)}"
        status, _, body = await get(hub, f"/content/files/{sha(folder / 'profil.mp4')}", {"Range": "bytes=100-"})
        assert status == 206 and body == video[100:]
        status, headers, _ = await get(hub, f"/content/files/{sha(folder / 'profil.mp4')}",
                                       {"Range": f"bytes={len(video)}-"})
        assert status == 416 and headers["Content-Range"] == f"bytes */{len(video)}"
        assert (await get(hub, "/content/files/" + "0" * 64))[0] == 404
        assert (await get(hub, "/content/files/../../etc/passwd"))[0] == 404

    # A restart with the same files announces nothing.
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        assert hub.seq == 1 and hub.content.last_result.startswith("unchanged")

    # A changed file is a new manifest: a new event.
    make_image(folder / "jam.png", colour=(200, 10, 10))
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        assert hub.seq == 2
        assert hub.journal.last_of_type("content").manifest.items[1].sha256 == sha(folder / "jam.png")


async def test_a_file_changed_after_publishing_is_not_served_under_its_old_hash(tmp_path, folder):
    cfg = load_config(content_config(tmp_path, PLAYLIST))
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        old = hub.content.current.items[1].sha256
        make_image(folder / "jam.png", colour=(1, 2, 3))
        status, _, body = await get(hub, f"/content/files/{old}")
        assert status == 409 and b"publish again" in body


async def test_queue_layouts_scan_but_do_not_journal(tmp_path, folder):
    cfg = load_config(content_config(tmp_path, PLAYLIST, layout="queue"))
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        assert hub.seq == 0 and hub.journal.last_of_type("content") is None
        status, _, body = await get(hub, "/content/manifest.json")
        assert status == 200 and protocol.decode_manifest(body).items[0].kind == "video"
        status, _, _ = await get(hub, f"/content/files/{sha(folder / 'profil.mp4')}")
        assert status == 200  # a display started with --layout split still gets its files


async def test_publish_over_http_reaches_live_displays_and_replays(tmp_path, folder):
    path = content_config(tmp_path, PLAYLIST, layout="queue")
    cfg = load_config(path)
    tokens = {t.name: t.secret for t in cfg.tokens}
    async with running_hub(cfg) as hub:
        await hub.content.wait_started()
        assert (await get(hub, "/content/publish"))[0] == 401
        assert (await get(hub, "/content/publish", {"Authorization": "Bearer nope-nope-nope"}))[0] == 401
        status, _, body = await get(hub, "/content/publish", {"Authorization": f"Bearer {tokens['loket-05']}"})
        assert status == 403 and b"supervisor" in body
        assert (await get(hub, "/content/publish", {"Authorization": f"Bearer {tokens['tv-semua']}"}))[0] == 403
        async with raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
            assert (await tv.recv())["type"] == "welcome"
            status, _, body = await get(hub, "/content/publish", {"Authorization": f"Bearer {tokens['supervisor']}"})
            assert status == 202 and json.loads(body)["request"] == 1
            event = await tv.recv_type("content")
            assert event["seq"] == 1 and event["manifest"]["items"][0]["kind"] == "video"
            assert protocol.parse_hub_frame(json.dumps(event)).manifest == hub.content.current
        # A display that was away gets it replayed.
        async with raw_client(hub.url, tokens["tv-lantai-1"], role="display", since=0) as late:
            welcome = await late.recv()
            assert welcome["replaying"] == 1
            replayed = await late.recv_type("content")
            assert replayed["replay"] is True and replayed["seq"] == 1
        # Nothing changed: publishing again writes nothing.
        await get(hub, "/content/publish", {"Authorization": f"Bearer {tokens['supervisor']}"})
        for _ in range(200):
            if hub.content.completed == 2:
                break
            await asyncio.sleep(0.02)
        assert hub.content.last_result.startswith("unchanged") and hub.seq == 1


async def test_calls_keep_their_order_around_a_publish(tmp_path, folder):
    cfg = load_config(content_config(tmp_path, PLAYLIST))
    tokens = {t.name: t.secret for t in cfg.tokens}
    async with running_hub(cfg) as hub:
        async with raw_client(hub.url, tokens["supervisor"]) as op:
            assert (await op.recv())["type"] == "welcome"
            seqs = []
            for counter in range(1, 6):
                await op.send({"type": "call", "id": f"c{counter}", "counter": counter, "ticket": f"A-{counter:03d}"})
                seqs.append((await op.recv_type("ack"))["seq"])
        await hub.content.wait_started()
        every = sorted(seqs + [hub.content.current_seq])
        assert every == list(range(1, 7)), "one gap-free sequence for calls and the content event"


# ---------------------------------------------------------------- the commands


def run(*argv: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signage", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout(120), env={**os.environ, "SDL_VIDEODRIVER": "dummy"})


def test_content_check_passes_a_good_playlist(tmp_path, folder):
    make_video(folder / "promo.webm", seconds=0.6, codec="libvpx-vp9")
    make_image(folder / "poster.jpg")
    path = content_config(tmp_path, PLAYLIST + [{"type": "video", "file": "promo.webm"},
                                               {"type": "image", "file": "poster.jpg"}])
    done = run("content", "check", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "content OK: 5 item(s)" in done.stdout
    assert "playlist[0] video profil.mp4: h264 320x180" in done.stdout
    assert "playlist[3] video promo.webm: vp9 320x180" in done.stdout


def test_content_check_names_every_bad_item_and_file(tmp_path, folder):
    make_video(folder / "scrambled.mp4", seconds=0.4)
    scramble(folder / "scrambled.mp4")
    make_video(folder / "cut.mp4", seconds=1)
    truncate(folder / "cut.mp4", 0.4)
    make_video(folder / "lossless.mkv", seconds=0.6, codec="ffv1")
    make_video(folder / "tiny.mp4", seconds=0.6, size=(32, 32))
    make_video(folder / "blink.mp4", seconds=0.08)
    (folder / "fake.png").write_text("not an image")
    playlist = [{"type": "video", "file": name} for name in
                ("scrambled.mp4", "cut.mp4", "lossless.mkv", "tiny.mp4", "blink.mp4", "gone.mp4")]
    playlist += [{"type": "image", "file": "fake.png"}, {"type": "slide", "slide": "standar-pelayanan",
                                                       "agency": "PDAM"}, {"type": "video", "file": "profil.mp4"}]
    done = run("content", "check", "--config", str(content_config(tmp_path, playlist)))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    expected = [
        "config.yaml: playlist[0] video scrambled.mp4: ",
        "config.yaml: playlist[1] video cut.mp4: ",
        "config.yaml: playlist[2] video lossless.mkv: unsupported codec 'ffv1'",
        "config.yaml: playlist[3] video tiny.mp4: resolution 32x32 is outside 64x64..3840x2160",
        "config.yaml: playlist[4] video blink.mp4: duration 0.08 s is outside 0.5 s..2 h",
        "config.yaml: playlist[5] video gone.mp4: ",
        "config.yaml: playlist[6] image fake.png: not a PNG or JPEG file",
        "config.yaml: playlist[7] slide standar-pelayanan: no service of agency PDAM has standar pelayanan",
    ]
    assert len(lines) == len(expected), done.stderr
    for prefix, line in zip(expected, lines):  # in playlist order
        assert line.startswith(prefix), (prefix, lines)
    assert lines[0].endswith("Invalid data found when processing input")
    assert "gone.mp4 not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_content_publish_command_against_a_hub_process(tmp_path, folder):
    path = content_config(tmp_path, PLAYLIST, layout="queue")
    hub = HubProcess(path).start()
    try:
        done = run("content", "publish", "--config", str(path), "--hub", hub.url)
        assert done.returncode == 0, done.stderr
        assert "published manifest" in done.stdout and "as seq 1" in done.stdout
        again = run("content", "publish", "--config", str(path), "--hub", hub.url)
        assert again.returncode == 0 and "unchanged" in again.stdout
        # The playlist is reread from the config file: an edit is published without a restart.
        raw = yaml.safe_load(path.read_text())
        raw["content"]["playlist"] = PLAYLIST[:1]
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
        third = run("content", "publish", "--config", str(path), "--hub", hub.url)
        assert third.returncode == 0 and "as seq 2" in third.stdout
        refused = run("content", "publish", "--config", str(path), "--hub", hub.url, "--token",
                      next(t.secret for t in load_config(path).tokens if t.name == "loket-01"))
        assert refused.returncode == 1 and "HTTP 403" in refused.stderr
    finally:
        hub.stop()
