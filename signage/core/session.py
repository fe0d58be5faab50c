"""Protocol v1 sessions, sans I/O: the rules of one connection, hub side and client side.

The codec (`protocol`) knows what a frame means; this module knows when it may
come. The hub, the display link, the CLI client and the web pages (hub.js,
checked against the same vectors in tests/vectors/session.json) all drive these
machines, so the rules below are written once. Like websockets' protocol.py,
nothing here does I/O or reads a clock: frames and times go in, a list of
outputs comes out, and the driver carries them out in order:

    Send(frame)          write this text frame
    Close(code, reason)  close the connection with this code
    anything else        an event for the application (Greeted, Welcomed, ...)

Theory of operation
-------------------
Hub side, one ServerSession per connection::

    AWAIT_HELLO ──hello, token ok──► GREETED ──welcome()──► LIVE ──closed()──► CLOSED
        └── not a hello / bad frame / unknown token / wrong role / timeout:
            error frame + close 4400/4401/4403 ──► CLOSING ──closed()──► CLOSED

Exactly one hello per connection, within HELLO_TIMEOUT; a second hello is a
bad_message answered on a live connection. Frames are text, with one bounded
exception: after the hub asked this client for a screenshot (request_action),
the next binary frame is taken as its answer, a PNG checked against the size and
width the request named; any other binary frame is refused. Welcome and the replay are queued
before any live event (the driver calls welcome() without yielding).

Client side, one ClientSession per connection attempt; the reconnecting
driver starts a new one, passing the last applied seq::

    IDLE ──start()──► AWAIT_WELCOME ──welcome──► LIVE ──gap──► CLOSING (Close 4000)
                          ├── error unauthorized/forbidden: Refused(final=True)
                          └── other error or bad frame: Refused(final=False)
    any state ──connection_closed(code)──► CLOSED, Closed(final=...)

After welcome the client keeps its own state when the hub resumes from its
`since` (replaying > 0, or nothing missed) and adopts the snapshot otherwise.
Live events must rise by exactly one: a repeat is ignored, a gap closes the
connection with 4000 so the driver reconnects at once with `since`.

A refusal is final (don't retry: fix the token) for errors unauthorized and
forbidden, close codes 4400/4401/4403 and HTTP 401/403; everything else is
retried with backoff.

An illegal call (welcome() twice, a command before the welcome) raises
SessionError and changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Callable, Union

from signage.core import messages as m, protocol, ratelimit
from signage.core.config import Token
from signage.errors import ClientError, CommandRejected, ProtocolError, SessionError

HELLO_TIMEOUT = 10.0  # seconds a client has to say hello
WELCOME_TIMEOUT = 10.0  # seconds a client waits for the welcome


class CloseCode(enum.IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # hub stopping: reconnect
    INTERNAL_ERROR = 1011  # hub broke: reconnect (systemd restarts it)
    TRY_AGAIN_LATER = 1013  # client too slow: reconnect with since
    RESYNC = 4000  # client saw a gap or a timeout: reconnect now with since
    BAD_HELLO = 4400  # final
    UNAUTHORIZED = 4401  # final
    FORBIDDEN = 4403  # final

    @property
    def final(self) -> bool:
        return self in FINAL_CLOSE_CODES


FINAL_CLOSE_CODES = frozenset({CloseCode.BAD_HELLO, CloseCode.UNAUTHORIZED, CloseCode.FORBIDDEN})
FINAL_ERROR_CODES = frozenset({"unauthorized", "forbidden"})
FINAL_HTTP_STATUSES = frozenset({401, 403})
# Hello roles a token of another role may take: a kiosk's printer agent uses the kiosk's token.
ROLE_OF_TOKEN = {"printer": "kiosk"}
# Roles that never receive hall events, only notices about their own tickets.
NOTICE_ONLY_ROLES = frozenset({"printer", "ticket"})


def is_final_close(code: int | None) -> bool:
    return code in {int(c) for c in FINAL_CLOSE_CODES}


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Send:
    frame: str


@dataclass(frozen=True)
class Close:
    code: CloseCode
    reason: str


# hub side


@dataclass(frozen=True)
class Greeted:
    """A valid hello with a known token: the driver answers with welcome()."""

    hello: m.Hello
    token: Token
    subscribe: bool  # receives events


@dataclass(frozen=True)
class CommandReceived:
    command: m.Command


@dataclass(frozen=True)
class FleetReceived:
    """A heartbeat, an admin's action or a client's reply to one: not journaled (signage.core.fleet)."""

    message: m.Heartbeat | m.Act | m.ActionReply


@dataclass(frozen=True)
class ScreenshotReceived:
    """The binary answer to request_action(screenshot): a checked PNG, or why it was refused."""

    id: str
    png: bytes | None
    error: str = ""


@dataclass(frozen=True)
class HelloRefused:
    """The hello was refused (for the driver's failed-hello accounting and logs)."""

    code: str
    message: str


# client side


@dataclass(frozen=True)
class Welcomed:
    welcome: m.Welcome
    resumed: bool  # True: keep own state, the hub replays what we missed; False: adopt welcome.state


@dataclass(frozen=True)
class EventReceived:
    event: m.Event  # seq is exactly the next one


@dataclass(frozen=True)
class NoticeReceived:
    # outside the seq stream: about this client's own tickets, or the voice lease, a receipt, a voice
    # queue, a speaking state (docs/voice.md)
    notice: m.PrintJob | m.PrintStatus | m.TicketStatus | m.HubNotice


@dataclass(frozen=True)
class Replied:
    id: str
    reply: m.Ack | m.Error | m.ActionResult


@dataclass(frozen=True)
class ActionRequested:
    request: m.ActionRequest  # the hub asks for a screenshot, an identify card or a restart


@dataclass(frozen=True)
class HubError:
    error: m.Error  # an error not tied to a pending command


@dataclass(frozen=True)
class Refused:
    error: m.Error
    final: bool


@dataclass(frozen=True)
class Closed:
    code: int | None
    reason: str
    final: bool  # don't reconnect
    immediate: bool  # reconnect without backoff (resync)
    unanswered: tuple[str, ...] = ()  # command ids sent without a reply


Output = Union[Send, Close, Greeted, CommandReceived, FleetReceived, ScreenshotReceived, HelloRefused, Welcomed,
               EventReceived, NoticeReceived, Replied, ActionRequested, HubError, Refused, Closed]


class Phase(enum.Enum):
    IDLE = "idle"
    AWAIT_HELLO = "await_hello"
    GREETED = "greeted"
    AWAIT_WELCOME = "await_welcome"
    LIVE = "live"
    CLOSING = "closing"
    CLOSED = "closed"


# What each side may do in each phase; anything else raises SessionError.
SERVER_TRANSITIONS: dict[str, dict[Phase, Phase]] = {
    "receive": {Phase.AWAIT_HELLO: Phase.GREETED, Phase.LIVE: Phase.LIVE, Phase.CLOSING: Phase.CLOSING},
    "welcome": {Phase.GREETED: Phase.LIVE},
    "request": {Phase.LIVE: Phase.LIVE},
    "timeout": {Phase.AWAIT_HELLO: Phase.CLOSING},
    "closed": {p: Phase.CLOSED for p in (Phase.AWAIT_HELLO, Phase.GREETED, Phase.LIVE, Phase.CLOSING, Phase.CLOSED)},
}
CLIENT_TRANSITIONS: dict[str, dict[Phase, Phase]] = {
    "start": {Phase.IDLE: Phase.AWAIT_WELCOME},
    "receive": {Phase.AWAIT_WELCOME: Phase.LIVE, Phase.LIVE: Phase.LIVE, Phase.CLOSING: Phase.CLOSING},
    "request": {Phase.LIVE: Phase.LIVE},
    "timeout": {Phase.AWAIT_WELCOME: Phase.CLOSING},
    "closed": {p: Phase.CLOSED for p in (Phase.IDLE, Phase.AWAIT_WELCOME, Phase.LIVE, Phase.CLOSING, Phase.CLOSED)},
}


def _check(table: dict[str, dict[Phase, Phase]], action: str, phase: Phase, side: str) -> None:
    if phase not in table[action]:
        allowed = ", ".join(p.value for p in table[action])
        raise SessionError(f"{side} session: {action} is not allowed in phase {phase.value} (only in {allowed})")


# ---------------------------------------------------------------- hub side


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 4096
    per_second: float = 20.0
    burst: int = 40


class ServerSession:
    """The hub's side of one connection."""

    def __init__(self, authenticate: Callable[[str], Token | None], limits: Limits, now: float,
                 hello_timeout: float = HELLO_TIMEOUT):
        self.authenticate = authenticate
        self.limits = limits
        self.phase = Phase.AWAIT_HELLO
        self.deadline = now + hello_timeout
        self.hello: m.Hello | None = None
        self.token: Token | None = None
        self.subscribe = False
        self.bucket = ratelimit.full(limits.burst, now)
        self.screenshot: m.ActionRequest | None = None  # asked for, not answered yet

    def receive(self, frame: str | bytes, now: float) -> list[Output]:
        _check(SERVER_TRANSITIONS, "receive", self.phase, "hub")
        if self.phase is Phase.CLOSING:
            return []  # the close is under way; nothing more is read
        if self.phase is Phase.AWAIT_HELLO:
            return self._hello(frame)
        self.bucket, allowed = ratelimit.take(self.bucket, now, self.limits.per_second, self.limits.burst)
        try:
            if not allowed:
                raise ProtocolError("rate_limited", f"more than {self.limits.per_second:g} messages per second "
                                                    f"(burst {self.limits.burst}); slow down")
            if isinstance(frame, bytes) and self.screenshot is not None:
                return self._screenshot(frame)
            if isinstance(frame, bytes):
                raise ProtocolError("bad_message", "binary frames are accepted only as the answer to a screenshot "
                                                   "request from the hub; send JSON as a text frame")
            message = protocol.parse_client_frame(frame, self.limits.max_bytes)
            if isinstance(message, m.Hello):
                raise ProtocolError("bad_message", "hello was already received on this connection")
        except ClientError as exc:
            return [Send(protocol.encode(m.Error(exc.id, exc.code, exc.message)))]
        if isinstance(message, protocol.FLEET_MESSAGES):
            return [FleetReceived(message)]
        return [CommandReceived(message)]

    def _screenshot(self, frame: bytes) -> list[Output]:
        request, self.screenshot = self.screenshot, None
        try:
            protocol.parse_screenshot(frame, request.max_bytes, request.max_width)
        except ProtocolError as exc:
            return [Send(protocol.encode(m.Error(request.id, exc.code, exc.message))),
                    ScreenshotReceived(request.id, None, f"{exc.code}: {exc.message}")]
        return [ScreenshotReceived(request.id, frame)]

    def request_action(self, request: m.ActionRequest) -> list[Output]:
        """Ask this (live) client for an action; a screenshot opens the way for one binary answer."""
        _check(SERVER_TRANSITIONS, "request", self.phase, "hub")
        if request.action == "screenshot":
            if self.screenshot is not None:
                raise SessionError(f"hub session: screenshot {self.screenshot.id} is still awaited")
            self.screenshot = request
        return [Send(protocol.encode(request))]

    def abandon_screenshot(self, request_id: str) -> None:
        """The hub stopped waiting (timeout): a late answer is refused like any unasked binary frame."""
        if self.screenshot is not None and self.screenshot.id == request_id:
            self.screenshot = None

    def _hello(self, frame: str | bytes) -> list[Output]:
        try:
            hello = protocol.parse_client_frame(frame, self.limits.max_bytes)
        except ProtocolError as exc:
            return self._refuse(exc, CloseCode.BAD_HELLO)
        if not isinstance(hello, m.Hello):
            return self._refuse(ProtocolError("unauthorized", "the first message must be hello", id=hello.id),
                                CloseCode.UNAUTHORIZED)
        token = self.authenticate(hello.token)
        if token is None:
            return self._refuse(CommandRejected("unauthorized", "unknown token"), CloseCode.UNAUTHORIZED)
        if token.role != ROLE_OF_TOKEN.get(hello.role, hello.role):
            return self._refuse(CommandRejected(
                "forbidden", f"token {token.name!r} is a {token.role} token, not {hello.role}"), CloseCode.FORBIDDEN)
        self.phase = Phase.GREETED
        self.hello, self.token = hello, token
        if hello.role in NOTICE_ONLY_ROLES:
            self.subscribe = False
        else:
            self.subscribe = hello.subscribe if hello.subscribe is not None else token.role != "kiosk"
        return [Greeted(hello, token, self.subscribe)]

    def _refuse(self, exc: ClientError, code: CloseCode) -> list[Output]:
        self.phase = Phase.CLOSING
        return [HelloRefused(exc.code, exc.message),
                Send(protocol.encode(m.Error(exc.id, exc.code, exc.message))),
                Close(code, exc.code)]

    def welcome(self, welcome: m.Welcome, replay: list[str]) -> list[Output]:
        """The welcome frame, then the encoded replay frames, before anything live."""
        _check(SERVER_TRANSITIONS, "welcome", self.phase, "hub")
        self.phase = Phase.LIVE
        return [Send(protocol.encode(welcome)), *(Send(frame) for frame in replay)]

    def check_timeout(self, now: float) -> list[Output]:
        """Close a connection that has not said hello in time."""
        if self.phase is not Phase.AWAIT_HELLO or now < self.deadline:
            return []
        _check(SERVER_TRANSITIONS, "timeout", self.phase, "hub")
        self.phase = Phase.CLOSING
        return [HelloRefused("bad_message", "no hello"), Close(CloseCode.BAD_HELLO, "no hello")]

    def closed(self) -> None:
        _check(SERVER_TRANSITIONS, "closed", self.phase, "hub")
        self.phase = Phase.CLOSED


# ---------------------------------------------------------------- client side


@dataclass
class ClientSession:
    """A client's side of one connection attempt."""

    role: str
    token: str = field(repr=False)
    client: str = "signage"
    subscribe: bool | None = None
    seq: int | None = None  # last applied seq; sent as `since`; None before the first welcome
    phase: Phase = Phase.IDLE
    deadline: float = 0.0
    since: int | None = None
    refused: m.Error | None = None
    pending: dict[str, m.Command | m.Act | m.Beat | m.Spoken | m.Skipped] = field(default_factory=dict)
    announce: bool = False  # a voice-lease candidate (docs/voice.md)
    zones: tuple[str, ...] = ()

    def start(self, now: float, timeout: float = WELCOME_TIMEOUT) -> list[Output]:
        _check(CLIENT_TRANSITIONS, "start", self.phase, "client")
        self.phase = Phase.AWAIT_WELCOME
        self.deadline = now + timeout
        self.since = self.seq
        return [Send(protocol.encode(m.Hello(self.role, self.token, self.client, self.since, self.subscribe,
                                             self.announce, self.zones)))]

    def receive(self, frame: str | bytes) -> list[Output]:
        _check(CLIENT_TRANSITIONS, "receive", self.phase, "client")
        if self.phase is Phase.CLOSING:
            return []
        try:
            message = protocol.parse_hub_frame(frame)
        except ProtocolError as exc:
            if self.phase is Phase.AWAIT_WELCOME:
                return self._refused(m.Error(None, exc.code, exc.message), final=False)
            return [HubError(m.Error(None, exc.code, f"unreadable frame from hub: {exc.message}"))]
        if self.phase is Phase.AWAIT_WELCOME:
            return self._welcome(message)
        if isinstance(message, (m.Ack, m.Error)):
            if message.id is not None and self.pending.pop(message.id, None) is not None:
                return [Replied(message.id, message)]
            return [HubError(message)] if isinstance(message, m.Error) else []
        if isinstance(message, m.EVENT_TYPES):
            return self._event(message)
        if isinstance(message, m.NOTICE_TYPES + m.HUB_NOTICES):
            return [NoticeReceived(message)]
        if isinstance(message, m.ActionRequest):
            return [ActionRequested(message)]
        if isinstance(message, m.ActionResult):
            if self.pending.pop(message.id, None) is not None:
                return [Replied(message.id, message)]
            return []
        return [HubError(m.Error(None, "bad_message", f"unexpected {protocol.type_name(message)} on a live "
                                                      f"connection"))]

    def _welcome(self, message) -> list[Output]:
        if isinstance(message, m.Error):
            return self._refused(message, final=message.code in FINAL_ERROR_CODES)
        if not isinstance(message, m.Welcome):
            return self._refused(m.Error(None, "bad_message",
                                         f"expected welcome, got {protocol.type_name(message)}"), final=False)
        since = self.since
        resumed = since is not None and (message.replaying > 0 or since == message.seq)
        self.seq = since if resumed else message.seq
        self.phase = Phase.LIVE
        return [Welcomed(message, resumed)]

    def _refused(self, error: m.Error, final: bool) -> list[Output]:
        self.phase = Phase.CLOSING
        self.refused = error
        code = CloseCode.NORMAL if final else CloseCode.RESYNC
        return [Refused(error, final), Close(code, error.code)]

    def _event(self, event: m.Event) -> list[Output]:
        expected = (self.seq or 0) + 1
        if event.seq < expected:
            return []  # already applied (a replay overlapping what we had)
        if event.seq > expected:
            self.phase = Phase.CLOSING
            return [Close(CloseCode.RESYNC, f"resync: got seq {event.seq} after {expected - 1}")]
        self.seq = event.seq
        return [EventReceived(event)]

    def request(self, command: m.Command | m.Act | m.Beat | m.Spoken | m.Skipped) -> list[Output]:
        """Send a command; its ack or error comes back as Replied(command.id, ...)."""
        _check(CLIENT_TRANSITIONS, "request", self.phase, "client")
        self.pending[command.id] = command
        return [Send(protocol.encode(command))]

    def notify(self, message: m.Heartbeat | m.ActionReply | m.Speaking) -> list[Output]:
        """A message the hub does not answer (a heartbeat, the reply to an action, a speaking state)."""
        _check(CLIENT_TRANSITIONS, "request", self.phase, "client")
        return [Send(protocol.encode(message))]

    def check_timeout(self, now: float) -> list[Output]:
        if self.phase is not Phase.AWAIT_WELCOME or now < self.deadline:
            return []
        _check(CLIENT_TRANSITIONS, "timeout", self.phase, "client")
        self.phase = Phase.CLOSING
        return [Close(CloseCode.RESYNC, "no welcome from hub")]

    def connection_closed(self, code: int | None, reason: str = "", http_status: int | None = None) -> list[Output]:
        """The connection ended (or never opened: http_status for a refused upgrade)."""
        _check(CLIENT_TRANSITIONS, "closed", self.phase, "client")
        was = self.phase
        self.phase = Phase.CLOSED
        unanswered = tuple(self.pending)
        self.pending.clear()
        if was is Phase.CLOSED:
            return []
        final = (is_final_close(code) or http_status in FINAL_HTTP_STATUSES
                 or (self.refused is not None and self.refused.code in FINAL_ERROR_CODES))
        if self.refused is not None and not reason:
            reason = f"{self.refused.code}: {self.refused.message}"
        if http_status is not None and not reason:
            reason = f"HTTP {http_status}"
        immediate = code == CloseCode.RESYNC and was is Phase.CLOSING and self.refused is None
        return [Closed(code, reason, final, immediate, unanswered)]

    def next_attempt(self) -> "ClientSession":
        """A fresh session for the next connection, carrying the applied seq."""
        return replace(self, phase=Phase.IDLE, deadline=0.0, since=None, refused=None, pending={})
