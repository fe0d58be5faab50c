"""The visitor's journey, hub side: capability codes, phone pages, printer agents, notifications.

Driven by the hub (server.py) through a few hooks; the decisions are pure
(core/capability.py, core/estimate.py), this module keeps the day's bookkeeping:

    load(events)        at start: the day's issued tickets and service times, from the journal
    roll(day)           a new service day forgets every code, phone number and job
    authenticate(code)  a phone page's hello: today's code → a "ticket" token for that ticket alone
    remember_phone()    an issue command's phone number, until its ticket exists (memory only)
    applied(record)     each committed event: service times, issuer, phone, print job to send
    ack(...)            the issuing kiosk's ack gets `track` (the code), `wait`, `printing`
    after_batch(...)    print jobs out; changed ticket_status to phone pages; near/called to the webhook
    command(...)        printed / print_failed (printer agent) and reprint (kiosk)
    http(path)          /t/<code> (the phone page or a plain 404) and /qr/<code>.svg

The secret behind the codes is generated once and kept in a file next to the journal
(mode 0600). Phone numbers never reach the journal or a log.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterable

from websockets.http11 import Response

from signage.config import Config, Token
from signage.core import capability, estimate as est, messages as m, text
from signage.core.hall import service_day
from signage.core.rules import HubState
from signage.errors import CommandRejected
from signage.hub import http

log = logging.getLogger("signage.hub.visitor")

REPRINT_SECONDS = 60
SECRET_FILE = "ticket-secret"
TICKET_PAGE = "ticket.html"
NOT_FOUND_PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tiket tidak ditemukan</title></head>
<body style="font-family:sans-serif;margin:2em;font-size:1.2em">
<h1>Tiket tidak ditemukan</h1>
<p>Tautan ini salah atau sudah kedaluwarsa: tiket hanya berlaku pada hari diambil.</p>
<p>Silakan lihat layar antrean di aula, atau hubungi petugas.</p>
</body></html>
"""


