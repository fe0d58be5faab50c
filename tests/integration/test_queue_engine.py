"""The queue engine over a real hub: a simulated day, concurrent `next`, and the flows."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter

import pytest

from signage.core import messages as m
from signage.errors import HubRefused
from signage.operator.client import Session, new_id
from support import hall_config, running_hub


def fast(tmp_path, **changes):
    from signage.config import RateLimit

    return hall_config(tmp_path, rate=RateLimit(10_000, 10_000), **changes)


async def test_a_simulated_day_calls_every_ticket_exactly_once(tmp_path):
    config = fast(tmp_path)
    tokens = {t.name: t.secret for t in config.tokens}
    rng = random.Random(600)
    # busy agencies get more visitors, as at a real MPP
    weights = {"DUKCAPIL": 8, "SAMSAT": 5, "BPJSKES": 4, "BAPENDA": 3, "POLRES": 3}
    services = [s.code for s in config.services]
    service_weights = [weights.get(config.service(s).agency, 1) for s in services]

    async with running_hub(config) as hub:
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk:
            issued = []
            for _ in range(600):
                ack = await kiosk.request(m.Issue(new_id("k"), rng.choices(services, service_weights)[0]))
                issued.append(ack.event.ticket)
        assert len(set(issued)) == 600

        called: list[tuple[int, str]] = []

        async def counter_desk(number: int) -> None:
            async with Session(hub.url, tokens[f"loket-{number:02d}"]) as op:
                while True:
                    try:
                        ack = await op.request(m.Next(new_id(f"n{number}"), number))
                    except HubRefused as exc:
                        assert exc.code == "queue_empty"
                        return
                    called.append((number, ack.event.ticket))
                    await op.request(m.Done(new_id(f"d{number}"), number))

        await asyncio.gather(*(counter_desk(c.number) for c in config.counters))

        tickets = [t for _, t in called]
        assert sorted(tickets) == sorted(issued)  # every ticket called, exactly once
        assert all(hub.state.hall.waiting[s] == 0 for s in hub.state.hall.waiting)
        # each counter only called tickets of its own agency's letter
        for number, ticket in called:
            served = {s.prefix for s in config.services_for_counter(number)}
            assert ticket.split("-")[0] in served
        per_counter = Counter(n for n, _ in called)
        assert per_counter[1] > per_counter[19]  # Disdukcapil is busier than Pos
        assert hub.seq == 600 * 3


async def test_21_counters_pressing_next_at_once_never_share_a_ticket(tmp_path):
    base = fast(tmp_path)
    everyone = tuple(c.number for c in base.counters)
    shared = dataclasses.replace(base.services[0], counters=everyone)  # one service, all 21 counters
    config = dataclasses.replace(base, services=(shared,) + base.services[1:])
    tokens = {t.name: t.secret for t in config.tokens}
    async with running_hub(config) as hub:
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk:
            for _ in range(210):
                await kiosk.request(m.Issue(new_id("k"), shared.code))
        sessions = [Session(hub.url, tokens[f"loket-{n:02d}"]) for n in everyone]
        for s in sessions:
            await s.__aenter__()
        try:
            got: list[str] = []
            for _ in range(10):  # ten rounds of 21 simultaneous presses
                acks = await asyncio.gather(*(s.request(m.Next(new_id(), n)) for s, n in zip(sessions, everyone)))
                got += [a.event.ticket for a in acks]
        finally:
            for s in sessions:
                await s.__aexit__(None, None, None)
        assert len(got) == 210 and len(set(got)) == 210
        assert sorted(got) == [f"A-{i:03d}" for i in range(1, 211)]


async def test_no_show_recall_and_transfer_over_the_wire(tmp_path):
    config = fast(tmp_path)
    tokens = {t.name: t.secret for t in config.tokens}
    async with running_hub(config) as hub:
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, tokens["loket-01"]) as desk1, \
                Session(hub.url, tokens["loket-02"]) as desk2, \
                Session(hub.url, tokens["tv-semua"], role="display", subscribe=True) as tv:
            first = (await kiosk.request(m.Issue("k1", "DUKCAPIL-01"))).event
            second = (await kiosk.request(m.Issue("k2", "DUKCAPIL-01"))).event
            assert (first.ticket, first.position, second.position) == ("A-001", 1, 2)

            assert (await desk1.request(m.Next("n1", 1))).event.ticket == "A-001"
            skip = (await desk1.request(m.Skip("s1", 1))).event
            assert (skip.reason, skip.ticket) == ("no_show", "A-001")
            assert (await desk1.request(m.Next("n2", 1))).event.ticket == "A-002"
            # the visitor comes back: call A-001 again from the no-show list
            back = (await desk1.request(m.Recall("r1", 1, "A-001"))).event
            assert isinstance(back, m.Recalled) and back.ticket == "A-001"
            with pytest.raises(HubRefused) as info:
                await desk1.request(m.Recall("r2", 1, "A-001"))  # no longer in the list
            assert info.value.code == "unknown_ticket"

            # A-001 actually needs a business permit: send it to DPMPTSP's line, keeping its place
            await kiosk.request(m.Issue("k3", "DPMPTSP-01"))  # B-001 arrives first in that line
            moved = (await desk1.request(m.Transfer("t1", 1, "DPMPTSP-01"))).event
            assert (moved.reason, moved.to_service) == ("transfer", "DPMPTSP-01")
            nxt = (await desk2.request(m.Next("n3", 2))).event
            assert nxt.ticket == "A-001"  # issued before B-001, so first
            assert (await desk2.request(m.Done("d3", 2))).event.reason == "done"

            # the board heard every step, in order, with waiting counts
            seen = []
            async for event in tv.events():
                seen.append(event)
                if event.id == "d3":
                    break
            assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
            kinds = [(type(e).__name__, getattr(e, "reason", None)) for e in seen]
            assert ("Cleared", "no_show") in kinds and ("Cleared", "transfer") in kinds
            assert hub.state.hall.waiting["DPMPTSP-01"] == 1


async def test_a_counter_cannot_call_a_ticket_of_a_service_it_does_not_serve(tmp_path):
    config = fast(tmp_path)
    tokens = {t.name: t.secret for t in config.tokens}
    async with running_hub(config) as hub:
        async with Session(hub.url, tokens["anjungan-1"], role="kiosk") as kiosk, \
                Session(hub.url, tokens["supervisor"]) as boss:
            ticket = (await kiosk.request(m.Issue("k1", "SAMSAT-01"))).event.ticket
            with pytest.raises(HubRefused) as info:
                await boss.request(m.Call("c1", 1, ticket))
            assert info.value.code == "forbidden"
            assert "counter 1 does not serve SAMSAT-01" in info.value.message
            assert (await boss.request(m.Call("c2", 3, ticket))).event.service == "SAMSAT-01"
