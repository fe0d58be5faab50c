"""The hub's fleet desk against real websocket clients: heartbeats, admin actions, /status/data, /metrics.

A real hub on 127.0.0.1:0 with a real journal. The "display" here is a raw websocket
client answering the hub's action requests by hand, so each bound (size, rate, who may
ask) can be hit exactly; tests/e2e/test_fleet_live.py runs real display processes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

from signage.hub import fleet as desk
from support import fetch, hall_config, raw_client, running_hub, timeout, until

ADMIN = "teknisi"


def heartbeat(name="tv-a", **changes) -> dict:
    beat = {"type": "heartbeat", "name": name, "version": "0.1.0", "uptime_s": 5.0, "fps": 30.0, "seq": 0,
            "cpu_percent": 1.0, "rss_bytes": 50_000_000, "disk_free_bytes": 10_000_000_000, "audio": "ok"}
    beat.update(changes)
    return beat


def png(w: int, h: int, noise: int = 0) -> bytes:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    surface = pygame.Surface((w, h))
    out = io.BytesIO()
    pygame.image.save(surface, out, "x.png")
    return out.getvalue() + os.urandom(noise)  # trailing bytes: a PNG reader ignores them, the size grows


async def status_data(hub, tokens) -> dict:
    code, body, _ = await fetch(hub, "/status/data", tokens[ADMIN])
    assert code == 200, body
    return json.loads(body)


async def test_a_heartbeat_is_listed_makes_no_event_and_gets_no_reply(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
        await tv.recv_type("welcome")
        await tv.send(heartbeat(seq=0))
        assert await tv.nothing(0.3)
        data = await until(lambda: _listed(hub, tokens, "tv-a"))
        client = data["clients"][0]
        assert client["token"] == "tv-semua" and client["online"] and client["heartbeat"]["fps"] == 30.0
        assert hub.seq == 0 and hub.journal.last_seq() == 0


async def _listed(hub, tokens, name):
    data = await status_data(hub, tokens)
    return data if any(c["name"] == name for c in data["clients"]) else None


async def test_health_rules_reach_healthz_and_status(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
        await tv.recv_type("welcome")
        await tv.send(heartbeat(audio="silent", audio_reason="no audio device", disk_free_bytes=1_000_000,
                                broken=["display.logo logo.png: not a PNG"],
                                clock="2026-12-02T09:00:00.000+07:00"))

        async def alerted():
            _, body, _ = await fetch(hub, "/healthz")
            return {a["kind"] for a in json.loads(body)["alerts"]} or None

        assert await until(alerted) == {"audio_silent", "disk_low", "content_broken", "clock_skew"}
        data = await status_data(hub, tokens)
        assert {a["kind"] for a in data["alerts"]} == {"audio_silent", "disk_low", "content_broken", "clock_skew"}


@pytest.mark.parametrize("role,token", [("operator", "supervisor"), ("operator", "loket-05"),
                                        ("display", "tv-semua"), ("kiosk", "anjungan-1")])
async def test_every_other_role_is_refused_every_action(tmp_path, tokens, role, token):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens[token], role=role, subscribe=False) as c:
        await c.recv_type("welcome")
        for action in ("screenshot", "identify", "restart"):
            await c.send({"type": "act", "id": f"a-{action}", "action": action, "name": "tv-a"})
            error = await c.recv_type("error")
            assert (error["id"], error["code"]) == (f"a-{action}", "forbidden")
            assert "admin" in error["message"]


async def test_admin_tokens_send_no_queue_commands(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as a:
        await a.recv_type("welcome")
        await a.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-001"})
        error = await a.recv_type("error")
        assert error["code"] == "forbidden" and hub.seq == 0


async def test_heartbeats_from_other_roles_are_refused(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens["supervisor"]) as op:
        await op.recv_type("welcome")
        await op.send(heartbeat())
        assert (await op.recv_type("error"))["code"] == "forbidden"
        assert (await status_data(hub, tokens))["clients"] == []


async def test_status_data_and_metrics_need_an_admin_token(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub:
        for path in ("/status/data", "/metrics"):
            assert (await fetch(hub, path))[0] == 401
            assert (await fetch(hub, path, "not-a-token"))[0] == 401
            for name in ("supervisor", "tv-semua", "anjungan-1"):
                code, body, _ = await fetch(hub, path, tokens[name])
                assert code == 403 and b"admin" in body
        code, body, kind = await fetch(hub, "/status")
        assert code == 200 and kind.startswith("text/html") and b"status.js" in body


async def answer_actions(tv, answers: dict):
    """The raw display: answer each action request the hub sends, as `answers[action](request)` says."""
    while True:
        frame = json.loads(await tv.ws.recv())
        if frame["type"] == "action":
            reply = answers[frame["action"]](frame)
            if reply is not None:
                await tv.send(reply)


async def test_screenshot_round_trip_stores_a_thumbnail(tmp_path, tokens):
    config = hall_config(tmp_path)
    picture = png(640, 360)
    async with running_hub(config) as hub, \
            raw_client(hub.url, tokens["tv-semua"], role="display") as tv, \
            raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as admin:
        await tv.recv_type("welcome")
        await admin.recv_type("welcome")
        await tv.send(heartbeat())
        await until(lambda: _listed(hub, tokens, "tv-a"))
        responder = asyncio.create_task(answer_actions(tv, {"screenshot": lambda r: picture}))
        try:
            await admin.send({"type": "act", "id": "s1", "action": "screenshot", "name": "tv-a"})
            result = await admin.recv_type("action_result")
            assert result["id"] == "s1" and base64.b64decode(result["png"]) == picture
            data = await status_data(hub, tokens)
            url = data["clients"][0]["screenshot"]["url"]
            code, body, kind = await fetch(hub, url)
            assert code == 200 and kind == "image/png" and body == picture
            assert (await fetch(hub, "/status/shot/guessed.png"))[0] == 404
        finally:
            responder.cancel()


async def test_screenshots_are_rate_and_size_bounded(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, \
            raw_client(hub.url, tokens["tv-semua"], role="display") as tv, \
            raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as admin:
        await tv.recv_type("welcome")
        await admin.recv_type("welcome")
        await tv.send(heartbeat())
        await until(lambda: _listed(hub, tokens, "tv-a"))
        huge = png(640, 360, noise=desk.SCREENSHOT_MAX_BYTES)
        responder = asyncio.create_task(answer_actions(tv, {"screenshot": lambda r: huge}))
        try:
            await admin.send({"type": "act", "id": "s1", "action": "screenshot", "name": "tv-a"})
            await admin.send({"type": "act", "id": "s2", "action": "screenshot", "name": "tv-a"})
            replies = {}
            for _ in range(2):
                frame = await admin.recv_type("error")
                replies[frame["id"]] = frame["code"]
            assert replies == {"s1": "bad_screenshot", "s2": "rate_limited"}
        finally:
            responder.cancel()
        # Nothing asked: a binary frame is refused, and the connection keeps serving.
        await tv.send(png(10, 10))
        error = await tv.recv_type("error")
        assert "only as the answer to a screenshot request" in error["message"]
        await tv.send(heartbeat(seq=0))
        assert await tv.nothing(0.3)


async def test_a_frame_beyond_the_websocket_limit_closes_the_display(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
        await tv.recv_type("welcome")
        await tv.send(bytes(desk.SCREENSHOT_MAX_BYTES + 64 * 1024))
        with pytest.raises(Exception):
            for _ in range(5):
                await tv.recv(2)
        assert tv.ws.close_code == 1009  # message too big: websockets' own bound, before any parsing


async def test_actions_on_unknown_or_silent_clients_are_refused(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as a:
        await a.recv_type("welcome")
        await a.send({"type": "act", "id": "x1", "action": "identify", "name": "tv-nowhere"})
        assert (await a.recv_type("error"))["code"] == "unknown_client"
        async with raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
            await tv.recv_type("welcome")
            await tv.send(heartbeat())
            await until(lambda: _listed(hub, tokens, "tv-a"))
            await a.send({"type": "act", "id": "x2", "action": "identify", "name": "tv-a"})
            request = await tv.recv_type("action")  # the raw display never answers
            assert request["action"] == "identify" and request["seconds"] == 10
            error = await a.recv_type("error", wait=desk.ACTION_TIMEOUT + 3)
            assert error["code"] == "timeout"
        await until(lambda: _offline(hub, tokens))
        await a.send({"type": "act", "id": "x3", "action": "restart", "name": "tv-a"})
        assert (await a.recv_type("error"))["code"] == "offline"


async def _offline(hub, tokens):
    data = await status_data(hub, tokens)
    return not data["clients"][0]["online"]


def metrics(body: bytes) -> dict:
    """(name, labels) → value, read with prometheus-client's own parser."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_parse_and_move_with_the_calls(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, \
            raw_client(hub.url, tokens["supervisor"]) as op, \
            raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
        await op.recv_type("welcome")
        await tv.recv_type("welcome")
        await tv.send(heartbeat(fps=24.5, seq=0))
        await until(lambda: _listed(hub, tokens, "tv-a"))
        code, body, kind = await fetch(hub, "/metrics", tokens[ADMIN])
        assert code == 200 and kind.startswith("text/plain")
        before = metrics(body)
        await op.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-001"})
        await op.recv_type("ack")
        await op.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-001"})  # a resend
        assert (await op.recv_type("ack"))["duplicate"] is True
        await op.send({"type": "call", "id": "c2", "counter": 99, "ticket": "E-002"})
        assert (await op.recv_type("error"))["code"] == "unknown_counter"
        after = metrics((await fetch(hub, "/metrics", tokens[ADMIN]))[1])

    def moved(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert moved("signage_events_total", type="called") == 1
    assert moved("signage_commands_total", result="ok") == 1
    assert moved("signage_commands_total", result="duplicate") == 1
    assert moved("signage_commands_total", result="unknown_counter") == 1
    assert moved("signage_ack_latency_seconds_count") == 3
    assert moved("signage_journal_commit_seconds_count") == 1
    assert after[("signage_clients", (("role", "display"),))] == 1
    assert after[("signage_clients", (("role", "operator"),))] == 1
    assert after[("signage_client_fps", (("name", "tv-a"),))] == 24.5
    assert after[("signage_client_up", (("name", "tv-a"),))] == 1
    assert after[("signage_seq", ())] == 1
    assert ("signage_storage_failures_total", ()) in after
    assert ("signage_slow_clients_dropped_total", ()) in after


async def test_two_hubs_in_one_process_keep_their_own_metrics(tmp_path, tokens):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with running_hub(hall_config(tmp_path / "a")) as one, running_hub(hall_config(tmp_path / "b")) as two:
        async with raw_client(one.url, tokens["supervisor"]) as op:
            await op.recv_type("welcome")
            await op.send({"type": "call", "id": "c1", "counter": 5, "ticket": "E-001"})
            await op.recv_type("ack")
        first = metrics((await fetch(one, "/metrics", tokens[ADMIN]))[1])
        second = metrics((await fetch(two, "/metrics", tokens[ADMIN]))[1])
    assert first[("signage_events_total", (("type", "called"),))] == 1
    assert ("signage_events_total", (("type", "called"),)) not in second


async def test_a_display_that_leaves_mid_action_is_reported_offline_at_once(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as a:
        await a.recv_type("welcome")
        async with raw_client(hub.url, tokens["tv-semua"], role="display") as tv:
            await tv.recv_type("welcome")
            await tv.send(heartbeat())
            await until(lambda: _listed(hub, tokens, "tv-a"))
            await a.send({"type": "act", "id": "x1", "action": "screenshot", "name": "tv-a"})
            await tv.recv_type("action")
        started = asyncio.get_running_loop().time()
        error = await a.recv_type("error")
        assert error["code"] == "offline" and "disconnected before it answered" in error["message"]
        assert asyncio.get_running_loop().time() - started < desk.ACTION_TIMEOUT  # not the timeout


async def test_a_bug_while_relaying_is_told_to_the_admin(tmp_path, tokens):
    config = hall_config(tmp_path)
    async with running_hub(config) as hub, \
            raw_client(hub.url, tokens["tv-semua"], role="display") as tv, \
            raw_client(hub.url, tokens[ADMIN], role="admin", subscribe=False) as admin:
        await tv.recv_type("welcome")
        await admin.recv_type("welcome")
        await tv.send(heartbeat())
        await until(lambda: _listed(hub, tokens, "tv-a"))

        def broken(name, png):
            raise RuntimeError("a bug in storing the thumbnail")

        hub.fleet._store = broken  # the one method this test breaks
        responder = asyncio.create_task(answer_actions(tv, {"screenshot": lambda r: png(64, 36)}))
        try:
            await admin.send({"type": "act", "id": "s1", "action": "screenshot", "name": "tv-a"})
            error = await admin.recv_type("error")
            assert (error["id"], error["code"]) == ("s1", "internal_error")
        finally:
            responder.cancel()
        assert hub.failure is None  # the hub serves on
