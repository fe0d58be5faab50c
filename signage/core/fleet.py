"""The fleet, sans I/O: heartbeats in, each client's health and the hall's alerts out.

The hub keeps one FleetState and folds into it what happens (a client greeted,
a heartbeat, a disconnect, a seq committed); `alerts(state, now)` says what a
technician must look at. Times are monotonic seconds passed in; wall-clock
skew is measured by the caller's `skew_seconds` from the heartbeat's own clock.

Alert rules (kinds), for clients that have sent at least one heartbeat:

    missing         nothing heard for more than fleet.alert_after_seconds
    seq_lag         its last seq is below what the hub had committed 10 s before that heartbeat
    audio_silent    it should speak (announcer on) and says its audio is silent
    disk_low        free disk under fleet.disk_low_mb
    clock_skew      its wall clock differs from the hub's by more than 30 s
    content_broken  a content file failed to load
    printer         a kiosk's printer agent reports paper out, cover open, offline, device missing or an error

A kiosk's printer agent (hello role "printer", with the kiosk's token) sends the same heartbeat with
its printer's state; it gets no hall events, so seq_lag does not apply to it, and it takes no actions.

Memory is bounded: at most MAX_MEMBERS clients are remembered (the oldest
silent one is forgotten first), and the hub's seq history keeps SEQ_MARKS.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from signage.core import messages as m
from signage.core.config import FleetConfig, Token
from signage.errors import CommandRejected

LAG_SECONDS = 10.0
SKEW_SECONDS = 30.0
MAX_MEMBERS = 256
SEQ_MARKS = 64
MIN_HEARTBEAT_GAP = 0.5  # seconds: heartbeats closer than this from one client are dropped, not folded

ALERT_KINDS = ("missing", "seq_lag", "audio_silent", "disk_low", "clock_skew", "content_broken", "printer")
PRINTER_PROBLEMS = {"paper_out": "paper out", "cover_open": "cover open", "offline": "offline",
                    "device_missing": "device missing", "error": "error while printing"}


@dataclass(frozen=True)
class Member:
    """One screen or speaker, as the hub last heard of it."""

    name: str
    token: str  # the token's name
    role: str  # the hello's role: display, printer
    address: str
    online: bool
    first_seen: float
    last_seen: float  # last heartbeat (or connect)
    heartbeat: m.Heartbeat | None = None
    skew_s: float | None = None
    dropped: int = 0  # heartbeats that came too fast


@dataclass(frozen=True)
class Alert:
    kind: str  # ALERT_KINDS
    name: str
    message: str


@dataclass(frozen=True)
class FleetState:
    members: tuple[Member, ...] = ()
    seq_marks: tuple[tuple[float, int], ...] = ()  # (when, hub seq) after each commit, oldest first

    def member(self, name: str) -> Member | None:
        return next((x for x in self.members if x.name == name), None)


def authorize(token: Token, message: m.Heartbeat | m.Act | m.ActionReply, role: str | None = None) -> None:
    """Heartbeats come from displays and printer agents (`role`: the hello's), action replies from displays,
    actions from admins. Else CommandRejected."""
    if isinstance(message, m.Act):
        if token.role != "admin":
            raise CommandRejected("forbidden", f"{message.action} needs an admin token; "
                                               f"{token.name!r} is a {token.role} token")
    elif isinstance(message, m.Heartbeat) and role == "printer":
        return
    elif token.role != "display":
        kind = "heartbeat" if isinstance(message, m.Heartbeat) else "action_reply"
        raise CommandRejected("forbidden", f"only displays send {kind}; {token.name!r} is a {token.role} token")


def _put(state: FleetState, member: Member) -> FleetState:
    others = [x for x in state.members if x.name != member.name]
    if len(others) >= MAX_MEMBERS:
        offline = [x for x in others if not x.online] or others
        others.remove(min(offline, key=lambda x: x.last_seen))
    return replace(state, members=tuple(sorted([*others, member], key=lambda x: x.name)))


def heartbeat(state: FleetState, token: Token, address: str, beat: m.Heartbeat, now: float,
              skew_s: float | None, role: str | None = None) -> FleetState:
    """Fold one heartbeat in (its name is the member's key; `role` is the hello's, default the token's)."""
    old = state.member(beat.name)
    if old is not None and old.online and old.heartbeat is not None and now - old.last_seen < MIN_HEARTBEAT_GAP:
        return _put(state, replace(old, dropped=old.dropped + 1))
    first = old.first_seen if old is not None else now
    dropped = old.dropped if old is not None else 0
    return _put(state, Member(beat.name, token.name, role or token.role, address, True, first, now, beat, skew_s,
                              dropped))


def refuse_action(member: Member, action: str) -> None:
    """Printer agents have no screen and no restart: CommandRejected instead of a 10 s timeout."""
    if member.role == "printer":
        raise CommandRejected("unsupported", f"{member.name!r} is a printer agent: it takes no {action}; "
                                             f"restart it on its kiosk PC (systemctl restart signage-printer)")


def disconnected(state: FleetState, name: str, now: float) -> FleetState:
    old = state.member(name)
    if old is None or not old.online:
        return state
    return _put(state, replace(old, online=False))


def committed(state: FleetState, seq: int, now: float) -> FleetState:
    """The hub committed up to `seq` at `now` (for seq_lag)."""
    marks = state.seq_marks
    if marks and marks[-1][1] == seq:
        return state
    marks = (*marks, (now, seq))
    # Keep the newest mark older than the lag window (it answers "what was committed 10 s ago").
    while len(marks) > SEQ_MARKS or (len(marks) > 1 and marks[1][0] <= now - 3 * LAG_SECONDS):
        marks = marks[1:]
    return replace(state, seq_marks=marks)


def seq_committed_by(state: FleetState, when: float) -> int:
    """The hub's seq as of `when` (0 if nothing was committed by then, as far as we know)."""
    seq = 0
    for at, value in state.seq_marks:
        if at > when:
            break
        seq = value
    return seq


def skew_seconds(client_clock: datetime | None, hub_clock: datetime, rtt_ms: float | None) -> float | None:
    """Hub's wall clock minus the client's, allowing half a round trip for the heartbeat's flight."""
    if client_clock is None:
        return None
    return (hub_clock - client_clock).total_seconds() - (rtt_ms or 0.0) / 2000.0


def alerts(state: FleetState, now: float, rules: FleetConfig) -> tuple[Alert, ...]:
    out: list[Alert] = []
    for x in state.members:
        beat = x.heartbeat
        if beat is None:
            continue
        silent = now - x.last_seen
        if silent > rules.alert_after_seconds:
            where = "disconnected" if not x.online else "connected but silent"
            out.append(Alert("missing", x.name, f"{x.name}: no heartbeat for {silent:.0f} s ({where})"))
            continue  # its other figures are stale
        behind = seq_committed_by(state, x.last_seen - LAG_SECONDS)
        if x.role != "printer" and beat.seq < behind:
            out.append(Alert("seq_lag", x.name, f"{x.name}: shows seq {beat.seq}, the hub had {behind} "
                                                f"more than {LAG_SECONDS:g} s earlier"))
        if beat.audio == "silent":
            out.append(Alert("audio_silent", x.name, f"{x.name}: should speak but audio is silent"
                                                     + (f" ({beat.audio_reason})" if beat.audio_reason else "")))
        if beat.disk_free_bytes < rules.disk_low_mb * 1e6:
            out.append(Alert("disk_low", x.name, f"{x.name}: {beat.disk_free_bytes / 1e6:.0f} MB free disk "
                                                 f"(alert under {rules.disk_low_mb:g} MB)"))
        if x.skew_s is not None and abs(x.skew_s) > SKEW_SECONDS:
            out.append(Alert("clock_skew", x.name, f"{x.name}: clock is {-x.skew_s:+.0f} s off the hub's "
                                                   f"(alert over {SKEW_SECONDS:g} s; check NTP)"))
        if beat.broken:
            out.append(Alert("content_broken", x.name, f"{x.name}: content failed to load: "
                                                       + "; ".join(beat.broken)))
        if beat.printer in PRINTER_PROBLEMS:
            out.append(Alert("printer", x.name, f"{x.name}: printer {PRINTER_PROBLEMS[beat.printer]}"
                                                + (f" ({beat.printer_device})" if beat.printer_device else "")
                                                + "; visitors are told to note their number"))
    return tuple(out)
