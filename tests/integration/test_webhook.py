"""notify.webhook: a local HTTP receiver gets `near` and `called`; a dead gateway doesn't hold up acks."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timedelta, timezone

from support import FakeClock, hall_config, raw_client, running_hub, timeout

KIOSK = "tok-61c33f70e176f32fd243"
LOKET_1 = "tok-086da5616dbf7676a9b9"
MORNING = datetime(2026, 12, 2, 8, 30, tzinfo=timezone(timedelta(hours=7)))


class Receiver:
    """A minimal HTTP server on 127.0.0.1:0 recording JSON bodies; `answer=False` accepts and never answers."""

    def __init__(self, answer: bool = True):
        self.answer = answer
        self.bodies: list[dict] = []
        self.arrived = asyncio.Condition()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _handle(self, reader, writer):
        if not self.answer:
            await asyncio.sleep(3600)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        body = json.loads(await reader.readexactly(length))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        async with self.arrived:
            self.bodies.append(body)
            self.arrived.notify_all()

    async def wait(self, count: int):
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.bodies) >= count), timeout(10))
        return self.bodies


def with_webhook(tmp_path, url: str, **notify):
    config = hall_config(tmp_path)
    return dataclasses.replace(config, notify=dataclasses.replace(config.notify, webhook=url, **notify))


async def command(client, obj) -> dict:
    await client.send(obj)
    while True:
        frame = await client.recv()
        if frame["type"] in ("ack", "error") and frame.get("id") == obj["id"]:
            return frame


async def test_receiver_gets_near_and_called_for_tickets_with_a_phone_number(tmp_path):
    async with Receiver() as receiver:
        config = with_webhook(tmp_path, f"http://127.0.0.1:{receiver.port}/hook")
        async with running_hub(config, FakeClock(MORNING)) as hub:
            async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk, raw_client(hub.url, LOKET_1) as op:
                await kiosk.recv_type("welcome")
                await op.recv_type("welcome")
                for n in range(4):
                    await command(kiosk, {"type": "issue", "id": f"k{n}", "service": "DUKCAPIL-01"})
                ack = await command(kiosk, {"type": "issue", "id": "mine", "service": "DUKCAPIL-01",
                                            "phone": "0812 3456 7890"})
                await command(op, {"type": "next", "id": "n0", "counter": 1})  # 3 ahead now: near
                near = (await receiver.wait(1))[0]
                assert near["event"] == "near" and near["ticket"] == "A-005" and near["phone"] == "081234567890"
                assert near["url"].endswith(f"/t/{ack['track']}") and near["ahead"] == 3
                for n in range(1, 5):
                    await command(op, {"type": "next", "id": f"n{n}", "counter": 1})
                called = (await receiver.wait(2))[1]
                assert (called["event"], called["ticket"], called["counter"]) == ("called", "A-005", 1)
                assert len(receiver.bodies) == 2  # tickets without a phone number are never sent


async def test_a_gateway_that_never_answers_does_not_hold_up_the_hub(tmp_path):
    async with Receiver(answer=False) as receiver:
        config = with_webhook(tmp_path, f"http://127.0.0.1:{receiver.port}/hook", webhook_timeout=30,
                              webhook_queue=5)
        async with running_hub(config, FakeClock(MORNING)) as hub:
            async with raw_client(hub.url, KIOSK, role="kiosk") as kiosk, raw_client(hub.url, LOKET_1) as op:
                await kiosk.recv_type("welcome")
                await op.recv_type("welcome")
                for n in range(20):
                    await command(kiosk, {"type": "issue", "id": f"k{n}", "service": "DUKCAPIL-01",
                                          "phone": f"08123456{n:04d}"})
                # every next makes someone near or called: the sender is stuck on the first POST
                for n in range(20):
                    ack = await asyncio.wait_for(command(op, {"type": "next", "id": f"n{n}", "counter": 1}),
                                                 timeout(5))
                    assert ack["type"] == "ack"
                assert len(hub.notifier.queue) <= 5 and hub.notifier.dropped > 0  # bounded, oldest dropped
                assert hub.notifier.sent == 0
