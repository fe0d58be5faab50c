"""The session state machines (signage.core.session), driven with no event loop and no socket.

The client side runs tests/vectors/session.json, the same vectors the web pages' hub.js
runs in tests/unit/test_session_js.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signage.config import Token
from signage.core import messages as m, protocol, session as s
from signage.errors import SessionError

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "session.json").read_text())

TOKENS = {
    "op5": Token("loket-5", "operator", "op5", (5,)),
    "tv": Token("tv-aula", "display", "tv", None),
    "kiosk": Token("kiosk-1", "kiosk", "kiosk", None),
}
LIMITS = s.Limits(max_bytes=4096, per_second=5, burst=3)


# ---------------------------------------------------------------- client side, shared vectors


def normalise(output) -> dict:
    """One output in the vectors' plain form (the JS runner builds the same)."""
    if isinstance(output, s.Send):
        return {"send": json.loads(output.frame)}
    if isinstance(output, s.Close):
        return {"close": int(output.code)}
    if isinstance(output, s.Welcomed):
        return {"welcomed": {"resumed": output.resumed, "seq": None}}
    if isinstance(output, s.EventReceived):
        return {"event": output.event.seq}
    if isinstance(output, s.NoticeReceived):
        return {"notice": protocol.type_name(output.notice)}
    if isinstance(output, s.Replied):
        return {"replied": {"id": output.id, "type": protocol.type_name(output.reply)}}
    if isinstance(output, s.ActionRequested):
        return {"action_requested": output.request.action}
    if isinstance(output, s.HubError):
        return {"hub_error": output.error.code}
    if isinstance(output, s.Refused):
        return {"refused": {"code": output.error.code, "final": output.final}}
    if isinstance(output, s.Closed):
        return {"closed": {"final": output.final, "immediate": output.immediate,
                           "unanswered": list(output.unanswered)}}
    raise AssertionError(f"unexpected output {output!r}")


def run_vector(vector: dict) -> None:
    conf = vector["session"]
    session = s.ClientSession(conf["role"], conf["token"], conf["client"], conf["subscribe"], conf["seq"])
    for number, step in enumerate(vector["steps"]):
        if "start" in step:
            outputs = session.start(now=0.0)
        elif "receive" in step:
            outputs = session.receive(json.dumps(step["receive"]))
        elif "receive_raw" in step:
            outputs = session.receive(step["receive_raw"])
        elif "request" in step:
            outputs = session.request(protocol.parse_client_frame(json.dumps(step["request"])))
        else:
            outputs = session.connection_closed(step["closed"], http_status=step.get("http_status"))
        got = [normalise(o) for o in outputs]
        for item in got:
            if "welcomed" in item:
                item["welcomed"]["seq"] = session.seq
        assert got == step["expect"], f"step {number}: {step}"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_client_vectors(vector):
    run_vector(vector)


def test_the_vector_runner_can_fail():
    broken = json.loads(json.dumps(VECTORS[0]))
    broken["steps"][2]["expect"] = [{"event": 99}]
    with pytest.raises(AssertionError):
        run_vector(broken)


# ---------------------------------------------------------------- client side, more


def live_client(seq: int = 5) -> s.ClientSession:
    c = s.ClientSession("display", "tv", "tv-1", True)
    c.start(now=0.0)
    c.receive(protocol.encode(m.Welcome(seq, m.Snapshot(seq=seq), "display", "tv-aula")))
    return c


def test_client_illegal_calls_raise_and_change_nothing():
    c = s.ClientSession("operator", "op5", "cli")
    with pytest.raises(SessionError, match="request is not allowed in phase idle"):
        c.request(m.Next("n1", 5))
    assert c.phase is s.Phase.IDLE and c.pending == {}
    c.start(now=0.0)
    with pytest.raises(SessionError, match="start is not allowed in phase await_welcome"):
        c.start(now=1.0)
    assert c.phase is s.Phase.AWAIT_WELCOME and c.deadline == s.WELCOME_TIMEOUT


def test_client_gives_up_waiting_for_the_welcome():
    c = s.ClientSession("display", "tv", "tv-1", True)
    c.start(now=100.0)
    assert c.check_timeout(100.0 + s.WELCOME_TIMEOUT - 0.1) == []
    assert c.check_timeout(100.0 + s.WELCOME_TIMEOUT) == [s.Close(s.CloseCode.RESYNC, "no welcome from hub")]
    assert c.check_timeout(200.0) == []  # once


def test_next_attempt_carries_the_applied_seq():
    c = live_client(5)
    c.receive(protocol.encode(m.Called(6, _at(), "c6", 5, "A-001")))
    c.connection_closed(1006)
    again = c.next_attempt()
    assert again.phase is s.Phase.IDLE and again.seq == 6
    hello = json.loads(again.start(now=0.0)[0].frame)
    assert hello["since"] == 6


def test_an_event_before_the_welcome_is_not_applied():
    c = s.ClientSession("display", "tv", "tv-1", True)
    c.start(now=0.0)
    out = c.receive(protocol.encode(m.Called(1, _at(), "c1", 5, "A-001")))
    assert isinstance(out[0], s.Refused) and not out[0].final and c.seq is None


