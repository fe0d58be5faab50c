"""The hub's fleet desk: heartbeats, remote actions, /status and /metrics. A thin shell.

    display ──heartbeat──► Desk.received ─► core.fleet (state, alerts) ─► /status/data, /healthz, /metrics
    admin ──act──► Desk ──action──► that display ──reply / binary PNG──► Desk ──action_result──► admin

Nothing here is journaled: heartbeats and actions make no event and no seq.
An action waits at most ACTION_TIMEOUT for its client; a display gets at most
one screenshot request per SCREENSHOT_GAP (an admin asking faster is refused
with rate_limited) and may answer it with one PNG of at most SCREENSHOT_MAX_BYTES.

HTTP (admin token as `Authorization: Bearer <token>`; the page itself is public):

    GET /status               the technician's page (status.html)
    GET /status/data          fleet, alerts and hub health as JSON
    GET /status/shot/KEY.png  a stored screenshot; KEY is random per screenshot and
                              only /status/data tells it (so an <img> needs no header)
    GET /metrics              Prometheus text format (prometheus-client, one registry per hub)
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from websockets.http11 import Request, Response

from signage.core import fleet, messages as m, protocol, session as s, text
from signage.errors import ClientError, CommandRejected, SessionError
from signage.hub import http

if TYPE_CHECKING:
    from signage.hub.server import Client, Hub

log = logging.getLogger("signage.hub.fleet")

ACTION_TIMEOUT = 5.0
SCREENSHOT_GAP = 1.0
SCREENSHOT_MAX_BYTES = 256 * 1024
SCREENSHOT_MAX_WIDTH = 640
IDENTIFY_SECONDS = 10.0
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Shot:
    png: bytes
    key: str  # random: the capability in /status/shot/KEY.png
    at: float  # time.time()


class Desk:
    def __init__(self, hub: "Hub"):
        self.hub = hub
        self.state = fleet.FleetState()
        self.names: dict["Client", str] = {}  # live connections that sent a heartbeat
        self.shots: dict[str, Shot] = {}
        self._shot_keys: dict[str, str] = {}  # key → name
        self._last_shot: dict[str, float] = {}
        self._waiting: dict[str, tuple[asyncio.Future, "Client"]] = {}  # request id → (answer, asked client)
        self.metrics = Metrics(self)

    # ------------------------------------------------------------ from the session

    def received(self, client: "Client", message: m.Heartbeat | m.Act | m.ActionReply) -> None:
        try:
            fleet.authorize(client.token, message, client.session.hello.role)
        except ClientError as exc:
            self.hub._reply(client, m.Error(getattr(message, "id", None), exc.code, exc.message))
            return
        if isinstance(message, m.Heartbeat):
            self._heartbeat(client, message)
        elif isinstance(message, m.ActionReply):
            self._answer(message.id, message)
        else:
            self.hub.spawn(self._act(client, message), f"action {message.action}")

    def screenshot(self, output: s.ScreenshotReceived) -> None:
        self._answer(output.id, output)

    def _answer(self, request_id: str, answer) -> None:
        future, _ = self._waiting.get(request_id, (None, None))
        if future is not None and not future.done():
            future.set_result(answer)

    def _heartbeat(self, client: "Client", beat: m.Heartbeat) -> None:
        now = time.monotonic()
        skew = fleet.skew_seconds(beat.clock, self.hub.clock(), beat.rtt_ms)
        self.state = fleet.heartbeat(self.state, client.token, _address(client), beat, now, skew,
                                     client.session.hello.role)
        self.names[client] = beat.name
        self.metrics.heartbeats.inc()

    def disconnected(self, client: "Client") -> None:
        for future, asked in self._waiting.values():  # its admin hears "offline" now, not after the timeout
            if asked is client and not future.done():
                future.set_result(None)
        name = self.names.pop(client, None)
        if name is not None and name not in self.names.values():
            self.state = fleet.disconnected(self.state, name, time.monotonic())

    def committed(self, seq: int) -> None:
        self.state = fleet.committed(self.state, seq, time.monotonic())

    def alerts(self) -> tuple[fleet.Alert, ...]:
        return fleet.alerts(self.state, time.monotonic(), self.hub.config.fleet)

    # ------------------------------------------------------------ remote actions

    def _target(self, name: str) -> "Client | None":
        return next((c for c, n in self.names.items() if n == name and not c.dropped), None)

    async def _act(self, admin: "Client", act: m.Act) -> None:
        try:
            result = await self._run_action(act)
        except ClientError as exc:
            self.metrics.actions.labels(act.action, exc.code).inc()
            self.hub._reply(admin, m.Error(act.id, exc.code, exc.message))
            return
        except Exception:  # our bug: say so to the admin instead of leaving them waiting
            log.exception("%s of %s failed", act.action, text.for_log(act.name))
            self.metrics.actions.labels(act.action, "internal_error").inc()
            self.hub._reply(admin, m.Error(act.id, "internal_error", f"the hub could not relay the {act.action}"))
            return
        self.metrics.actions.labels(act.action, "ok").inc()
        self.hub._push(admin, protocol.encode(result).encode("utf-8"))

    async def _run_action(self, act: m.Act) -> m.ActionResult:
        target = self._target(act.name)
        if target is None:
            known = self.state.member(act.name)
            if known is None:
                raise CommandRejected("unknown_client", f"no client called {act.name!r} has sent a heartbeat "
                                                        f"since the hub started")
            raise CommandRejected("offline", f"{act.name!r} is not connected (last heard "
                                             f"{time.monotonic() - known.last_seen:.0f} s ago)")
        fleet.refuse_action(self.state.member(act.name), act.action)
        now = time.monotonic()
        if act.action == "screenshot":
            if now - self._last_shot.get(act.name, -SCREENSHOT_GAP) < SCREENSHOT_GAP:
                raise CommandRejected("rate_limited", f"at most one screenshot of {act.name!r} per "
                                                      f"{SCREENSHOT_GAP:g} s")
            if target.session.screenshot is not None:
                raise CommandRejected("busy", f"a screenshot of {act.name!r} is already on its way")
            self._last_shot[act.name] = now
        request = m.ActionRequest(f"{act.id}:{secrets.token_hex(4)}", act.action, IDENTIFY_SECONDS,
                                  SCREENSHOT_MAX_WIDTH, SCREENSHOT_MAX_BYTES)
        future = asyncio.get_running_loop().create_future()
        self._waiting[request.id] = (future, target)
        try:
            try:
                outputs = target.session.request_action(request)
            except SessionError:  # the connection is closing under us
                raise CommandRejected("offline", f"{act.name!r} is disconnecting") from None
            for output in outputs:
                self.hub._push(target, output.frame.encode("utf-8"))
            try:
                answer = await asyncio.wait_for(future, ACTION_TIMEOUT)
            except asyncio.TimeoutError:
                raise CommandRejected("timeout", f"{act.name!r} did not answer the {act.action} "
                                                 f"within {ACTION_TIMEOUT:g} s") from None
        finally:
            self._waiting.pop(request.id, None)
            target.session.abandon_screenshot(request.id)
        if answer is None:
            raise CommandRejected("offline", f"{act.name!r} disconnected before it answered the {act.action}")
        if isinstance(answer, s.ScreenshotReceived):
            if answer.png is None:
                raise CommandRejected("bad_screenshot", f"{act.name!r} sent a screenshot that was refused: "
                                                        f"{answer.error}")
            self._store(act.name, answer.png)
            return m.ActionResult(act.id, act.action, act.name, f"{len(answer.png)} bytes", answer.png)
        if not answer.ok:
            raise CommandRejected("action_failed", f"{act.name!r}: {answer.detail or act.action + ' failed'}")
        return m.ActionResult(act.id, act.action, act.name, answer.detail)

    def _store(self, name: str, png: bytes) -> None:
        old = self.shots.get(name)
        if old is not None:
            self._shot_keys.pop(old.key, None)
        if old is None and len(self.shots) >= fleet.MAX_MEMBERS:  # bounded like the fleet itself
            oldest = min(self.shots, key=lambda n: self.shots[n].at)
            self._shot_keys.pop(self.shots.pop(oldest).key, None)
        shot = Shot(png, secrets.token_urlsafe(16), time.time())
        self.shots[name] = shot
        self._shot_keys[shot.key] = name

    # ------------------------------------------------------------ HTTP

    def route(self, path: str, request: Request) -> Response | None:
        if path == "/status":
            return http.static("/static/status.html")
        if path.startswith("/status/shot/") and path.endswith(".png"):
            name = self._shot_keys.get(path[len("/status/shot/"):-len(".png")])
            if name is None:
                return http.response(HTTPStatus.NOT_FOUND, "no such screenshot (they are replaced by newer ones)\n")
            return http.response(HTTPStatus.OK, self.shots[name].png, "image/png")
        if path not in ("/status/data", "/metrics"):
            return None
        refusal = _admin_only(self.hub, request)
        if refusal is not None:
            return refusal
        if path == "/metrics":
            return http.response(HTTPStatus.OK, generate_latest(self.metrics.registry), METRICS_TYPE)
        return http.response(HTTPStatus.OK, protocol.encode_document(self.document()), "application/json")

    def document(self) -> dict:
        now, wall = time.monotonic(), time.time()
        members = []
        for x in self.state.members:
            beat = x.heartbeat
            shot = self.shots.get(x.name)
            members.append({
                "name": x.name, "token": x.token, "role": x.role, "address": x.address, "online": x.online,
                "last_seen_s": round(now - x.last_seen, 1), "skew_s": _round(x.skew_s, 2),
                "dropped_heartbeats": x.dropped,
                "heartbeat": protocol.to_wire(beat) if beat is not None else None,
                "screenshot": {"url": f"/status/shot/{shot.key}.png", "age_s": round(wall - shot.at, 1)}
                if shot else None,
            })
        return {"hub": self.hub.health(), "alerts": [_alert(a) for a in self.alerts()], "clients": members,
                "heartbeat_seconds": self.hub.config.fleet.heartbeat_seconds,
                "alert_after_seconds": self.hub.config.fleet.alert_after_seconds}


def _alert(alert: fleet.Alert) -> dict:
    return {"kind": alert.kind, "name": alert.name, "message": alert.message}


def alerts_for_health(desk: Desk) -> list[dict]:
    return [_alert(a) for a in desk.alerts()]


def _admin_only(hub: "Hub", request: Request) -> Response | None:
    token = http.bearer_token(request, hub.config.token)
    if token is None:
        why = ("unknown token" if request.headers.get("Authorization")
               else "no token: send Authorization: Bearer <admin token>")
        return http.response(HTTPStatus.UNAUTHORIZED, f"unauthorized: {why}\n",
                             extra=(("WWW-Authenticate", 'Bearer realm="signage"'),))
    if token.role != "admin":
        return http.response(HTTPStatus.FORBIDDEN, f"forbidden: token {text.for_log(token.name)!r} is a "
                                                   f"{token.role} token; this needs an admin token\n")
    return None


def _address(client: "Client") -> str:
    peer = client.ws.remote_address
    return str(peer[0]) if peer else "?"


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# ---------------------------------------------------------------- metrics


class Metrics:
    """One private registry per hub: tests run many hubs in one process."""

    def __init__(self, desk: Desk):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter("signage_events", "Events committed, by type", ["type"], registry=r)
        self.commands = Counter("signage_commands", "Commands answered, by result (ok, duplicate or the "
                                                    "error code)", ["result"], registry=r)
        self.ack_latency = Histogram("signage_ack_latency_seconds", "Command received to ack/error sent",
                                     buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5), registry=r)
        self.commit_latency = Histogram("signage_journal_commit_seconds", "Journal group commit (one batch)",
                                        buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1), registry=r)
        self.storage_failures = Counter("signage_storage_failures", "Batches the journal failed to store",
                                        registry=r)
        self.heartbeats = Counter("signage_heartbeats", "Heartbeats received", registry=r)
        self.actions = Counter("signage_actions", "Admin actions, by action and result", ["action", "result"],
                               registry=r)
        r.register(_Live(desk))

    def answered(self, reply: m.Ack | m.Error, received: float | None, now: float) -> None:
        result = ("duplicate" if reply.duplicate else "ok") if isinstance(reply, m.Ack) else reply.code
        self.commands.labels(result).inc()
        if received is not None:
            self.ack_latency.observe(now - received)


class _Live:
    """Figures read at scrape time: clients by role, drops, and one gauge per client from its heartbeat."""

    PER_CLIENT = (
        ("fps", "Frames drawn per second", lambda b: b.fps),
        ("cpu_percent", "CPU of one core, percent", lambda b: b.cpu_percent),
        ("rss_bytes", "Resident memory", lambda b: b.rss_bytes),
        ("disk_free_bytes", "Free disk", lambda b: b.disk_free_bytes),
        ("seq", "Last seq applied", lambda b: b.seq),
        ("rtt_seconds", "Link round trip", lambda b: None if b.rtt_ms is None else b.rtt_ms / 1000),
        ("warnings", "Warnings logged since start", lambda b: b.warnings),
        ("uptime_seconds", "Process uptime", lambda b: b.uptime_s),
        ("printer_ok", "A printer agent's printer: 1 ok or unreadable, 0 paper out, cover open, offline, ...",
         lambda b: None if b.printer is None else int(b.printer not in fleet.PRINTER_PROBLEMS)),
        ("printed_tickets", "Tickets a printer agent printed since it started",
         lambda b: None if b.printer is None else b.printed),
        ("print_failures", "Tickets a printer agent could not print since it started",
         lambda b: None if b.printer is None else b.print_failures),
    )

    def __init__(self, desk: Desk):
        self.desk = desk

    def describe(self):
        return []  # figures depend on who is connected; nothing to check at registration

    def collect(self):
        hub, desk = self.desk.hub, self.desk
        roles = collections.Counter(c.session.hello.role for c in hub.clients if c.session.hello is not None)
        g = GaugeMetricFamily("signage_clients", "Connected clients by role (the hello's)", labels=["role"])
        for role in ("display", "operator", "kiosk", "printer", "ticket", "survey", "admin"):
            g.add_metric([role], roles.get(role, 0))
        yield g
        yield CounterMetricFamily("signage_slow_clients_dropped", "Clients disconnected for falling behind",
                                  value=hub.stats.dropped_slow)
        yield GaugeMetricFamily("signage_seq", "Hub's last committed seq", value=hub.seq)
        alerts = collections.Counter(a.kind for a in desk.alerts())
        g = GaugeMetricFamily("signage_alerts", "Fleet alerts now, by kind", labels=["kind"])
        for kind in fleet.ALERT_KINDS:
            g.add_metric([kind], alerts.get(kind, 0))
        yield g
        now = time.monotonic()
        up = GaugeMetricFamily("signage_client_up", "1 if the client is connected", labels=["name"])
        age = GaugeMetricFamily("signage_client_heartbeat_age_seconds", "Since the last heartbeat", labels=["name"])
        skew = GaugeMetricFamily("signage_client_clock_skew_seconds", "Hub clock minus the client's",
                                 labels=["name"])
        families = [GaugeMetricFamily(f"signage_client_{key}", doc, labels=["name"])
                    for key, doc, _ in self.PER_CLIENT]
        for x in desk.state.members:
            up.add_metric([x.name], 1 if x.online else 0)
            age.add_metric([x.name], now - x.last_seen)
            if x.skew_s is not None:
                skew.add_metric([x.name], x.skew_s)
            if x.heartbeat is not None:
                for family, (_, _, read) in zip(families, self.PER_CLIENT):
                    value = read(x.heartbeat)
                    if value is not None:
                        family.add_metric([x.name], value)
        yield up
        yield age
        yield skew
        yield from families
