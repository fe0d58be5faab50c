"""Protocol v1 codec, with no event loop: parsing, refusals and round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from signage.core import messages as m, protocol
from signage.errors import ProtocolError

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 28, 9, 41, 5, 123000, tzinfo=WIB)


def refused(frame, **kw) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        protocol.parse_client_frame(frame, **kw)
    return info.value


class TestClientFrames:
    def test_hello_minimal_contract(self):
        hello = protocol.parse_client_frame(
            '{"type":"hello","role":"display","token":"secret-123","client":"tv-1","since":null}')
        assert hello == m.Hello("display", "secret-123", "tv-1", None, None)

    def test_hello_with_since(self):
        hello = protocol.parse_client_frame('{"type":"hello","role":"operator","token":"t0000000","since":41}')
        assert hello.since == 41 and hello.client == "anonymous"

    @pytest.mark.parametrize("frame,expected", [
        ('{"type":"call","id":"c1","counter":5,"ticket":"A-023"}', m.Call("c1", 5, "A-023")),
        ('{"type":"call","id":"c1","counter":5,"ticket":"a023"}', m.Call("c1", 5, "A-023")),
        ('{"type":"recall","id":"r","counter":5}', m.Recall("r", 5, None)),
        ('{"type":"recall","id":"r","counter":5,"ticket":"B-7"}', m.Recall("r", 5, "B-007")),
        ('{"type":"call","id":"c1","counter":5,"ticket":"a23"}', m.Call("c1", 5, "A-023")),
        ('{"type":"call","id":"c1","counter":5,"ticket":"A-12345"}', m.Call("c1", 5, "A-12345")),
        ('{"type":"clear","id":"x","counter":21}', m.Clear("x", 21)),
        ('{"type":"ticker","id":"t","text":"Istirahat"}', m.Ticker("t", "Istirahat")),
        ('{"type":"ticker","id":"t","text":""}', m.Ticker("t", "")),
        ('{"type":"issue","id":"i","service":"KTP"}', m.Issue("i", "KTP", False)),
        ('{"type":"issue","id":"i","service":"KTP","priority":true}', m.Issue("i", "KTP", True)),
        ('{"type":"next","id":"n","counter":1}', m.Next("n", 1)),
        ('{"type":"skip","id":"s","counter":1}', m.Skip("s", 1)),
        ('{"type":"done","id":"d","counter":1}', m.Done("d", 1)),
        ('{"type":"transfer","id":"t","counter":1,"service":"X"}', m.Transfer("t", 1, "X")),
    ])
    def test_commands(self, frame, expected):
        assert protocol.parse_client_frame(frame) == expected

    def test_extension_fields_are_ignored(self):
        cmd = protocol.parse_client_frame('{"type":"next","id":"n","counter":1,"x-operator":"Siti"}')
        assert cmd == m.Next("n", 1)

    def test_not_json(self):
        err = refused("{type: call")
        assert err.code == "bad_message" and "not valid JSON" in err.message

    def test_not_an_object(self):
        err = refused("[1, 2]")
        assert err.code == "bad_message" and "expected a JSON object, got array" in err.message

    def test_unknown_type_names_it_and_keeps_the_id(self):
        err = refused('{"type":"shout","id":"z9"}')
        assert err.code == "bad_message"
        assert "'shout'" in err.message and "call" in err.message
        assert err.id == "z9"

    def test_wrong_field_type_names_field_and_value(self):
        err = refused('{"type":"call","id":"c1","counter":"lima","ticket":"A-023"}')
        assert err.message == "counter: expected a positive integer, got 'lima'"
        assert err.id == "c1"

    @pytest.mark.parametrize("counter", [0, -3, True, 1.5, 100000])
    def test_bad_counters(self, counter):
        err = refused(json.dumps({"type": "clear", "id": "c", "counter": counter}))
        assert err.message.startswith("counter: expected a positive integer")

    @pytest.mark.parametrize("ticket", ["", "A--1", "ABCD-1", "A-123456", "😀", 23])
    def test_bad_tickets(self, ticket):
        err = refused(json.dumps({"type": "call", "id": "c", "counter": 1, "ticket": ticket}))
        assert err.message.startswith("ticket: expected a ticket such as 'A-023'")

    def test_missing_field(self):
        assert refused('{"type":"call","id":"c","counter":1}').message == "ticket: missing"

    def test_unknown_field(self):
        err = refused('{"type":"next","id":"n","counter":1,"priority":true}')
        assert err.message.startswith("priority: unknown field for type 'next'")

    def test_too_large(self):
        frame = json.dumps({"type": "ticker", "id": "t", "text": "x" * 5000})
        err = refused(frame, max_bytes=4096)
        assert err.code == "too_large" and str(len(frame)) in err.message

    def test_size_counts_utf8_bytes(self):
        frame = json.dumps({"type": "ticker", "id": "t", "text": "é" * 300}, ensure_ascii=False)
        assert len(frame) < 400 < len(frame.encode())
        assert refused(frame, max_bytes=400).code == "too_large"

    def test_binary_frames(self):
        assert refused(b'{"type":"next"}').code == "bad_message"

    def test_deep_nesting_is_refused_not_crashing(self):
        assert refused("[" * 100_000 + "]" * 100_000).code == "bad_message"

    def test_hello_bad_role(self):
        err = refused('{"type":"hello","role":"root","token":"t"}')
        assert err.message == "role: expected one of display, operator, kiosk, printer, ticket, admin, got 'root'"


class TestRoundTrips:
    EVENTS = [
        m.Called(7, AT, "c1", 5, "A-023", "DUKCAPIL-01", {"DUKCAPIL-01": 3}),
        m.Called(8, AT, "c2", 5, "A-024"),
        m.Recalled(9, AT, "r1", 5, "A-024", replay=True),
        m.Cleared(10, AT, "x", 5, None),
        m.Cleared(11, AT, "x2", 5, "A-024", "transfer", "DUKCAPIL-01", "DPMPTSP-02", True, {"DPMPTSP-02": 1}),
        m.TickerSet(12, AT, "t", "Layanan Samsat istirahat 12.00–13.00"),
        m.Issued(13, AT, "i", "B-001", "DPMPTSP-01", 1, True, 1, {"DPMPTSP-01": 1}),
    ]

    @pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
    def test_events(self, event):
        assert protocol.parse_hub_frame(protocol.encode(event)) == event

    def test_event_wire_form_is_the_documented_one(self):
        wire = json.loads(protocol.encode(self.EVENTS[1]))
        assert wire == {"type": "called", "seq": 8, "at": "2026-11-28T09:41:05.123+07:00", "id": "c2",
                        "counter": 5, "ticket": "A-024"}

    def test_welcome_with_snapshot(self):
        snap = m.Snapshot(
            seq=9, day="2026-11-28",
            counters={5: m.CounterNow(5, "A-024", "DUKCAPIL-01", AT, 9), 6: m.CounterNow(6, None, None, AT, 3)},
            history=(m.HistoryEntry(9, AT, 5, "A-024", "DUKCAPIL-01", True), m.HistoryEntry(8, AT, 5, "A-023", None)),
            ticker="Selamat datang", waiting={"DUKCAPIL-01": 4},
        )
        welcome = m.Welcome(9, snap, "display", "tv-semua", None, 2, AT)
        assert protocol.parse_hub_frame(protocol.encode(welcome)) == welcome

    def test_ack_carries_event(self):
        ack = m.Ack("i", 13, True, self.EVENTS[-1])
        assert protocol.parse_hub_frame(protocol.encode(ack)) == ack

    def test_error(self):
        err = m.Error("c1", "forbidden", "token 'loket-05' may act on counter(s) 5, not counter 6")
        assert protocol.parse_hub_frame(protocol.encode(err)) == err

    def test_commands_round_trip_through_client_parser(self):
        for cmd in [m.Call("a", 1, "A-001"), m.Recall("b", 2, "C-010"), m.Issue("c", "X", True),
                    m.Transfer("d", 3, "Y"), m.Ticker("e", "teks")]:
            assert protocol.parse_client_frame(protocol.encode(cmd)) == cmd

    def test_hub_frame_without_offset_is_refused(self):
        with pytest.raises(ProtocolError):
            protocol.parse_hub_frame('{"type":"called","seq":1,"at":"2026-11-28T09:00:00","id":"x",'
                                     '"counter":1,"ticket":"A-001"}')

    def test_state_file_accepts_welcome_or_snapshot(self):
        snap = m.Snapshot(3, "2026-11-28", {1: m.CounterNow(1, "A-001", None, AT, 3)}, (), None, {})
        welcome = protocol.encode(m.Welcome(3, snap, "display", "tv"))
        assert protocol.snapshot_from_json(welcome) == snap
        assert protocol.snapshot_from_json(protocol.snapshot_to_json(snap)) == snap


class TestHostileFrames:
    """Frames a hostile client sends: each is bad_message naming the field, never a traceback."""

    @pytest.mark.parametrize("frame, found", [
        ('{"type":"clear","id":"\\ud800","counter":1}', "id: holds a lone surrogate U+D800"),
        ('{"type":"ticker","id":"t1","text":"a\\u0000b"}', "text: holds a control character U+0000 at index 1"),
        ('{"type":"ticker","id":"t1","text":"evil\\nline"}', "text: holds a control character U+000A"),
        ('{"type":"ticker","id":"t1","text":"\\u0085"}', "text: holds a control character U+0085"),
        ('{"type":"call","id":"c1","counter":1,"ticket":"A-1","x-note":["ok","\\udc00"]}',
         "x-note[1]: holds a lone surrogate U+DC00"),
        ('{"type":"call","id":"c1","counter":1,"ticket":"A-1","x-\\ud800":1}', "field name holds a lone surrogate"),
        ('{"type":"hello","role":"display","token":"t","client":"tv\\r\\nINFO forged"}',
         "client: holds a control character U+000D"),
        ('{"type":"call","id":"c1","id":"c2","counter":1,"ticket":"A-1"}', "id: duplicate key"),
        ('\ufeff{"type":"next","id":"n","counter":1}', "byte order mark"),
        ('{"type":"next","id":"n","counter":NaN}', "NaN is not a number JSON allows"),
        ('{"type":"next","id":"n","counter":-Infinity}', "-Infinity is not a number JSON allows"),
        ('{"type":"next","id":"n","counter":1e999}', "out of range"),
        ('{"type":"next","id":"n","counter":' + "9" * 5000 + '}', "5000 digits is out of range"),
        ('{"type":"next","id":"n","counter":10000000000000000}', "17 digits is out of range"),
        ('{"type":"next","id":"n","counter":true}', "counter: expected a positive integer, got true"),
        ('{"type":"next","id":"n","counter":1,"x-deep":' + "[" * 9 + "]" * 9 + '}', "nested deeper than 8"),
        ('{"type":"next","id":"n","counter":1,"x-deep":' + "[" * 5000 + "]" * 5000 + '}', "nested deeper than 8"),
    ])
    def test_refused_with_a_precise_reason(self, frame, found):
        err = refused(frame)
        assert err.code == "bad_message"
        assert found in err.message, err.message

    def test_the_error_can_always_be_encoded_and_never_echoes_a_bad_id(self):
        err = refused('{"type":"ticker","id":"\\ud800","text":"x"}')
        assert err.id is None
        frame = protocol.encode(m.Error(err.id, err.code, err.message))
        frame.encode("utf-8")  # no lone surrogate survives into the reply
        assert "U+D800" in frame

    def test_an_error_quoting_a_surrogate_is_still_sendable(self):
        frame = protocol.encode(m.Error("x", "bad_message", "got '\ud800'"))
        assert frame.encode("utf-8")

    def test_a_good_id_is_kept_on_a_refusal(self):
        assert refused('{"type":"ticker","id":"t9","text":"\\u0000"}').id == "t9"

    def test_legitimate_unicode_passes(self):
        cmd = protocol.parse_client_frame('{"type":"ticker","id":"t1","text":"Jam layanan 08.00–15.00 😀 日本"}')
        assert cmd.text == "Jam layanan 08.00–15.00 😀 日本"
