"""Protocol v1 as data: every frame the hub and its clients exchange.

Pure frozen dataclasses. `signage.core.protocol` turns them into JSON text and
back; nothing else touches raw JSON. docs/protocol.md documents the wire form.

Client → hub: Hello, then commands (Call, Recall, Clear, Ticker, Issue, Next,
Skip, Done, Transfer, Rate). Hub → client: Welcome, Ack, Error, and events
(Called, Recalled, Cleared, TickerSet, Issued, Rated), each with a gap-free `seq`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Union

from signage.core.content import Manifest

PROTOCOL_VERSION = 1

# ---------------------------------------------------------------- client → hub


@dataclass(frozen=True)
class Hello:
    role: str  # "display" | "operator" | "kiosk" | "survey" | "admin"
    token: str = field(repr=False)
    client: str  # free-form client id, for logs
    since: int | None = None  # last seq applied; the hub replays what came after
    subscribe: bool | None = None  # receive events? default: displays and operators yes, kiosks no
    announce: bool = False  # this display can speak: a candidate for the voice lease of `zones`
    zones: tuple[str, ...] = ()  # audio zones it wants to speak in; () = every zone its token may speak in


@dataclass(frozen=True)
class Call:
    id: str
    counter: int
    ticket: str


@dataclass(frozen=True)
class Recall:
    id: str
    counter: int
    ticket: str | None = None  # None: the counter's current ticket; else a no-show to call back


@dataclass(frozen=True)
class Clear:
    id: str
    counter: int


@dataclass(frozen=True)
class Ticker:
    id: str
    text: str


@dataclass(frozen=True)
class Issue:
    id: str
    service: str
    priority: bool = False
    phone: str | None = field(default=None, repr=False)  # for notify.webhook; kept in memory for the day only


@dataclass(frozen=True)
class Next:
    id: str
    counter: int


@dataclass(frozen=True)
class Skip:
    id: str
    counter: int


@dataclass(frozen=True)
class Done:
    id: str
    counter: int


@dataclass(frozen=True)
class Transfer:
    id: str
    counter: int
    service: str


@dataclass(frozen=True)
class Publish:
    """Internal: the hub's content service publishes a manifest. Never parsed from a client."""

    id: str
    manifest: Manifest


@dataclass(frozen=True)
class Rate:
    """A visitor's SKM rating of the ticket `counter` served (survey tablets; see core/survey.py)."""

    id: str
    counter: int
    ticket: str
    scores: tuple[int, ...]  # 9 scores 1..4 in PermenPANRB 14/2017 order (full form), or 1 (short form)
    comment: str = ""
    day: str | None = None  # the service day the tablet saw the ticket served; refused if not today


Command = Union[Call, Recall, Clear, Ticker, Issue, Next, Skip, Done, Transfer, Publish, Rate]
COUNTER_COMMANDS = (Call, Recall, Clear, Next, Skip, Done, Transfer, Rate)

# ---------------------------------------------------------------- voice (client → hub; docs/voice.md)
# Not hall commands: they make no event and no seq. The hub's voice desk handles them.


@dataclass(frozen=True)
class Beat:
    """A candidate's liveness, sent every second and acked at once (ack.seq = the hub's seq).

    The holder's lease runs lease_seconds from the moment it *sent* the last acked beat.
    """

    id: str


@dataclass(frozen=True)
class Spoken:
    """The announcement of call `seq` really ended (the mixer's end-of-sound). Acked once journaled."""

    id: str
    seq: int
    zone: str
    epoch: int


SKIP_REASONS = ("stale", "superseded", "merged", "dropped", "silent")


@dataclass(frozen=True)
class Skipped:
    """Call `seq` will not be spoken, and why (one of SKIP_REASONS). Acked once journaled."""

    id: str
    seq: int
    zone: str
    epoch: int
    reason: str


@dataclass(frozen=True)
class Speaking:
    """The holder starts (True) or stops (False) making sound in `zone`: boards there duck their media."""

    zone: str
    speaking: bool


