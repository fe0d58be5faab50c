"""One voice per audio zone: the lease, its epoch, receipts and which calls a holder speaks. Pure.

Theory of operation (docs/voice.md has the full argument)
--------------------------------------------------------
Every display that can speak says `announce: true` in its hello and becomes a
*candidate* in the audio zones its token may speak in. Per zone the hub holds a
*lease*: exactly one holder (or nobody) and an *epoch* that rises with every
change of holder. The hub drives this module with its monotonic clock:

    join(desk, candidate)             a candidate said hello
    seen(desk, id, now)               any sign of life: a beat (every second) or any frame
    leave(desk, id)                   its connection closed
    elect(desk, zones, now)           -> desk, [Lease changed]   (on every tick, ~10/s)

Liveness: a candidate is alive while `now - seen <= lease_seconds`. A holder keeps
its lease, even disconnected, until `seen + lease_seconds + GRANT_MARGIN`: only then
is the next candidate granted. The client, for its part, starts nothing and cuts
any sound once `lease_seconds` have passed since it *sent* its last acked beat.
Every acked beat was received by the hub, so the hub's `seen` is later than that
send: the old holder is silent before the new one is granted. Same after a hub
restart: the hub grants nothing for lease_seconds + GRANT_MARGIN after it started.

The lease is sticky: a more preferred candidate that joins later does not take a
live holder's voice (a hand-over mid-stream could only add overlap or a gap).
Preference decides every grant: the zone's `speakers` order (token names), then
who joined first.

Receipts: the holder reports each call `spoken` (after the real end of sound) or
`skipped` with a reason. The book keeps today's calls and receipts per zone:

    book_call(book, zone, seq, at)     a call or recall in the zone's counters
    book_receipt(book, receipt)        -> book, True if new (first receipt wins)
    watermark(book, zone, now, max_age) -> (seq, receipted above it)
    waiting(book, zone, now, max_age)  -> seqs still to be spoken, oldest first
    to_announce(calls, watermark, receipted, now, max_age)  the new holder's catch-up

A call cut short because its speaker died has no receipt, so the successor speaks
it again: a visitor would rather hear their number twice than not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable, Mapping

from signage.core import messages as m
from signage.core.announcements import CallNotice
from signage.core.config import AudioZone

GRANT_MARGIN = 0.5  # seconds the hub waits beyond lease_seconds after a holder's last sign of life
BEAT_INTERVAL = 1.0  # seconds between a candidate's beats
RECEIPTS_SHOWN = 200  # receipted seqs above the watermark sent with a lease, at most


@dataclass(frozen=True)
class Candidate:
    id: int  # the hub's connection number
    label: str  # "token/client", shown in /healthz and `voice` frames
    token: str  # token name, for the zone's `speakers` preference
    zones: tuple[str, ...]
    joined: float
    seen: float
    connected: bool = True


@dataclass(frozen=True)
class Lease:
    zone: str
    holder: int | None = None  # candidate id
    label: str | None = None
    epoch: int = 0
    granted: float = 0.0


@dataclass(frozen=True)
class Desk:
    """The hub's lease table."""

    lease_seconds: float
    started: float  # no grant before started + lease_seconds + GRANT_MARGIN (a holder of a previous hub may speak)
    leases: Mapping[str, Lease] = field(default_factory=dict)
    candidates: Mapping[int, Candidate] = field(default_factory=dict)


def allowed(zone: AudioZone, token: str) -> bool:
    return zone.speakers is None or token in zone.speakers


