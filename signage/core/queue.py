"""The queue engine's state: who is waiting, who is being served, who didn't show.

Like the hall state it is a pure fold over events, so a hub restart rebuilds
it from the journal exactly. Decisions (which ticket `next` takes) live in
`signage.core.rules`; this module only records what the events say.

Order of the waiting line: priority tickets first (when the event says so),
then by `order`, the (time, seq) a ticket joined the line. A transfer with
keep_place re-enters with its original order; otherwise at the back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable, Mapping

from signage.core import messages as m, tickets
from signage.core.hall import service_day

Order = tuple[str, int]  # (ISO time, seq): sortable, and stable across restarts


@dataclass(frozen=True)
class Waiting:
    ticket: str
    service: str
    order: Order
    priority: bool = False

    def sort_key(self) -> tuple[bool, Order]:
        return (not self.priority, self.order)


@dataclass(frozen=True)
class Serving:
    ticket: str
    service: str | None
    order: Order | None  # None for tickets called from outside the engine
    priority: bool = False


@dataclass(frozen=True)
class NoShow:
    ticket: str
    service: str | None
    order: Order | None
    skipped_at: datetime
    counter: int
    priority: bool = False


@dataclass(frozen=True)
class QueueState:
    day: str | None = None
    last_number: Mapping[str, int] = field(default_factory=dict)  # ticket prefix → last issued
    waiting: tuple[Waiting, ...] = ()  # kept sorted by sort_key
    serving: Mapping[int, Serving] = field(default_factory=dict)  # counter → ticket
    no_shows: tuple[NoShow, ...] = ()
    issued_today: int = 0

    def waiting_count(self, service: str) -> int:
        return sum(1 for w in self.waiting if w.service == service)

    def find_waiting(self, ticket: str) -> Waiting | None:
        return next((w for w in self.waiting if w.ticket == ticket), None)

    def find_no_show(self, ticket: str) -> NoShow | None:
        return next((n for n in self.no_shows if n.ticket == ticket), None)

    def first_waiting(self, services: Iterable[str]) -> Waiting | None:
        wanted = set(services)
        return next((w for w in self.waiting if w.service in wanted), None)

    def position(self, ticket: str) -> int:
        """1-based place among the tickets of the same service."""
        found = self.find_waiting(ticket)
        if found is None:
            return 0
        ahead = 0
        for w in self.waiting:
            if w.ticket == ticket:
                return ahead + 1
            if w.service == found.service:
                ahead += 1
        return 0


def _order(event: m.Event) -> Order:
    return (event.at.isoformat(), event.seq)


def _insert(line: tuple[Waiting, ...], item: Waiting) -> tuple[Waiting, ...]:
    return tuple(sorted(line + (item,), key=Waiting.sort_key))


def _without(line: tuple, ticket: str) -> tuple:
    return tuple(w for w in line if w.ticket != ticket)


def apply(state: QueueState, event: m.Event) -> QueueState:
    day = service_day(event.at)
    if state.day != day:
        state = QueueState(day=day)

    if isinstance(event, m.Issued):
        prefix = tickets.prefix_of(event.ticket)
        return replace(
            state,
            last_number={**state.last_number, prefix: max(event.number, state.last_number.get(prefix, 0))},
            waiting=_insert(state.waiting, Waiting(event.ticket, event.service, _order(event), event.priority)),
            issued_today=state.issued_today + 1,
        )
    if isinstance(event, (m.Called, m.Recalled)):
        found = state.find_waiting(event.ticket)
        no_show = state.find_no_show(event.ticket)
        previous = state.serving.get(event.counter)
        if found is not None:
            serving = Serving(event.ticket, found.service, found.order, found.priority)
        elif no_show is not None:
            serving = Serving(event.ticket, no_show.service, no_show.order, no_show.priority)
        elif previous is not None and previous.ticket == event.ticket:
            serving = previous
        else:
            serving = Serving(event.ticket, event.service, None)
        return replace(
            state,
            waiting=_without(state.waiting, event.ticket) if found else state.waiting,
            no_shows=_without(state.no_shows, event.ticket) if no_show else state.no_shows,
            serving={**state.serving, event.counter: serving},
        )
    if isinstance(event, m.Cleared):
        current = state.serving.get(event.counter)
        serving = {k: v for k, v in state.serving.items() if k != event.counter}
        state = replace(state, serving=serving)
        if current is None:
            return state
        if event.reason == "no_show":
            return replace(state, no_shows=state.no_shows + (
                NoShow(current.ticket, current.service, current.order, event.at, event.counter, current.priority),))
        if event.reason == "transfer" and event.to_service:
            order = current.order if (event.keep_place and current.order) else _order(event)
            item = Waiting(current.ticket, event.to_service, order, current.priority if event.keep_place else False)
            return replace(state, waiting=_insert(state.waiting, item))
        return state
    return state
