"""The hub: a websockets server that drives the pure core (session rules, queue rules).

Data flow, one event loop:

    client frame ─► handler: ServerSession.receive (hello, rate limit, parse) ─► inbox
    inbox ─► processor: decide each command (pure, one `now` per batch) ─► journal
             thread: one COMMIT for the batch (group commit) ─► state = apply(events)
             ─► ack to the sender ─► event frame, UTF-8 encoded once, to every subscriber

A command is acked only after its batch is committed; a failed commit answers
storage_failed and leaves state and seq untouched, and no error ever follows an
ack. A client whose outbox is full is disconnected (1013) and catches up by
reconnecting with `since`, so a stalled screen can't make the hub's memory grow.

Supervision: every background task is tracked. If the command processor (or any
task the hub can't live without) stops, the hub logs why once, /healthz answers
503 with the reason, connections close with 1011, and `serve_forever` raises
HubFailed so `signage hub` exits non-zero and systemd restarts it. A hub that is
deaf but looks healthy is the worst state of all.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from typing import Callable, Coroutine
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from signage.config import Config, Token
from signage.core import messages as m, protocol, ratelimit, session as s, text
from signage.core.hall import service_day
from signage.core.rules import HubState, decide, rebuild
from signage.core.tokens import token_warnings
from signage.errors import ClientError, CommandRejected, HubFailed, JournalError
from signage.hub import content_http, fleet as fleet_desk, http
from signage.hub.content import ContentService
from signage.hub.journal import Journal, Record
from signage.hub import reports_http
from signage.hub.visitor import Visitors
from signage.hub.voice import VoiceDesk
from signage.hub.webhook import Notifier
from signage.web.public import public_config

log = logging.getLogger("signage.hub")

BATCH_MAX = 256  # commands per group commit; also capped at send_queue // 4, see _process
INBOX_MAX = 4096
ESTIMATE_SECONDS = 60  # display.show_estimate: the boards' estimates are recomputed at least this often
WRITE_BUFFER_LIMIT = 64 * 1024  # unsent bytes per client before frames wait in its outbox
TOKEN_RATE_FACTOR = 2  # one token may send this many connections' worth of commands per second
LOG_EVERY = 60.0  # seconds between repeated warnings of one kind


@dataclass(eq=False)
class Client:
    ws: ServerConnection
    session: s.ServerSession
    outbox: asyncio.Queue | None = None
    dropped: bool = False
    idle: bool = True  # the writer task has nothing in hand: frames may be written directly

    @property
    def token(self) -> Token:
        return self.session.token

    @property
    def subscribed(self) -> bool:
        return self.session.subscribe

    @property
    def label(self) -> str:
        name = self.token.name if self.token else "?"
        client = self.session.hello.client if self.session.hello else "?"
        return text.for_log(f"{name}/{client}", 100)


@dataclass(frozen=True)
class _Pending:
    """A command decided in this batch, to be acked after COMMIT (or refused if it fails)."""

    record: Record
    duplicate: bool = False


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    dropped_slow: int = 0
    last_storage_error: str | None = None


class Hub:
    def __init__(self, config: Config, *, clock: Callable[[], datetime] | None = None,
                 host: str | None = None, port: int | None = None):
        self.config = config
        self.hub = config.hub
        self.clock = clock or (lambda: datetime.now(config.hall.timezone))
        self.host = host if host is not None else self.hub.host
        self.port = port if port is not None else self.hub.port
        self.journal = Journal(self.hub.journal, self.hub.sync)
        self.state = HubState()
        self.seq = 0
        # Events for `since` replay, each with its replay frame once a reconnecting client needed it.
        self.replay: collections.deque[list] = collections.deque(maxlen=self.hub.replay_window)
        self.clients: set[Client] = set()
        self.stats = Stats()
        self.failure: str | None = None
        self.limits = s.Limits(self.hub.max_message_bytes, self.hub.rate.per_second, self.hub.rate.burst)
        self._token_buckets: dict[str, ratelimit.Bucket] = {}
        self._strikes: dict[str, ratelimit.Strikes] = {}
        self._last_warning: dict[str, float] = {}
        self._suppressed: collections.Counter[str] = collections.Counter()
        self._inbox: asyncio.Queue | None = None
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._server = None
        self._tasks: set[asyncio.Task] = set()
        self._failed: asyncio.Event | None = None
        self._stopping = False
        self.notifier = Notifier(config.notify) if config.notify.webhook else None
        self.visitors = Visitors(config, send=self._send_notice, clients=lambda: self.clients,
                                 public_url=self.public_url, notifier=self.notifier)
        self.fleet = fleet_desk.Desk(self)  # heartbeats, remote actions, /status, /metrics
        self.content = ContentService(self)  # content manifests and files (signage/hub/content.py)
        self.voice = VoiceDesk(self)  # audio zones: leases and receipts (docs/voice.md)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> "Hub":
        """Open the journal, rebuild state, listen. Raises JournalError, OSError."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._io, self._load)
        for warning in self.journal.warnings:
            log.warning("%s", warning)
        weak = token_warnings(self.config)
        for warning in weak[:3]:
            log.warning("%s", warning)
        if len(weak) > 3:
            log.warning("... and %d more weak or sample tokens; `signage check-config` lists them all", len(weak) - 3)
        self._failed = asyncio.Event()
        self._inbox = asyncio.Queue(INBOX_MAX)
        self.spawn(self._process(), "command processor", vital=True)
        self.spawn(self.voice.run(), "voice desk", vital=True)
        if self.notifier is not None:
            self.spawn(self.notifier.run(), "webhook sender")
        if self.config.display.show_estimate:
            self.spawn(self._estimate_ticker(), "board estimates", vital=True)
        self._server = await serve(
            self._handle, self.host, self.port,
            process_request=self._http, process_response=self._secure,
            compression="deflate" if self.hub.compression else None,
            max_size=max(64 * 1024, 16 * self.hub.max_message_bytes),
            max_queue=32,
            ping_interval=self.hub.ping_interval, ping_timeout=self.hub.ping_timeout,
            open_timeout=s.HELLO_TIMEOUT, close_timeout=2,
            server_header="signage-hub",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("hub listening on %s:%d, seq %d, journal %s", self.host, self.port, self.seq, self.journal.path)
        self.content.start()  # scans and publishes in the background: calls are served meanwhile
        return self

    def _load(self) -> None:
        self.journal.open()
        self.seq = self.journal.last_seq()
        today = service_day(self.clock())
        events = self.journal.events_of_day(today)
        state = rebuild(events, self.hub.history).for_day(today)
        self.voice.load(events, self.journal.receipts_of_day(today), self.journal.voice_epochs(), today)
        self.state = replace(state, hall=replace(state.hall, seq=self.seq))  # keeps queue and survey
        self.visitors.load(self.journal.path.parent, events, today, self.journal.issuers_of_day(today))
        first = max(0, self.seq - self.hub.replay_window)
        self.replay.extend([e, None] for e in self.journal.events_after(first, self.hub.replay_window))

    async def serve_forever(self) -> None:
        """Serve until cancelled; raises HubFailed if a vital task stopped."""
        await self._failed.wait()
        raise HubFailed(self.failure)

    async def stop(self) -> None:
        self._stopping = True
        await self.content.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._io, self.journal.close)
        self._io.shutdown(wait=True)

    async def __aenter__(self) -> "Hub":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"ws://{host}:{self.port}/"

    def public_url(self) -> str:
        """Where phones reach the hub (the ticket's QR code)."""
        return self.hub.public_url or self.url.replace("ws://", "http://", 1).rstrip("/")

    def _authenticate(self, secret: str) -> Token | None:
        return self.config.token(secret) or self.visitors.authenticate(secret, self.clock())

    def _send_notice(self, client: "Client", message) -> None:
        self._push(client, _wire(protocol.encode(message)))

    def spawn(self, coro: Coroutine, name: str, *, vital: bool = False) -> asyncio.Task:
        """Run a background task that is tracked, awaited at stop, and never fails unseen."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, vital))
        return task

    def _task_done(self, task: asyncio.Task, vital: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            if vital and not self._stopping:
                self.fail(f"{task.get_name()} was cancelled")
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s failed", task.get_name(), exc_info=exc)
            if vital:
                self.fail(f"{task.get_name()} stopped: {type(exc).__name__}: {text.for_log(str(exc))}")
        elif vital and not self._stopping:
            self.fail(f"{task.get_name()} returned")

    def fail(self, reason: str) -> None:
        """A vital part stopped: tell the truth everywhere, then let the process exit."""
        if self.failure is not None:
            return
        self.failure = reason
        log.critical("hub failed: %s; exiting so that it is restarted", reason)
        for client in list(self.clients):
            self.spawn(client.ws.close(s.CloseCode.INTERNAL_ERROR, "hub failed; reconnect"), "close")
        if self._failed is not None:
            self._failed.set()

    def _warn(self, kind: str, message: str, *args) -> None:
        """A warning logged at most once per LOG_EVERY per kind, with a count of the ones held back."""
        now = time.monotonic()
        if now - self._last_warning.get(kind, -LOG_EVERY) < LOG_EVERY:
            self._suppressed[kind] += 1
            return
        held = self._suppressed.pop(kind, 0)
        self._last_warning[kind] = now
        log.warning(message + (f" (and {held} more like it in the last minute)" if held else ""), *args)

    # ------------------------------------------------------------ HTTP on the same port

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        refusal = http.refusal(request, self.hub.server_names, self.hub.allowed_origins)
        if refusal is not None:
            self._warn(f"http-{refusal.status_code}", "refused HTTP request from %s: %d %s",
                       _address(connection), refusal.status_code, refusal.body.decode().strip())
            return refusal
        path = urlsplit(request.path).path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            wait = ratelimit.blocked_for(self._strikes.get(_address(connection)), time.monotonic())
            if wait > 0:
                return http.response(HTTPStatus.TOO_MANY_REQUESTS, "too many failed hellos; wait\n",
                                     extra=(("Retry-After", str(int(wait) + 1)),))
            return None
        if path == "/healthz":
            return self._health()
        if (reply := self.fleet.route(path, request)) is not None:
            return reply
        if (reply := content_http.handle(self, path, request)) is not None:
            return reply
        if path == "/config.json":  # hall facts for the web pages; no tokens, no paths
            body = protocol.encode_document(public_config(self.config))
            return http.response(HTTPStatus.OK, body, "application/json")
        if (reply := reports_http.route(self, path, request)) is not None:  # /reports, /survey (may await)
            return reply
        return self.visitors.http(path, self.clock()) or http.static(path)

    def _secure(self, connection: ServerConnection, request: Request, response: Response) -> Response:
        return http.secure(response)

    def health(self) -> dict:
        roles = collections.Counter(c.token.role for c in self.clients)
        storage = self.stats.last_storage_error
        status = "failed" if self.failure else ("degraded" if storage else "ok")
        return {
            "status": status,
            "reason": self.failure or storage,
            "seq": self.seq,
            "day": self.state.hall.day,
            "clients": {role: roles.get(role, 0) for role in ("display", "operator", "kiosk", "survey", "admin")},
            "journal": storage or "ok",
            "uptime_s": round(time.monotonic() - self.stats.started, 1),
            "dropped_slow_clients": self.stats.dropped_slow,
            "voice": self.voice.health(),
            "alerts": fleet_desk.alerts_for_health(self.fleet),
        }

    def _health(self) -> Response:
        body = self.health()
        code = HTTPStatus.OK if body["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
        return http.response(code, protocol.encode_document(body), "application/json")

    # ------------------------------------------------------------ connections

    async def _handle(self, ws: ServerConnection) -> None:
        client = await self._greet(ws)
        if client is None:
            return
        self.clients.add(client)
        writer = self.spawn(self._write(client), f"writer {client.label}")
        log.info("%s connected as %s (since=%s)", client.label, client.token.role, client.session.hello.since)
        try:
            async for frame in ws:
                await self._receive(client, frame)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)
            self.voice.closed(client)
            self.fleet.disconnected(client)
            client.dropped = True
            client.session.closed()
            self.visitors.disconnected(client)
            writer.cancel()
            log.info("%s disconnected (%s)", client.label, ws.close_code)

    async def _greet(self, ws: ServerConnection) -> Client | None:
        """Run the session's hello; on success queue welcome + replay. None if refused."""
        session = s.ServerSession(self._authenticate, self.limits, time.monotonic())
        try:
            frame = await asyncio.wait_for(ws.recv(), s.HELLO_TIMEOUT)
            outputs = session.receive(frame, time.monotonic())
        except asyncio.TimeoutError:
            outputs = session.check_timeout(session.deadline)
        except ConnectionClosed:
            session.closed()
            return None
        greeted = next((o for o in outputs if isinstance(o, s.Greeted)), None)
        if greeted is None:
            await self._refuse(ws, outputs)
            session.closed()
            return None
        if greeted.token.role == "display":  # room for one screenshot answer (the session checks its size)
            ws.protocol.max_message_size = max(ws.protocol.max_message_size or 0,
                                               fleet_desk.SCREENSHOT_MAX_BYTES + 1024)
        self._strikes.pop(_address(ws), None)
        # No await from here to the end: welcome and replay reach the outbox before any live event.
        now = self.clock()
        self._roll_day(now)
        replay = self._replay_after(greeted.hello.since) if greeted.subscribe else []
        # The outbox holds the replay (bounded by replay_window) plus send_queue live frames: with
        # send_queue alone, a display that missed more events than that was dropped before its
        # welcome on every reconnect, and never caught up.
        client = Client(ws, session, asyncio.Queue(self.hub.send_queue + len(replay)))
        problem = self.voice.admit(client)
        if problem is not None:
            error = m.Error(None, "forbidden", problem)
            await self._refuse(ws, [s.HelloRefused("forbidden", problem), s.Send(protocol.encode(error)),
                                    s.Close(s.CloseCode.FORBIDDEN, "forbidden")])
            session.closed()
            return None
        token = greeted.token
        welcome_voice = None
        if greeted.hello.role in s.NOTICE_ONLY_ROLES:
            # Phone pages and printer agents see no hall state, only notices about their own tickets.
            hall = m.Snapshot(self.seq, self.state.hall.day)
        else:
            hall, welcome_voice = self.state.hall, self.voice.status()
        welcome = m.Welcome(self.seq, hall, token.role, token.name, token.counters, len(replay), now,
                            voice=welcome_voice)
        for output in session.welcome(welcome, []):
            self._push(client, _wire(output.frame))
        for frame in replay:
            self._push(client, frame)
        self.voice.greeted(client)
        self.visitors.connected(client, self.state, now)
        return client

    async def _refuse(self, ws: ServerConnection, outputs: list[s.Output]) -> None:
        address = _address(ws)
        if len(self._strikes) > 4096:  # forget quiet addresses, so a scan can't grow this without bound
            now = time.monotonic()
            self._strikes = {a: k for a, k in self._strikes.items() if now - k.last < ratelimit.FORGET_AFTER}
        for output in outputs:
            if isinstance(output, s.HelloRefused):
                self._strikes[address] = ratelimit.strike(self._strikes.get(address, ratelimit.Strikes()),
                                                          time.monotonic())
                self._warn(f"hello-{address}", "refused hello from %s: %s: %s (%d failed in a row)",
                           address, output.code, text.for_log(output.message), self._strikes[address].count)
        try:
            for output in outputs:
                if isinstance(output, s.Send):
                    await ws.send(_wire(output.frame), text=True)
                elif isinstance(output, s.Close):
                    await ws.close(output.code, output.reason)
        except ConnectionClosed:
            pass

    def _replay_after(self, since: int | None) -> list[bytes]:
        if since is None or since > self.seq or not self.replay:
            return []
        first = self.replay[0][0].seq
        if since < first - 1:
            return []  # older than the window: the snapshot alone
        frames = []
        for entry in itertools.islice(self.replay, max(0, since - first + 1), None):
            if entry[1] is None:  # encoded once, shared by every display that reconnects after it
                entry[1] = _wire(protocol.encode(replace(entry[0], replay=True)))
            frames.append(entry[1])
        return frames

    async def _receive(self, client: Client, frame: str | bytes) -> None:
        self.voice.seen(client)
        for output in client.session.receive(frame, time.monotonic()):
            if isinstance(output, s.Send):
                self._push(client, _wire(output.frame))
            elif isinstance(output, s.CommandReceived) and isinstance(output.command, m.VOICE_MESSAGES):
                await self.voice.receive(client, output.command)
            elif isinstance(output, s.FleetReceived):
                self.fleet.received(client, output.message)
            elif isinstance(output, s.ScreenshotReceived):
                self.fleet.screenshot(output)
            elif isinstance(output, s.CommandReceived):
                if not self._token_allows(client.token, time.monotonic()):
                    rate = self.hub.rate.per_second * TOKEN_RATE_FACTOR
                    self._reply(client, m.Error(output.command.id, "rate_limited",
                                                f"token {client.token.name!r} sent more than {rate:g} messages per "
                                                f"second over all its connections; slow down"))
                    self.fleet.metrics.commands.labels("rate_limited").inc()
                    continue
                if isinstance(output.command, m.VISITOR_COMMANDS):  # print reports, reprints: nothing to journal
                    self._reply(client, self.visitors.command(client, output.command, self.state, self.clock()))
                    continue
                self.visitors.remember_phone(client.token, output.command)
                await self._inbox.put((client, output.command, time.monotonic()))

    def _token_allows(self, token: Token, now: float) -> bool:
        rate, burst = self.hub.rate.per_second * TOKEN_RATE_FACTOR, self.hub.rate.burst * TOKEN_RATE_FACTOR
        bucket = self._token_buckets.get(token.name) or ratelimit.full(burst, now)
        self._token_buckets[token.name], allowed = ratelimit.take(bucket, now, rate, burst)
        return allowed

    def _reply(self, client: Client, reply: m.Ack | m.Error) -> None:
        self._push(client, _wire(protocol.encode(reply)))

    def _push(self, client: Client, frame: bytes) -> None:
        """Send a frame to one client, in order; a client that can't keep up is dropped.

        Fast path, as websockets' broadcast(): with nothing queued and the socket
        taking data, write at once (no task switch per client per event). Otherwise
        the frame waits in the bounded outbox for the writer task.
        """
        if client.dropped:
            return
        if (client.idle and client.outbox.empty()
                and client.ws.transport.get_write_buffer_size() < WRITE_BUFFER_LIMIT):
            broadcast([client.ws], frame, text=True)
            return
        try:
            client.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            client.dropped = True
            self.stats.dropped_slow += 1
            log.warning("%s is %d frames behind; disconnecting, it will resync", client.label, client.outbox.qsize())
            self.spawn(client.ws.close(s.CloseCode.TRY_AGAIN_LATER, "too slow; reconnect with since"), "close")

    async def _write(self, client: Client) -> None:
        try:
            while True:
                frame = await client.outbox.get()
                client.idle = False
                await client.ws.send(frame, text=True)  # waits while the socket's buffer is full
                client.idle = client.outbox.empty()
        except ConnectionClosed:
            pass

    # ------------------------------------------------------------ commands

    async def submit(self, command: m.Command, token: Token) -> m.Ack | m.Error:
        """Run a command from inside the hub process (the content service) through the same pipeline as a
        client's: decided, journaled, acked, broadcast. Returns its ack or error."""
        session = s.ServerSession(lambda _secret: None, self.limits, time.monotonic())
        session.token, session.hello = token, m.Hello(token.role, "", token.name)  # no socket, no hello round
        inside = Client(None, session, asyncio.Queue(), idle=False)  # not idle: replies wait in its outbox
        await self._inbox.put((inside, command, time.monotonic()))
        return protocol.parse_hub_frame(await inside.outbox.get())

    def _roll_day(self, now: datetime) -> None:
        today = service_day(now)
        if self.state.hall.day != today:
            self.state = self.state.for_day(today)
        self.visitors.roll(today)

    async def _estimate_ticker(self) -> None:
        """Estimates move with time alone too (counters idle into "closed", samples age out)."""
        while True:
            await asyncio.sleep(ESTIMATE_SECONDS)
            self.visitors.publish_estimates(self.state, self.clock())

    async def _process(self) -> None:
        loop = asyncio.get_running_loop()
        # A batch's events reach every outbox at once: keep a batch well under the
        # outbox bound, so only a client that really fell behind is dropped.
        batch_max = max(1, min(BATCH_MAX, self.hub.send_queue // 4))
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < batch_max and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            await self._run_batch(loop, batch)  # a bug here stops the processor: see fail()

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list) -> None:
        now = self.clock()  # one time for the whole batch, and the day rolled with it
        self._roll_day(now)
        state, seq = self.state, self.seq
        records: list[Record] = []
        replies: list[tuple[Client, m.Ack | m.Error | _Pending, float]] = []
        seen: dict[tuple[str, str], Record] = {}
        try:  # ids already committed, looked up for the whole batch at once
            priors = await loop.run_in_executor(
                self._io, self.journal.find_commands, [(client.token.name, cmd.id) for client, cmd, _ in batch])
        except JournalError as exc:
            self.fleet.metrics.storage_failures.inc()
            for client, cmd, received in batch:
                self._answer(client, m.Error(cmd.id, "storage_failed", str(exc)), received)
            return
        for client, cmd, received in batch:
            key = (client.token.name, cmd.id)
            try:
                command_text = protocol.encode_command(cmd)
                if key in seen:  # the same id twice in this batch: acked with the first, after COMMIT
                    if seen[key].command != command_text:
                        raise CommandRejected("conflict", f"id {cmd.id!r} was already used for another command")
                    replies.append((client, _Pending(seen[key], duplicate=True), received))
                    continue
                prior = priors.get(key)
                if prior is not None:  # committed earlier: the same answer again
                    if prior.command != command_text:
                        raise CommandRejected("conflict", f"id {cmd.id!r} was already used for another command")
                    replies.append((client, m.Ack(cmd.id, prior.event.seq, True, prior.event), received))
                    continue
                event = decide(state, cmd, client.token, self.config, now, seq + 1)
            except ClientError as exc:
                replies.append((client, m.Error(cmd.id, exc.code, exc.message), received))
                continue
            except Exception:  # a bug in deciding one command: refuse it honestly, keep serving
                log.exception("deciding %s failed", protocol.type_name(cmd))
                replies.append((client, m.Error(cmd.id, "internal_error", "the hub could not handle this "
                                                                          "command; it was not applied"), received))
                continue
            seq += 1
            state = state.apply(event, self.hub.history)
            record = Record(event, client.token.name, cmd.id, command_text, protocol.encode(event))
            seen[key] = record
            records.append(record)
            replies.append((client, _Pending(record), received))

        stored = True
        if records:
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._io, self.journal.append, records)
                self.stats.last_storage_error = None
                self.fleet.metrics.commit_latency.observe(time.perf_counter() - started)
            except JournalError as exc:
                self.fleet.metrics.storage_failures.inc()
                stored = False
                self.stats.last_storage_error = str(exc)
                log.error("%s; refusing %d command(s)", exc, len(records))
        # From here on nothing may fail quietly: an exception stops the processor and the hub (fail()).
        if stored:
            self.state, self.seq = state, seq
            self.fleet.committed(seq)
            for record in records:
                self.visitors.applied(record.event, record.actor, record.command_id, self.state)
        for client, reply, received in replies:
            if isinstance(reply, _Pending):
                event = reply.record.event
                reply = (m.Ack(reply.record.command_id, event.seq, reply.duplicate, event) if stored else
                         m.Error(reply.record.command_id, "storage_failed",
                                 f"not stored, not applied: {self.stats.last_storage_error}"))
            if isinstance(reply, m.Ack):
                reply = self.visitors.ack(client, reply, self.state)
            self._answer(client, reply, received)
        if stored:
            for record in records:
                self._broadcast(record.event, record.body)
            self.visitors.after_batch(self.state, now)

    def _answer(self, client: Client, reply: m.Ack | m.Error, received: float) -> None:
        self._reply(client, reply)
        self.fleet.metrics.answered(reply, received, time.monotonic())

    def _broadcast(self, event: m.Event, body: str) -> None:
        self.fleet.metrics.events.labels(protocol.type_name(event)).inc()
        frame = _wire(body)  # the journal's text, UTF-8 encoded once for every client
        self.replay.append([event, None])
        self.voice.on_event(event)
        for client in list(self.clients):
            if client.subscribed:
                self._push(client, frame)


def _wire(frame: str) -> bytes:
    """A text frame as UTF-8. Nothing we send should hold a lone surrogate (the codec
    refuses them); if one slipped through, it goes out as a JSON escape, not a crash."""
    return frame.encode("utf-8", "backslashreplace")


def _address(ws: ServerConnection) -> str:
    peer = ws.remote_address
    return str(peer[0]) if peer else "?"
