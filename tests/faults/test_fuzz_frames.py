"""10,000 malformed or fuzzed frames against a real hub process, on one operator connection.

Every frame gets exactly one reply, and which one is decided before it is sent:

* frames broken by construction (bad field, truncated JSON, binary, deep nesting, unknown
  type, oversized, a second hello) → an error whose code and message say what is wrong;
* free-form frames (random JSON) → whatever the protocol module's parser says locally: an
  error with its code, or — for the rare frame that is a valid command — an ack or a
  refusal by the hall rules (queue_empty, unknown_counter, …), never bad_message;
* well-formed commands with random values → an ack or a rules refusal.

At the end the hub is still up and its state is exactly the initial state with the acked
events applied, and its replay holds exactly those events: no refused frame changed
anything. Runs derandomized (CI-stable) with deadline=None.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from faults.harness import Hall, make_hall
from signage.core import hall as hall_state, messages as m, protocol
from signage.errors import ERROR_CODES, ProtocolError
from support import HubProcess, timeout

pytestmark = pytest.mark.e2e

MAX_BYTES = 4096  # hub.max_message_bytes in config.yaml
FRAME_LIMIT = 64 * 1024  # websockets' max_size in the hub: larger frames close the connection
RULE_CODES = ERROR_CODES - {"bad_message", "too_large", "rate_limited", "unauthorized", "storage_failed"}
COMMAND_FIELDS = {
    "call": {"counter", "ticket"}, "recall": {"counter", "ticket"}, "clear": {"counter"},
    "ticker": {"text"}, "issue": {"service", "priority"}, "next": {"counter"}, "skip": {"counter"},
    "done": {"counter"}, "transfer": {"counter", "service"},
}


def fuzz_settings(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


# ---------------------------------------------------------------- the hub under fuzz


@dataclass
class Fuzzed:
    hub: HubProcess
    hall: Hall
    ws: object
    initial_seq: int
    initial_state: dict
    acked: list = field(default_factory=list)  # events of new (not duplicate) acks, in seq order
    frames: int = 0
    replies: dict = field(default_factory=dict)  # reply kind → count, for the report
    stored: dict = field(default_factory=dict)  # role → {command id: command text} acked for its token

    def exchange(self, frame: str | bytes) -> dict:
        """Send one frame, return the one reply."""
        self.frames += 1
        self.ws.send(frame)
        reply = json.loads(self.ws.recv(timeout=timeout(10)))
        kind = reply.get("code", reply["type"])
        self.replies[kind] = self.replies.get(kind, 0) + 1
        if reply["type"] == "ack" and not reply.get("duplicate"):
            self.acked.append(reply["event"])
        return reply


def hello(hall: Hall, role: str = "operator", since=None, subscribe=False) -> str:
    token = hall.operator if role == "operator" else hall.display
    return json.dumps({"type": "hello", "role": role, "token": token, "client": "fuzz", "since": since,
                       "subscribe": subscribe})


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    hall = make_hall(tmp_path_factory.mktemp("fuzz"), sync="normal")
    hub = HubProcess(hall.config_path).start()
    try:
        with connect(hub.url, compression=None, max_size=2 ** 22) as ws:
            ws.send(hello(hall))
            welcome = json.loads(ws.recv(timeout=timeout(10)))
            yield Fuzzed(hub, hall, ws, welcome["seq"], welcome["state"])
    finally:
        hub.stop()


# ---------------------------------------------------------------- strategies

ids = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=64)
# Text the hub accepts: any Unicode but controls (Cc) and surrogates (Cs).
unicode_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)), max_size=80)
# What the text rule refuses, one character of it somewhere in otherwise fine text. Hypothesis never
# draws surrogates by itself; they go out as JSON escapes, exactly what a hostile client sends.
refused_chars = st.one_of(st.integers(0xD800, 0xDFFF), st.integers(0x00, 0x1F), st.integers(0x7F, 0x9F)).map(chr)
hostile_text = st.builds(lambda a, c, b: a + c + b, unicode_text, refused_chars, unicode_text)
any_text = st.one_of(st.text(st.characters(), max_size=80), hostile_text)
huge_ints = st.integers(min_value=-(10 ** 40), max_value=10 ** 40) | st.sampled_from(
    [0, -1, 10_000, 2 ** 31, 2 ** 63, 2 ** 64 + 1, 10 ** 300])
json_scalars = st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False) | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(unicode_text, inner, max_size=4), max_leaves=12)

valid_counter = st.integers(1, 21)
valid_ticket = st.from_regex(r"[A-Z]{1,3}-?[0-9]{1,5}", fullmatch=True)
service_codes = st.sampled_from(["DUKCAPIL-01", "DUKCAPIL-07", "NO-SUCH-SERVICE"])

# Values each field must refuse (and why, in the hub's words).
BAD_VALUES = {
    "counter": st.one_of(huge_ints.filter(lambda n: not 0 < n <= 9999), st.booleans(), unicode_text,
                         st.floats(allow_nan=False), st.lists(st.integers(), max_size=2)),
    "ticket": st.one_of(unicode_text.filter(lambda s: not protocol.TICKET.fullmatch(s.strip().upper())),
                        huge_ints, st.booleans(), st.lists(unicode_text, max_size=2), hostile_text),
    "text": st.one_of(huge_ints, st.booleans(), st.text(min_size=501, max_size=600).filter(lambda s: len(s) > 500),
                      hostile_text),
    "service": st.one_of(huge_ints, st.booleans(), st.just(""), st.just("   "), st.text(min_size=41, max_size=80),
                         hostile_text),
    "priority": st.one_of(huge_ints, unicode_text, st.lists(st.booleans(), max_size=2)),
    "id": st.one_of(huge_ints, st.booleans(), st.just(""), st.text(min_size=65, max_size=80), hostile_text),
}
VALID_VALUES = {"counter": valid_counter, "ticket": valid_ticket, "text": unicode_text,
                "service": service_codes, "priority": st.booleans()}


@st.composite
def valid_commands(draw) -> dict:
    kind = draw(st.sampled_from(sorted(COMMAND_FIELDS)))
    command = {"type": kind, "id": "valid-" + draw(ids)}
    for name in sorted(COMMAND_FIELDS[kind]):
        if name == "ticket" and kind == "recall" and draw(st.booleans()):
            continue  # optional: recall the counter's current ticket
        command[name] = draw(VALID_VALUES[name])
    return command


@st.composite
def commands_with_one_bad_field(draw) -> tuple[dict, str]:
    command = draw(valid_commands())
    bad = draw(st.sampled_from(sorted((COMMAND_FIELDS[command["type"]] & BAD_VALUES.keys()) | {"id"})))
    command[bad] = draw(BAD_VALUES[bad])
    return command, bad


# ---------------------------------------------------------------- expectations


def expect_error(reply: dict, code: str, says: str = "", frame_id=None) -> None:
    assert reply["type"] == "error", reply
    assert reply["code"] == code, reply
    assert says in reply["message"], reply
    if frame_id is not None:
        assert reply["id"] == frame_id, reply


def expect_accepted_or_ruled_out(reply: dict, command_id: str) -> None:
    """A well-formed command: acked, or refused by the hall's rules — never a protocol error."""
    assert reply["id"] == command_id, reply
    assert reply["type"] == "ack" or (reply["type"] == "error" and reply["code"] in RULE_CODES), reply


