"""`signage printer`: the kiosk PC's print agent. Prints each ticket its kiosk issues.

    hub ──print──► agent ──render (Pillow) ─► escpos ─► printer
        ◄──printed / print_failed (reason from the printer's status)

It connects as hello role "printer" with the kiosk's own token, so the hub sends it
that kiosk's tickets only; the hub relays the outcome to the kiosk page. Reconnects
with backoff (core/backoff.py); jobs are printed one at a time in a worker thread, so
a slow printer never blocks the connection.

Every fleet.heartbeat_seconds it sends the fleet heartbeat a board sends, with the
printer's state (ok, paper_out, cover_open, offline, device_missing, or unknown when
the connection can't tell): the last print's outcome if it is that recent, else a
probe of the device on the same worker thread (docs/fleet.md, "Ticket printers").
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from signage.config import Config
from signage.core import messages as m, session as s
from signage.core.backoff import backoff_delay
from signage.core.ticket_layout import layout
from signage.display import fleet
from signage.printer import device as d
from signage.printer.render import render

log = logging.getLogger("signage.printer")


class PrinterAgent:
    def __init__(self, config: Config, url: str, token: str, device: d.DeviceURI, kiosk: str,
                 paper: int | None = None, name: str | None = None, warnings: fleet.WarningCounter | None = None):
        self.config = config
        self.url = url
        self.token = token
        self.device = device
        self.kiosk = kiosk
        self.paper = paper or config.printer.paper
        self.name = name or f"printer-{kiosk}"  # its name on /status
        self.core = s.ClientSession("printer", token, self.name, None)
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="printer")
        self.printed = self.failed = 0  # tickets since start, for the heartbeat
        self.connected = asyncio.Event()
        self.state = "unknown"  # the printer's, as last known: messages.PRINTER_STATES
        self.answers_status = True  # False once a probe got no answer: idle probes then only open and close
        self._last_print = -math.inf  # loop time of the last print attempt
        self._vitals = fleet.Vitals(config.path.parent)
        self._warnings = warnings or fleet.WarningCounter()

    async def run(self) -> None:
        attempt = 0
        try:
            while True:
                try:
                    async with connect(self.url, compression=None, open_timeout=10) as ws:
                        attempt = 0
                        final = await self._session(ws)
                        if final:
                            return
                except InvalidStatus as exc:
                    if exc.response.status_code in s.FINAL_HTTP_STATUSES:
                        log.error("hub refused the printer agent: HTTP %d", exc.response.status_code)
                        return
                except (OSError, InvalidHandshake, asyncio.TimeoutError, ConnectionClosed) as exc:
                    log.warning("hub unreachable: %s", exc)
                self.connected.clear()
                await asyncio.sleep(backoff_delay(attempt))
                attempt += 1
                self.core = self.core.next_attempt()
        finally:
            self._io.shutdown(wait=False)

    async def _session(self, ws) -> bool:
        """One connection; True if the hub refused us for good."""
        jobs: asyncio.Queue = asyncio.Queue()
        worker = asyncio.create_task(self._work(ws, jobs))
        beats = asyncio.create_task(self._beat(ws, jobs))
        try:
            await self._carry_out(ws, self.core.start(asyncio.get_running_loop().time()), jobs)
            async for frame in ws:
                await self._carry_out(ws, self.core.receive(frame), jobs)
        except ConnectionClosed:
            pass
        finally:
            worker.cancel()
            beats.cancel()
            rcvd = ws.protocol.close_rcvd
            outputs = self.core.connection_closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")
        closed = outputs[0] if outputs else None
        if self.core.refused is not None:
            log.error("hub refused the printer agent: %s: %s", self.core.refused.code, self.core.refused.message)
        return bool(closed and closed.final)

    async def _carry_out(self, ws, outputs, jobs: asyncio.Queue) -> None:
        for output in outputs:
            if isinstance(output, s.Send):
                await ws.send(output.frame)
            elif isinstance(output, s.Close):
                await ws.close(output.code, output.reason)
            elif isinstance(output, s.Welcomed):
                log.info("connected to %s as the printer of kiosk %s (%s, %d mm)", self.url, self.kiosk,
                         self.device.kind, self.paper)
                self.connected.set()
            elif isinstance(output, s.NoticeReceived) and isinstance(output.notice, m.PrintJob):
                jobs.put_nowait(output.notice)
            elif isinstance(output, s.Replied) and isinstance(output.reply, m.Error):
                log.warning("hub refused a print report: %s: %s", output.reply.code, output.reply.message)

    async def _work(self, ws, jobs: asyncio.Queue) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await jobs.get()
            try:
                image = render(layout(job, self.config, self.paper))
                reason = await loop.run_in_executor(self._io, d.print_image, self.device, image)
            except Exception:  # a bug in drawing one ticket: report it, keep printing the next
                log.exception("printing %s failed", job.ticket)
                reason = "error"
            self.state, self._last_print = reason or "ok", loop.time()
            if reason is None:
                self.printed += 1
                log.info("printed %s", job.ticket)
                report = m.Printed(_id(), job.ticket)
            else:
                self.failed += 1
                log.warning("ticket %s not printed: %s", job.ticket, reason)
                report = m.PrintFailed(_id(), job.ticket, reason)
            try:
                await self._carry_out(ws, self.core.request(report), jobs)
            except s.SessionError:
                return  # the connection is closing; the kiosk already shows its fallback after a while

    async def _beat(self, ws, jobs: asyncio.Queue) -> None:
        """The fleet heartbeat, from the welcome on, with the printer's state."""
        loop = asyncio.get_running_loop()
        period = self.config.fleet.heartbeat_seconds
        await self.connected.wait()
        while True:
            if loop.time() - self._last_print >= period:  # no print outcome that recent: ask the device
                try:
                    state = await loop.run_in_executor(self._io, d.probe, self.device, self.answers_status)
                except Exception:  # a driver's surprise: say so on /status, keep beating and printing
                    log.exception("probing the printer failed")
                    state = "error"
                if loop.time() - self._last_print >= period:  # a print that finished meanwhile knows better
                    if state == "unknown" and self.answers_status and self.device.kind != "file":
                        self.answers_status = False
                        log.info("the printer does not answer status queries; its status will show as unknown")
                    self.state = state
            try:
                await self._carry_out(ws, self.core.notify(self.heartbeat(ws.latency)), jobs)
            except s.SessionError:
                return
            await asyncio.sleep(period)

    def heartbeat(self, rtt: float | None) -> m.Heartbeat:
        beat = fleet.heartbeat(name=self.name, vitals=self._vitals, fps=0.0, seq=0, zone=None, size=None,
                               rtt=rtt or None, clock=datetime.now(self.config.hall.timezone), audio="off",
                               audio_reason="", broken=(), warnings=self._warnings, layout="printer")
        return replace(beat, printer=self.state, printer_device=f"{self.device.kind}://{self.device.target}",
                       printed=self.printed, print_failures=self.failed)


def _id() -> str:
    return f"print-{uuid.uuid4().hex[:12]}"
