"""One-line human descriptions of acks and events, for the CLI and logs."""

from __future__ import annotations

from signage.config import Config
from signage.core import messages as m


def _counter(config: Config, number: int) -> str:
    counter = config.counter(number)
    return counter.name if counter else f"counter {number}"


def _service(config: Config, code: str | None) -> str:
    service = config.service(code) if code else None
    return f" ({service.name})" if service else ""


def describe_event(event: m.Event | m.Error, config: Config) -> str:
    if isinstance(event, m.Error):
        return f"error {event.code}: {event.message}"
    head = f"#{event.seq} {event.at:%H.%M.%S}{' (replay)' if event.replay else ''}"
    if isinstance(event, m.Called):
        return f"{head} called {event.ticket} → {_counter(config, event.counter)}{_service(config, event.service)}"
    if isinstance(event, m.Recalled):
        return f"{head} recalled {event.ticket} → {_counter(config, event.counter)}"
    if isinstance(event, m.Cleared):
        what = f"{event.ticket} " if event.ticket else ""
        extra = f" → {event.to_service}" if event.to_service else ""
        return f"{head} cleared {what}at {_counter(config, event.counter)} ({event.reason}{extra})"
    if isinstance(event, m.TickerSet):
        return f"{head} ticker: {event.text!r}"
    if isinstance(event, m.Issued):
        return (f"{head} issued {event.ticket}{_service(config, event.service)}, position {event.position}"
                f"{', priority' if event.priority else ''}")
    if isinstance(event, m.ContentChanged):
        manifest = event.manifest
        return f"{head} content: manifest {manifest.digest[:12]}, {len(manifest.items)} item(s)"
    if isinstance(event, m.Rated):
        return (f"{head} rated {event.ticket} at {_counter(config, event.counter)}{_service(config, event.service)}: "
                f"{event.form} form, scores {' '.join(map(str, event.scores))}"
                f"{' (with a comment)' if event.comment else ''}")
    return f"{head} {event!r}"


def describe_ack(ack: m.Ack, config: Config) -> str:
    text = f"ok: seq {ack.seq}{' (already done before)' if ack.duplicate else ''}"
    if ack.event is not None:
        text += " — " + describe_event(ack.event, config).split(" ", 2)[2]
    if isinstance(ack.event, m.Issued):
        service = config.service(ack.event.service)
        ahead = ack.event.position - 1
        text += f"\nticket {ack.event.ticket}: {service.name if service else ack.event.service}, {ahead} ahead"
    return text
