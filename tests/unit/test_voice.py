"""core/voice.py (lease, epoch, failover choice, watermark, catch-up), the audio_zones config and the
voice messages' codec. Pure: times are passed in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from signage.config import parse_config
from signage.core import messages as m, protocol, voice as v
from signage.core.announcements import CallNotice
from signage.core.config import AudioZone
from signage.errors import ConfigError, ProtocolError
from support import ROOT

L = 3.0
ZONE = AudioZone("aula", (1, 2, 3), ("pa-aula", "tv-semua"), ("id",))
ANY = AudioZone("hall", (1, 2, 3, 4))
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=7)))


def desk(*candidates, started=-100.0):
    d = v.Desk(L, started)
    for c in candidates:
        d = v.join(d, c)
    return d


def cand(cid, token, joined=0.0, zones=("aula",)):
    return v.Candidate(cid, f"{token}#{cid}", token, zones, joined, joined)


def test_the_most_preferred_live_candidate_is_granted_and_the_epoch_rises():
    d, changed = v.elect(desk(cand(1, "tv-semua", 0.0), cand(2, "pa-aula", 0.5)), [ZONE], 1.0)
    assert [(c.holder, c.epoch) for c in changed] == [(2, 1)]
    d = v.leave(d, 2)
    d, changed = v.elect(v.seen(d, 1, 3.9), [ZONE], 0.5 + L + v.GRANT_MARGIN - 0.01)
    assert changed == []  # a closed connection keeps its lease until its time is up: it may still be playing
    d, changed = v.elect(v.seen(d, 1, 4.0), [ZONE], 0.5 + L + v.GRANT_MARGIN + 0.01)
    assert [(c.holder, c.epoch) for c in changed] == [(1, 2)]


def test_the_lease_is_sticky_for_a_live_holder():
    d, _ = v.elect(desk(cand(1, "tv-semua")), [ZONE], 1.0)
    d = v.join(d, cand(2, "pa-aula", 2.0))
    d, changed = v.elect(v.seen(d, 1, 2.5), [ZONE], 3.0)
    assert changed == [] and d.leases["aula"].holder == 1


def test_a_silent_holder_is_replaced_after_lease_plus_margin_and_never_before():
    d, _ = v.elect(desk(cand(1, "pa-aula"), cand(2, "tv-semua")), [ZONE], 0.0)
    d = v.seen(d, 2, 3.0)
    last = 0.0  # holder 1 last seen at 0.0
    d2, changed = v.elect(d, [ZONE], last + L + v.GRANT_MARGIN)
    assert changed == []
    d2, changed = v.elect(v.seen(d2, 2, 3.4), [ZONE], last + L + v.GRANT_MARGIN + 0.001)
    assert changed[0].holder == 2 and changed[0].epoch == 2


def test_no_grant_in_the_quiet_period_after_a_hub_start():
    d = v.with_epochs(desk(cand(1, "pa-aula", 10.0), started=10.0), {"aula": 7})
    _, changed = v.elect(d, [ZONE], 10.0 + L + v.GRANT_MARGIN - 0.1)
    assert changed == []
    _, changed = v.elect(v.seen(d, 1, 13.4), [ZONE], 10.0 + L + v.GRANT_MARGIN + 0.1)
    assert changed[0].epoch == 8  # journaled epochs keep rising across restarts


def test_nobody_left_revokes_with_a_new_epoch():
    d, _ = v.elect(desk(cand(1, "pa-aula")), [ZONE], 0.0)
    d, changed = v.elect(v.leave(d, 1), [ZONE], L + v.GRANT_MARGIN + 0.1)
    assert [(c.holder, c.epoch) for c in changed] == [(None, 2)]
    assert d.candidates == {}


def test_zones_for_a_token():
    assert v.zones_for([ZONE, ANY], "tv-lain", ()) == (("hall",), [])
    zones, problems = v.zones_for([ZONE, ANY], "tv-lain", ("aula", "nope"))
    assert "not among the speakers" in problems[0] and "no audio zone named 'nope'" in problems[1]


def test_watermark_receipts_and_what_a_new_holder_announces():
    book = v.Book()
    for seq in (3, 5, 6, 8):
        book = v.book_call(book, "aula", seq, T0 + timedelta(seconds=seq))
    book, new = v.book_receipt(book, m.Receipt(3, "aula", 1, "spoken"))
    book, _ = v.book_receipt(book, m.Receipt(6, "aula", 1, "skipped", "stale"))
    book, again = v.book_receipt(book, m.Receipt(3, "aula", 2, "skipped", "stale"))
    assert (new, again) == (True, False) and book.zones["aula"].receipts[3].status == "spoken"
    now = T0 + timedelta(seconds=10)
    assert v.watermark(book, "aula", now, 120) == (3, (6,))
    assert v.waiting(book, "aula", now, 120) == (5, 8)
    assert v.watermark(book, "aula", T0 + timedelta(seconds=200), 120) == (8, ())  # all too old now
    calls = [CallNotice(s, "call", f"A-{s:03d}", c, T0 + timedelta(seconds=s), False)
             for s, c in ((2, 1), (5, 2), (6, 3), (8, 9), (8, 1), (9, 1))]
    chosen = v.to_announce(calls, 3, (6,), now, 120, ZONE.counters)
    assert [(c.seq, c.live) for c in chosen] == [(5, True), (8, True), (9, True)]


def test_config_audio_zones_default_and_errors():
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg = parse_config(raw)
    assert [(z.name, len(z.counters), z.speakers) for z in cfg.audio.zones] == [("hall", 21, None)]
    assert cfg.audio.lease_seconds == 3
    raw["audio_zones"] = [
        {"name": "a", "counters": ["1-10"], "speakers": ["tv-semua", "nobody"], "languages": ["id", "xx"]},
        {"name": "b", "counters": [10, 11]},
        {"name": "c", "counters": []},
    ]
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    text = str(err.value)
    assert "audio_zones[0].speakers: unknown token name 'nobody'" in text
    assert "audio_zones[0].languages: unknown language 'xx'" in text
    assert "audio_zones[1].counters: counter 10 is already in audio zone 'a'" in text
    assert "audio_zones[2].counters: expected 'all' or a non-empty list" in text


def test_voice_messages_round_trip_and_are_strict():
    hello = protocol.parse_client_frame('{"type":"hello","role":"display","token":"t","client":"pa",'
                                        '"announce":true,"zones":["aula"]}')
    assert (hello.announce, hello.zones) == (True, ("aula",))
    assert protocol.parse_client_frame(protocol.encode(hello)) == hello
    for message in (m.Beat("b1"), m.Spoken("r1", 5, "aula", 2), m.Skipped("r2", 6, "aula", 2, "stale"),
                    m.Speaking("aula", True)):
        assert protocol.parse_client_frame(protocol.encode(message)) == message
    call = m.VoiceCall(8, "recall", "A-008", 2, T0)
    for notice in (m.Voice("aula", "pa#1", 3, True, 5, (7, 9)), m.Voice("aula", "pa#1", 3, True, 5, (7,), (call,)), m.Receipt(5, "aula", 3, "spoken", None, "pa#1"),
                   m.VoiceQueue("aula", (6, 8)), m.SpeakingState("aula", False)):
        assert protocol.parse_hub_frame(protocol.encode(notice)) == notice
    with pytest.raises(ProtocolError, match="reason: expected one of"):
        protocol.parse_client_frame('{"type":"skipped","id":"x","seq":1,"zone":"a","epoch":1,"reason":"bored"}')
    with pytest.raises(ProtocolError, match="seq: expected a positive integer"):
        protocol.parse_client_frame('{"type":"spoken","id":"x","seq":0,"zone":"a","epoch":1}')


def test_the_hub_hands_a_new_holder_the_unspoken_calls_its_history_may_not_reach():
    book = v.Book()
    for seq in range(1, 31):
        call = m.VoiceCall(seq, "call", f"A-{seq:03d}", seq % 3 + 1, T0 + timedelta(seconds=seq))
        book = v.book_call(book, "aula", seq, call.at, call)
    for seq in range(1, 26):
        if seq != 4:
            book, _ = v.book_receipt(book, m.Receipt(seq, "aula", 1, "spoken"))
    now = T0 + timedelta(seconds=40)
    assert [c.seq for c in v.unspoken(book, "aula", now, 120)] == [4, 26, 27, 28, 29, 30]
    mark, receipted = v.watermark(book, "aula", now, 120)
    chosen = v.to_announce(v.notices_from_calls(v.unspoken(book, "aula", now, 120)), mark, receipted, now, 120,
                           ZONE.counters)
    assert [c.seq for c in chosen] == [4, 26, 27, 28, 29, 30]