VoiceMessage = Union[Beat, Spoken, Skipped, Speaking]
VOICE_MESSAGES = (Beat, Spoken, Skipped, Speaking)

# ---------------------------------------------------------------- events (hub → subscribers)
# Every event carries seq (rises by exactly 1), at (aware, hall time zone) and the
# id of the command that caused it. `replay` is set on events re-sent after a
# reconnect: boards apply them, announcers stay silent.


@dataclass(frozen=True)
class Called:
    seq: int
    at: datetime
    id: str
    counter: int
    ticket: str
    service: str | None = None  # known when the queue engine issued the ticket
    waiting: Mapping[str, int] = field(default_factory=dict)  # services whose count changed
    replay: bool = False


@dataclass(frozen=True)
class Recalled:
    seq: int
    at: datetime
    id: str
    counter: int
    ticket: str
    service: str | None = None
    replay: bool = False


CLEAR_REASONS = ("clear", "done", "no_show", "transfer")


@dataclass(frozen=True)
class Cleared:
    seq: int
    at: datetime
    id: str
    counter: int
    ticket: str | None  # the ticket that was at the counter, if any
    reason: str = "clear"
    service: str | None = None  # the ticket's service, when known
    to_service: str | None = None  # reason == "transfer"
    keep_place: bool = False  # transfer: re-enter the line at the original issue time
    waiting: Mapping[str, int] = field(default_factory=dict)
    replay: bool = False


@dataclass(frozen=True)
class TickerSet:
    seq: int
    at: datetime
    id: str
    text: str
    replay: bool = False


@dataclass(frozen=True)
class Issued:
    seq: int
    at: datetime
    id: str
    ticket: str
    service: str
    number: int
    priority: bool = False
    position: int = 0  # 1 = next in line for this service
    waiting: Mapping[str, int] = field(default_factory=dict)
    replay: bool = False


@dataclass(frozen=True)
class ContentChanged:
    """A new content manifest: displays fetch the files they lack, then switch playlists (docs/content.md)."""

    seq: int
    at: datetime
    id: str
    manifest: Manifest
    replay: bool = False


@dataclass(frozen=True)
class Rated:
    seq: int
    at: datetime
    id: str
    counter: int  # the counter that served the ticket
    ticket: str
    form: str  # "full" (9 elements, counted in the IKM) or "short" (one overall score, counted apart)
    scores: tuple[int, ...]
    service: str | None = None  # the service it was served for, when known
    comment: str = ""
    replay: bool = False


Event = Union[Called, Recalled, Cleared, TickerSet, Issued, ContentChanged, Rated]
EVENT_TYPES = (Called, Recalled, Cleared, TickerSet, Issued, ContentChanged, Rated)

# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class CounterNow:
    """What one counter shows right now."""

    number: int
    ticket: str | None
    service: str | None
    since: datetime | None  # when the ticket was called
    seq: int  # event that set it


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: datetime
    counter: int
    ticket: str
    service: str | None
    recall: bool = False


@dataclass(frozen=True)
class Snapshot:
    """The hall's live state for one service day; see signage.core.hall."""

    seq: int = 0
    day: str | None = None  # "2026-11-28", service day of the last event
    counters: Mapping[int, CounterNow] = field(default_factory=dict)
    history: tuple[HistoryEntry, ...] = ()  # newest first
    ticker: str | None = None
    waiting: Mapping[str, int] = field(default_factory=dict)  # service code → people waiting


# ---------------------------------------------------------------- voice (hub → client)


@dataclass(frozen=True)
class Voice:
    """Who holds `zone`'s voice lease. Sent to every candidate of the zone at each grant and each beat.

    The holder speaks the zone's live calls above `watermark` that are not in `receipted`.
    """

    zone: str
    holder: str | None  # the holder's label; None: nobody can speak there now
    epoch: int
    you: bool = False  # the recipient holds the lease
    watermark: int = 0  # every call of the zone up to this seq has a receipt
    receipted: tuple[int, ...] = ()  # calls above the watermark that have one
    calls: tuple["VoiceCall", ...] = ()  # to the holder: the zone's live calls without a receipt, oldest first


