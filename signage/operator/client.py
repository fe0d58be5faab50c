"""A small websocket client for one-shot commands and watching events.

Used by the operator CLI, the demo's simulated operators and kiosks, and the
benchmarks. Speaks protocol v1 through the session rules in signage.core.session.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from signage.core import messages as m, session as s
from signage.errors import AccessDenied, HubRefused, HubUnreachable
REPLY_TIMEOUT = float(os.environ.get("SIGNAGE_REPLY_TIMEOUT", "10"))


def new_id(prefix: str = "cli") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Session:
    """One connection, driven by core.session.ClientSession: hello, then commands; replies matched by id."""

    def __init__(self, url: str, token: str, role: str = "operator", client: str = "signage-cli",
                 subscribe: bool = False, since: int | None = None):
        self.url = url
        self.core = s.ClientSession(role, token, client, subscribe, since)
        self.ws: ClientConnection | None = None
        self.welcome: m.Welcome | None = None
        self._events: asyncio.Queue = asyncio.Queue()
        self.notices: asyncio.Queue = asyncio.Queue()  # voice receipts and queues (subscribed operators)
        self._pending: dict[str, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self._closed: s.Closed | None = None

    async def __aenter__(self) -> "Session":
        try:
            self.ws = await connect(self.url, compression=None, open_timeout=REPLY_TIMEOUT, max_size=2**22)
        except InvalidStatus as exc:
            status = exc.response.status_code
            cls = AccessDenied if status in s.FINAL_HTTP_STATUSES else HubUnreachable
            raise (cls("unauthorized", f"hub answered HTTP {status}") if cls is AccessDenied
                   else HubUnreachable(f"hub at {self.url} answered HTTP {status}")) from None
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            raise HubUnreachable(f"cannot connect to hub at {self.url}: {exc}") from None
        loop = asyncio.get_running_loop()
        await self._carry_out(self.core.start(loop.time(), REPLY_TIMEOUT))
        while self.welcome is None:
            try:
                frame = await asyncio.wait_for(self.ws.recv(), max(0.0, self.core.deadline - loop.time()))
            except ConnectionClosed as exc:
                raise HubUnreachable(f"hub closed the connection: {exc}") from None
            except asyncio.TimeoutError:
                await self.ws.close()
                raise HubUnreachable(f"no welcome from hub at {self.url} within {REPLY_TIMEOUT:g} s") from None
            for output in self.core.receive(frame):
                if isinstance(output, s.Welcomed):
                    self.welcome = output.welcome
                elif isinstance(output, s.Refused):
                    await self.ws.close()
                    raise _refusal(output.error)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        if self._reader:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.ws:
            await self.ws.close()

    async def _carry_out(self, outputs: list) -> None:
        for output in outputs:
            if isinstance(output, s.Send):
                await self.ws.send(output.frame)
            elif isinstance(output, s.Close):
                await self.ws.close(output.code, output.reason)
            elif isinstance(output, s.Replied):
                fut = self._pending.pop(output.id, None)
                if fut is not None and not fut.done():
                    fut.set_result(output.reply)
            elif isinstance(output, s.NoticeReceived):
                await self.notices.put(output.notice)
            elif isinstance(output, (s.EventReceived, s.HubError)):
                await self._events.put(output.event if isinstance(output, s.EventReceived) else output.error)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                await self._carry_out(self.core.receive(frame))
        except ConnectionClosed:
            pass
        finally:
            closed = self.core.connection_closed(self.ws.close_code, self.ws.close_reason or "")
            self._closed = closed[0] if closed else None
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(HubUnreachable("connection to hub closed before a reply"))
            await self._events.put(None)

    async def request(self, command: m.Command) -> m.Ack:
        """Send a command, wait for its ack. Raises HubRefused on an error reply."""
        if self._closed is not None:
            raise HubUnreachable(f"connection to hub lost: {self._closed.reason}")
        fut = asyncio.get_running_loop().create_future()
        self._pending[command.id] = fut
        try:
            await self._carry_out(self.core.request(command))
        except ConnectionClosed as exc:
            self._pending.pop(command.id, None)
            raise HubUnreachable(f"connection to hub lost: {exc}") from None
        try:
            reply = await asyncio.wait_for(fut, REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            self._pending.pop(command.id, None)
            raise HubUnreachable(f"no reply to {command.id} within {REPLY_TIMEOUT:g} s") from None
        if isinstance(reply, m.Error):
            raise _refusal(reply)
        return reply

    async def events(self) -> AsyncIterator[m.Event | m.Error]:
        while True:
            item = await self._events.get()
            if item is None:
                return
            yield item


def _refusal(error: m.Error) -> HubRefused:
    cls = AccessDenied if error.code in s.FINAL_ERROR_CODES else HubRefused
    return cls(error.code, error.message)


async def send_and_wait_spoken(url: str, token: str, command: m.Command, wait: float) -> tuple[m.Ack, m.Receipt | None]:
    """Send a call, then wait up to `wait` seconds for its voice receipt (None: none came)."""
    async with Session(url, token, role="operator", subscribe=True) as session:
        ack = await session.request(command)
        if ack.duplicate or ack.event is None:
            return ack, None
        known = next((r for r in (session.welcome.voice.receipts if session.welcome.voice else ())
                      if r.seq == ack.seq), None)
        if known is not None:
            return ack, known
        try:
            async with asyncio.timeout(wait):
                while True:
                    notice = await session.notices.get()
                    if isinstance(notice, m.Receipt) and notice.seq == ack.seq:
                        return ack, notice
        except TimeoutError:
            return ack, None


async def send(url: str, token: str, command: m.Command, role: str = "operator") -> m.Ack:
    async with Session(url, token, role=role) as session:
        return await session.request(command)