def expect_as_parser_says(fuzzed: Fuzzed, frame: str | bytes) -> None:
    try:
        command = protocol.parse_client_frame(frame, MAX_BYTES)
    except ProtocolError as exc:
        expect_error(fuzzed.exchange(frame), exc.code)
        return
    reply = fuzzed.exchange(frame)
    if protocol.type_name(command) == "hello":
        expect_error(reply, "bad_message", "hello was already received")
    else:
        expect_accepted_or_ruled_out(reply, command.id)


# ---------------------------------------------------------------- the fuzz (10,000 frames in all)


@fuzz_settings(2000)
@given(value=json_values)
def test_random_json(fuzzed, value):
    expect_as_parser_says(fuzzed, json.dumps(value))


@fuzz_settings(1000)
@given(obj=st.dictionaries(st.sampled_from(["type", "id", "counter", "ticket", "text", "service", "priority",
                                            "x-note", "since", "role"]), json_values, max_size=6),
       kind=st.sampled_from(sorted(COMMAND_FIELDS)))
def test_random_fields_under_a_real_type(fuzzed, obj, kind):
    expect_as_parser_says(fuzzed, json.dumps({**obj, "type": kind}))


@fuzz_settings(2500)
@given(case=commands_with_one_bad_field())
def test_valid_looking_commands_with_one_bad_field(fuzzed, case):
    command, bad = case
    frame = json.dumps(command)
    reply = fuzzed.exchange(frame)
    if len(frame.encode()) > MAX_BYTES:
        expect_error(reply, "too_large")
    else:
        # The message names the field (or a place inside it); the id is echoed whenever the id itself is fine.
        expect_error(reply, "bad_message", frame_id=None if bad == "id" else command["id"])
        assert reply["message"].startswith((f"{bad}:", f"{bad}[", f"{bad}.")), reply