# ---------------------------------------------------------------- hub side


def server(now: float = 0.0) -> s.ServerSession:
    return s.ServerSession(TOKENS.get, LIMITS, now)


def hello(role="operator", token="op5", **extra) -> str:
    return json.dumps({"type": "hello", "role": role, "token": token, "client": "t", **extra})


def test_a_good_hello_is_greeted_then_welcomed_before_any_replay():
    srv = server()
    (greeted,) = srv.receive(hello(), now=0.1)
    assert greeted == s.Greeted(protocol.parse_client_frame(hello()), TOKENS["op5"], True)
    out = srv.welcome(m.Welcome(3, m.Snapshot(seq=3), "operator", "loket-5"), ["r1", "r2"])
    assert [type(o) for o in out] == [s.Send, s.Send, s.Send]
    assert json.loads(out[0].frame)["type"] == "welcome" and [o.frame for o in out[1:]] == ["r1", "r2"]
    assert srv.phase is s.Phase.LIVE


@pytest.mark.parametrize("frame, code, close", [
    (hello(token="nope"), "unauthorized", s.CloseCode.UNAUTHORIZED),
    (hello(role="display"), "forbidden", s.CloseCode.FORBIDDEN),
    ('{"type":"next","id":"n","counter":5}', "unauthorized", s.CloseCode.UNAUTHORIZED),
    ('{"type":"hello","role":"operator","token":"op5","client":"\\u0000"}', "bad_message", s.CloseCode.BAD_HELLO),
    ("not json", "bad_message", s.CloseCode.BAD_HELLO),
    (b"\x00\x01", "bad_message", s.CloseCode.BAD_HELLO),
])
def test_a_bad_hello_is_answered_then_closed(frame, code, close):
    srv = server()
    refused, sent, closing = srv.receive(frame, now=0.0)
    assert refused.code == code and json.loads(sent.frame)["code"] == code and closing.code is close
    assert close.final and srv.phase is s.Phase.CLOSING
    assert srv.receive(hello(), now=0.1) == []  # nothing more is read


def test_one_hello_only():
    srv = server()
    srv.receive(hello(), now=0.0)
    srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "loket-5"), [])
    (sent,) = srv.receive(hello(), now=0.1)
    assert json.loads(sent.frame)["message"] == "hello was already received on this connection"
    assert srv.phase is s.Phase.LIVE


def test_commands_and_their_refusals_on_a_live_connection():
    srv = server()
    srv.receive(hello(), now=0.0)
    srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "loket-5"), [])
    assert srv.receive('{"type":"next","id":"n1","counter":5}', now=0.1) == [s.CommandReceived(m.Next("n1", 5))]
    (sent,) = srv.receive('{"type":"ticker","id":"t","text":"\\ud800"}', now=0.2)
    assert json.loads(sent.frame)["code"] == "bad_message"


def test_rate_limit_per_connection():
    srv = server()
    srv.receive(hello(), now=0.0)
    srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "loket-5"), [])
    frame = '{"type":"next","id":"n1","counter":5}'
    results = [srv.receive(frame, now=1.0)[0] for _ in range(4)]
    assert [type(r) for r in results] == [s.CommandReceived] * 3 + [s.Send]
    assert json.loads(results[3].frame)["code"] == "rate_limited"
    assert isinstance(srv.receive(frame, now=1.3)[0], s.CommandReceived)  # refilled at 5/s


def test_hello_timeout():
    srv = server(now=50.0)
    assert srv.check_timeout(50.0 + s.HELLO_TIMEOUT - 0.01) == []
    out = srv.check_timeout(50.0 + s.HELLO_TIMEOUT)
    assert out[-1] == s.Close(s.CloseCode.BAD_HELLO, "no hello") and srv.phase is s.Phase.CLOSING


def test_server_illegal_calls_raise_and_change_nothing():
    srv = server()
    with pytest.raises(SessionError, match="welcome is not allowed in phase await_hello"):
        srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "x"), [])
    assert srv.phase is s.Phase.AWAIT_HELLO
    srv.receive(hello(), now=0.0)
    srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "x"), [])
    with pytest.raises(SessionError):
        srv.welcome(m.Welcome(0, m.Snapshot(), "operator", "x"), [])
    assert srv.phase is s.Phase.LIVE
    srv.closed()
    with pytest.raises(SessionError, match="receive is not allowed in phase closed"):
        srv.receive(hello(), now=1.0)


def test_kiosks_do_not_subscribe_by_default():
    srv = server()
    (greeted,) = srv.receive(hello(role="kiosk", token="kiosk"), now=0.0)
    assert greeted.subscribe is False


def test_close_codes():
    assert {c for c in s.CloseCode if c.final} == {4400, 4401, 4403}
    assert s.is_final_close(4401) and not s.is_final_close(1013) and not s.is_final_close(None)


def _at():
    from datetime import datetime, timedelta, timezone
    return datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=7)))
