"""Hub decisions: (state, command, who, now) → one event, or a refusal.

This is the hub's whole brain, with no I/O, in the manner of a sans-I/O
protocol core: the server feeds it commands and carries out what it returns
(journal, ack, broadcast). A refusal raises CommandRejected and leaves the
state untouched, because state only changes through `HubState.apply`.

Every command yields exactly one event, so one ack carries one seq.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from signage.core import hall, messages as m, queue as q, tickets
from signage.core.config import Config, Token
from signage.errors import CommandRejected


@dataclass(frozen=True)
class HubState:
    hall: m.Snapshot = field(default_factory=m.Snapshot)
    queue: q.QueueState = field(default_factory=q.QueueState)

    @property
    def seq(self) -> int:
        return self.hall.seq

    def apply(self, event: m.Event, history_limit: int = 20) -> "HubState":
        return HubState(hall.apply(self.hall, event, history_limit), q.apply(self.queue, event))

    def for_day(self, day: str) -> "HubState":
        """Start a new service day with empty live state (seq carries on)."""
        if self.hall.day == day and self.queue.day == day:
            return self
        return HubState(hall.for_day(self.hall, day), q.QueueState(day=day))


def rebuild(events, history_limit: int = 20) -> HubState:
    state = HubState()
    for event in events:
        state = state.apply(event, history_limit)
    return state


def decide(state: HubState, cmd: m.Command, actor: Token, config: Config, now: datetime, seq: int) -> m.Event:
    """The event `cmd` produces as seq `seq` at `now`, or CommandRejected.

    `state` must already be for `now`'s service day (see HubState.for_day).
    """
    _authorize(cmd, actor, config)
    base = {"seq": seq, "at": now, "id": cmd.id}
    queue = state.queue

    if isinstance(cmd, m.Call):
        waiting = queue.find_waiting(cmd.ticket) or queue.find_no_show(cmd.ticket)
        service = waiting.service if waiting else None
        _check_serves(config, cmd.counter, service, cmd.ticket)
        changed = {service: queue.waiting_count(service) - 1} if isinstance(waiting, q.Waiting) else {}
        return m.Called(**base, counter=cmd.counter, ticket=cmd.ticket, service=service, waiting=changed)

    if isinstance(cmd, m.Recall):
        if cmd.ticket is None:
            current = _current(state, cmd.counter)
            return m.Recalled(**base, counter=cmd.counter, ticket=current.ticket, service=current.service)
        no_show = queue.find_no_show(cmd.ticket)
        if no_show is None:
            raise CommandRejected("unknown_ticket", f"ticket {cmd.ticket} is not in today's no-show list")
        window = timedelta(minutes=config.queue.no_show_window_minutes)
        if now - no_show.skipped_at > window:
            raise CommandRejected(
                "unknown_ticket",
                f"ticket {cmd.ticket} was skipped at {no_show.skipped_at:%H.%M}, more than "
                f"{config.queue.no_show_window_minutes:g} minutes ago; issue a new ticket",
            )
        _check_serves(config, cmd.counter, no_show.service, cmd.ticket)
        return m.Recalled(**base, counter=cmd.counter, ticket=cmd.ticket, service=no_show.service)

    if isinstance(cmd, m.Clear):
        current = queue.serving.get(cmd.counter)
        return m.Cleared(**base, counter=cmd.counter, ticket=current.ticket if current else None,
                         reason="clear", service=current.service if current else None)

    if isinstance(cmd, m.Ticker):
        return m.TickerSet(**base, text=cmd.text.strip())

    if isinstance(cmd, m.Issue):
        service = config.service(cmd.service)
        if service is None:
            raise CommandRejected("unknown_service", f"service {cmd.service!r} is not in config")
        if cmd.priority and not config.queue.priority:
            raise CommandRejected("forbidden", "priority tickets are disabled in config (queue.priority)")
        number = queue.last_number.get(service.prefix, 0) + 1
        ticket = tickets.format_ticket(service.prefix, number)
        ahead = sum(1 for w in queue.waiting if w.service == service.code and (w.priority or not cmd.priority))
        return m.Issued(**base, ticket=ticket, service=service.code, number=number, priority=cmd.priority,
                        position=ahead + 1, waiting={service.code: queue.waiting_count(service.code) + 1})

    if isinstance(cmd, m.Next):
        services = [s.code for s in config.services_for_counter(cmd.counter)]
        if not services:
            raise CommandRejected("queue_empty", f"counter {cmd.counter} serves no services in config")
        first = queue.first_waiting(services)
        if first is None:
            raise CommandRejected("queue_empty", f"nobody is waiting for counter {cmd.counter}'s services")
        return m.Called(**base, counter=cmd.counter, ticket=first.ticket, service=first.service,
                        waiting={first.service: queue.waiting_count(first.service) - 1})

    if isinstance(cmd, (m.Skip, m.Done)):
        current = _current(state, cmd.counter)
        return m.Cleared(**base, counter=cmd.counter, ticket=current.ticket, service=current.service,
                         reason="no_show" if isinstance(cmd, m.Skip) else "done")

    if isinstance(cmd, m.Transfer):
        current = _current(state, cmd.counter)
        target = config.service(cmd.service)
        if target is None:
            raise CommandRejected("unknown_service", f"service {cmd.service!r} is not in config")
        return m.Cleared(**base, counter=cmd.counter, ticket=current.ticket, service=current.service,
                         reason="transfer", to_service=target.code,
                         keep_place=config.queue.transfer == "keep_place",
                         waiting={target.code: queue.waiting_count(target.code) + 1})

    raise CommandRejected("forbidden", f"command {type(cmd).__name__} is not handled")  # pragma: no cover


def _authorize(cmd: m.Command, actor: Token, config: Config) -> None:
    if actor.role == "display":
        raise CommandRejected("forbidden", "display tokens can only receive events, not send commands")
    if actor.role == "admin":
        raise CommandRejected("forbidden", "admin tokens act on screens (screenshot, identify, restart), "
                                           f"not on the queue: {_name(cmd)} needs an operator token")
    if actor.role not in ("operator", "kiosk"):  # a phone page (role ticket) only reads its own ticket
        raise CommandRejected("forbidden", f"{actor.role} connections cannot send hall commands")
    if actor.role == "kiosk" and not isinstance(cmd, m.Issue):
        raise CommandRejected("forbidden", f"kiosk tokens can only issue tickets, not {_name(cmd)}")
    if isinstance(cmd, m.Ticker) and actor.counters is not None:
        allowed = ", ".join(map(str, actor.counters))
        raise CommandRejected(
            "forbidden", f"token {actor.name!r} may act on counter(s) {allowed}; the hall-wide ticker needs "
                         "an operator token for every counter (counters: all)")
    if isinstance(cmd, m.COUNTER_COMMANDS):
        if config.counter(cmd.counter) is None:
            raise CommandRejected("unknown_counter", f"counter {cmd.counter} is not in config")
        if actor.counters is not None and cmd.counter not in actor.counters:
            allowed = ", ".join(map(str, actor.counters))
            raise CommandRejected(
                "forbidden", f"token {actor.name!r} may act on counter(s) {allowed}, not counter {cmd.counter}")


def _name(cmd: m.Command) -> str:
    return type(cmd).__name__.lower()


def _current(state: HubState, counter: int) -> q.Serving:
    current = state.queue.serving.get(counter)
    if current is None:
        raise CommandRejected("no_current_ticket", f"counter {counter} has no current ticket")
    return current


def _check_serves(config: Config, counter: int, service: str | None, ticket: str) -> None:
    if service is None:
        return  # a ticket from an external queue system: the hub can't know its service
    svc = config.service(service)
    if svc is not None and counter not in svc.counters:
        raise CommandRejected(
            "forbidden", f"counter {counter} does not serve {svc.code} ({svc.name}), the service of ticket {ticket}")
