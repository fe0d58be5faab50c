"""Clients for the hub benchmarks: a fleet of display connections and operator connections.

Plain websockets clients (no compression) that speak protocol v1 JSON, so the same code drives the
hub and the raw baseline server (bench/raw_broadcast_server.py). All of them live in the
benchmark's process, on one event loop (the server runs in its own process).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri



def tokens(config_path) -> dict[str, str]:
    """Token name → secret, from a config file."""
    import yaml

    raw = yaml.safe_load(open(config_path, encoding="utf-8"))
    return {t["name"]: t["token"] for t in raw["tokens"]}


async def hello(url: str, role: str, token: str, client: str, subscribe: bool | None = None) -> ClientConnection:
    ws = await connect(url, compression=None, max_size=2**22, open_timeout=30, ping_interval=None)
    frame = {"type": "hello", "role": role, "token": token, "client": client, "since": None}
    if subscribe is not None:
        frame["subscribe"] = subscribe
    await ws.send(json.dumps(frame))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if welcome.get("type") != "welcome":
        raise RuntimeError(f"{client}: expected welcome, got {welcome}")
    return ws


class DisplayFleet:
    """N display connections; records when each one received the event for a ticket.

    Each display is a bare asyncio.Protocol around websockets' Sans-I/O ClientProtocol: the receive
    time is taken in data_received, before any parsing, and parsing is deferred with call_soon until
    every socket that became readable in the same loop iteration has its timestamp. So the k-th
    display's time does not include this process parsing the k-1 frames before it (with one
    websockets connection object per display it did: ~40 µs each, ~8 ms for 200).
    """

    def __init__(self, url: str, token: str, count: int):
        self.url, self.token, self.count = url, token, count
        self.received: dict[str, list[float]] = defaultdict(list)  # ticket → receive times (monotonic)
        self._complete: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.displays: list[_Display] = []

    async def __aenter__(self) -> "DisplayFleet":
        for batch in range(0, self.count, 20):  # connect in small batches: a burst of 200 handshakes is not the point
            self.displays += await asyncio.gather(*(
                _Display.open(self, f"bench-display-{i}") for i in range(batch, min(self.count, batch + 20))))
        return self

    def on_event(self, event: dict, at: float) -> None:
        ticket = event.get("ticket")
        if ticket is not None:
            times = self.received[ticket]
            times.append(at)
            if len(times) == self.count:
                self._complete[ticket].set()

    async def wait_all(self, ticket: str, limit: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(self._complete[ticket].wait(), limit)
            return True
        except asyncio.TimeoutError:
            return False

    async def __aexit__(self, *exc) -> None:
        for display in self.displays:
            display.close()


class _Display(asyncio.Protocol):
    def __init__(self, fleet: DisplayFleet, name: str):
        self.fleet, self.name = fleet, name
        self.ws = ClientProtocol(parse_uri(fleet.url), max_size=2**22)
        self.welcomed = asyncio.get_running_loop().create_future()
        self.chunks: list[tuple[float, bytes]] = []
        self.transport: asyncio.Transport | None = None

    @classmethod
    async def open(cls, fleet: DisplayFleet, name: str) -> "_Display":
        uri = parse_uri(fleet.url)
        display = cls(fleet, name)
        await asyncio.get_running_loop().create_connection(lambda: display, uri.host, uri.port)
        await asyncio.wait_for(display.welcomed, 30)
        return display

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.monotonic(), data))
        if len(self.chunks) == 1:
            asyncio.get_running_loop().call_soon(self._parse)

    def _parse(self) -> None:
        chunks, self.chunks = self.chunks, []
        for at, data in chunks:
            self.ws.receive_data(data)
            for event in self.ws.events_received():
                if isinstance(event, Response):
                    if event.status_code != 101:
                        self.welcomed.set_exception(RuntimeError(f"{self.name}: HTTP {event.status_code}"))
                        continue
                    hello = {"type": "hello", "role": "display", "token": self.fleet.token, "client": self.name,
                             "since": None}
                    self.ws.send_text(json.dumps(hello).encode())
                elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    message = json.loads(event.data)
                    if message.get("type") == "welcome":
                        self.welcomed.set_result(None)
                    elif message.get("type") == "error" and not self.welcomed.done():
                        self.welcomed.set_exception(RuntimeError(f"{self.name}: {message}"))
                    else:
                        self.fleet.on_event(message, at)
        self._flush()  # pongs, our hello

    def _flush(self) -> None:
        data = b"".join(self.ws.data_to_send())
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.ws.send_close()
            self._flush()
            self.transport.close()


class Operator:
    """One operator (or kiosk) connection: send a command, wait for the reply with its id."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self._pending: dict[str, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())
        self._ids = 0

    @classmethod
    async def connect(cls, url: str, token: str, name: str, role: str = "operator") -> "Operator":
        return cls(await hello(url, role, token, name, subscribe=False))

    async def _read(self) -> None:
        async for frame in self.ws:
            reply = json.loads(frame)
            future = self._pending.pop(reply.get("id"), None)
            if future is not None and not future.done():
                future.set_result((reply, time.monotonic()))

    async def request(self, command: dict) -> tuple[dict, float, float]:
        """(reply, monotonic time just before sending, monotonic time the reply arrived)."""
        self._ids += 1
        command = {**command, "id": f"bench-{id(self):x}-{self._ids}"}
        future = asyncio.get_running_loop().create_future()
        self._pending[command["id"]] = future
        sent = time.monotonic()
        await self.ws.send(json.dumps(command))
        reply, arrived = await asyncio.wait_for(future, 10)
        return reply, sent, arrived

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()