@dataclass(frozen=True)
class VoiceCall:
    """A call still to be spoken, as the hub hands it to a new holder (its own history may not reach back)."""

    seq: int
    kind: str  # "call" | "recall"
    ticket: str
    counter: int
    at: datetime


@dataclass(frozen=True)
class Receipt:
    """A call's fate in its zone, to every subscriber: spoken, or skipped with a reason."""

    seq: int
    zone: str
    epoch: int
    status: str  # "spoken" | "skipped"
    reason: str | None = None
    by: str | None = None  # the holder that sent it


@dataclass(frozen=True)
class VoiceQueue:
    """The zone's calls still waiting to be spoken, oldest first (the panel's "dalam antrean suara (n)")."""

    zone: str
    waiting: tuple[int, ...]


@dataclass(frozen=True)
class SpeakingState:
    """To the boards: `zone` is (not) speaking now; a media player ducks while it is."""

    zone: str
    speaking: bool


@dataclass(frozen=True)
class ZoneVoice:
    zone: str
    holder: str | None
    epoch: int
    speaking: bool = False
    waiting: tuple[int, ...] = ()


@dataclass(frozen=True)
class VoiceStatus:
    """The voice side of the welcome: each zone's holder and queue, and today's recent receipts."""

    zones: tuple[ZoneVoice, ...] = ()
    receipts: tuple[Receipt, ...] = ()


HubNotice = Union[Voice, Receipt, VoiceQueue, SpeakingState]
HUB_NOTICES = (Voice, Receipt, VoiceQueue, SpeakingState)

# ---------------------------------------------------------------- hub → client replies


@dataclass(frozen=True)
class Welcome:
    seq: int
    state: Snapshot
    role: str
    name: str  # the token's name
    counters: tuple[int, ...] | None = None  # operator scope; None = all
    replaying: int = 0  # how many replayed events follow
    server_time: datetime | None = None
    protocol: int = PROTOCOL_VERSION
    voice: VoiceStatus | None = None  # audio zones; None from a hub without voice zones


@dataclass(frozen=True)
class Ack:
    id: str
    seq: int
    duplicate: bool = False  # this id was seen before; same seq as the first time
    event: Event | None = None  # the event the command produced (ticket details for kiosks)
    track: str | None = None  # issued: the ticket's capability code for /t/<code>, to the issuing kiosk only
    wait: "Wait | None" = None  # issued: the wait estimate, minutes
    printing: str | None = None  # issued: "printing" (a printer agent has the job), "offline" (it had one, gone)


@dataclass(frozen=True)
class Error:
    id: str | None
    code: str
    message: str



# ---------------------------------------------------------------- the visitor's journey (issue 14)
# Printer agents (hello role "printer" with their kiosk's token) and phone pages (role "ticket", token =
# the capability code) get no hall events: only the notices below, about their own tickets.

PRINT_FAILURES = ("paper_out", "cover_open", "offline", "device_missing", "error")
# A printer agent's heartbeat: "ok", one of PRINT_FAILURES, or "unknown" when the connection cannot report
# status (file://, or a printer that ignores the status queries) and nothing has failed.
PRINTER_STATES = ("ok", "unknown", *PRINT_FAILURES)
TICKET_STATES = ("waiting", "called", "skipped", "done")


@dataclass(frozen=True)
class Printed:
    """printer agent → hub: the ticket came out."""

    id: str
    ticket: str


@dataclass(frozen=True)
class PrintFailed:
    """printer agent → hub: it did not; `reason` is one of PRINT_FAILURES."""

    id: str
    ticket: str
    reason: str


@dataclass(frozen=True)
class Reprint:
    """kiosk → hub: print its last ticket again (within REPRINT_SECONDS of issuing it)."""

    id: str
    ticket: str


VISITOR_COMMANDS = (Printed, PrintFailed, Reprint)