@fuzz_settings(2000)
@given(command=valid_commands())
def test_well_formed_commands(fuzzed, command):
    command["id"] = f"valid-{fuzzed.frames}"  # unique, so every ack is a new event
    expect_accepted_or_ruled_out(fuzzed.exchange(json.dumps(command, ensure_ascii=False)), command["id"])


@fuzz_settings(1000)
@given(command=valid_commands(), data=st.data())
def test_truncated_frames(fuzzed, command, data):
    frame = json.dumps(command, ensure_ascii=False)
    cut = data.draw(st.integers(1, len(frame) - 1))
    expect_error(fuzzed.exchange(frame[:cut]), "bad_message", "not valid JSON")


@fuzz_settings(500)
@given(blob=st.binary(max_size=MAX_BYTES + 100))
def test_binary_frames(fuzzed, blob):
    if len(blob) > MAX_BYTES:
        expect_error(fuzzed.exchange(blob), "too_large")
    else:
        expect_error(fuzzed.exchange(blob), "bad_message", "binary frames are accepted only as the answer to a "
                                                           "screenshot request")


@fuzz_settings(400)
@given(depth=st.integers(1, MAX_BYTES // 2 - 2), brackets=st.sampled_from(["[]", "{}"]))
def test_deep_nesting(fuzzed, depth, brackets):
    opening, closing = ('{"a":', "}") if brackets == "{}" else ("[", "]")
    inner = "{}" if brackets == "{}" else "1"
    frame = opening * depth + inner + closing * depth
    reply = fuzzed.exchange(frame)
    if len(frame) > MAX_BYTES:
        expect_error(reply, "too_large")
    elif brackets == "[]":
        expect_error(reply, "bad_message", "expected a JSON object" if depth == 1 else "")
    elif depth + 1 > protocol.MAX_DEPTH:
        expect_error(reply, "bad_message", f"nested deeper than {protocol.MAX_DEPTH} levels")
    else:
        expect_error(reply, "bad_message", "type: missing")  # an object without "type"


@fuzz_settings(400)
@given(kind=json_values.filter(lambda k: k is not None and not (isinstance(k, str) and (k in COMMAND_FIELDS or k == "hello"))),
       command_id=ids)
def test_unknown_types(fuzzed, kind, command_id):
    frame = json.dumps({"type": kind, "id": command_id})
    with pytest.raises(ProtocolError) as local:
        protocol.parse_client_frame(frame, MAX_BYTES)
    # "unknown message type", or what else is wrong with the value (Infinity, a surrogate, 16 digits, depth)
    assert local.value.message.startswith("type"), local.value.message
    expect_error(fuzzed.exchange(frame), local.value.code, local.value.message, frame_id=command_id)


@fuzz_settings(150)
@given(size=st.integers(MAX_BYTES + 1, FRAME_LIMIT - 100), command_id=ids)
def test_oversized_frames(fuzzed, size, command_id):
    frame = json.dumps({"type": "ticker", "id": command_id, "text": "x" * size})
    expect_error(fuzzed.exchange(frame), "too_large", f"the limit is {MAX_BYTES}")


@fuzz_settings(50)
@given(role=st.sampled_from(["operator", "display", "kiosk"]), since=st.none() | st.integers(0, 10), client=ids)
def test_a_second_hello(fuzzed, role, since, client):
    frame = json.dumps({"type": "hello", "role": role, "token": fuzzed.hall.operator, "since": since,
                        "client": client})
    expect_error(fuzzed.exchange(frame), "bad_message", "hello was already received")


# ---------------------------------------------------------------- every role, and the hall keeps working


@pytest.fixture(scope="module")
def roles(fuzzed):
    """A display and a kiosk connection sending hostile frames, and an operator probing on its own connection."""
    kiosk = next(t.secret for t in fuzzed.hall.config.tokens if t.role == "kiosk")
    tokens = {"display": fuzzed.hall.display, "kiosk": kiosk, "probe": fuzzed.hall.operator}
    conns = {}
    try:
        for name, token in tokens.items():
            ws = connect(fuzzed.hub.url, compression=None, max_size=2 ** 22)
            role = "operator" if name == "probe" else name
            ws.send(json.dumps({"type": "hello", "role": role, "token": token, "client": f"fuzz-{name}",
                                "subscribe": False}))
            assert json.loads(ws.recv(timeout=timeout(10)))["type"] == "welcome"
            conns[name] = ws
        yield conns
    finally:
        for ws in conns.values():
            ws.close()


hostile_frames = st.one_of(
    json_values.map(json.dumps),
    st.builds(lambda c, bad: json.dumps({**c[0], c[1]: bad}), commands_with_one_bad_field(), any_text),
    valid_commands().map(json.dumps),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 2000)),
    st.builds(lambda k, v: '{"type":"ticker","id":"t","text":"a",' + json.dumps(k) + ":" + json.dumps(v) + "}",
              any_text, json_values),
    st.sampled_from(['{"type":"clear","id":"\\ud800","counter":1}', '{"type":"ticker","id":"t","text":"\\u0000"}',
                     '{"type":"next","id":"n","id":"m","counter":1}', '\ufeff{"type":"next","id":"n","counter":1}',
                     '{"type":"next","id":"n","counter":NaN}', '{"type":"next","id":"n","counter":1e400}',
                     '{"type":"next","id":"n","counter":' + "9" * 4000 + "}"]),
)


