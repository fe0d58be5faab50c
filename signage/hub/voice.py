"""The hub's voice desk: drives core.voice (leases, epochs, receipts) for the hub's connections.

    greet:   admit(client) -> problem or None       a hello with announce: true joins as candidate
    frames:  seen(client)                           any frame from a candidate is a sign of life
             receive(client, message)               beat, spoken, skipped, speaking
    close:   closed(client)
    tick():  every TICK seconds: elect, persist each new epoch, then tell the zone's candidates
    events:  on_event(event)                        a call or recall: booked in its audio zone

Frames go out through the hub's ordered, bounded per-client push. See docs/voice.md.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING

from signage.core import messages as m, protocol, voice as v
from signage.core.hall import service_day
from signage.errors import JournalError

if TYPE_CHECKING:
    from signage.hub.server import Client, Hub

log = logging.getLogger("signage.hub.voice")

TICK = 0.1  # seconds between elections: failover lands within this of its due time


class VoiceDesk:
    def __init__(self, hub: "Hub"):
        self.hub = hub
        self.config = hub.config
        self.zones = self.config.audio.zones
        self.max_age = self.config.announcer.max_age_seconds
        self.desk = v.Desk(self.config.audio.lease_seconds, time.monotonic())
        self.book = v.Book()
        self.day: str | None = None
        self.speaking: dict[str, bool] = {}
        self._ids = itertools.count(1)
        self._by_id: dict[int, "Client"] = {}
        self._id_of: dict["Client", int] = {}

    # ------------------------------------------------------------ start (journal thread)

    def load(self, events: list[m.Event], receipts: list[m.Receipt], epochs: dict[str, int], day: str) -> None:
        self.day = day
        self.desk = v.with_epochs(v.Desk(self.config.audio.lease_seconds, time.monotonic()), epochs)
        for event in events:
            self._book(event)
        for receipt in receipts:
            self.book, _ = v.book_receipt(self.book, receipt)

    def _book(self, event: m.Event) -> str | None:
        if not isinstance(event, (m.Called, m.Recalled)):
            return None
        zone = v.zone_of_counter(self.zones, event.counter)
        if zone is None:
            return None
        kind = "call" if isinstance(event, m.Called) else "recall"
        call = m.VoiceCall(event.seq, kind, event.ticket, event.counter, event.at)
        self.book = v.book_call(self.book, zone.name, event.seq, event.at, call)
        return zone.name

    # ------------------------------------------------------------ connections

    def admit(self, client: "Client") -> str | None:
        """Join a candidate; a refusal message if it may not speak where it asked."""
        hello = client.session.hello
        if not hello.announce:
            return None
        if client.token.role != "display":
            return f"only display tokens may announce, {client.token.name!r} is a {client.token.role} token"
        zones, problems = v.zones_for(self.zones, client.token.name, hello.zones)
        if problems:
            return "; ".join(problems)
        if not zones:
            return f"token {client.token.name!r} may not speak in any audio zone"
        cid = next(self._ids)
        now = time.monotonic()
        label = f"{client.token.name}/{hello.client}#{cid}"
        self._by_id[cid], self._id_of[client] = client, cid
        self.desk = v.join(self.desk, v.Candidate(cid, label, client.token.name, zones, now, now))
        log.info("%s is a voice candidate in %s", label, ", ".join(zones))
        return None

    def greeted(self, client: "Client") -> None:
        """After the welcome: tell a new candidate who holds its zones now."""
        cid = self._id_of.get(client)
        if cid is None:
            return
        for zone in self.desk.candidates[cid].zones:
            self._tell(client, cid, self.desk.leases.get(zone) or v.Lease(zone))

    def seen(self, client: "Client") -> None:
        cid = self._id_of.get(client)
        if cid is not None:
            self.desk = v.seen(self.desk, cid, time.monotonic())

    def closed(self, client: "Client") -> None:
        cid = self._id_of.pop(client, None)
        if cid is not None:
            self._by_id.pop(cid, None)
            self.desk = v.leave(self.desk, cid)

    async def receive(self, client: "Client", message: m.VoiceMessage) -> None:
        if isinstance(message, m.Beat):
            self.hub._reply(client, m.Ack(message.id, self.hub.seq))
            return
        cid = self._id_of.get(client)
        zone = getattr(message, "zone", None)
        if cid is None or zone not in self.desk.candidates[cid].zones:
            error = m.Error(getattr(message, "id", None), "forbidden",
                            f"{client.label} is not a voice candidate of zone {zone!r}")
            self.hub._reply(client, error)
            return
        if isinstance(message, m.Speaking):
            if self._holds(cid, zone):
                self._set_speaking(zone, message.speaking)
            return
        await self._receipt(client, cid, message)

    def _holds(self, cid: int, zone: str) -> bool:
        lease = self.desk.leases.get(zone)
        return lease is not None and lease.holder == cid

    async def _receipt(self, client: "Client", cid: int, message: m.Spoken | m.Skipped) -> None:
        calls = self.book.zones.get(message.zone, v.ZoneBook()).calls
        if message.seq not in calls:
            self.hub._reply(client, m.Error(message.id, "not_found",
                                            f"seq: {message.seq} is not a call of today in zone {message.zone!r}"))
            return
        receipt = m.Receipt(message.seq, message.zone, message.epoch,
                            "spoken" if isinstance(message, m.Spoken) else "skipped",
                            getattr(message, "reason", None), self.desk.candidates[cid].label)
        now = self.hub.clock()
        loop = asyncio.get_running_loop()
        try:
            new = await loop.run_in_executor(self.hub._io, self.hub.journal.append_receipt, receipt,
                                             service_day(now), now.isoformat())
        except JournalError as exc:
            self.hub._reply(client, m.Error(message.id, "storage_failed", str(exc)))
            return
        self.hub._reply(client, m.Ack(message.id, message.seq, duplicate=not new))
        if new:
            self.book, _ = v.book_receipt(self.book, receipt)
            self._to_subscribers(receipt, role="operator")
            self._queue_changed(message.zone)

    # ------------------------------------------------------------ events and time

    def on_event(self, event: m.Event) -> None:
        day = service_day(event.at)
        if day != self.day:
            self.day, self.book = day, v.Book()
        zone = self._book(event)
        if zone is not None:
            self._queue_changed(zone)

    async def tick(self) -> None:
        self.desk, changed = v.elect(self.desk, self.zones, time.monotonic())
        for lease in changed:
            try:
                await asyncio.get_running_loop().run_in_executor(self.hub._io, self.hub.journal.store_epoch,
                                                                 lease.zone, lease.epoch)
            except JournalError as exc:
                log.error("voice epoch %d of %s not stored: %s", lease.epoch, lease.zone, exc)
            log.info("voice: zone %s epoch %d: %s", lease.zone, lease.epoch, lease.label or "nobody can speak")
            if lease.holder is None and self.speaking.get(lease.zone):
                self._set_speaking(lease.zone, False)
            for cid, candidate in list(self.desk.candidates.items()):
                client = self._by_id.get(cid)
                if client is not None and lease.zone in candidate.zones:
                    self._tell(client, cid, lease)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            await self.tick()

    # ------------------------------------------------------------ frames

    def _tell(self, client: "Client", cid: int, lease: v.Lease) -> None:
        you = lease.holder == cid
        now = self.hub.clock()
        mark, receipted = v.watermark(self.book, lease.zone, now, self.max_age) if you else (0, ())
        calls = v.unspoken(self.book, lease.zone, now, self.max_age) if you else ()
        frame = m.Voice(lease.zone, lease.label, lease.epoch, you, mark, receipted, calls)
        self.hub._push(client, protocol.encode(frame).encode())

    def _to_subscribers(self, notice: m.HubNotice, role: str) -> None:
        # Operators hear back (receipts, voice queue); boards get the speaking state. Nobody else.
        frame = protocol.encode(notice).encode()
        for client in list(self.hub.clients):
            if client.subscribed and (role is None or client.token.role == role):
                self.hub._push(client, frame)

    def _queue_changed(self, zone: str) -> None:
        self._to_subscribers(m.VoiceQueue(zone, v.waiting(self.book, zone, self.hub.clock(), self.max_age)),
                             role="operator")

    def _set_speaking(self, zone: str, speaking: bool) -> None:
        if self.speaking.get(zone, False) == speaking:
            return
        self.speaking[zone] = speaking
        self._to_subscribers(m.SpeakingState(zone, speaking), role="display")

    # ------------------------------------------------------------ status

    def status(self) -> m.VoiceStatus:
        now = self.hub.clock()
        zones = tuple(m.ZoneVoice(z.name, (self.desk.leases.get(z.name) or v.Lease(z.name)).label,
                                  (self.desk.leases.get(z.name) or v.Lease(z.name)).epoch,
                                  self.speaking.get(z.name, False), v.waiting(self.book, z.name, now, self.max_age))
                      for z in self.zones)
        receipts = sorted((r for zb in self.book.zones.values() for r in zb.receipts.values()),
                          key=lambda r: r.seq)[-64:]
        return m.VoiceStatus(zones, tuple(receipts))

    def health(self) -> dict:
        out = {}
        for zone in self.zones:
            lease = self.desk.leases.get(zone.name) or v.Lease(zone.name)
            out[zone.name] = {"holder": lease.label, "epoch": lease.epoch,
                              "candidates": sum(1 for c in self.desk.candidates.values()
                                                if c.connected and zone.name in c.zones),
                              "speaking": self.speaking.get(zone.name, False)}
        return out
