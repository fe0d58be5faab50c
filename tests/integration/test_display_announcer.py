"""The display loop drives the real Announcer: live calls are played, replayed ones are not.

In one process: a real hub (own asyncio thread, SQLite journal in tmp_path), the
real HubLink thread, the Display loop on the SDL dummy video driver and the real
Announcer on the dummy audio driver (its observer reports chime/speech/end).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pygame
import pytest

from signage.announcer.service import Announcer
from signage.core import messages as m
from signage.display.app import Display, HallClock
from signage.display.link import HubLink
from signage.display.renderer import FontBook, Renderer
from signage.hub.server import Hub
from signage.operator.client import new_id, send
from support import hall_config, timeout


@pytest.fixture
def hub_thread(tmp_path):
    cfg = hall_config(tmp_path)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    hub = Hub(cfg, host="127.0.0.1", port=0)
    asyncio.run_coroutine_threadsafe(hub.start(), loop).result(timeout(10))

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout(10))

    yield cfg, hub, run
    run(hub.stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout(5))


def step_until(display: Display, condition, seconds: float) -> bool:
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        display.step(display._timeout())
        if condition():
            return True
    return False


def test_live_call_is_announced_replayed_call_is_shown_but_not(hub_thread):
    cfg, hub, run = hub_thread
    operator = next(t.secret for t in cfg.tokens if t.role == "operator" and t.counters is None)
    display_token = next(t.secret for t in cfg.tokens if t.role == "display")
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((640, 360))
    played: list[tuple[str, int]] = []
    once = dataclasses.replace(cfg.announcer, repeat=1)  # one phrase is enough, and quicker
    announcer = Announcer(once, {c.number: c.name for c in cfg.counters}, cfg.hall.locale,
                          observer=lambda part, a: played.append((part, a.notice.seq)))
    announcer.start()
    wakeup = threading.Event()
    clock = HallClock(cfg.hall.timezone)

    def new_link():
        return HubLink(hub.url, display_token, client="t", history_limit=cfg.hub.history, clock=clock,
                       wake=wakeup.set)

    link = new_link().start()
    display = Display(cfg, cfg.zone(None), screen, Renderer(FontBook(), {}), link, announcer, clock=clock,
                      wakeup=wakeup)
    try:
        assert step_until(display, lambda: display.status.state == "online", 10)
        live = run(send(hub.url, operator, m.Call(new_id("t"), 5, "E-001"))).seq
        assert step_until(display, lambda: ("end", live) in played, 30), played
        assert ("chime", live) in played and ("speech", live) in played

        # Cut the link, call meanwhile, reconnect from where the board was: the hub replays.
        link.stop()
        missed = run(send(hub.url, operator, m.Call(new_id("t"), 7, "G-001"))).seq
        resumed = new_link()
        resumed.board = link.board
        display.link = resumed.start()
        assert step_until(display, lambda: display.snapshot.seq == missed, 10)
        assert display.snapshot.counters[7].ticket == "G-001"
        step_until(display, lambda: False, 1.5)  # give a wrong announcement time to start
        assert not [p for p in played if p[1] == missed], played
        assert announcer.queue.stats.replayed == 1
    finally:
        display.link.stop()
        announcer.stop()
        pygame.display.quit()
