"""A TCP proxy on loopback that cuts its connections on demand, for link-fault tests.

    proxy = await CuttingProxy(hub_port).start()     # clients connect to proxy.port
    proxy.cut("reset")                               # every open connection: RST
    proxy.cut("close")                               # ... an orderly FIN, no websocket close frame
    proxy.cut("truncate")                            # ... a random prefix of the next hub chunk, then RST
    proxy.refusing = True                            # the network is down: new connections are reset
    await proxy.stop()

It runs on the caller's asyncio loop. "truncate" leaves the client holding half a
websocket frame, the hardest case for a reader: the cut lands mid-message.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct

CUTS = ("reset", "close", "truncate")
TRUNCATE_WAIT = 0.3  # seconds to wait for hub bytes to truncate; then a plain reset


class _Pair:
    """One client connection and its upstream connection to the target."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter):
        self.client = client
        self.upstream = upstream
        self.truncate = asyncio.Event()  # set: cut the next hub → client chunk short
        self.closed = False

    def kill(self, how: str) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.upstream):
            if how == "reset":
                sock = writer.get_extra_info("socket")
                if sock is not None:  # linger 0: close sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()


class CuttingProxy:
    def __init__(self, target_port: int, *, rng: random.Random | None = None):
        self.target_port = target_port
        self.rng = rng or random.Random()
        self.port: int | None = None
        self.accepted = 0
        self.refusing = False
        self.cuts: dict[str, int] = {how: 0 for how in CUTS}
        self._pairs: set[_Pair] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> "CuttingProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._server.close()
        for pair in list(self._pairs):
            pair.kill("reset")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def open_connections(self) -> int:
        return sum(not p.closed for p in self._pairs)

    def cut(self, how: str) -> int:
        """Cut every open connection; returns how many were cut."""
        assert how in CUTS, how
        pairs = [p for p in self._pairs if not p.closed]
        for pair in pairs:
            if how == "truncate":
                pair.truncate.set()
                self._spawn(self._reset_later(pair))
            else:
                pair.kill(how)
        self.cuts[how] += len(pairs)
        return len(pairs)

    # ------------------------------------------------------------ forwarding

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.refusing:
            client_w.transport.abort()
            return
        self._tasks.add(asyncio.current_task())  # so stop() can wait for this connection's end
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.transport.abort()  # target down: the client sees a refused-like drop
            return
        pair = _Pair(client_w, up_w)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pump(client_r, up_w, pair, truncating=False),
                                 self._pump(up_r, client_w, pair, truncating=True))
        finally:
            pair.kill("close")
            self._pairs.discard(pair)
            self._tasks.discard(asyncio.current_task())

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair,
                    truncating: bool) -> None:
        try:
            while not pair.closed:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                if truncating and pair.truncate.is_set() and len(chunk) > 1:
                    writer.write(chunk[:self.rng.randrange(1, len(chunk))])
                    await writer.drain()
                    pair.kill("reset")
                    return
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            pair.kill("close")

    async def _reset_later(self, pair: _Pair) -> None:
        await asyncio.sleep(TRUNCATE_WAIT)
        pair.kill("reset")  # no hub bytes came meanwhile: nothing to truncate