def zones_for(zones: Iterable[AudioZone], token: str, wanted: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """(zones a candidate joins, problems): `wanted` () means every zone the token may speak in."""
    by_name = {z.name: z for z in zones}
    if not wanted:
        return tuple(z.name for z in by_name.values() if allowed(z, token)), []
    problems = []
    for name in wanted:
        if name not in by_name:
            problems.append(f"no audio zone named {name!r} (have: {', '.join(by_name) or 'none'})")
        elif not allowed(by_name[name], token):
            problems.append(f"token {token!r} is not among the speakers of audio zone {name!r}")
    return tuple(dict.fromkeys(wanted)), problems


def join(desk: Desk, candidate: Candidate) -> Desk:
    return replace(desk, candidates={**desk.candidates, candidate.id: candidate})


def seen(desk: Desk, candidate_id: int, now: float) -> Desk:
    c = desk.candidates.get(candidate_id)
    if c is None or not c.connected:
        return desk
    return replace(desk, candidates={**desk.candidates, candidate_id: replace(c, seen=now)})


def leave(desk: Desk, candidate_id: int) -> Desk:
    """Disconnected: never granted again; a holder keeps its lease until its time runs out."""
    c = desk.candidates.get(candidate_id)
    if c is None:
        return desk
    holding = any(lease.holder == candidate_id for lease in desk.leases.values())
    rest = {k: v for k, v in desk.candidates.items() if k != candidate_id}
    if holding:
        rest[candidate_id] = replace(c, connected=False)
    return replace(desk, candidates=rest)


def _rank(zone: AudioZone, c: Candidate) -> tuple:
    preference = zone.speakers.index(c.token) if zone.speakers and c.token in zone.speakers else 0
    return preference, c.joined, c.id


def holder_expired(desk: Desk, lease: Lease, now: float) -> bool:
    c = desk.candidates.get(lease.holder) if lease.holder is not None else None
    return c is None or now - c.seen > desk.lease_seconds + GRANT_MARGIN


def elect(desk: Desk, zones: Iterable[AudioZone], now: float) -> tuple[Desk, list[Lease]]:
    """Grant each zone to its most preferred live candidate when it has no live holder."""
    leases = dict(desk.leases)
    changed: list[Lease] = []
    quiet = now < desk.started + desk.lease_seconds + GRANT_MARGIN
    for zone in zones:
        lease = leases.get(zone.name) or Lease(zone.name)
        if lease.holder is not None and not holder_expired(desk, lease, now):
            continue
        if quiet:
            continue
        live = [c for c in desk.candidates.values()
                if c.connected and zone.name in c.zones and now - c.seen <= desk.lease_seconds]
        best = min(live, key=lambda c: _rank(zone, c)) if live else None
        if best is None and lease.holder is None:
            continue
        lease = Lease(zone.name, best.id if best else None, best.label if best else None, lease.epoch + 1, now)
        leases[zone.name] = lease
        changed.append(lease)
    if not changed:
        return _forget(desk), []
    return _forget(replace(desk, leases=leases)), changed


def _forget(desk: Desk) -> Desk:
    """Drop disconnected candidates that hold nothing any more."""
    holders = {lease.holder for lease in desk.leases.values()}
    gone = [k for k, c in desk.candidates.items() if not c.connected and k not in holders]
    if not gone:
        return desk
    return replace(desk, candidates={k: c for k, c in desk.candidates.items() if k not in gone})


def with_epochs(desk: Desk, epochs: Mapping[str, int]) -> Desk:
    """Start from the epochs a previous hub reached (journaled), so they keep rising."""
    return replace(desk, leases={zone: Lease(zone, None, None, epoch) for zone, epoch in epochs.items()})


# ---------------------------------------------------------------- receipts


@dataclass(frozen=True)
class ZoneBook:
    calls: Mapping[int, datetime] = field(default_factory=dict)  # seq -> when the hub recorded the call
    details: Mapping[int, m.VoiceCall] = field(default_factory=dict)  # seq -> what to say
    receipts: Mapping[int, m.Receipt] = field(default_factory=dict)


@dataclass(frozen=True)
class Book:
    zones: Mapping[str, ZoneBook] = field(default_factory=dict)


def zone_of_counter(zones: Iterable[AudioZone], counter: int) -> AudioZone | None:
    return next((z for z in zones if counter in z.counters), None)


def book_call(book: Book, zone: str, seq: int, at: datetime, call: m.VoiceCall | None = None) -> Book:
    z = book.zones.get(zone, ZoneBook())
    details = {**z.details, seq: call} if call is not None else z.details
    return replace(book, zones={**book.zones, zone: replace(z, calls={**z.calls, seq: at}, details=details)})


def unspoken(book: Book, zone: str, now: datetime, max_age: float, limit: int = 64) -> tuple[m.VoiceCall, ...]:
    """What a new holder must speak, as the hub knows it: the waiting calls (the newest `limit`)."""
    z = book.zones.get(zone, ZoneBook())
    return tuple(z.details[s] for s in waiting(book, zone, now, max_age) if s in z.details)[-limit:]


def book_receipt(book: Book, receipt: m.Receipt) -> tuple[Book, bool]:
    """Record a receipt; the first one for a call wins (a later duplicate changes nothing)."""
    z = book.zones.get(receipt.zone, ZoneBook())
    if receipt.seq in z.receipts:
        return book, False
    z = replace(z, receipts={**z.receipts, receipt.seq: receipt})
    return replace(book, zones={**book.zones, receipt.zone: z}), True


def _expired(at: datetime, now: datetime, max_age: float) -> bool:
    return (now - at).total_seconds() > max_age


def watermark(book: Book, zone: str, now: datetime, max_age: float) -> tuple[int, tuple[int, ...]]:
    """(w, receipted): every call of the zone up to seq w has a receipt or is too old to be spoken;
    `receipted` lists the receipted calls above w."""
    z = book.zones.get(zone, ZoneBook())
    mark = 0
    for seq in sorted(z.calls):
        if seq in z.receipts or _expired(z.calls[seq], now, max_age):
            mark = seq
        else:
            break
    above = tuple(sorted(s for s in z.receipts if s > mark))[-RECEIPTS_SHOWN:]
    return mark, above


def waiting(book: Book, zone: str, now: datetime, max_age: float) -> tuple[int, ...]:
    """Calls of the zone not yet receipted and young enough to be spoken, oldest first."""
    z = book.zones.get(zone, ZoneBook())
    return tuple(s for s in sorted(z.calls) if s not in z.receipts and not _expired(z.calls[s], now, max_age))


def to_announce(calls: Iterable[CallNotice], watermark_seq: int, receipted: Iterable[int], now: datetime,
                max_age: float, counters: Iterable[int]) -> list[CallNotice]:
    """The live calls a (new) holder must speak: in its zone, above the watermark, without a receipt,
    younger than max_age; oldest first."""
    done = set(receipted)
    counters = set(counters)
    chosen = {c.seq: replace(c, live=True) for c in calls
              if c.seq > watermark_seq and c.seq not in done and c.counter in counters
              and not _expired(c.at, now, max_age)}
    return [chosen[s] for s in sorted(chosen)]


def notices_from_calls(calls: Iterable[m.VoiceCall]) -> list[CallNotice]:
    return [CallNotice(c.seq, c.kind, c.ticket, c.counter, c.at, True) for c in calls]


def notices_from_history(history: Iterable[m.HistoryEntry]) -> list[CallNotice]:
    """A board's recent calls (its snapshot history) as notices, for the catch-up."""
    return [CallNotice(h.seq, "recall" if h.recall else "call", h.ticket, h.counter, h.at, True) for h in history]
