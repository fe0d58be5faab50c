"""The hub: a websockets server that drives the pure core in signage.core.rules.

Data flow, one event loop:

    client frame ─► handler: rate limit, parse, auth ─► inbox
    inbox ─► processor: decide each command (pure) ─► journal thread: one
             COMMIT for the batch (group commit) ─► state = apply(events)
             ─► ack to the sender ─► event frame to every subscriber's outbox
    outbox (bounded, per client) ─► writer task ─► socket

A command is acked only after its batch is committed; a failed commit answers
storage_failed and leaves state and seq untouched. A client whose outbox is
full is disconnected (1013) and catches up by reconnecting with `since`, so a
stalled screen can't make the hub's memory grow.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import mimetypes
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from importlib import resources
from typing import Callable
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from signage.config import Config, Token
from signage.core import messages as m, protocol, ratelimit
from signage.core.hall import service_day
from signage.core.rules import HubState, decide, rebuild
from signage.errors import ClientError, CommandRejected, JournalError, ProtocolError
from signage.hub.journal import Journal, Record
from signage.hub import reports_http
from signage.web.public import public_config

log = logging.getLogger("signage.hub")

HELLO_TIMEOUT = 10.0
BATCH_MAX = 256  # commands per group commit; also capped at send_queue // 4, see _process
INBOX_MAX = 4096
# Close codes (4000-4999 are the application's): clients treat 44xx as final.
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 1013  # "try again later": reconnect with since
WRITE_BUFFER_LIMIT = 64 * 1024  # unsent bytes per client before frames wait in its outbox


@dataclass(eq=False)
class Client:
    ws: ServerConnection
    token: Token
    hello: m.Hello
    subscribed: bool
    outbox: asyncio.Queue
    bucket: ratelimit.Bucket
    dropped: bool = False
    idle: bool = True  # the writer task has nothing in hand: frames may be written directly
    writer: asyncio.Task | None = None

    @property
    def label(self) -> str:
        return f"{self.token.name}/{self.hello.client}"


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    commands: int = 0
    refused: int = 0
    dropped_slow: int = 0
    storage_failures: int = 0
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
        self.replay: collections.deque[m.Event] = collections.deque(maxlen=self.hub.replay_window)
        self.clients: set[Client] = set()
        self.stats = Stats()
        self._inbox: asyncio.Queue | None = None
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._server = None
        self._processor: asyncio.Task | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> "Hub":
        """Open the journal, rebuild state, listen. Raises JournalError, OSError."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._io, self._load)
        self._inbox = asyncio.Queue(INBOX_MAX)
        self._processor = asyncio.create_task(self._process(), name="hub-processor")
        self._server = await serve(
            self._handle, self.host, self.port,
            process_request=self._http,
            compression="deflate" if self.hub.compression else None,
            max_size=max(64 * 1024, 16 * self.hub.max_message_bytes),
            max_queue=32,
            ping_interval=self.hub.ping_interval, ping_timeout=self.hub.ping_timeout,
            open_timeout=HELLO_TIMEOUT, close_timeout=2,
            server_header="signage-hub",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("hub listening on %s:%d, seq %d, journal %s", self.host, self.port, self.seq, self.journal.path)
        return self

    def _load(self) -> None:
        self.journal.open()
        self.seq = self.journal.last_seq()
        today = service_day(self.clock())
        state = rebuild(self.journal.events_of_day(today), self.hub.history).for_day(today)
        self.state = replace(state, hall=replace(state.hall, seq=self.seq))  # keeps queue and survey
        first = max(0, self.seq - self.hub.replay_window)
        self.replay.extend(self.journal.events_after(first, self.hub.replay_window))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._processor is not None:
            self._processor.cancel()
            try:
                await self._processor
            except asyncio.CancelledError:
                pass
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

    # ------------------------------------------------------------ HTTP on the same port

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and not self._origin_ok(origin, request.headers.get("Host", "")):
                log.warning("refused websocket from origin %s", origin)
                return connection.respond(HTTPStatus.FORBIDDEN, f"origin {origin} is not allowed\n")
            return None
        if path == "/healthz":
            return self._health()
        if path == "/config.json":  # hall facts for the web pages; no tokens, no paths
            body = protocol.encode_document(public_config(self.config))
            return _response(HTTPStatus.OK, body.encode(), "application/json")
        if (reply := reports_http.route(self, path, request)) is not None:  # /reports, /survey (may await)
            return reply
        return _static(connection, path)

    def _origin_ok(self, origin: str, host: str) -> bool:
        if origin in self.hub.allowed_origins:
            return True
        return urlsplit(origin).netloc == host  # the hub's own pages

    def _health(self) -> Response:
        roles = collections.Counter(c.token.role for c in self.clients)
        ok = self.stats.last_storage_error is None
        body = protocol.encode_document({
            "status": "ok" if ok else "degraded",
            "seq": self.seq,
            "day": self.state.hall.day,
            "clients": {role: roles.get(role, 0) for role in ("display", "operator", "kiosk")},
            "journal": "ok" if ok else self.stats.last_storage_error,
            "uptime_s": round(time.monotonic() - self.stats.started, 1),
            "dropped_slow_clients": self.stats.dropped_slow,
        })
        status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
        return _response(status, body.encode(), "application/json")

    # ------------------------------------------------------------ connections

    async def _handle(self, ws: ServerConnection) -> None:
        client = await self._greet(ws)
        if client is None:
            return
        self.clients.add(client)
        client.writer = asyncio.create_task(self._write(client), name=f"writer-{client.label}")
        log.info("%s connected as %s (since=%s)", client.label, client.token.role, client.hello.since)
        try:
            async for frame in ws:
                await self._receive(client, frame)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)
            client.dropped = True
            client.writer.cancel()
            log.info("%s disconnected (%s)", client.label, ws.close_code)

    async def _greet(self, ws: ServerConnection) -> Client | None:
        """Read the hello, check the token, send welcome + replay. None if refused."""
        try:
            frame = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionClosed):
            await ws.close(CLOSE_BAD_HELLO, "no hello")
            return None
        try:
            hello = protocol.parse_client_frame(frame, self.hub.max_message_bytes)
        except ProtocolError as exc:
            await self._refuse(ws, exc, CLOSE_BAD_HELLO)
            return None
        if not isinstance(hello, m.Hello):
            await self._refuse(ws, ProtocolError("unauthorized", "the first message must be hello", id=hello.id),
                               CLOSE_UNAUTHORIZED)
            return None
        token = self.config.token(hello.token)
        if token is None:
            await self._refuse(ws, CommandRejected("unauthorized", "unknown token"), CLOSE_UNAUTHORIZED)
            return None
        if token.role != hello.role:
            await self._refuse(ws, CommandRejected(
                "forbidden", f"token {token.name!r} is a {token.role} token, not {hello.role}"), CLOSE_FORBIDDEN)
            return None
        subscribed = hello.subscribe if hello.subscribe is not None else token.role != "kiosk"
        # No await from here to the end: welcome and replay reach the outbox before any live event.
        self._roll_day()
        replay = self._replay_after(hello.since) if subscribed else []
        # The outbox holds the replay (bounded by replay_window) plus send_queue live frames: with
        # send_queue alone, a display that missed more events than that was dropped before its
        # welcome on every reconnect, and never caught up.
        client = Client(ws, token, hello, subscribed, asyncio.Queue(self.hub.send_queue + len(replay)),
                        ratelimit.full(self.hub.rate.burst, time.monotonic()))
        self._push(client, protocol.encode(m.Welcome(
            self.seq, self.state.hall, token.role, token.name, token.counters, len(replay), self.clock())))
        for frame in replay:
            self._push(client, frame)
        return client

    async def _refuse(self, ws: ServerConnection, exc: ClientError, close_code: int) -> None:
        log.warning("refused %s: %s", ws.remote_address, exc)
        try:
            await ws.send(protocol.encode(m.Error(exc.id, exc.code, exc.message)))
            await ws.close(close_code, exc.code)
        except ConnectionClosed:
            pass

    def _replay_after(self, since: int | None) -> list[str]:
        if since is None or since > self.seq or not self.replay:
            return []
        first = self.replay[0].seq
        if since < first - 1:
            return []  # older than the window: the snapshot alone
        return [protocol.encode(replace(e, replay=True)) for e in self.replay if e.seq > since]

    async def _receive(self, client: Client, frame: str | bytes) -> None:
        client.bucket, allowed = ratelimit.take(
            client.bucket, time.monotonic(), self.hub.rate.per_second, self.hub.rate.burst)
        try:
            if not allowed:
                raise ProtocolError("rate_limited", f"more than {self.hub.rate.per_second:g} messages per second "
                                                    f"(burst {self.hub.rate.burst}); slow down")
            message = protocol.parse_client_frame(frame, self.hub.max_message_bytes)
            if isinstance(message, m.Hello):
                raise ProtocolError("bad_message", "hello was already received on this connection")
        except ProtocolError as exc:
            self.stats.refused += 1
            self._push(client, protocol.encode(m.Error(exc.id, exc.code, exc.message)))
            return
        await self._inbox.put((client, message))

    def _push(self, client: Client, frame: str) -> None:
        """Send a frame to one client, in order; a client that can't keep up is dropped.

        Fast path, as websockets' broadcast(): with nothing queued and the socket
        taking data, write at once (no task switch per client per event). Otherwise
        the frame waits in the bounded outbox for the writer task.
        """
        if client.dropped:
            return
        if (client.idle and client.outbox.empty()
                and client.ws.transport.get_write_buffer_size() < WRITE_BUFFER_LIMIT):
            broadcast([client.ws], frame)
            return
        try:
            client.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            client.dropped = True
            self.stats.dropped_slow += 1
            log.warning("%s is %d frames behind; disconnecting, it will resync", client.label, client.outbox.qsize())
            asyncio.create_task(client.ws.close(CLOSE_TOO_SLOW, "too slow; reconnect with since"))

    async def _write(self, client: Client) -> None:
        try:
            while True:
                frame = await client.outbox.get()
                client.idle = False
                await client.ws.send(frame)  # waits while the socket's buffer is full
                client.idle = client.outbox.empty()
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    # ------------------------------------------------------------ commands

    def _roll_day(self) -> None:
        today = service_day(self.clock())
        if self.state.hall.day != today:
            self.state = self.state.for_day(today)

    async def _process(self) -> None:
        loop = asyncio.get_running_loop()
        # A batch's events reach every outbox at once: keep a batch well under the
        # outbox bound, so only a client that really fell behind is dropped.
        batch_max = max(1, min(BATCH_MAX, self.hub.send_queue // 4))
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < batch_max and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                await self._run_batch(loop, batch)
            except Exception:  # a bug must not stop the hub; the batch's senders hear about it
                log.exception("processing a batch failed")
                for client, cmd in batch:
                    self._push(client, protocol.encode(m.Error(cmd.id, "storage_failed", "internal error; retry")))

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list) -> None:
        self._roll_day()
        state, seq = self.state, self.seq
        records: list[Record] = []
        replies: list[tuple[Client, object]] = []  # Ack/Error, or a Record still to be acked
        seen: dict[tuple[str, str], Record] = {}
        now = self.clock()
        for client, cmd in batch:
            self.stats.commands += 1
            key = (client.token.name, cmd.id)
            text = protocol.encode_command(cmd)
            try:
                prior = seen.get(key) or self.journal.find_command(*key)
                if prior is not None:
                    if prior.command != text:
                        raise CommandRejected("conflict", f"id {cmd.id!r} was already used for another command")
                    event = prior.event
                    replies.append((client, m.Ack(cmd.id, event.seq, True, event)))
                    continue
                event = decide(state, cmd, client.token, self.config, now, seq + 1)
            except ClientError as exc:
                self.stats.refused += 1
                replies.append((client, m.Error(cmd.id, exc.code, exc.message)))
                continue
            except JournalError as exc:
                replies.append((client, m.Error(cmd.id, "storage_failed", str(exc))))
                continue
            seq += 1
            state = state.apply(event, self.hub.history)
            record = Record(event, client.token.name, cmd.id, text)
            seen[key] = record
            records.append(record)
            replies.append((client, record))

        stored = True
        if records:
            try:
                await loop.run_in_executor(self._io, self.journal.append, records)
                self.stats.last_storage_error = None
            except JournalError as exc:
                stored = False
                self.stats.storage_failures += 1
                self.stats.last_storage_error = str(exc)
                log.error("%s; refusing %d command(s)", exc, len(records))
        if stored:
            self.state, self.seq = state, seq

        for client, reply in replies:
            if isinstance(reply, Record):
                reply = (m.Ack(reply.command_id, reply.event.seq, False, reply.event) if stored else
                         m.Error(reply.command_id, "storage_failed",
                                 f"not stored, not applied: {self.stats.last_storage_error}"))
            self._push(client, protocol.encode(reply))
        if stored:
            for record in records:
                self._broadcast(record.event)

    def _broadcast(self, event: m.Event) -> None:
        frame = protocol.encode(event)
        self.replay.append(event)
        for client in list(self.clients):
            if client.subscribed:
                self._push(client, frame)


# ---------------------------------------------------------------- static pages


def _static(connection: ServerConnection, path: str) -> Response:
    routes = {"/": "index.html", "/operator": "operator.html", "/kiosk": "kiosk.html"}
    name = routes.get(path) or (path[len("/static/"):] if path.startswith("/static/") else None)
    if not name or "/" in name or name.startswith("."):
        return connection.respond(HTTPStatus.NOT_FOUND, f"not found: {path}\n")
    try:
        body = resources.files("signage.web").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return connection.respond(HTTPStatus.NOT_FOUND, f"not found: {path}\n")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript",):
        kind += "; charset=utf-8"
    return _response(HTTPStatus.OK, body, kind)


def _response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-cache"), ("Connection", "close")])
    return Response(status.value, status.phrase, headers, body)


async def run_hub(config: Config) -> None:
    """`signage hub`: serve until cancelled (Ctrl-C / SIGTERM)."""
    hub = Hub(config)
    await hub.start()
    try:
        await asyncio.Future()
    finally:
        await hub.stop()
