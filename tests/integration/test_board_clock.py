"""The board shows the hub's time, whatever its own clock says, across reconnects.

Hall mini PCs are often offline without NTP. The hub's clock is the hall's: each welcome
carries server_time and the board corrects its clock to it. Real hub (restarted on the
same port to cut the link), real HubLink thread, real Display loop and renderer.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta

import pygame
import pytest

from signage.core.layout import format_time
from signage.display.app import Display, HallClock
from signage.display.link import HubLink
from signage.display.renderer import FontBook, Renderer
from signage.hub.server import Hub
from support import hall_config, timeout

RECONNECTS = 5


class ClockAhead:
    """The hub's clock: the real one, `seconds` ahead of this machine's."""

    def __init__(self, tz, seconds: float):
        self.tz, self.seconds = tz, seconds

    def __call__(self) -> datetime:
        return datetime.now(self.tz) + timedelta(seconds=self.seconds)


def step_until(display: Display, condition, seconds: float) -> bool:
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        display.step(min(display._timeout(), 0.05))
        if condition():
            return True
    return False


def shown_time(display: Display) -> str:
    region = next(r for r in display.view.regions if r.key == "clock")
    return region.texts()[0].text


@pytest.mark.parametrize("hub_ahead", [300.0, -300.0])
def test_a_board_whose_clock_is_off_shows_the_hub_time_after_every_reconnect(tmp_path, hub_ahead):
    cfg = hall_config(tmp_path)
    tz, locale, label = cfg.hall.timezone, cfg.hall.locale, cfg.hall.timezone_label
    hub_clock = ClockAhead(tz, hub_ahead)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout(10))

    hub = Hub(cfg, clock=hub_clock, host="127.0.0.1", port=0)
    run(hub.start())
    port = hub.port
    token = next(t.secret for t in cfg.tokens if t.role == "display")
    pygame.display.init()
    pygame.font.init()
    wakeup = threading.Event()
    clock = HallClock(tz)
    link = HubLink(hub.url, token, client="clock-test", history_limit=cfg.hub.history, clock=clock,
                   wake=wakeup.set).start()
    display = Display(cfg, cfg.zone(None), pygame.display.set_mode((640, 360)), Renderer(FontBook(), {}), link,
                      clock=clock, wakeup=wakeup)
    tolerance = timeout(2.0)  # the skew is measured to within half the hello -> welcome round trip
    try:
        for attempt in range(RECONNECTS + 1):  # the first welcome, then one after each cut
            if attempt:
                # Cut the link from the hub's side: stop it, then start a new hub on the same port.
                run(hub.stop())
                assert step_until(display, lambda: display.status.state != "online", 15), f"cut {attempt}"
                hub = Hub(cfg, clock=hub_clock, host="127.0.0.1", port=port)
                run(hub.start())
            assert step_until(display, lambda: display.status.state == "online", 15), f"welcome {attempt}"
            before = hub_clock()
            board_skew = (display.clock() - before).total_seconds()
            shown = shown_time(display)
            after = hub_clock()
            assert abs(board_skew) < tolerance, f"after welcome {attempt} the board is {board_skew:+.1f} s off"
            assert shown in {format_time(before - timedelta(seconds=tolerance), locale, label),
                             format_time(after + timedelta(seconds=tolerance), locale, label)}, (attempt, shown)
        assert link.connects >= RECONNECTS + 1
    finally:
        link.stop()
        run(hub.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout(5))
        pygame.display.quit()
