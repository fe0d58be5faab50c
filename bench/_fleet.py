"""Clients for the hub benchmarks: a fleet of display connections and operator connections.

Raw websockets clients (no compression) that speak protocol v1 JSON, so the same code drives the
hub and the raw baseline server (bench/raw_broadcast_server.py). All of them live in the
benchmark's process, on one event loop: a display's receive time therefore includes the time this
process spent on the displays served before it — the same for the hub and the baseline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

from websockets.asyncio.client import ClientConnection, connect

from _common import ROOT  # noqa: F401  (bench/ is on sys.path when a benchmark runs)


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
    """N display connections; records when each one received the event for a ticket."""

    def __init__(self, url: str, token: str, count: int):
        self.url, self.token, self.count = url, token, count
        self.received: dict[str, list[float]] = defaultdict(list)  # ticket → receive times (monotonic)
        self._complete: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task] = []

    async def __aenter__(self) -> "DisplayFleet":
        for batch in range(0, self.count, 20):  # connect in small batches: a burst of 200 handshakes is not the point
            self.sockets += await asyncio.gather(*(
                hello(self.url, "display", self.token, f"bench-display-{i}")
                for i in range(batch, min(self.count, batch + 20))))
        self.readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]
        return self

    async def _read(self, ws: ClientConnection) -> None:
        async for frame in ws:
            at = time.monotonic()
            ticket = json.loads(frame).get("ticket")
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
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


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
