"""Which call is spoken next, and in what form. Pure code: time is passed in.

Theory of operation
-------------------
The display hands every call it shows to the announcer as a CallNotice. The
queue decides what is spoken; the announcer's I/O shell (signage.announcer.service)
plays it and reports back with `finish` when the mixer says the sound has ended.

    notice_for(event)                   -> CallNotice for a call or recall, else None
    enqueue(queue, notice, now, rules)  -> queue      a notice arrives
    start_next(queue, now, rules)       -> queue, Announcement | None
    finish(queue)                       -> queue      the current one has really ended

Rules, applied in this order:

* replayed notices (live=False, sent again after a reconnect) are never spoken;
* notices older than max_age_seconds (at enqueue and again at start) are shown
  by the display but not spoken;
* a recall for a ticket whose call is still waiting merges into that call;
* any other new notice for a counter supersedes that counter's waiting ones;
* the queue holds at most queue_size notices: the oldest is dropped and counted;
* strictly one at a time: start_next returns nothing while one is current;
* bursts: when at least burst_threshold notices wait, the short phrase is spoken
  once, and only the first of a run of short announcements gets the chime — so a
  backlog drains at least twice as fast as speaking every full phrase;
* languages (an audio zone's `languages`, e.g. id then en): the full phrase is spoken
  in each in turn; a burst's short form in the first language only.

Every live notice that leaves the queue unspoken is kept in `discarded` with its
reason (stale, superseded, merged, dropped) until the shell takes it with
`take_discarded`: it becomes a `skipped` receipt (docs/voice.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from signage.core import messages as m
from signage.core.config import AnnouncerConfig

KINDS = ("call", "recall")

# Parts of one announcement, played back to back on one mixer channel.
CHIME = "chime"
SPEECH = "speech"
PAUSE = "pause"  # a short silence between repeats


@dataclass(frozen=True)
class CallNotice:
    seq: int
    kind: str  # "call" | "recall"
    ticket: str
    counter: int
    at: datetime  # when the hub recorded the event (timezone-aware)
    live: bool  # False for events replayed after a reconnect: never spoken


def notice_for(event: m.Event) -> CallNotice | None:
    """The CallNotice for a call or recall; replayed events are not live (never spoken)."""
    if isinstance(event, m.Called):
        return CallNotice(event.seq, "call", event.ticket, event.counter, event.at, live=not event.replay)
    if isinstance(event, m.Recalled):
        return CallNotice(event.seq, "recall", event.ticket, event.counter, event.at, live=not event.replay)
    return None


@dataclass(frozen=True)
class QueueRules:
    max_age_seconds: float
    queue_size: int
    burst_threshold: int
    repeat: int
    languages: tuple[str, ...] = ("id",)

    @classmethod
    def from_config(cls, config: AnnouncerConfig, languages: tuple[str, ...] = ("id",)) -> QueueRules:
        return cls(config.max_age_seconds, config.queue_size, config.burst_threshold, config.repeat,
                   tuple(languages))


@dataclass(frozen=True)
class Announcement:
    notice: CallNotice
    form: str  # phrase form: "call" | "recall" | "short"
    repeats: int
    chime: bool
    languages: tuple[str, ...] = ("id",)

    @property
    def parts(self) -> tuple[str, ...]:
        """("chime", "speech", "pause", "speech") for a chimed announcement spoken twice."""
        count = self.repeats * len(self.languages)
        speech = (SPEECH,) + (PAUSE, SPEECH) * (count - 1)
        return ((CHIME,) if self.chime else ()) + speech

    @property
    def speech_languages(self) -> tuple[str, ...]:
        """The language of each speech part, in order: every language in turn, then the repeat."""
        return tuple(language for _ in range(self.repeats) for language in self.languages)


@dataclass(frozen=True)
class QueueStats:
    accepted: int = 0
    started: int = 0
    superseded: int = 0  # replaced by a newer notice for the same counter before being spoken
    merged: int = 0  # recalls folded into their still-waiting call
    stale: int = 0  # older than max_age_seconds
    replayed: int = 0  # live=False
    dropped: int = 0  # pushed out of a full queue
    duplicates: int = 0  # same seq already waiting or playing


@dataclass(frozen=True)
class AnnouncementQueue:
    pending: tuple[CallNotice, ...] = ()
    current: Announcement | None = None
    in_burst: bool = False  # the previous announcement was a short (burst) one
    stats: QueueStats = field(default_factory=QueueStats)
    discarded: tuple[tuple[CallNotice, str], ...] = ()  # live notices that will not be spoken, and why

    @property
    def busy(self) -> bool:
        return self.current is not None

    @property
    def backlog(self) -> int:
        return len(self.pending)


def _count(queue: AnnouncementQueue, **increments: int) -> QueueStats:
    stats = queue.stats
    return replace(stats, **{name: getattr(stats, name) + n for name, n in increments.items()})


def is_stale(notice: CallNotice, now: datetime, rules: QueueRules) -> bool:
    return (now - notice.at).total_seconds() > rules.max_age_seconds


def enqueue(queue: AnnouncementQueue, notice: CallNotice, now: datetime,
            rules: QueueRules) -> AnnouncementQueue:
    if notice.kind not in KINDS:
        raise ValueError(f"CallNotice.kind must be one of {', '.join(KINDS)}, got {notice.kind!r}")
    if not notice.live:
        return replace(queue, stats=_count(queue, replayed=1))
    if is_stale(notice, now, rules):
        return replace(queue, stats=_count(queue, stale=1), discarded=queue.discarded + ((notice, "stale"),))
    seen = {n.seq for n in queue.pending}
    if queue.current is not None:
        seen.add(queue.current.notice.seq)
    if notice.seq in seen:
        return replace(queue, stats=_count(queue, duplicates=1))
    same_counter = [n for n in queue.pending if n.counter == notice.counter]
    if notice.kind == "recall" and any(n.ticket == notice.ticket for n in same_counter):
        return replace(queue, stats=_count(queue, merged=1), discarded=queue.discarded + ((notice, "merged"),))
    pending = tuple(n for n in queue.pending if n.counter != notice.counter) + (notice,)
    overflow = max(0, len(pending) - rules.queue_size)
    gone = tuple((n, "superseded") for n in same_counter) + tuple((n, "dropped") for n in pending[:overflow])
    return replace(queue, pending=pending[overflow:], discarded=queue.discarded + gone,
                   stats=_count(queue, accepted=1, superseded=len(same_counter), dropped=overflow))


def start_next(queue: AnnouncementQueue, now: datetime,
               rules: QueueRules) -> tuple[AnnouncementQueue, Announcement | None]:
    """Take the next notice to speak, unless one is still playing or none is waiting."""
    if queue.current is not None:
        return queue, None
    pending = queue.pending
    if not pending:
        return (replace(queue, in_burst=False) if queue.in_burst else queue), None
    fresh = tuple(n for n in pending if not is_stale(n, now, rules))
    stats = _count(queue, stale=len(pending) - len(fresh))
    discarded = queue.discarded + tuple((n, "stale") for n in pending if n not in fresh)
    if not fresh:
        return AnnouncementQueue(stats=stats, discarded=discarded), None  # idle again: the next call is chimed
    notice, rest = fresh[0], fresh[1:]
    if len(fresh) >= rules.burst_threshold:
        announcement = Announcement(notice, "short", repeats=1, chime=not queue.in_burst,
                                    languages=rules.languages[:1])
    else:
        announcement = Announcement(notice, notice.kind, repeats=rules.repeat, chime=True,
                                    languages=rules.languages)
    stats = replace(stats, started=stats.started + 1)
    return AnnouncementQueue(rest, announcement, announcement.form == "short", stats, discarded), announcement


def take_discarded(queue: AnnouncementQueue) -> tuple[AnnouncementQueue, tuple[tuple[CallNotice, str], ...]]:
    """The notices discarded since the last call, and the queue without them."""
    if not queue.discarded:
        return queue, ()
    return replace(queue, discarded=()), queue.discarded


def drop_pending(queue: AnnouncementQueue) -> tuple[AnnouncementQueue, tuple[CallNotice, ...]]:
    """The lease was lost: another holder speaks what waits here (no receipt: it is unspoken)."""
    return replace(queue, pending=(), in_burst=False), queue.pending


def finish(queue: AnnouncementQueue) -> AnnouncementQueue:
    """The current announcement has really ended (the mixer said so)."""
    return replace(queue, current=None)


def planned_seconds(announcement: Announcement, *, chime: float, speech: float, pause: float) -> float:
    """How long an announcement plays, given the length of each part (the durations model)."""
    lengths = {CHIME: chime, SPEECH: speech, PAUSE: pause}
    return sum(lengths[part] for part in announcement.parts)