@fuzz_settings(1000)
@given(role=st.sampled_from(["display", "kiosk"]), frame=hostile_frames)
def test_hostile_frames_from_every_role_never_stop_the_hall(fuzzed, roles, role, frame):
    """The property: after any frame from any role, an operator's call on another connection is acked within 1 s."""
    ws = roles[role]
    ws.send(frame)
    reply = json.loads(ws.recv(timeout=timeout(10)))
    fuzzed.frames += 1
    try:
        command = protocol.parse_client_frame(frame, MAX_BYTES)
    except ProtocolError as exc:
        expect_error(reply, exc.code, exc.message)
    else:
        stored = fuzzed.stored.setdefault(role, {})  # ids this token has stored: id → command text
        if protocol.type_name(command) == "hello":
            expect_error(reply, "bad_message")
        elif command.id in stored and stored[command.id] != protocol.encode_command(command):
            expect_error(reply, "conflict")  # the id answers first, before the role is looked at
        elif role == "display" or not isinstance(command, m.Issue):
            expect_error(reply, "forbidden")
        else:
            expect_accepted_or_ruled_out(reply, command.id)
            if reply["type"] == "ack" and not reply.get("duplicate"):
                fuzzed.acked.append(reply["event"])
                stored[command.id] = protocol.encode_command(command)
    probe = roles["probe"]
    probe_id = f"probe-{fuzzed.frames}"
    probe.send(json.dumps({"type": "call", "id": probe_id, "counter": 5, "ticket": "Z-001"}))
    ack = json.loads(probe.recv(timeout=timeout(1.0)))
    assert ack["type"] == "ack" and ack["id"] == probe_id, ack
    fuzzed.acked.append(ack["event"])
    fuzzed.frames += 1


