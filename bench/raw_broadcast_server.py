"""Baseline for the hub benchmarks: the least a websockets 17 server can do for the same traffic.

    .venv/bin/python bench/raw_broadcast_server.py     (prints "raw broadcast: ws://127.0.0.1:PORT/")

Speaks just enough of our protocol for the same clients: answers a hello with a small welcome;
a display's connection is added to the audience; any other frame from an operator is answered
with an ack (to the sender, first, as the hub does) and a `called`-shaped event of the hub's size is
broadcast() to every display. No journal, no state, no compression, no per-client outbox.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime, timezone

from websockets.asyncio.server import broadcast, serve

displays = set()
seq = itertools.count(1)


def called(command: dict, n: int) -> str:
    """Same fields and about the same size as the hub's `called` event."""
    return json.dumps({"type": "called", "seq": n, "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                       "id": command.get("id"), "counter": command.get("counter", 1),
                       "ticket": command.get("ticket", "A-001"), "service": None, "waiting": {}},
                      separators=(",", ":"))


async def handle(ws) -> None:
    hello = json.loads(await ws.recv())
    await ws.send(json.dumps({"type": "welcome", "seq": 0, "role": hello.get("role")}))
    if hello.get("role") == "display":
        displays.add(ws)
        try:
            await ws.wait_closed()
        finally:
            displays.discard(ws)
        return
    async for frame in ws:
        command = json.loads(frame)
        n = next(seq)
        await ws.send(json.dumps({"type": "ack", "id": command.get("id"), "seq": n}))
        broadcast(displays, called(command, n))


async def main() -> None:
    async with serve(handle, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"raw broadcast: ws://127.0.0.1:{port}/", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
