"""notify.webhook: POST the JSON of `near` and `called` to the hall's WhatsApp/SMS gateway.

A dead gateway never slows the hub: `submit` only appends to a bounded queue (the
oldest notification is dropped beyond notify.webhook_queue; a "you are near" from an
hour ago is worth nothing); one background task sends, each attempt bounded by
notify.webhook_timeout, retried with exponential backoff (core/backoff.py) up to
notify.webhook_retries times. Plain HTTP/1.1 over asyncio streams (https with the
default TLS context): one small POST needs no client library.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from urllib.parse import urlsplit

from signage.core import protocol, text
from signage.core.backoff import backoff_delay
from signage.core.config import NotifyConfig

log = logging.getLogger("signage.hub.webhook")


class Notifier:
    def __init__(self, notify: NotifyConfig, backoff_scale: float = 1.0):
        self.notify = notify
        self.url = urlsplit(notify.webhook)
        self.queue: collections.deque[dict] = collections.deque(maxlen=notify.webhook_queue)
        self.wake = asyncio.Event()
        self.backoff_scale = backoff_scale
        self.sent = 0
        self.dropped = 0
        self.failed = 0

    def submit(self, body: dict) -> None:
        """Queue one notification; never waits."""
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append(body)
        self.wake.set()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                body = self.queue.popleft()
                await self._deliver(body)

    async def _deliver(self, body: dict) -> None:
        data = protocol.encode_document(body).encode()
        for attempt in range(self.notify.webhook_retries + 1):
            try:
                status = await asyncio.wait_for(self._post(data), self.notify.webhook_timeout)
                if 200 <= status < 300:
                    self.sent += 1
                    return
                if 400 <= status < 500 and status != 429:
                    break  # the gateway refuses this one: retrying won't help
                why = f"HTTP {status}"
            except (OSError, asyncio.TimeoutError, ValueError) as exc:
                why = f"{type(exc).__name__}: {text.for_log(str(exc))}"
            if attempt < self.notify.webhook_retries:
                await asyncio.sleep(backoff_delay(attempt) * self.backoff_scale)
        self.failed += 1
        log.warning("webhook: %s for %s not delivered (%s)", body.get("event"), body.get("ticket"), why)

    async def _post(self, data: bytes) -> int:
        url = self.url
        secure = url.scheme == "https"
        port = url.port or (443 if secure else 80)
        reader, writer = await asyncio.open_connection(url.hostname, port,
                                                       ssl=ssl.create_default_context() if secure else None)
        try:
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            host = url.hostname + (f":{url.port}" if url.port else "")
            writer.write((f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\nConnection: close\r\nUser-Agent: signage-hub\r\n\r\n")
                         .encode() + data)
            await writer.drain()
            line = await reader.readline()
            parts = line.decode("latin-1").split()
            if len(parts) < 2 or not parts[1].isdigit():
                raise ValueError(f"not an HTTP answer: {line[:40]!r}")
            return int(parts[1])
        finally:
            writer.close()
