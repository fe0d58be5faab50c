"""The content section, layouts and service standards in config.yaml: valid examples load, broken ones name key and value."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
import yaml

from signage.config import load_config
from signage.errors import ConfigError
from support import ROOT

REAL = (ROOT / "config.yaml").read_text()


def write(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(REAL)
    edit(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


def problems(tmp_path: Path, edit) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, edit))
    return info.value.problems


def test_the_shipped_config_has_standards_maklumat_and_a_playlist():
    content = load_config(ROOT / "config.yaml").content
    ktp = content.standards["DUKCAPIL-01"]
    assert ktp.persyaratan[0] == "Fotokopi Kartu Keluarga"
    assert (ktp.jangka_waktu, ktp.biaya, ktp.produk) == ("1 hari", "Gratis", "KTP-el")
    assert content.standards["POLRES-01"].biaya.startswith("Rp30.000")
    assert len(content.standards) >= 6
    assert content.maklumat.count("\n") == 2 and "cepat, mudah, terjangkau, aman dan nyaman" in content.maklumat
    assert content.pengaduan and content.layout == "queue"
    assert content.dir == ROOT / "content" and content.cache_dir == ROOT / "var" / "content-cache"
    assert [i.slide for i in content.playlist][:2] == ["standar-pelayanan", "jam-layanan"]


def test_a_full_item_and_per_zone_layouts(tmp_path):
    def edit(raw):
        raw["display"]["layout"] = "split"
        raw["display"]["zones"][1]["layout"] = "media"
        raw["content"]["playlist"] = [
            {"type": "video", "file": "video/profil-mpp.mp4", "seconds": 30, "weekdays": ["mon", "jumat"],
             "from": "22:00", "until": "02:00", "start_date": "2026-12-01", "end_date": date(2026, 12, 31),
             "zones": ["lantai-1"], "title": "Profil MPP"},
            {"type": "image", "file": "jam.png"},
            {"type": "slide", "slide": "standar-pelayanan", "services": ["POLRES-01", "POLRES-02"]},
        ]
    content = load_config(write(tmp_path, edit)).content
    assert content.layout_for("semua") == "split" and content.layout_for("lantai-1") == "media"
    video, image, slide = content.playlist
    assert video.file == "video/profil-mpp.mp4" and video.seconds == 30 and video.zones == ("lantai-1",)
    s = video.schedule
    assert s.weekdays == frozenset({0, 4}) and (s.window_from, s.window_until) == (time(22), time(2)) and s.wraps
    assert (s.start_date, s.end_date) == (date(2026, 12, 1), date(2026, 12, 31))
    assert image.seconds is None and slide.services == ("POLRES-01", "POLRES-02")


def test_a_playlist_in_its_own_file(tmp_path):
    (tmp_path / "playlist.yaml").write_text("playlist:\n  - {type: image, file: a.png, seconds: 5}\n")
    content = load_config(write(tmp_path, lambda r: r["content"].update(playlist="playlist.yaml"))).content
    assert content.playlist_file == tmp_path / "playlist.yaml"
    assert [(i.kind, i.file, i.seconds) for i in content.playlist] == [("image", "a.png", 5.0)]


def test_standards_as_a_text_block(tmp_path):
    def edit(raw):
        raw["services"][1].update(persyaratan="- Surat pengantar RT/RW\n- Fotokopi KK\r\n", biaya="Gratis")
    standard = load_config(write(tmp_path, edit)).content.standards[yaml.safe_load(REAL)["services"][1]["code"]]
    assert standard.persyaratan == ("Surat pengantar RT/RW", "Fotokopi KK") and standard.biaya == "Gratis"


def item(**fields):
    return lambda raw: raw["content"].update(playlist=[fields])


BROKEN = [
    (item(type="gif", file="a.gif"), "content.playlist[0].type: expected one of image, video, slide, got 'gif'"),
    (item(file="a.png"), "content.playlist[0].type: missing"),
    (item(type="image"), "content.playlist[0].file: missing"),
    (item(type="image", file="../secret.png"), "content.playlist[0].file: expected a file name inside content.dir"),
    (item(type="image", file="/etc/passwd"), "content.playlist[0].file: expected a file name inside content.dir"),
    (item(type="video", file="poster.png"), "content.playlist[0].file: 'poster.png' looks like a image, not a video"),
    (item(type="image", file="a.png", seconds=0), "content.playlist[0].seconds: expected a number of seconds"),
    (item(type="image", file="a.png", weekdays=["funday"]), "content.playlist[0].weekdays: unknown day 'funday'"),
    (item(type="image", file="a.png", weekdays="mon"), "content.playlist[0].weekdays: expected a list of days"),
    (item(type="image", file="a.png", **{"from": "7 pagi"}), "content.playlist[0].from: expected a time of day"),
    (item(type="image", file="a.png", **{"from": 450}), "content.playlist[0].from: expected a time of day"),
    (item(type="image", file="a.png", **{"from": "25:00"}), "content.playlist[0].from: expected a time of day"),
    (item(type="image", file="a.png", **{"from": "08:00", "until": "08:00"}),
     "content.playlist[0].until: the window is empty"),
    (item(type="image", file="a.png", start_date="2026-12-31", end_date="2026-12-01"),
     "content.playlist[0].end_date: 2026-12-01 is before start_date 2026-12-31"),
    (item(type="image", file="a.png", start_date="besok"), "content.playlist[0].start_date: expected a date"),
    (item(type="image", file="a.png", zones=["atap"]), "content.playlist[0].zones: unknown zone 'atap'"),
    (item(type="image", file="a.png", agency="POLRES"), "content.playlist[0].agency: only slides have agency"),
    (item(type="slide", slide="iklan"), "content.playlist[0].slide: expected one of standar-pelayanan"),
    (item(type="slide", slide="standar-pelayanan", agency="NASA"), "content.playlist[0].agency: unknown agency"),
    (item(type="slide", slide="standar-pelayanan", services=["X-99"]), "content.playlist[0].services: unknown service"),
    (item(type="slide", slide="maklumat", agency="POLRES"), "content.playlist[0].agency: only standar-pelayanan"),
    (item(type="slide", slide="maklumat", file="m.png"), "content.playlist[0].file: slides are generated"),
    (item(type="image", file="a.png", title="a\x1bb"), "content.playlist[0].title: holds a control character U+001B"),
    (item(type="image", file="a.png", colour="red"), "content.playlist[0].colour: unknown key"),
    (lambda r: r["content"].update(playlist="missing.yaml"), "content.playlist: cannot read playlist file"),
    (lambda r: r["content"].update(playlist={"a": 1}), "content.playlist: expected a list of items"),
    (lambda r: r["content"].update(duck_volume=2), "content.duck_volume: expected a number from 0 to 1, got 2"),
    (lambda r: r["content"].update(cache_mb=1), "content.cache_mb: expected a size in MB, 16 or more, got 1"),
    (lambda r: r["content"].update(audio="yes"), "content.audio: expected true or false, got 'yes'"),
    (lambda r: r["content"].update(dri="x"), "content.dri: unknown key"),
    (lambda r: r.update(content=["x"]), "content: expected a mapping"),
    (lambda r: r["display"].update(layout="grid"), "display.layout: expected one of queue, split, media, got 'grid'"),
    (lambda r: r["display"]["zones"][0].update(layout="tv"), "display.zones[0].layout: expected one of queue"),
    (lambda r: r["services"][0].update(biaya=5000), "services[0].biaya: expected a string, got 5000"),
    (lambda r: r["services"][0].update(persyaratan=["ok", ""]), "services[0].persyaratan[1]: expected a non-empty"),
    (lambda r: r["services"][0].update(jangka_waktu="1\x00hari"), "services[0].jangka_waktu: holds a control"),
    (lambda r: r["hall"].update(maklumat="Kami\x07siap"), "hall.maklumat: holds a control character U+0007"),
    (lambda r: r["hall"].update(maklumat="\ud800"), "hall.maklumat: holds a lone surrogate U+D800"),
]


@pytest.mark.parametrize("edit,expected", BROKEN, ids=[b[1].split(": ")[0] + ":" + b[1].split(": ")[1][:30]
                                                        for b in BROKEN])
def test_broken_content_names_key_and_value(tmp_path, edit, expected):
    found = problems(tmp_path, edit)
    assert len(found) == 1, found
    assert found[0].startswith(f"config.yaml: {expected}"), found[0]


def test_a_broken_playlist_file_names_the_file(tmp_path):
    (tmp_path / "playlist.yaml").write_text("- {type: image, file: a.png, seconds: -3}\n")
    found = problems(tmp_path, lambda r: r["content"].update(playlist="playlist.yaml"))
    assert found == ["config.yaml: playlist.yaml[0].seconds: expected a number of seconds, 1-3600, got -3"]


def test_every_problem_is_reported_at_once(tmp_path):
    def edit(raw):
        raw["content"]["playlist"] = [{"type": "image"}, {"type": "video", "file": "v.mp4", "weekdays": ["x"]}]
        raw["display"]["layout"] = "grid"
    assert len(problems(tmp_path, edit)) == 3


def test_default_content_agrees_with_the_config_defaults():
    """DEFAULT_CONTENT (a Config built without a content section) and DEFAULTS (what the loader applies) match."""
    from signage.core.config import DEFAULTS
    from signage.core.content import DEFAULT_CONTENT as d

    assert (d.dir, d.playlist, d.audio, d.volume, d.duck_volume, str(d.cache_dir), d.cache_bytes // 2 ** 20,
            d.image_seconds, d.slide_seconds, d.services_per_slide, d.layout, d.maklumat, d.pengaduan) == tuple(
        DEFAULTS[k] for k in ("content.dir", "content.playlist", "content.audio", "content.volume",
                              "content.duck_volume", "content.cache_dir", "content.cache_mb", "content.image_seconds",
                              "content.slide_seconds", "content.services_per_slide", "display.layout",
                              "hall.maklumat", "hall.pengaduan"))
