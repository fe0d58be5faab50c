"""The fleet core (signage.core.fleet), the heartbeat/action codec and the session's one binary exception.

No event loop, no socket: heartbeats and times go in, members and alerts come out.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from signage.config import FleetConfig, Token
from signage.core import fleet, messages as m, protocol, session as s
from signage.errors import CommandRejected, ProtocolError, SessionError

TV = Token("tv-semua", "display", "tv-secret", None)
ADMIN = Token("teknisi", "admin", "admin-secret", None)
OPERATOR = Token("supervisor", "operator", "op-secret", None)
KIOSK = Token("anjungan-1", "kiosk", "kiosk-secret", None)
RULES = FleetConfig(heartbeat_seconds=1, alert_after_seconds=3, disk_low_mb=500)
WIB = timezone(timedelta(hours=7))


def beat(name="tv-a", **changes) -> m.Heartbeat:
    values = dict(name=name, version="0.1.0", uptime_s=10.0, fps=30.0, seq=5, cpu_percent=2.5,
                  rss_bytes=60_000_000, disk_free_bytes=10_000_000_000, audio="ok")
    values.update(changes)
    return m.Heartbeat(**values)


def kinds(state, now, rules=RULES):
    return sorted((a.kind, a.name) for a in fleet.alerts(state, now, rules))


# ---------------------------------------------------------------- state and alerts


def test_a_healthy_screen_raises_nothing_and_is_listed():
    state = fleet.heartbeat(fleet.FleetState(), TV, "10.0.0.7", beat(), 100.0, 0.2)
    member = state.member("tv-a")
    assert member.online and member.token == "tv-semua" and member.address == "10.0.0.7"
    assert kinds(state, 101.0) == []


def test_missing_after_alert_after_seconds_and_cleared_by_the_next_heartbeat():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(), 100.0, 0.0)
    assert kinds(state, 103.0) == []  # exactly alert_after: not yet
    assert kinds(state, 103.1) == [("missing", "tv-a")]
    assert "connected but silent" in fleet.alerts(state, 103.1, RULES)[0].message
    state = fleet.heartbeat(state, TV, "a", beat(), 104.0, 0.0)
    assert kinds(state, 104.5) == []


def test_a_disconnected_screen_is_missing_too_and_says_so():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(), 100.0, 0.0)
    state = fleet.disconnected(state, "tv-a", 100.5)
    assert not state.member("tv-a").online
    alert = fleet.alerts(state, 104.0, RULES)[0]
    assert alert.kind == "missing" and "disconnected" in alert.message


def test_a_missing_screen_raises_only_missing_its_other_figures_are_stale():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(audio="silent", disk_free_bytes=1), 100.0, 99.0)
    assert kinds(state, 110.0) == [("missing", "tv-a")]


@pytest.mark.parametrize("changes,skew,kind", [
    ({"audio": "silent", "audio_reason": "no audio device"}, 0.0, "audio_silent"),
    ({"disk_free_bytes": 400_000_000}, 0.0, "disk_low"),
    ({}, 31.0, "clock_skew"),
    ({}, -31.0, "clock_skew"),
    ({"broken": ("display.logo logo.png: not a PNG",)}, 0.0, "content_broken"),
])
def test_each_health_rule(changes, skew, kind):
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(**changes), 100.0, skew)
    assert kinds(state, 100.5) == [(kind, "tv-a")]


def test_audio_off_is_not_an_alert_a_silent_board_is_meant_to_be_silent():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(audio="off"), 100.0, 0.0)
    assert kinds(state, 100.5) == []


def test_skew_within_30_s_and_disk_at_the_threshold_are_fine():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(disk_free_bytes=500_000_000), 100.0, 29.9)
    assert kinds(state, 100.5) == []


def test_seq_lag_counts_only_what_the_hub_had_committed_10_s_before_the_heartbeat():
    state = fleet.committed(fleet.FleetState(), 5, 100.0)
    state = fleet.committed(state, 9, 105.0)
    # At 112 the hub had seq 5 by 102 (10 s before): a board at 5 is on time, though 9 exists.
    state = fleet.heartbeat(state, TV, "a", beat(seq=5), 112.0, 0.0)
    assert kinds(state, 112.5) == []
    # At 116 the hub had seq 9 by 106: a board still at 5 lags.
    state = fleet.heartbeat(state, TV, "a", beat(seq=5), 116.0, 0.0)
    assert kinds(state, 116.5) == [("seq_lag", "tv-a")]
    state = fleet.heartbeat(state, TV, "a", beat(seq=9), 117.0, 0.0)
    assert kinds(state, 117.5) == []


def test_seq_marks_stay_bounded_and_keep_the_answer_for_the_lag_window():
    state = fleet.FleetState()
    for i in range(1, 1000):
        state = fleet.committed(state, i, float(i))
    assert len(state.seq_marks) <= fleet.SEQ_MARKS
    assert fleet.seq_committed_by(state, 989.0) == 989
    assert fleet.committed(state, 999, 2000.0) is state  # nothing new committed


def test_heartbeats_faster_than_the_minimum_gap_are_counted_not_folded():
    state = fleet.heartbeat(fleet.FleetState(), TV, "a", beat(seq=1), 100.0, 0.0)
    state = fleet.heartbeat(state, TV, "a", beat(seq=2), 100.1, 0.0)
    member = state.member("tv-a")
    assert member.heartbeat.seq == 1 and member.dropped == 1 and member.last_seen == 100.0


def test_members_are_bounded_and_the_oldest_offline_one_goes_first():
    state = fleet.FleetState()
    for i in range(fleet.MAX_MEMBERS):
        state = fleet.heartbeat(state, TV, "a", beat(f"tv-{i:03d}"), float(i), 0.0)
    state = fleet.disconnected(state, "tv-100", 500.0)
    state = fleet.heartbeat(state, TV, "a", beat("tv-new"), 600.0, 0.0)
    names = {x.name for x in state.members}
    assert len(names) == fleet.MAX_MEMBERS and "tv-new" in names and "tv-100" not in names


def test_skew_allows_half_a_round_trip():
    hub = datetime(2026, 12, 2, 9, 41, 0, tzinfo=WIB)
    assert fleet.skew_seconds(hub - timedelta(seconds=40), hub, 100.0) == pytest.approx(39.95)
    assert fleet.skew_seconds(None, hub, 1.0) is None


@pytest.mark.parametrize("token", [OPERATOR, TV, KIOSK])
def test_only_admins_may_act(token):
    with pytest.raises(CommandRejected) as err:
        fleet.authorize(token, m.Act("a1", "screenshot", "tv-a"))
    assert err.value.code == "forbidden" and "admin" in err.value.message


@pytest.mark.parametrize("token", [OPERATOR, ADMIN, KIOSK])
def test_only_displays_send_heartbeats_and_replies(token):
    for message in (beat(), m.ActionReply("r1")):
        with pytest.raises(CommandRejected) as err:
            fleet.authorize(token, message)
        assert err.value.code == "forbidden"


def test_admin_and_display_are_allowed_their_own():
    fleet.authorize(ADMIN, m.Act("a1", "identify", "tv-a"))
    fleet.authorize(TV, beat())
    fleet.authorize(TV, m.ActionReply("r1", True, "done"))


def test_a_kiosks_printer_agent_sends_heartbeats_but_nothing_else():
    fleet.authorize(KIOSK, beat(), role="printer")
    for message in (m.ActionReply("r1"), m.Act("a1", "identify", "tv-a")):
        with pytest.raises(CommandRejected):
            fleet.authorize(KIOSK, message, role="printer")
    with pytest.raises(CommandRejected):  # the kiosk page itself (hello role kiosk) is no fleet member
        fleet.authorize(KIOSK, beat(), role="kiosk")


def printer_beat(state, **changes):
    return beat("printer-anjungan-1", fps=0.0, seq=0, audio="off", layout="printer", printer=state,
                printer_device="tcp://10.0.0.40:9100", **changes)


@pytest.mark.parametrize("state,alerted", [("ok", False), ("unknown", False), ("paper_out", True),
                                           ("cover_open", True), ("offline", True), ("device_missing", True),
                                           ("error", True)])
def test_a_printer_problem_is_an_alert_naming_the_device(state, alerted):
    state_ = fleet.heartbeat(fleet.FleetState(), KIOSK, "10.0.0.9", printer_beat(state), 100.0, 0.0, "printer")
    found = [a for a in fleet.alerts(state_, 100.5, RULES) if a.kind == "printer"]
    assert bool(found) == alerted
    if alerted:
        assert "tcp://10.0.0.40:9100" in found[0].message and fleet.PRINTER_PROBLEMS[state] in found[0].message


def test_a_printer_agent_is_never_behind_on_seq_and_takes_no_actions():
    state = fleet.committed(fleet.FleetState(), 50, 10.0)
    state = fleet.heartbeat(state, KIOSK, "a", printer_beat("ok"), 100.0, 0.0, "printer")
    member = state.member("printer-anjungan-1")
    assert (member.role, member.token) == ("printer", "anjungan-1")
    assert kinds(state, 100.5) == []  # seq 0 while the hub had 50: a board would be seq_lag
    with pytest.raises(CommandRejected) as err:
        fleet.refuse_action(member, "screenshot")
    assert err.value.code == "unsupported"
    fleet.refuse_action(fleet.heartbeat(state, TV, "b", beat(), 100.0, 0.0).member("tv-a"), "screenshot")


# ---------------------------------------------------------------- codec


def test_heartbeat_round_trips_through_the_strict_codec():
    sent = beat(zone="semua", layout="board", resolution=(1920, 1080), rtt_ms=1.5,
                clock=datetime(2026, 12, 2, 9, 41, tzinfo=WIB), broken=("x",), warnings=3,
                last_warnings=("WARNING a: b",), cache_bytes=10, audio_reason="", printer="paper_out",
                printer_device="usb://04b8:0e15", printed=12, print_failures=1)
    got = protocol.parse_client_frame(protocol.encode(sent))
    assert got == sent


@pytest.mark.parametrize("field,value,message", [
    ("fps", -1, "fps: expected a number 0-1000"),
    ("fps", True, "fps: expected a number"),
    ("audio", "loud", "audio: expected one of ok, silent, off"),
    ("resolution", [0, 10], "resolution: expected [width, height]"),
    ("clock", "yesterday", "clock: expected an ISO time with offset"),
    ("clock", "2026-12-02T09:41:00", "clock: expected an ISO time with offset"),
    ("last_warnings", ["x"] * 6, "last_warnings: expected at most 5 strings"),
    ("name", "x" * 65, "name: longer than 64"),
    ("rss_bytes", 1e300, "rss_bytes: expected a number"),
    ("printer", "jammed", "printer: expected one of ok, unknown, paper_out"),
    ("printer", 1, "printer: expected one of ok"),
    ("printer_device", "tcp://\x00", "printer_device: holds a control character"),
    ("printed", -1, "printed: expected a number 0-1e+12"),
])
def test_heartbeat_fields_are_checked_and_named(field, value, message):
    wire = protocol.to_wire(beat())
    wire[field] = value
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame(json.dumps(wire))
    assert err.value.message.startswith(message), err.value.message


def test_a_heartbeat_with_a_lone_surrogate_is_refused_by_the_text_rule():
    wire = protocol.to_wire(beat())
    wire["last_warnings"] = ["\ud800"]
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame(json.dumps(wire))
    assert "last_warnings[0]" in err.value.message


def test_act_needs_a_known_action():
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame('{"type":"act","id":"a1","action":"reboot","name":"tv-a"}')
    assert err.value.message == "action: expected one of screenshot, identify, restart, got 'reboot'"
    assert protocol.parse_client_frame('{"type":"act","id":"a1","action":"restart","name":"tv-a"}') == \
        m.Act("a1", "restart", "tv-a")


def test_action_result_carries_the_png_as_base64_and_back():
    png = tiny_png(32, 18)
    result = m.ActionResult("a1", "screenshot", "tv-a", "ok", png)
    assert protocol.parse_hub_frame(protocol.encode(result)) == result
    request = m.ActionRequest("a1:1", "screenshot", 10.0, 640, 262144)
    assert protocol.parse_hub_frame(protocol.encode(request)) == request


def tiny_png(w: int, h: int) -> bytes:
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    out = io.BytesIO()
    pygame.image.save(pygame.Surface((w, h)), out, "x.png")
    return out.getvalue()


def test_parse_screenshot_checks_type_size_and_width():
    assert protocol.parse_screenshot(tiny_png(640, 360), 1 << 20, 640) == (640, 360)
    with pytest.raises(ProtocolError, match="at most 640 wide"):
        protocol.parse_screenshot(tiny_png(641, 10), 1 << 20, 640)
    with pytest.raises(ProtocolError, match="not a PNG"):
        protocol.parse_screenshot(b"GIF89a" + bytes(100), 1 << 20, 640)
    with pytest.raises(ProtocolError) as err:
        protocol.parse_screenshot(tiny_png(64, 64) + bytes(5000), 1000, 640)
    assert err.value.code == "too_large"


# ---------------------------------------------------------------- the session's binary exception


def live_display() -> s.ServerSession:
    session = s.ServerSession({"tv-secret": TV}.get, s.Limits(4096, 100, 100), now=0.0)
    hello = json.dumps({"type": "hello", "role": "display", "token": "tv-secret", "client": "t"})
    assert isinstance(session.receive(hello, 0.0)[0], s.Greeted)
    session.welcome(m.Welcome(0, m.Snapshot(), "display", "tv-semua"), [])
    return session


def error_of(outputs) -> dict:
    return json.loads(next(o for o in outputs if isinstance(o, s.Send)).frame)


def test_an_unasked_binary_frame_is_refused_precisely():
    session = live_display()
    error = error_of(session.receive(tiny_png(10, 10), 1.0))
    assert error["code"] == "bad_message" and "only as the answer to a screenshot request" in error["message"]


def test_the_asked_screenshot_is_taken_once_then_binary_is_refused_again():
    session = live_display()
    request = m.ActionRequest("a1:x", "screenshot", 10.0, 640, 200_000)
    sent = session.request_action(request)
    assert json.loads(sent[0].frame)["type"] == "action"
    png = tiny_png(640, 360)
    assert session.receive(png, 1.0) == [s.ScreenshotReceived("a1:x", png)]
    assert error_of(session.receive(png, 1.1))["code"] == "bad_message"


def test_a_second_screenshot_request_while_one_is_awaited_is_our_bug():
    session = live_display()
    session.request_action(m.ActionRequest("a1", "screenshot"))
    with pytest.raises(SessionError):
        session.request_action(m.ActionRequest("a2", "screenshot"))
    session.abandon_screenshot("a1")
    assert error_of(session.receive(tiny_png(10, 10), 1.0))["code"] == "bad_message"  # a late answer


def test_an_oversized_or_foreign_answer_is_refused_and_reported():
    session = live_display()
    session.request_action(m.ActionRequest("a1", "screenshot", max_bytes=1000))
    outputs = session.receive(tiny_png(64, 64) + bytes(2000), 1.0)
    assert error_of(outputs)["code"] == "too_large"
    assert [o for o in outputs if isinstance(o, s.ScreenshotReceived)][0].png is None


def test_heartbeats_come_out_as_fleet_messages_not_commands():
    session = live_display()
    outputs = session.receive(protocol.encode(beat()), 1.0)
    assert outputs == [s.FleetReceived(beat())]


def test_binary_frames_count_against_the_rate_limit():
    session = s.ServerSession({"tv-secret": TV}.get, s.Limits(4096, 1, 2), now=0.0)
    session.receive(json.dumps({"type": "hello", "role": "display", "token": "tv-secret", "client": "t"}), 0.0)
    session.welcome(m.Welcome(0, m.Snapshot(), "display", "tv-semua"), [])
    codes = [error_of(session.receive(b"x", 0.0))["code"] for _ in range(3)]
    assert codes == ["bad_message", "bad_message", "rate_limited"]


def test_a_type_that_is_not_a_string_is_refused_not_a_crash():
    # Found by tests/faults/test_fuzz_frames.py: `kind in _FLEET` raised TypeError for a list.
    with pytest.raises(ProtocolError) as err:
        protocol.parse_client_frame('{"type":["heartbeat"],"id":"x"}')
    assert err.value.code == "bad_message" and err.value.message.startswith("type: unknown message type")


def test_the_boards_estimates_notice_round_trips():
    sent = m.Estimates(datetime(2026, 12, 2, 9, 41, tzinfo=WIB), {"DUKCAPIL": m.Wait(10, 15), "SAMSAT": m.Wait(0, 5)})
    frame = protocol.encode(sent)
    assert json.loads(frame) == {"type": "estimates", "at": "2026-12-02T09:41:00.000+07:00",
                                 "agencies": {"DUKCAPIL": {"low": 10, "high": 15}, "SAMSAT": {"low": 0, "high": 5}}}
    assert protocol.parse_hub_frame(frame) == sent