@dataclass(frozen=True)
class Wait:
    low: int  # minutes
    high: int


@dataclass(frozen=True)
class PrintJob:
    """hub → the issuing kiosk's printer agent(s): type "print"."""

    ticket: str
    service: str
    at: datetime
    position: int
    url: str  # the phone page, for the QR code
    wait: Wait | None = None
    priority: bool = False
    reprint: bool = False


@dataclass(frozen=True)
class PrintStatus:
    """hub → the issuing kiosk: type "print_status"; status printing | printed | failed."""

    ticket: str
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class TicketStatus:
    """hub → a phone page: one ticket's place, sent on connect and whenever it changes."""

    ticket: str
    service: str
    state: str  # one of TICKET_STATES
    issued: datetime
    position: int = 0  # waiting: 1 = next in its service's line
    wait: Wait | None = None
    near: bool = False  # waiting with notify.when_ahead or fewer ahead
    counter: int | None = None  # called
    counter_name: str | None = None
    service_name: str | None = None
    hall: str | None = None


@dataclass(frozen=True)
class Estimates:
    """hub → boards, when display.show_estimate: type "estimates". What a ticket taken now would wait, per agency
    with people waiting and an estimate (absent: "belum dapat diperkirakan"). Sent on connect and on change."""

    at: datetime
    agencies: Mapping[str, Wait] = field(default_factory=dict)  # agency code → minutes


NOTICE_TYPES = (PrintJob, PrintStatus, TicketStatus, Estimates)
# ---------------------------------------------------------------- fleet (not journaled: no seq, no event)
# A display reports its health every fleet.heartbeat_seconds; an admin asks the hub
# for an action on one named client, the hub asks that client, and answers the admin.
# See signage.core.fleet and docs/protocol.md ("Fleet").

AUDIO_STATES = ("ok", "silent", "off")  # off: this client is not meant to speak


@dataclass(frozen=True)
class Heartbeat:
    name: str  # --name, default the token's name
    version: str
    uptime_s: float
    fps: float  # frames drawn per second since the last heartbeat
    seq: int  # last seq applied
    cpu_percent: float  # of one core, since the last heartbeat
    rss_bytes: int
    disk_free_bytes: int
    audio: str  # AUDIO_STATES
    audio_reason: str = ""
    zone: str | None = None
    layout: str | None = None
    resolution: tuple[int, int] | None = None
    rtt_ms: float | None = None  # websocket ping round trip
    clock: datetime | None = None  # the client's own wall clock when sent; the hub works out the skew
    voice_lease: str | None = None
    content_version: str | None = None
    cache_bytes: int = 0
    broken: tuple[str, ...] = ()  # content files that failed to load
    warnings: int = 0
    last_warnings: tuple[str, ...] = ()
    printer: str | None = None  # a kiosk's printer agent only: PRINTER_STATES
    printer_device: str | None = None  # its device URI, e.g. tcp://10.0.0.40:9100
    printed: int = 0  # tickets printed since the agent started
    print_failures: int = 0


ACTIONS = ("screenshot", "identify", "restart")


@dataclass(frozen=True)
class Act:
    """Admin → hub: do `action` on the client called `name`."""

    id: str
    action: str  # ACTIONS
    name: str


@dataclass(frozen=True)
class ActionRequest:
    """Hub → client: do `action` now. A screenshot is answered by one binary PNG frame."""

    id: str
    action: str
    seconds: float = 10.0  # identify: how long the card stays
    max_width: int = 640  # screenshot: scale down to at most this
    max_bytes: int = 262144  # screenshot: larger PNGs are refused


@dataclass(frozen=True)
class ActionReply:
    """Client → hub: an identify or restart was done (or could not be: ok False)."""

    id: str
    ok: bool = True
    detail: str = ""


@dataclass(frozen=True)
class ActionResult:
    """Hub → admin: what the named client answered; `png` holds a screenshot."""

    id: str
    action: str
    name: str
    detail: str = ""
    png: bytes | None = None