@fuzz_settings(200)
@given(hello_frame=st.one_of(
    st.builds(lambda role, token, client: json.dumps({"type": "hello", "role": role, "token": token,
                                                       "client": client}),
              st.sampled_from(["operator", "display", "kiosk"]), any_text, any_text),
    hostile_frames))
def test_hostile_hellos_are_refused_and_closed(fuzzed, roles, hello_frame):
    # From another loopback address: the failed-hello backoff may block it, never the hall's own clients.
    try:
        with connect(fuzzed.hub.url, compression=None, source_address=("127.0.0.2", 0)) as ws:
            ws.send(hello_frame)
            reply = json.loads(ws.recv(timeout=timeout(10)))
            assert reply["type"] == "error" and reply["code"] in {"bad_message", "unauthorized", "forbidden",
                                                                  "too_large"}, reply
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=timeout(10))
            assert closed.value.rcvd.code in (4400, 4401, 4403)
    except InvalidStatus as exc:
        assert exc.response.status_code == 429  # blocked after too many failed hellos
    fuzzed.frames += 1
    probe = roles["probe"]
    probe.send(json.dumps({"type": "call", "id": f"probe-h{fuzzed.frames}", "counter": 5, "ticket": "Z-001"}))
    ack = json.loads(probe.recv(timeout=timeout(1.0)))
    assert ack["type"] == "ack", ack
    fuzzed.acked.append(ack["event"])


# ---------------------------------------------------------------- afterwards: the hub is up and unchanged


def test_the_hub_survived_and_only_acked_frames_changed_its_state(fuzzed):
    assert fuzzed.hub.proc.poll() is None, "".join(fuzzed.hub.output)
    with connect(fuzzed.hub.url, compression=None, max_size=2 ** 22) as ws:
        ws.send(hello(fuzzed.hall, "display", since=fuzzed.initial_seq, subscribe=True))
        welcome = json.loads(ws.recv(timeout=timeout(10)))
        replayed = [json.loads(ws.recv(timeout=timeout(10))) for _ in range(welcome["replaying"])]
    assert welcome["seq"] == fuzzed.initial_seq + len(fuzzed.acked)
    assert [{k: v for k, v in e.items() if k != "replay"} for e in replayed] == fuzzed.acked
    expected = hall_state.fold([protocol.from_wire(e) for e in fuzzed.acked], fuzzed.hall.config.hub.history,
                               protocol.snapshot_from_wire(fuzzed.initial_state))
    assert welcome["state"] == {**protocol.snapshot_to_wire(expected), "seq": welcome["seq"]}
    print(f"\n{fuzzed.frames} frames, replies: {dict(sorted(fuzzed.replies.items()))}")


def test_frames_beyond_the_websocket_limit_close_only_that_connection(fuzzed):
    with connect(fuzzed.hub.url, compression=None) as ws:
        ws.send(hello(fuzzed.hall))
        ws.recv(timeout=timeout(10))
        ws.send("x" * (FRAME_LIMIT + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=timeout(10))
    assert closed.value.rcvd.code == 1009  # message too big
    assert fuzzed.exchange('{"type": "dance"}')["code"] == "bad_message"  # the fuzz connection lives on


def test_invalid_utf8_in_a_text_frame_closes_only_that_connection(fuzzed):
    with connect(fuzzed.hub.url, compression=None) as ws:
        ws.send(hello(fuzzed.hall))
        ws.recv(timeout=timeout(10))
        ws.send(b'{"type": "ticker", "id": "t", "text": "\xff\xfe"}', text=True)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=timeout(10))
    assert closed.value.rcvd.code == 1007  # invalid data
    assert fuzzed.exchange(b"\x00")["code"] == "bad_message"
