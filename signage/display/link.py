"""The display's live link to the hub: an asyncio loop in its own thread.

    hub ──ws──► HubLink thread: core.session.ClientSession (hello, welcome,
                 seq order, resync, final refusals) ─► board fold (core.hall)
                 └─► updates (queue.SimpleQueue) + wake() ──► render thread

The render thread never touches the network: it drains `updates` when `wake`
(any thread-safe callable; the display passes the `set` of the threading.Event its
loop sleeps on) says there is something new. The link reconnects with exponential backoff and full jitter and
resumes with since = the last applied seq; a gap reconnects at once. A refused
token (the session's final refusals) makes the link report "denied" once and
stop, instead of hammering the hub.

Voice (docs/voice.md): with announce=True the hello makes this link a voice
candidate. While live it sends a beat every BEAT_INTERVAL; the hub acks it, and
`lease_until` becomes the beat's *send* time + lease_seconds. `holding(zone)` is the
zone's `voice` frame while it names us and lease_until has not passed: the one
test the announcer makes before starting anything. Receipts (`send(Spoken(...))`)
are kept until acked and sent again after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Union

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from signage.core import messages as m, session as s, sync, text
from signage.core.backoff import backoff_delay
from signage.core.clock import skew
from signage.core.voice import BEAT_INTERVAL
from signage.core.layout import LinkStatus

log = logging.getLogger("signage.display.link")

OPEN_TIMEOUT = 5.0
WELCOME_TIMEOUT = s.WELCOME_TIMEOUT
PING_INTERVAL = 5.0  # a silent network drop is noticed within ~10 s
PING_TIMEOUT = 5.0


@dataclass(frozen=True)
class BoardChanged:
    snapshot: m.Snapshot
    event: m.Event | None  # the event just applied; None when a welcome snapshot was adopted


@dataclass(frozen=True)
class StatusChanged:
    status: LinkStatus
    clock_offset: float | None = None  # hub clock minus the system clock (absolute), measured at welcome


@dataclass(frozen=True)
class VoiceChanged:
    notice: m.Voice | m.SpeakingState


@dataclass(frozen=True)
class EstimatesChanged:
    estimates: m.Estimates  # what a ticket taken now would wait, per agency (display.show_estimate)


@dataclass(frozen=True)
class ActionAsked:
    request: m.ActionRequest  # screenshot, identify or restart: done on the render thread


Update = Union[BoardChanged, StatusChanged, VoiceChanged, ActionAsked]


class HubLink:
    def __init__(self, url: str, token: str, *, client: str, history_limit: int,
                 clock: Callable[[], datetime], wake: Callable[[], None] = lambda: None,
                 system_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 heartbeat: Callable[[float | None], m.Heartbeat] | None = None, heartbeat_seconds: float = 5.0,
                 announce: bool = False, zones: tuple[str, ...] = (), lease_seconds: float = 3.0):
        self.announce = announce
        self.zones = tuple(zones)
        self.lease_seconds = lease_seconds
        self.lease_until = 0.0  # time.monotonic(): the last acked beat's send time + lease_seconds
        self.leases: dict[str, m.Voice] = {}  # zone -> the latest voice frame (replaced whole: safe to read)
        self._outgoing: queue.SimpleQueue = queue.SimpleQueue()  # receipts and speaking, from any thread
        self._unacked: dict[str, m.Spoken | m.Skipped] = {}  # link thread only
        self._beats: dict[str, float] = {}  # beat id -> send time
        self._poke: asyncio.Event | None = None
        self._beat_count = 0
        self.url = url
        self.token = token
        self.client = client
        self.history_limit = history_limit
        self.clock = clock  # hall-time clock (aware, corrected), for status times
        self.system_clock = system_clock  # uncorrected: skew is measured against this, never against `clock`
        self._hello_sent_at: datetime | None = None
        self.wake = wake
        self.updates: queue.SimpleQueue[Update] = queue.SimpleQueue()
        self.board = sync.Board()
        self.connects = 0  # connection attempts, for tests and logs
        self._wake_pending = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._status = "connecting"
        self.heartbeat = heartbeat  # builds this display's heartbeat, given the link's round trip (seconds)
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeats = 0
        self.token_name: str | None = None  # from the welcome: the default name in heartbeats
        self._ws = None

    # ------------------------------------------------------------ render-thread side

    def start(self) -> "HubLink":
        self._thread = threading.Thread(target=self._run, name="hub-link", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # loop already closed
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    def drain(self) -> list[Update]:
        """Every update queued so far, oldest first. Call after a wake."""
        self._wake_pending.clear()  # before reading: an update queued meanwhile wakes us again
        out = []
        while True:
            try:
                out.append(self.updates.get_nowait())
            except queue.Empty:
                return out

    def holding(self, zone: str) -> m.Voice | None:
        """The zone's lease if we hold it and it has not run out (any thread)."""
        voice = self.leases.get(zone)
        if voice is None or not voice.you or time.monotonic() >= self.lease_until:
            return None
        return voice

    def send(self, message: m.Spoken | m.Skipped | m.Speaking) -> None:
        """Queue a voice message for the hub (any thread); receipts are re-sent until acked."""
        self._outgoing.put(message)
        loop, poke = self._loop, self._poke
        if loop is not None and poke is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(poke.set)
            except RuntimeError:
                pass

    def send_threadsafe(self, frame: str | bytes, timeout: float | None = None) -> bool:
        """From the render thread: send one frame on the live connection (an action's answer).

        With a timeout, wait until it was handed to the socket; False if there is no connection.
        """
        loop, ws = self._loop, self._ws
        if loop is None or ws is None or loop.is_closed():
            return False
        future = asyncio.run_coroutine_threadsafe(ws.send(frame), loop)
        if timeout is None:
            return True
        try:
            future.result(timeout)
        except Exception:  # closed meanwhile, or too slow: the hub's wait times out
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------ link thread

    def _emit(self, update: Update) -> None:
        self.updates.put(update)
        if not self._wake_pending.is_set():
            self._wake_pending.set()
            self.wake()

    def _set_status(self, state: str, detail: str = "", clock_offset: float | None = None) -> None:
        if state == self._status and clock_offset is None and state != "denied":
            return
        self._status = state
        self._emit(StatusChanged(LinkStatus(state, self.clock(), detail), clock_offset))

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._task = self._loop.create_task(self._main())
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    async def _main(self) -> None:
        attempt = 0
        self._poke = asyncio.Event()
        # The board this link was given (or a fresh one): resume from its seq if it was ever synced.
        session = s.ClientSession("display", self.token, self.client, True,
                                  self.board.seq if self.board.synced else None, announce=self.announce,
                                  zones=self.zones)
        while True:
            session = session.next_attempt() if session.phase is not s.Phase.IDLE else session
            closed = await self._session(session)
            if closed.final:
                log.error("hub refused this display: %s; not retrying (fix the token and restart)", closed.reason)
                self._set_status("denied", closed.reason)
                return
            was_online = self._status == "online"
            if was_online:
                attempt = 0  # it worked a moment ago: retry soon
            self._set_status("offline" if self.board.synced else "connecting", closed.reason)
            delay = 0.0 if closed.immediate else backoff_delay(attempt)
            attempt += 1
            (log.warning if was_online else log.info)("link: %s; reconnecting in %.1f s", closed.reason, delay)
            await asyncio.sleep(delay)

    async def _session(self, session: s.ClientSession) -> s.Closed:
        """One connection, driven by the session rules; returns how it ended."""
        self.connects += 1
        loop = asyncio.get_running_loop()
        beating: asyncio.Task | None = None
        try:
            async with connect(self.url, open_timeout=OPEN_TIMEOUT, ping_interval=PING_INTERVAL,
                               ping_timeout=PING_TIMEOUT, compression=None, max_size=2 ** 22,
                               close_timeout=2) as ws:
                outputs = session.start(loop.time(), WELCOME_TIMEOUT)
                self._ws = ws
                self._hello_sent_at = None
                talker = asyncio.create_task(self._talk(ws, session)) if self.announce else None
                try:
                    while True:
                        if beating is None and session.phase is s.Phase.LIVE and self.heartbeat is not None:
                            beating = asyncio.create_task(self._beat(ws, session))
                        await self._carry_out(ws, outputs)
                        wait = session.deadline - loop.time() if session.phase is s.Phase.AWAIT_WELCOME else None
                        try:
                            frame = await asyncio.wait_for(ws.recv(), wait)
                        except asyncio.TimeoutError:
                            outputs = session.check_timeout(loop.time())
                            continue
                        outputs = session.receive(frame)
                finally:
                    if talker is not None:
                        talker.cancel()
                        await asyncio.gather(talker, return_exceptions=True)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd or exc.sent
            return self._closed(session, rcvd.code if rcvd else None, rcvd.reason if rcvd else "no close frame")
        except InvalidStatus as exc:
            return self._closed(session, None, "", exc.response.status_code)
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            return self._closed(session, None, f"{type(exc).__name__}: {exc}")
        finally:
            self._ws = None
            if beating is not None:
                beating.cancel()

    async def _beat(self, ws, session: s.ClientSession) -> None:
        """Every heartbeat_seconds while live: the first at once, so the hub knows us from the start."""
        while session.phase is s.Phase.LIVE:
            try:
                beat = self.heartbeat(ws.latency or None)
                for output in session.notify(beat):
                    await ws.send(output.frame)
                self.heartbeats += 1
            except ConnectionClosed:
                return
            except Exception:  # a broken figure must not stop the board's link
                log.exception("heartbeat failed")
            await asyncio.sleep(self.heartbeat_seconds)

    async def _carry_out(self, ws, outputs: list) -> None:
        for output in outputs:
            if isinstance(output, s.Send):
                if self._hello_sent_at is None:  # the hello: start of the skew round trip
                    self._hello_sent_at = self.system_clock()
                await ws.send(output.frame)
            elif isinstance(output, s.Close):
                await ws.close(output.code, output.reason)
            else:
                self._apply(output)

    async def _talk(self, ws, session: s.ClientSession) -> None:
        """Voice candidates: a beat every BEAT_INTERVAL, and the receipts and speaking states queued by send()."""
        next_beat = 0.0
        resent = False
        while True:
            if session.phase is s.Phase.LIVE:
                if not resent:  # a new connection: receipts not acked before it are sent again
                    resent = True
                    for receipt in list(self._unacked.values()):
                        await self._carry_out(ws, session.request(receipt))
                now = time.monotonic()
                if now >= next_beat:
                    self._beat_count += 1
                    beat = m.Beat(f"b{self._beat_count}")
                    self._beats[beat.id] = now
                    if len(self._beats) > 64:  # never acked (a lost connection): forget the oldest
                        self._beats.pop(next(iter(self._beats)))
                    await self._carry_out(ws, session.request(beat))
                    next_beat = now + BEAT_INTERVAL
                while True:
                    try:
                        message = self._outgoing.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(message, m.Speaking):
                        await self._carry_out(ws, session.notify(message))
                    else:
                        self._unacked[message.id] = message
                        await self._carry_out(ws, session.request(message))
            try:
                await asyncio.wait_for(self._poke.wait(), max(0.01, next_beat - time.monotonic()))
            except asyncio.TimeoutError:
                pass
            self._poke.clear()

    def _closed(self, session: s.ClientSession, code: int | None, reason: str,
                http_status: int | None = None) -> s.Closed:
        outputs = session.connection_closed(code, reason, http_status)
        if outputs:
            return outputs[0]
        return s.Closed(code, reason, False, False)

    def _apply(self, output: s.Output) -> None:
        """What the session tells the board."""
        if isinstance(output, s.Welcomed):
            received_at = self.system_clock()
            # A lease held on an earlier connection is not ours on this one: the hub re-tells us.
            self.leases = {zone: replace(voice, you=False) for zone, voice in self.leases.items()}
            welcome = output.welcome
            self.token_name = welcome.name
            if not output.resumed:
                self.board = sync.adopt(welcome)
                self._emit(BoardChanged(self.board.state, None))
            # Measured against the uncorrected system clock, at the round trip's midpoint (core/clock.py).
            offset = skew(welcome.server_time, self._hello_sent_at, received_at) if welcome.server_time else None
            log.info("link: connected to %s, hub seq %d, since %s: %s", self.url, welcome.seq,
                     "?" if not output.resumed else self.board.seq,
                     f"adopted snapshot (day {welcome.state.day})" if not output.resumed
                     else f"kept own state, {welcome.replaying} event(s) replayed")
            self._set_status("online", clock_offset=offset)
        elif isinstance(output, s.EventReceived):
            self.board = sync.apply(self.board, output.event, self.history_limit)
            self._emit(BoardChanged(self.board.state, output.event))
        elif isinstance(output, s.Replied):
            sent = self._beats.pop(output.id, None)
            if sent is not None and isinstance(output.reply, m.Ack):
                self.lease_until = max(self.lease_until, sent + self.lease_seconds)
            elif output.id in self._unacked:
                self._unacked.pop(output.id)
                if isinstance(output.reply, m.Error):
                    log.warning("receipt %s refused: %s: %s", output.id, output.reply.code,
                                text.for_log(output.reply.message))
        elif isinstance(output, s.NoticeReceived):
            notice = output.notice
            if isinstance(notice, m.Voice):
                self.leases = {**self.leases, notice.zone: notice}
            if isinstance(notice, (m.Voice, m.SpeakingState)):
                self._emit(VoiceChanged(notice))
            elif isinstance(notice, m.Estimates):
                self._emit(EstimatesChanged(notice))
        elif isinstance(output, s.ActionRequested):
            log.info("hub asks for %s (%s)", output.request.action, output.request.id)
            self._emit(ActionAsked(output.request))
        elif isinstance(output, s.HubError):
            log.warning("hub error: %s: %s", output.error.code, text.for_log(output.error.message))
        elif isinstance(output, s.Refused):
            log.warning("hub refused hello: %s: %s", output.error.code, text.for_log(output.error.message))
