"""Each finding of the 2026-12-01 hostile-input probe, replayed against a real hub process.

S4, S3, S3c and N1 each silenced or corrupted the hub before the hardening; the weaker
findings let an attacker on the hall LAN do more than their token allows. Every test
drives `python -m signage hub` over real sockets and reads the journal file and /healthz
from outside, as a technician would.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from faults.harness import healthz, make_hall
from support import HubProcess, timeout, write_config

pytestmark = pytest.mark.e2e


@pytest.fixture
def hub(tmp_path):
    hall = make_hall(tmp_path)
    process = HubProcess(hall.config_path).start()
    process.hall = hall
    try:
        yield process
    finally:
        process.stop()


def token(hub, name: str) -> str:
    return next(t.secret for t in hub.hall.config.tokens if t.name == name)


def session(hub, name: str, role: str = "operator", subscribe: bool = False, **kw):
    ws = connect(hub.url, compression=None, max_size=2 ** 22, **kw)
    ws.send(json.dumps({"type": "hello", "role": role, "token": token(hub, name), "client": "probe",
                        "subscribe": subscribe}))
    assert json.loads(ws.recv(timeout=timeout(10)))["type"] == "welcome"
    return ws


def ask(ws, frame) -> dict:
    ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(ws.recv(timeout=timeout(10)))


def a_call_still_works(hub, command_id: str) -> dict:
    with session(hub, "supervisor") as op:
        ack = ask(op, {"type": "call", "id": command_id, "counter": 3, "ticket": "C-001"})
    assert ack["type"] == "ack", ack
    return ack


# ---------------------------------------------------------------- the four that silenced the hall


def test_s4_a_display_token_with_a_lone_surrogate_id_cannot_kill_the_command_path(hub):
    with session(hub, "tv-semua", role="display") as tv:
        reply = ask(tv, '{"type":"clear","id":"\\ud800","counter":1}')
    assert reply["code"] == "bad_message" and "id: holds a lone surrogate U+D800" in reply["message"]
    assert reply["id"] is None
    a_call_still_works(hub, "after-s4")
    status, body = healthz(hub.port)
    assert status == 200 and body["status"] == "ok"


def test_s3_a_ticker_with_a_lone_surrogate_is_refused_not_a_storage_failure(hub):
    with session(hub, "supervisor") as op:
        for i in range(20):  # it could be repeated 20 times a second
            reply = ask(op, {"type": "ticker", "id": f"t{i}", "text": "Jam layanan \ud800"})
            assert reply["code"] == "bad_message" and reply["message"].startswith("text: holds a lone surrogate")
    status, body = healthz(hub.port)
    assert status == 200 and body["journal"] == "ok"
    a_call_still_works(hub, "after-s3")


def test_s3c_an_acked_call_is_stored_and_shown_even_when_a_hostile_frame_follows(hub):
    with session(hub, "loket-05") as victim, session(hub, "supervisor") as attacker:
        ack = ask(victim, {"type": "call", "id": "victim-1", "counter": 5, "ticket": "E-023"})
        assert ack["type"] == "ack"
        attacker.send(json.dumps({"type": "ticker", "id": "x", "text": "\ud800"}))
        attacker.recv(timeout=timeout(10))
        again = ask(victim, {"type": "call", "id": "victim-1", "counter": 5, "ticket": "E-023"})
        assert again["duplicate"] is True and again["seq"] == ack["seq"]
        other = ask(attacker, {"type": "call", "id": "other", "counter": 3, "ticket": "C-009"})
        assert other["seq"] == ack["seq"] + 1  # the victim's seq was never handed out again
    with sqlite3.connect(hub.hall.journal) as db:
        assert db.execute("SELECT command_id FROM events WHERE seq = ?", (ack["seq"],)).fetchone() == ("victim-1",)
    with connect(hub.url, compression=None) as tv:
        tv.send(json.dumps({"type": "hello", "role": "display", "token": token(hub, "tv-semua"), "client": "tv"}))
        welcome = json.loads(tv.recv(timeout=timeout(10)))
    shown = {c["counter"]: c["ticket"] for c in welcome["state"]["counters"]}
    assert shown[5] == "E-023"


def test_n1_a_ticker_with_a_nul_is_refused_and_an_old_stored_one_is_sanitised(tmp_path):
    hall = make_hall(tmp_path)
    hub = HubProcess(hall.config_path).start()
    hub.hall = hall
    try:
        with session(hub, "supervisor") as op:
            reply = ask(op, {"type": "ticker", "id": "n1", "text": "Tutup\u0000"})
            assert reply["code"] == "bad_message" and "U+0000" in reply["message"]
            ask(op, {"type": "ticker", "id": "n2", "text": "Layanan buka"})
    finally:
        hub.stop()
    # A journal written before the rule: rewrite the stored ticker to hold a NUL and a C1 control.
    with sqlite3.connect(hall.journal) as db:
        body = json.loads(db.execute("SELECT body FROM events WHERE type = 'ticker'").fetchone()[0])
        body["text"] = "Layanan\u0000buka\u0085"
        db.execute("UPDATE events SET body = ? WHERE type = 'ticker'", (json.dumps(body),))
    hub = HubProcess(hall.config_path).start()
    hub.hall = hall
    try:
        with connect(hub.url, compression=None) as tv:
            tv.send(json.dumps({"type": "hello", "role": "display", "token": hall.display, "client": "tv"}))
            welcome = json.loads(tv.recv(timeout=timeout(10)))
        assert welcome["state"]["ticker"] == "Layanan\ufffdbuka\ufffd"
        a_call_still_works(hub, "after-n1")
    finally:
        hub.stop()
    warnings = [line for line in hub.output if "no longer accepted" in line]
    assert len(warnings) == 1, hub.output


# ---------------------------------------------------------------- the weaker findings


def test_one_token_over_many_connections_is_rate_limited_as_a_whole(tmp_path):
    hall = make_hall(tmp_path, rate={"per_second": 20, "burst": 40})
    hub = HubProcess(hall.config_path).start()
    hub.hall = hall
    try:
        conns = [session(hub, "supervisor") for _ in range(20)]
        try:
            started = time.monotonic()
            for c, ws in enumerate(conns):
                for i in range(40):  # each connection alone stays inside its own burst
                    ws.send(json.dumps({"type": "ticker", "id": f"r{c}-{i}", "text": "x"}))
            replies = [json.loads(ws.recv(timeout=timeout(10))) for ws in conns for _ in range(40)]
            elapsed = time.monotonic() - started
        finally:
            for ws in conns:
                ws.close()
    finally:
        hub.stop()
    acked = sum(1 for r in replies if r["type"] == "ack")
    limited = [r for r in replies if r.get("code") == "rate_limited"]
    # per token: burst 80 plus 40/s; 800 were sent
    assert acked <= 80 + 40 * elapsed + 5, (acked, elapsed)
    assert limited and "over all its connections" in limited[0]["message"]


def test_failed_hellos_back_off_per_address_and_are_logged_sparingly(hub):
    statuses = []
    for i in range(25):
        try:
            with connect(hub.url, compression=None, source_address=("127.0.0.3", 0)) as ws:
                ws.send(json.dumps({"type": "hello", "role": "operator", "token": f"guess-{i}", "client": "x"}))
                assert json.loads(ws.recv(timeout=timeout(10)))["code"] == "unauthorized"
                statuses.append(101)
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
    assert statuses[:10] == [101] * 10 and 429 in statuses[10:]
    a_call_still_works(hub, "another-address-is-not-blocked")
    refused_lines = [line for line in hub.output if "refused hello from 127.0.0.3" in line]
    assert 1 <= len(refused_lines) <= 2, refused_lines


def test_a_forged_client_name_cannot_write_log_lines(hub):
    with connect(hub.url, compression=None) as ws:
        ws.send(json.dumps({"type": "hello", "role": "operator", "token": token(hub, "supervisor"),
                            "client": "x\n2026-12-01 09:00:00 INFO signage.hub: supervisor granted"}))
        reply = json.loads(ws.recv(timeout=timeout(10)))
    assert reply["code"] == "bad_message" and "client: holds a control character U+000A" in reply["message"]
    time.sleep(0.2)  # let the hub's log line reach the pipe
    assert not any(line.startswith("2026-12-01 09:00:00 INFO signage.hub: supervisor granted")
                   for line in hub.output)


def raw_http(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout(5)) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


SECURITY = {"content-security-policy": "default-src 'self'; frame-ancestors 'none'", "x-frame-options": "DENY",
            "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /operator HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200),
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200),
    (b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
    (b"POST /operator HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"DELETE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
    (b"PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", 400),
    (b"GET /kiosk HTTP/1.1\r\nHost: rebind.evil.example\r\n\r\n", 421),
])
def test_http_answers_carry_security_headers_and_refuse_what_they_should(hub, request_bytes, status):
    code, headers, body = raw_http(hub.port, request_bytes)
    assert code == status, body
    for name, value in SECURITY.items():
        assert headers.get(name) == value, (name, headers)
    assert not any("Traceback" in line for line in hub.output)


def test_dns_rebinding_cannot_open_a_websocket(hub):
    # The attacker's page at http://rebind.evil.example resolves to the hub: Host and Origin agree.
    with pytest.raises(InvalidStatus) as info:
        connect(hub.url, compression=None, origin="http://rebind.evil.example",
                additional_headers={"Host": "rebind.evil.example"})
    assert info.value.response.status_code in (400, 421)


def test_server_names_let_the_hall_use_a_dns_name(tmp_path):
    path = write_config(tmp_path, server_names=["hub.mpp.local"])
    hub = HubProcess(path).start()
    try:
        code, headers, _ = raw_http(hub.port, b"GET /operator HTTP/1.1\r\nHost: hub.mpp.local:8765\r\n\r\n")
        assert code == 200
        code, _, _ = raw_http(hub.port, b"GET /operator HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert code == 421  # with a list, only its names
    finally:
        hub.stop()


def test_the_hub_warns_of_sample_tokens_at_start(hub):
    warnings = [line for line in hub.output if "a sample from the config.yaml shipped with signage" in line]
    assert len(warnings) == 3, hub.output  # the shipped config: every token is a sample
    assert any("more weak or sample tokens; `signage check-config` lists them all" in line for line in hub.output)
