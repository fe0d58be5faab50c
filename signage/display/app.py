"""The display loop: pygame events in, partial screen updates out.

One iteration (in the spirit of Pygame Zero's game loop, without its globals):

    sleep on `wakeup` (a threading.Event), at most until the next ticker frame or
    View.wake_at; the link thread sets it the moment an update is queued
    → pump pygame's events, forward each to the announcer; drain the link's updates
    → rebuild the View only if the state, the link status or the clock moved it
    → draw the regions that changed + the ticker strip; display.update(rects)

Why not pygame.event.wait(timeout): pygame-ce implements it by polling SDL every
millisecond, which costs ~3% of a core even with nothing to do (measured under
Xvfb); a threading.Event wait sleeps in the kernel. SDL's own events (keys,
window exposure, the mixer's end-of-sound event) are pumped on every wake, which
is at least every POLL_CAP seconds, and every ANNOUNCER_WAIT while speaking.

The loop never touches the network (signage.display.link runs in its own thread)
and never waits for speech (the announcer's submit/tick return at once). Logged
for tests and benchmarks:

    notice seq=N kind=call ticket=A-023 counter=5 live=True    every call/recall applied
    shown seq=N mono=T                                          first update showing seq N

Voice (docs/voice.md): with a ZoneVoice the board speaks only while it holds its
audio zone's lease. Ducking hook: `add_speaking_listener(fn)` calls fn(zone, speaking)
on the render thread whenever an audio zone that covers this board's counters
starts or stops speaking (this board's own voice, or another speaker's, relayed by
the hub); `speaking` says whether any such zone speaks now.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

import pygame

from signage.config import Config, Zone
from signage.core import hall, protocol
from signage.core.announcements import CallNotice, notice_for
from signage.core.clock import corrected
from signage.core.text import for_log
from signage.core import messages as m
from signage.core.layout import LinkStatus, Rect, View, build_view
from signage.core.screens import build_screen
from signage.display import fleet
from signage.display.link import ActionAsked, BoardChanged, EstimatesChanged, HubLink, StatusChanged, VoiceChanged
from signage.display.renderer import Renderer, drawable

log = logging.getLogger("signage.display")

TICKER_FPS = 30
POLL_CAP = 0.25  # seconds: pump SDL's events (keys, window, QUIT) at least this often
ANNOUNCER_WAIT = 0.02  # while speaking: tick often, so the next part is queued without a gap


class Announcer(Protocol):
    """What the loop needs from signage.announcer.service.Announcer."""

    def submit(self, notice: CallNotice, now: datetime) -> Any: ...
    def handle_event(self, event: pygame.event.Event) -> Any: ...
    def tick(self, now: datetime) -> Any: ...
    @property
    def busy(self) -> bool: ...


@dataclass
class HallClock:
    """Local wall clock in the hall's time zone, corrected to the hub's clock at each welcome.

    One owner: only the render thread sets `offset`, to the absolute value the link measured
    against the uncorrected system clock (signage.core.clock), so nothing is lost on reconnect.
    """

    tz: Any
    offset: float = 0.0  # hub clock minus the system clock, seconds

    def __call__(self) -> datetime:
        return corrected(datetime.now(self.tz), self.offset)


class Display:
    def __init__(self, config: Config, zone: Zone, screen: pygame.Surface, renderer: Renderer,
                 link: HubLink | None, announcer: Announcer | None = None, *,
                 clock: HallClock, wakeup: threading.Event | None = None, quit_on_escape: bool = False,
                 snapshot_dir: Path | None = None, mono: Callable[[], float] = time.monotonic,
                 layout: str = "queue", media=None, voice=None):
        self.config = config
        self.zone = zone
        self.screen = screen
        self.renderer = renderer
        self.link = link
        self.announcer = announcer
        self.clock = clock
        self.wakeup = wakeup or threading.Event()  # set by the link thread (and SIGTERM): wake at once
        self.mono = mono
        self.quit_on_escape = quit_on_escape
        self.snapshot_dir = snapshot_dir
        self.snapshot = hall.EMPTY
        self.estimates: m.Estimates | None = None  # the hub's per-agency waits (display.show_estimate)
        self.status = LinkStatus("connecting", clock())
        self.view: View | None = None
        self.shown: View | None = None  # what is on the screen now
        self.stale = True  # state or status changed since the last build_view
        self.running = True
        self.frames = 0
        self._shown_seq = -1
        self._ticker_texts: tuple | None = None
        self._ticker_t0 = mono()
        self._next_ticker = 0.0
        self._saved: tuple | None = None  # (seq, link state) of the last --snapshot-dir frame
        self.layout = layout  # queue | split | media (signage.core.screens)
        self.media = media  # signage.display.media.area.MediaArea, or None: no media area
        self.covers: tuple = ()  # board regions over the media area (hero overlay, offline bar)
        self.identity: Callable[[], list[str]] = lambda: []  # identify card: name, address, version
        self._identity_lines: list[str] = []
        self.identify_until: float | None = None
        self.restart_requested = False
        self._identified: float | None = None
        self._identify_card: Rect | None = None  # where the card lies, so the media paints around it
        self.voice = voice  # signage.announcer.zone_voice.ZoneVoice, or None: speak every call (no lease)
        # Audio zones that cover this board's counters: their speaking state ducks its media.
        self.audio_zones = {z.name for z in config.audio.zones if set(z.counters) & set(zone.counters)}
        self.zone_speaking: dict[str, bool] = {}
        self._speaking_listeners: list[Callable[[str, bool], None]] = []
        if voice is not None:
            voice.on_speaking = self._speaking_changed

    # ------------------------------------------------------------ ducking hook

    def add_speaking_listener(self, listener: Callable[[str, bool], None]) -> None:
        """listener(zone, speaking) on the render thread, whenever a zone over this board starts or stops."""
        self._speaking_listeners.append(listener)

    @property
    def speaking(self) -> bool:
        return any(self.zone_speaking.values())

    def _speaking_changed(self, zone: str, speaking: bool) -> None:
        if zone not in self.audio_zones or self.zone_speaking.get(zone, False) == speaking:
            return
        self.zone_speaking[zone] = speaking
        for listener in self._speaking_listeners:
            listener(zone, speaking)

    # ------------------------------------------------------------ loop

    def run(self) -> None:
        while self.running:
            self.step(self._timeout())

    def step(self, timeout: float) -> None:
        if timeout > 0:
            self.wakeup.wait(timeout)
        self.wakeup.clear()  # before draining: an update queued from now on sets it again
        events = pygame.event.get()
        for event in events:
            if self.announcer is not None:
                self.announcer.handle_event(event)
            self._handle(event)
        if self.link is not None:
            self._apply(self.link.drain())
        now = self.clock()
        if self.announcer is not None:
            self.announcer.tick(now)
        if self.voice is not None:
            self.voice.tick(now)
        self._render(now)

    def _timeout(self) -> float:
        waits = [POLL_CAP]
        if self.stale:
            waits.append(0.0)
        if self.announcer is not None and self.announcer.busy:
            waits.append(ANNOUNCER_WAIT)
        if self.view is not None and self.view.wake_at is not None:
            waits.append((self.view.wake_at - self.clock()).total_seconds())
        if self.view is not None and self.view.ticker is not None:
            waits.append(self._next_ticker - self.mono())
        if self.media is not None and (due := self.media.due_in(self.mono())) is not None:
            waits.append(due)
        if self.identify_until is not None:
            waits.append(self.identify_until - self.mono())
        return max(0.0, min(waits))

    def _handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE and self.quit_on_escape:
            self.running = False
        elif event.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED, pygame.WINDOWSIZECHANGED):
            self.shown = None  # the window system lost our pixels: redraw everything
            self.screen = pygame.display.get_surface()
            self.stale = True

    # ------------------------------------------------------------ link updates

    def _apply(self, updates) -> None:
        for update in updates:
            if isinstance(update, BoardChanged):
                self.snapshot = update.snapshot
                self.stale = True
                if update.event is not None and self.media is not None:
                    self.media.on_event(update.event)  # a `content` event starts a download
                notice = notice_for(update.event) if update.event is not None else None
                if notice is not None:
                    self._announce(notice)
                if self.voice is not None:
                    self.voice.board(update.snapshot, notice, self.clock())
            elif isinstance(update, VoiceChanged):
                if self.voice is not None:
                    self.voice.notice(update.notice, self.clock())
                if isinstance(update.notice, m.SpeakingState):
                    self._speaking_changed(update.notice.zone, update.notice.speaking)
            elif isinstance(update, EstimatesChanged):
                self.estimates = update.estimates
                self.stale = self.stale or self.config.display.show_estimate
            elif isinstance(update, ActionAsked):
                self._act(update.request)
            elif isinstance(update, StatusChanged):
                if update.clock_offset is not None:
                    self.clock.offset = update.clock_offset  # absolute: assigning it is idempotent
                if update.status.state != self.status.state:
                    log.info("link %s%s", update.status.state,
                             f": {update.status.detail}" if update.status.detail else "")
                    if update.status.state == "online" and self.media is not None:
                        self.media.on_online()
                # Keep the first moment the link went down, across retries.
                keep_since = update.status.state == self.status.state
                self.status = self.status if keep_since else update.status
                self.stale = True

    def _act(self, request) -> None:
        """An admin's action, on the render thread (it owns the surface); answers go out through the link."""
        if request.action == "screenshot":  # the frame on the screen now, not a re-render
            png = fleet.screenshot_png(self.screen, request.max_width, request.max_bytes)
            if png is not None:
                self.link.send_threadsafe(png)
            else:
                self._reply(m.ActionReply(request.id, False, f"no PNG fits in {request.max_bytes} bytes"))
        elif request.action == "identify":
            self.identify_until = self.mono() + request.seconds
            self._identity_lines = self.identity()
            self._identified = None  # draw the card on the next frame
            self.stale = True
            self._reply(m.ActionReply(request.id, True, " · ".join(self._identity_lines)))
        elif request.action == "restart":
            log.warning("restart asked by the hub: exiting cleanly (systemd starts the board again)")
            self._reply(m.ActionReply(request.id, True, "exiting"), wait=2.0)
            self.restart_requested = True
            self.running = False

    def _reply(self, reply, wait: float | None = None) -> None:
        if self.link is not None:
            self.link.send_threadsafe(protocol.encode(reply), wait)

    def _announce(self, notice: CallNotice) -> None:
        log.info("notice seq=%d kind=%s ticket=%s counter=%d live=%s", notice.seq, notice.kind,
                 for_log(notice.ticket), notice.counter, notice.live)
        if self.announcer is not None and self.voice is None:  # with a lease, ZoneVoice decides
            self.announcer.submit(notice, self.clock())

    # ------------------------------------------------------------ drawing

    def _render(self, now: datetime) -> None:
        view = self.view
        if self.stale or view is None or (view.wake_at is not None and now >= view.wake_at):
            view = self._build(now)
            self.view = view
            self.stale = False
        if self.identify_until is not None and self.mono() >= self.identify_until:
            self.identify_until = None
            self.shown = None  # the card goes: redraw the whole board under it
        rects = self.renderer.draw(view, self.screen, self.shown) if view is not self.shown else []
        board_changed = bool(rects)
        if self.identify_until is not None and (board_changed or self._identified is None):
            card = fleet.draw_identify(self.screen, self.renderer.fonts, self._identity_lines or ["?"])
            self._identify_card = Rect(card.x, card.y, card.w, card.h)
            rects.append(card)
        self._identified = self.identify_until
        self.shown = view
        if view.ticker is not None:
            texts = view.ticker.texts
            if texts != self._ticker_texts:
                self._ticker_texts = texts
                self._ticker_t0 = self.mono()
            t = self.mono()
            if t >= self._next_ticker or board_changed:
                strip = self.renderer.draw_ticker(view.ticker, self.screen, t - self._ticker_t0)
                if strip is not None:
                    rects.append(strip)
                self._next_ticker = t + 1 / TICKER_FPS
        if rects:
            pygame.display.update(rects)
            self.frames += 1
            if view.seq != self._shown_seq:
                self._shown_seq = view.seq
                log.info("shown seq=%d mono=%.6f", view.seq, self.mono())
        if self.media is not None:  # after the board: a call is on screen before the next video frame
            full = board_changed and rects[0] == self.screen.get_rect()
            covers = self.covers
            if self.identify_until is not None and self._identify_card is not None:
                covers = (*covers, self._identify_card)
            media_rects = self.media.present(self.screen, self.mono(), covers, repaint=full)
            if media_rects:
                pygame.display.update(media_rects)
        if self.snapshot_dir is not None:
            saved = (view.seq, self.status.state, self.media.describe()["item"] if self.media else None)
            if board_changed or saved != self._saved:
                self._saved = saved
                self._save_snapshot(view)

    def _build(self, now: datetime) -> View:
        size = self.screen.get_size()
        if self.layout == "queue":
            return build_view(self.snapshot, self.config, self.zone, now, self.status, size,
                              estimates=self.estimates)
        screen = build_screen(self.snapshot, self.config, self.zone, now, self.status, size, self.layout,
                              estimates=self.estimates)
        self.covers = screen.covers
        if self.media is not None:
            from signage.display.media.video import PixelFormat
            self.media.place(screen.media, PixelFormat.for_surface(self.screen))
        return screen.view

    def _save_snapshot(self, view: View) -> None:
        """--snapshot-dir: frame.png and frame.json, replaced atomically after each board or link change."""
        directory = self.snapshot_dir
        directory.mkdir(parents=True, exist_ok=True)
        png_tmp = directory / "frame.tmp.png"
        pygame.image.save(self.screen, str(png_tmp))
        os.replace(png_tmp, directory / "frame.png")
        info = {
            "frame": self.frames,
            "seq": view.seq,
            "link": self.status.state,
            "alert": view.alert,
            "size": list(view.size),
            "texts": {r.key: [drawable(t.text) for t in r.texts()] for r in view.regions},  # as drawn
        }
        if self.media is not None:
            info["media"] = self.media.describe()
        json_tmp = directory / "frame.tmp.json"
        json_tmp.write_text(protocol.encode_document(info), encoding="utf-8")
        os.replace(json_tmp, directory / "frame.json")