def load_secret(directory: Path) -> bytes:
    """The hub's code secret: read it, or create it (0600) on first start."""
    path = directory / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= capability.SECRET_BYTES:
            return data
        log.warning("%s is too short; making a new one (today's ticket links stop working)", path)
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    data = secrets.token_bytes(capability.SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return data


@dataclass
class _Day:
    day: str | None = None
    issued: dict[str, m.Issued] = None  # ticket → its (latest) issued event
    codes: dict[str, str] = None  # code → ticket
    issuer: dict[str, str] = None  # ticket → kiosk token name (read back from the journal at start)
    phones: dict[str, str] = None  # ticket → phone number (memory only, this day only)
    phone_state: dict[str, str] = None  # ticket → "waiting"/"near"/"called:<seq>" already notified
    printed: dict[str, str] = None  # ticket → last print status

    @classmethod
    def of(cls, day: str | None) -> "_Day":
        return cls(day, {}, {}, {}, {}, {}, {})


class Visitors:
    def __init__(self, config: Config, *, send: Callable[[object, object], None],
                 clients: Callable[[], Iterable], public_url: Callable[[], str], notifier=None):
        self.config = config
        self.send = send  # (client, message) → pushed to that client, in order
        self.clients = clients
        self.public_url = public_url
        self.notifier = notifier  # hub/webhook.Notifier or None
        self.secret = b""
        self.times = est.ServiceTimes()
        self.today = _Day.of(None)
        self.jobs: list[tuple[str, m.PrintJob]] = []  # (kiosk token name, job) to send after the batch
        self.printers_seen: set[str] = set()  # kiosk token names whose agent connected today
        self.pending_phones: dict[tuple[str, str], str] = {}  # (token name, command id) → phone
        self.sent: dict[int, m.TicketStatus] = {}  # id(client) → last status sent
        self.board_estimates: m.Estimates | None = None  # the last sent to the boards (display.show_estimate)

    # ------------------------------------------------------------ day and journal

    def load(self, directory: Path, events: list[m.Event], today: str, issuers: dict[str, str]) -> None:
        """In the journal thread at start: the secret, and the day so far (with who issued each ticket, so
        a restart does not stop a kiosk's reprint or its printer's reports)."""
        self.secret = load_secret(directory)
        self.roll(today)
        for event in events:
            self._fold(event, issuers.get(event.ticket) if isinstance(event, m.Issued) else None)

    def roll(self, day: str) -> None:
        if self.today.day != day:
            self.today = _Day.of(day)
            self.printers_seen = set()
            self.pending_phones.clear()

    def code(self, ticket: str) -> str:
        return capability.ticket_code(self.secret, self.today.day, ticket)

    def url(self, ticket: str) -> str:
        return f"{self.public_url()}/t/{self.code(ticket)}"

    def _fold(self, event: m.Event, actor: str | None) -> None:
        self.roll(service_day(event.at))
        self.times = est.apply(self.times, event)
        if isinstance(event, m.Issued):
            day = self.today
            day.issued[event.ticket] = event
            day.codes[self.code(event.ticket)] = event.ticket
            if actor is not None:
                day.issuer[event.ticket] = actor

    # ------------------------------------------------------------ connections

    def authenticate(self, secret: str, now: datetime) -> Token | None:
        """A phone page's hello: a code of today's ticket → a token that reads that ticket alone."""
        self.roll(service_day(now))
        if not capability.looks_like_code(secret):
            return None
        ticket = self.today.codes.get(secret)
        if ticket is None:
            return None
        return Token(f"ticket:{ticket}", "ticket", secret)

    def ticket_of(self, token: Token) -> str | None:
        return self.today.codes.get(token.secret) if token.role == "ticket" else None

    def connected(self, client, state: HubState, now: datetime) -> None:
        role = client.session.hello.role
        if role == "printer":
            self.printers_seen.add(client.token.name)
        elif role == "ticket":
            self._update(client, state, now)
        elif role == "display" and client.subscribed:
            self.publish_estimates(state, now, joined=client)

    def disconnected(self, client) -> None:
        self.sent.pop(id(client), None)

    def _printers(self, kiosk: str) -> list:
        return [c for c in self.clients() if c.session.hello.role == "printer" and c.token.name == kiosk]

    def _kiosks(self, kiosk: str) -> list:
        return [c for c in self.clients() if c.session.hello.role == "kiosk" and c.token.name == kiosk]

    # ------------------------------------------------------------ commands and events

    def remember_phone(self, token: Token, cmd: m.Command) -> None:
        if isinstance(cmd, m.Issue) and cmd.phone and self.config.notify.webhook:
            if len(self.pending_phones) > 1000:  # ids that never became tickets (refused issues)
                self.pending_phones.clear()
            self.pending_phones[(token.name, cmd.id)] = cmd.phone

    def applied(self, event: m.Event, actor: str, command_id: str, state: HubState) -> None:
        self._fold(event, actor)
        if not isinstance(event, m.Issued):
            return
        phone = self.pending_phones.pop((actor, command_id), None)
        if phone:
            self.today.phones[event.ticket] = phone
        if self._printers(actor):
            self.jobs.append((actor, self._job(event, state)))

    def _job(self, event: m.Issued, state: HubState, reprint: bool = False) -> m.PrintJob:
        wait = self.wait(state, event.service, event.ticket, event.at)
        return m.PrintJob(event.ticket, event.service, event.at, event.position, self.url(event.ticket), wait,
                          event.priority, reprint)

    def wait(self, state: HubState, service: str, ticket: str | None, now: datetime) -> m.Wait | None:
        found = est.estimate_wait(self.times, state.queue, self.config, service, ticket, now)
        return m.Wait(found.low, found.high) if found else None

    def ack(self, client, ack: m.Ack, state: HubState) -> m.Ack:
        """The issuing kiosk's ack: the code, the estimate, and whether a printer has the job."""
        event = ack.event
        if not isinstance(event, m.Issued) or event.ticket not in self.today.issued:
            return ack
        kiosk = client.token.name
        printing = "printing" if self._printers(kiosk) else ("offline" if kiosk in self.printers_seen else None)
        if printing:
            self.today.printed[event.ticket] = printing
        return replace(ack, track=self.code(event.ticket), wait=self.wait(state, event.service, event.ticket, event.at),
                       printing=printing)

    def command(self, client, cmd, state: HubState, now: datetime) -> m.Ack | m.Error:
        role = client.session.hello.role
        kiosk = client.token.name
        try:
            if isinstance(cmd, (m.Printed, m.PrintFailed)):
                if role != "printer":
                    raise CommandRejected("forbidden", f"only a printer agent reports prints, not a {role}")
                if self.today.issuer.get(cmd.ticket) != kiosk:
                    raise CommandRejected("unknown_ticket", f"ticket {cmd.ticket} was not issued by kiosk {kiosk!r}")
                status = m.PrintStatus(cmd.ticket, "printed") if isinstance(cmd, m.Printed) else \
                    m.PrintStatus(cmd.ticket, "failed", cmd.reason)
                self.today.printed[cmd.ticket] = status.status
                if isinstance(cmd, m.PrintFailed):
                    log.warning("printer of kiosk %s: ticket %s not printed: %s", text.for_log(kiosk), cmd.ticket,
                                cmd.reason)
                for kiosk_client in self._kiosks(kiosk):
                    self.send(kiosk_client, status)
                return m.Ack(cmd.id, 0)
            if isinstance(cmd, m.Reprint):
                if role != "kiosk":
                    raise CommandRejected("forbidden", "only the issuing kiosk may reprint a ticket")
                issued = self.today.issued.get(cmd.ticket)
                if issued is None or self.today.issuer.get(cmd.ticket) != kiosk:
                    raise CommandRejected("unknown_ticket", f"ticket {cmd.ticket} was not issued by this kiosk today")
                if now - issued.at > timedelta(seconds=REPRINT_SECONDS):
                    raise CommandRejected("unknown_ticket", f"ticket {cmd.ticket} was issued more than "
                                                            f"{REPRINT_SECONDS} s ago; it can no longer be reprinted")
                printers = self._printers(kiosk)
                if not printers:
                    raise CommandRejected("printer_offline", f"no printer agent is connected for kiosk {kiosk!r}")
                job = self._job(issued, state, reprint=True)
                for printer in printers:
                    self.send(printer, job)
                return m.Ack(cmd.id, 0, printing="printing")
        except CommandRejected as exc:
            return m.Error(cmd.id, exc.code, exc.message)
        return m.Error(cmd.id, "forbidden", f"{type(cmd).__name__} is not a visitor command")  # pragma: no cover

    # ------------------------------------------------------------ after each batch

    def after_batch(self, state: HubState, now: datetime) -> None:
        jobs, self.jobs = self.jobs, []
        for kiosk, job in jobs:
            for printer in self._printers(kiosk):
                self.send(printer, job)
        for client in list(self.clients()):
            if client.token.role == "ticket":
                self._update(client, state, now)
        if self.notifier is not None and self.today.phones:
            self._notify(state, now)
        self.publish_estimates(state, now)

    # ------------------------------------------------------------ the boards' estimates (display.show_estimate)

    def publish_estimates(self, state: HubState, now: datetime, joined=None) -> None:
        """After each batch, every ESTIMATE_SECONDS and when a board joins: each agency's range, sent to the
        boards when it changed (and to a board that just joined in any case)."""
        if not self.config.display.show_estimate:
            return
        boards = [c for c in self.clients() if c.session.hello.role == "display" and c.subscribed]
        if joined is not None and joined not in boards:
            boards.append(joined)  # (the hub adds a client to its set after greeting it)
        if not boards:
            return
        waits = est.agency_waits(self.times, state.queue, self.config, now)
        current = m.Estimates(now, {code: m.Wait(e.low, e.high) for code, e in waits.items()})
        if self.board_estimates is None or current.agencies != self.board_estimates.agencies:
            self.board_estimates = current
        elif joined is not None:
            boards = [joined]  # the others have it already
        else:
            return
        for board in boards:
            self.send(board, current)

    def _update(self, client, state: HubState, now: datetime) -> None:
        ticket = self.ticket_of(client.token)
        if ticket is None:
            return
        status = self.status(ticket, state, now)
        if status is not None and self.sent.get(id(client)) != status:
            self.sent[id(client)] = status
            self.send(client, status)

    def status(self, ticket: str, state: HubState, now: datetime, with_wait: bool = True) -> m.TicketStatus | None:
        issued = self.today.issued.get(ticket)
        if issued is None:
            return None
        queue = state.queue
        base = dict(ticket=ticket, issued=issued.at, hall=self.config.hall.short_name)
        waiting = queue.find_waiting(ticket)
        if waiting is not None:
            position = queue.position(ticket)
            return m.TicketStatus(**base, service=waiting.service, state="waiting", position=position,
                                  wait=self.wait(state, waiting.service, ticket, now) if with_wait else None,
                                  near=position - 1 <= self.config.notify.when_ahead,
                                  service_name=self._service_name(waiting.service))
        for number, serving in queue.serving.items():
            if serving.ticket == ticket:
                service = serving.service or issued.service
                return m.TicketStatus(**base, service=service, state="called", counter=number,
                                      counter_name=self.config.counter_name(number),
                                      service_name=self._service_name(service))
        no_show = queue.find_no_show(ticket)
        state_name = "skipped" if no_show is not None else "done"
        service = (no_show.service if no_show else None) or issued.service
        return m.TicketStatus(**base, service=service, state=state_name, service_name=self._service_name(service))

    def _service_name(self, code: str) -> str:
        svc = self.config.service(code)
        return svc.name if svc else code

    def _notify(self, state: HubState, now: datetime) -> None:
        for ticket, phone in list(self.today.phones.items()):
            status = self.status(ticket, state, now, with_wait=False)
            if status is None:
                continue
            before = self.today.phone_state.get(ticket, "")
            if status.state == "waiting" and status.near and before == "":
                self.today.phone_state[ticket] = "near"
                self.notifier.submit(self._notice("near", status, phone, now))
            elif status.state == "called" and before != f"called:{status.counter}":
                self.today.phone_state[ticket] = f"called:{status.counter}"
                self.notifier.submit(self._notice("called", status, phone, now))
            elif status.state in ("done", "skipped"):
                del self.today.phones[ticket]  # nothing more to tell: forget the number now

    def _notice(self, kind: str, status: m.TicketStatus, phone: str, now: datetime) -> dict:
        body = {"event": kind, "ticket": status.ticket, "phone": phone, "service": status.service,
                "service_name": status.service_name, "hall": self.config.hall.name,
                "url": self.url(status.ticket), "at": now.isoformat(timespec="seconds")}
        if kind == "near":
            body["ahead"] = status.position - 1
        else:
            body["counter"] = status.counter
            body["counter_name"] = status.counter_name
        return body

    # ------------------------------------------------------------ HTTP

    def http(self, path: str, now: datetime) -> Response | None:
        """/t/<code> and /qr/<code>.svg; None for any other path."""
        if not path.startswith(("/t/", "/qr/")):
            return None
        self.roll(service_day(now))
        if path.startswith("/t/"):
            code = path[len("/t/"):]
            if self.today.codes.get(code) is None:
                return http.response(HTTPStatus.NOT_FOUND, NOT_FOUND_PAGE, "text/html; charset=utf-8")
            return http.static("/static/" + TICKET_PAGE)
        if path.startswith("/qr/") and path.endswith(".svg"):
            code = path[len("/qr/"):-len(".svg")]
            ticket = self.today.codes.get(code)
            if ticket is None:
                return http.response(HTTPStatus.NOT_FOUND, "not found\n")
            return http.response(HTTPStatus.OK, qr_svg(self.url(ticket)), "image/svg+xml")
        return None


def qr_svg(url: str) -> bytes:
    import segno  # only the hub's /qr route needs it

    out = BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue()
