"""Real espeak-ng through pyttsx3: WAV files, cache, voice pack."""

from __future__ import annotations

import wave
from array import array

import pytest

from signage.announcer import voicepack
from signage.announcer.speech import Pyttsx3Engine, Speech, wav_seconds
from signage.errors import AudioUnavailable
from support import timeout

INDONESIAN = "Nomor antrian, a, dua puluh tiga, silakan menuju, loket lima."
ENGLISH = "Ticket number, ay, twenty-three, please proceed to, counter five."


@pytest.fixture
def speech(tmp_path):
    s = Speech(voice="id", rate=140, cache_entries=3, cache_dir=tmp_path / "cache")
    s.start()
    yield s
    s.stop()


@pytest.mark.parametrize("text, voice", [(INDONESIAN, "id"), (ENGLISH, "en")])
def test_espeak_writes_a_22050_hz_wav_of_plausible_length(speech, text, voice):
    assert speech.tts_available, speech.unavailable_reason
    path = speech.request(text, voice).result(timeout=timeout(30))
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, 1, 2)
        seconds = w.getnframes() / w.getframerate()
        audio = array("h", w.readframes(w.getnframes()))
    words = len(text.split())
    # 140 words per minute, plus pauses at the commas: well within 0.5× .. 3× of words/rate
    assert 0.5 * words / 140 * 60 <= seconds <= 3 * words / 140 * 60, seconds
    assert max(map(abs, audio)) > 3000  # speech, not silence


def test_indonesian_and_english_voices_differ(speech):
    same_text = "satu dua tiga"
    a = speech.request(same_text, "id").result(timeout=timeout(30)).read_bytes()
    b = speech.request(same_text, "en").result(timeout=timeout(30)).read_bytes()
    assert a != b


def test_cache_hits_return_the_same_file_at_once(speech):
    first = speech.request(INDONESIAN, "id").result(timeout=timeout(30))
    again = speech.request(INDONESIAN, "id")
    assert again.done() and again.result() == first
    assert (speech.hits, speech.misses) == (1, 1)


def test_cache_is_keyed_by_rate(tmp_path, speech):
    slow = speech.request("lima", "id").result(timeout=timeout(30))
    fast_speech = Speech(voice="id", rate=300, cache_entries=3, cache_dir=tmp_path / "fast")
    fast_speech.start()
    try:
        fast = fast_speech.request("lima", "id").result(timeout=timeout(30))
        long_text = "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh"
        assert wav_seconds(fast_speech.request(long_text, "id").result(timeout=timeout(30))) < \
            wav_seconds(speech.request(long_text, "id").result(timeout=timeout(30)))
    finally:
        fast_speech.stop()
    assert slow != fast


def test_cache_is_bounded_and_evicted_files_are_deleted(speech):
    paths = [speech.request(f"nomor {word}", "id").result(timeout=timeout(30))
             for word in ("satu", "dua", "tiga", "empat")]
    assert not paths[0].exists() and all(p.exists() for p in paths[1:])
    assert speech.request("nomor satu", "id").result(timeout=timeout(30)) == paths[0]  # synthesised again
    assert speech.misses == 5 and paths[0].exists() and not paths[1].exists()


def test_saved_notice_does_not_reach_stdout(speech, capfd):
    speech.request("nomor enam", "id").result(timeout=timeout(30))
    out, _ = capfd.readouterr()
    assert "Audio saved" not in out


def test_unknown_voice_is_reported_as_unavailable():
    with pytest.raises(AudioUnavailable, match="no voice 'zz-nonexistent'"):
        Pyttsx3Engine("zz-nonexistent", 140)


# ---------------------------------------------------------------- voice pack


@pytest.fixture
def pack(tmp_path, speech):
    """A voice pack recorded by espeak itself: one clip per word of a short phrase."""
    folder = tmp_path / "pack"
    folder.mkdir()
    for word in ("a", "tujuh", "loket", "lima"):
        clip = speech.request(word, "id").result(timeout=timeout(30))
        (folder / f"{word}.wav").write_bytes(clip.read_bytes())
    return folder


def test_voice_pack_joins_clips_when_every_word_has_one(tmp_path, pack):
    out = tmp_path / "joined.wav"
    assert voicepack.render("a, tujuh, loket lima.", pack, out)
    expected = sum(wav_seconds(pack / f"{w}.wav") for w in ("a", "tujuh", "loket", "lima"))
    assert wav_seconds(out) == pytest.approx(expected + 2 * voicepack.PAUSE_SECONDS, abs=0.001)
    with wave.open(str(out), "rb") as joined, wave.open(str(pack / "a.wav"), "rb") as first:
        assert joined.readframes(first.getnframes()) == first.readframes(first.getnframes())


def test_voice_pack_refuses_a_phrase_with_a_missing_word(tmp_path, pack):
    assert voicepack.missing_clips("a, delapan, loket lima.", pack) == ["delapan"]
    assert not voicepack.render("a, delapan, loket lima.", pack, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_voice_pack_rejects_clips_of_different_formats(tmp_path, pack):
    with wave.open(str(pack / "lima.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(bytes(4410))
    with pytest.raises(AudioUnavailable, match="all clips must match"):
        voicepack.render("a tujuh loket lima", pack, tmp_path / "x.wav")


def test_speech_uses_the_pack_and_falls_back_to_tts(tmp_path, pack):
    calls = []

    class CountingEngine:
        def synthesize(self, text, voice, path):
            calls.append(text)
            Pyttsx3Engine.synthesize(real, text, voice, path)

    real = Pyttsx3Engine("id", 140)
    s = Speech(voice="id", rate=140, voice_pack=pack, cache_dir=tmp_path / "c",
               engine_factory=CountingEngine)
    s.start()
    try:
        from_pack = s.request("a, tujuh, loket lima.").result(timeout=timeout(30))
        from_tts = s.request("a, delapan, loket lima.").result(timeout=timeout(30))
    finally:
        s.stop()
    assert calls == ["a, delapan, loket lima."]
    assert from_pack is not None and from_tts is not None


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\x1b", "\x85", "\udfff\x00\x9f"])
def test_text_the_rule_refuses_is_spoken_as_a_space_and_the_worker_lives_on(speech, bad):
    """A NUL used to cut espeak's input short (ctypes ends the C string there), a lone surrogate
    made the synthesis fail: the call was heard as a chime only."""
    hostile = f"Nomor antrean, a, dua puluh{bad}tiga, silakan menuju, loket lima."
    clean = "Nomor antrean, a, dua puluh tiga, silakan menuju, loket lima."
    path = speech.request(hostile, "id").result(timeout=timeout(30))
    assert path is not None and path == speech.request(clean, "id").result(timeout=timeout(30))
    assert wav_seconds(path) > wav_seconds(speech.request("Nomor antrean, a, dua puluh", "id").result(timeout(30)))
    assert speech.request("enam", "id").result(timeout=timeout(30)) is not None  # the worker still serves
