"""A small websocket client for one-shot commands and watching events.

Used by the operator CLI, the demo's simulated operators and kiosks, and the
benchmarks. Speaks protocol v1 through signage.core.protocol.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from typing import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from signage.core import messages as m, protocol
from signage.errors import AccessDenied, HubRefused, HubUnreachable

FINAL_CODES = ("unauthorized", "forbidden")
REPLY_TIMEOUT = float(os.environ.get("SIGNAGE_REPLY_TIMEOUT", "10"))


def new_id(prefix: str = "cli") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Session:
    """One connection: hello, then commands; replies are matched by id."""

    def __init__(self, url: str, token: str, role: str = "operator", client: str = "signage-cli",
                 subscribe: bool = False, since: int | None = None):
        self.url = url
        self.hello = m.Hello(role, token, client, since, subscribe)
        self.ws: ClientConnection | None = None
        self.welcome: m.Welcome | None = None
        self._ids = itertools.count(1)
        self._events: asyncio.Queue = asyncio.Queue()
        self._pending: dict[str, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> "Session":
        try:
            self.ws = await connect(self.url, compression=None, open_timeout=REPLY_TIMEOUT, max_size=2**22)
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            raise HubUnreachable(f"cannot connect to hub at {self.url}: {exc}") from None
        await self.ws.send(protocol.encode(self.hello))
        try:
            reply = protocol.parse_hub_frame(await asyncio.wait_for(self.ws.recv(), REPLY_TIMEOUT))
        except ConnectionClosed as exc:
            raise HubUnreachable(f"hub closed the connection: {exc}") from None
        except asyncio.TimeoutError:
            raise HubUnreachable(f"no welcome from hub at {self.url} within {REPLY_TIMEOUT:g} s") from None
        if isinstance(reply, m.Error):
            await self.ws.close()
            raise _refusal(reply)
        assert isinstance(reply, m.Welcome), reply
        self.welcome = reply
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        if self._reader:
            self._reader.cancel()
        if self.ws:
            await self.ws.close()

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                msg = protocol.parse_hub_frame(frame)
                if isinstance(msg, (m.Ack, m.Error)) and msg.id in self._pending:
                    self._pending.pop(msg.id).set_result(msg)
                elif isinstance(msg, m.Error):
                    await self._events.put(msg)
                else:
                    await self._events.put(msg)
        except ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(HubUnreachable("connection to hub closed before a reply"))
            await self._events.put(None)

    async def request(self, command: m.Command) -> m.Ack:
        """Send a command, wait for its ack. Raises HubRefused on an error reply."""
        fut = asyncio.get_running_loop().create_future()
        self._pending[command.id] = fut
        try:
            await self.ws.send(protocol.encode(command))
        except ConnectionClosed as exc:
            self._pending.pop(command.id, None)
            raise HubUnreachable(f"connection to hub lost: {exc}") from None
        try:
            reply = await asyncio.wait_for(fut, REPLY_TIMEOUT)
        except asyncio.TimeoutError:
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
    cls = AccessDenied if error.code in FINAL_CODES else HubRefused
    return cls(error.code, error.message)


async def send(url: str, token: str, command: m.Command, role: str = "operator") -> m.Ack:
    async with Session(url, token, role=role) as session:
        return await session.request(command)
