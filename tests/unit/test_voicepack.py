"""Voice-pack tokens and the clip list (pure parts; joining clips is tested with real audio
in tests/integration/test_speech.py)."""

from __future__ import annotations

from pathlib import Path

from signage.announcer.voicepack import PAUSE, clip_tokens, missing_clips, required_words
from signage.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_tokens_are_lowercase_words_with_pauses_at_commas():
    assert clip_tokens("Nomor antrian, a, dua puluh tiga, silakan menuju, loket lima.") == [
        "nomor", "antrian", PAUSE, "a", PAUSE, "dua", "puluh", "tiga", PAUSE, "silakan", "menuju",
        PAUSE, "loket", "lima"]


def test_no_pause_at_the_edges_or_twice():
    assert clip_tokens(", satu,, dua ,") == ["satu", PAUSE, "dua"]
    assert clip_tokens("twenty-one.") == ["twenty", "one"]


def test_missing_clips_in_order_without_repeats(tmp_path):
    (tmp_path / "dua.wav").write_bytes(b"")
    assert missing_clips("dua puluh dua, loket dua puluh", tmp_path) == ["puluh", "loket"]


def test_the_indonesian_clip_list_covers_the_default_phrases():
    config = load_config(ROOT / "config.yaml")
    words = required_words(config.announcer, "id", tuple(c.name for c in config.counters))
    assert len(words) == 49 and PAUSE not in words
    for word in ("nomor", "panggilan", "sebelas", "seratus", "zet", "ki", "loket"):
        assert word in words
    assert "seribu" in required_words(config.announcer, "id", highest_number=1000)
