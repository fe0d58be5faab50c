"""The display's live link to the hub: an asyncio loop in its own thread.

    hub ──ws──► HubLink thread: parse, sync.on_welcome / sync.on_event
                 └─► updates (queue.SimpleQueue) + wake() ──► render thread

The render thread never touches the network: it drains `updates` when `wake`
(any thread-safe callable; the display passes the `set` of the threading.Event its
loop sleeps on) says there is something new. The link reconnects with exponential backoff and full jitter and
resumes with since = the last applied seq. A refused token (error
unauthorized/forbidden, or close 4400/4401/4403) is final: the link reports
"denied" once and stops, instead of hammering the hub.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Union

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from signage.core import messages as m, protocol
from signage.core.clock import skew
from signage.core.hall import Verdict
from signage.core.layout import LinkStatus
from signage.display import sync
from signage.errors import ProtocolError

log = logging.getLogger("signage.display.link")

FINAL_CLOSE_CODES = (4400, 4401, 4403)
FINAL_ERRORS = ("unauthorized", "forbidden")
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 8.0
OPEN_TIMEOUT = 5.0
WELCOME_TIMEOUT = 10.0
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


Update = Union[BoardChanged, StatusChanged]


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Full jitter: uniform in [0.25, 1] × min(max, first × 2^attempt)."""
    cap = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(attempt, 16)))
    return cap * (0.25 + 0.75 * rng())


class _Denied(Exception):
    pass


class _Resync(Exception):
    pass


class HubLink:
    def __init__(self, url: str, token: str, *, client: str, history_limit: int,
                 clock: Callable[[], datetime], wake: Callable[[], None] = lambda: None,
                 system_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.url = url
        self.token = token
        self.client = client
        self.history_limit = history_limit
        self.clock = clock  # hall-time clock (aware, corrected), for status times
        self.system_clock = system_clock  # uncorrected: skew is measured against this, never against `clock`
        self.wake = wake
        self.updates: queue.SimpleQueue[Update] = queue.SimpleQueue()
        self.board = sync.Board()
        self.connects = 0  # connection attempts, for tests and logs
        self._wake_pending = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._status = "connecting"

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
        while True:
            resync = False
            try:
                await self._session()
                reason = "hub closed the connection"
            except _Denied as exc:
                log.error("hub refused this display: %s; not retrying (fix the token and restart)", exc)
                self._set_status("denied", str(exc))
                return
            except _Resync as exc:
                reason, resync = str(exc), True
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code in FINAL_CLOSE_CODES:
                    log.error("hub closed the connection with %s (%s); not retrying", code, exc.rcvd.reason)
                    self._set_status("denied", f"{code} {exc.rcvd.reason}".strip())
                    return
                reason = f"connection closed ({code or 'no close frame'})"
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    log.error("hub answered HTTP %d; not retrying", status)
                    self._set_status("denied", f"HTTP {status}")
                    return
                reason = f"HTTP {status}"
            except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError, ProtocolError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            was_online = self._status == "online"
            if was_online:
                attempt = 0  # it worked a moment ago: retry soon
            self._set_status("offline" if self.board.synced else "connecting", reason)
            delay = 0.0 if resync else backoff_delay(attempt)
            attempt += 1
            (log.warning if was_online else log.info)("link: %s; reconnecting in %.1f s", reason, delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        self.connects += 1
        async with connect(self.url, open_timeout=OPEN_TIMEOUT, ping_interval=PING_INTERVAL,
                           ping_timeout=PING_TIMEOUT, compression=None, max_size=2 ** 22,
                           close_timeout=2) as ws:
            since = sync.since_for_hello(self.board)
            sent_at = self.system_clock()
            await ws.send(protocol.encode(m.Hello("display", self.token, self.client, since, True)))
            reply = protocol.parse_hub_frame(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT))
            received_at = self.system_clock()
            if isinstance(reply, m.Error):
                if reply.code in FINAL_ERRORS:
                    raise _Denied(f"{reply.code}: {reply.message}")
                raise ProtocolError("bad_message", f"hub refused hello: {reply.code}: {reply.message}")
            if not isinstance(reply, m.Welcome):
                raise ProtocolError("bad_message", f"expected welcome, got {protocol.type_name(reply)}")
            self.board, adopted = sync.on_welcome(self.board, reply, since)
            offset = skew(reply.server_time, sent_at, received_at) if reply.server_time else None
            log.info("link: connected to %s, hub seq %d, since %s: %s", self.url, reply.seq, since,
                     f"adopted snapshot (day {reply.state.day})" if adopted
                     else f"kept own state, {reply.replaying} event(s) replayed")
            if adopted:
                self._emit(BoardChanged(self.board.state, None))
            self._set_status("online", clock_offset=offset)
            async for frame in ws:
                message = protocol.parse_hub_frame(frame)
                if isinstance(message, m.EVENT_TYPES):
                    self.board, verdict = sync.on_event(self.board, message, self.history_limit)
                    if verdict is Verdict.APPLY:
                        self._emit(BoardChanged(self.board.state, message))
                    elif verdict is Verdict.GAP:
                        raise _Resync(f"resync: got seq {message.seq} after {self.board.seq}")
                elif isinstance(message, m.Error):
                    log.warning("hub error: %s: %s", message.code, message.message)
