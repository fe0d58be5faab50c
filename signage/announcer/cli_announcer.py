"""`signage announcer`: the hall's voice without a screen, for the PC wired to the amplifier.

    signage announcer [--zone NAME] [--hub URL] [--token TOKEN] [--name NAME]

The same queue, chime and TTS as the board (signage.announcer.service), speaking
only while it holds the zone's voice lease (docs/voice.md). It connects with a
display token, as a board does. No window: SDL's video driver defaults to
`dummy` (only its event queue is used, for the mixer's end-of-sound events).
Logs one line per announcement start/end/cut with the wall-clock time, which the
failover tests and benchmarks read.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import threading
from datetime import datetime

from signage.config import Config
from signage.errors import ConfigError

log = logging.getLogger("signage.announcer")

POLL = 0.25  # seconds between turns when idle (the link wakes us at once on news)
BUSY_POLL = 0.02  # while speaking: hand the next part over without a gap, notice a lost lease at once


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--zone", metavar="NAME", help="audio zone from audio_zones (default: the first)")
    parser.add_argument("--hub", metavar="URL", help="hub address (default: $SIGNAGE_HUB, else from config)")
    parser.add_argument("--token", help="display token (default: $SIGNAGE_TOKEN, else one from config)")
    parser.add_argument("--name", help="this announcer's name in logs and /healthz (default: announcer-ZONE)")


def run(args: argparse.Namespace, config: Config) -> int:
    from signage.cli import hub_url, pick_token

    zones = config.audio.zones
    zone = config.audio.zone(args.zone) if args.zone else (zones[0] if zones else None)
    if zone is None:
        names = ", ".join(z.name for z in zones) or "none"
        raise ConfigError(f"{config.path.name}: audio_zones: no zone named {args.zone!r} (have: {names})")
    url = hub_url(args, config)
    token = pick_token(args, config, "display")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

    import pygame

    from signage.announcer.service import Announcer
    from signage.announcer.zone_voice import ZoneVoice
    from signage.core.announcements import notice_for
    from signage.display.app import HallClock
    from signage.display.link import BoardChanged, HubLink, StatusChanged, VoiceChanged

    pygame.display.init()  # the event queue carries the mixer's end-of-sound events
    announcer = Announcer(config.announcer, {c.number: c.name for c in config.counters}, config.hall.locale,
                          languages=zone.languages)
    announcer.start()
    if announcer.silent:
        log.error("no audio output; an announcer that cannot speak does not ask for the voice lease")
        return 1
    wakeup = threading.Event()
    running = [True]

    def terminate(*_) -> None:
        running[0] = False
        wakeup.set()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    clock = HallClock(config.hall.timezone)
    name = args.name or f"announcer-{zone.name}"
    from signage.display import fleet

    vitals, warnings = fleet.Vitals(config.path.parent), fleet.WarningCounter()
    logging.getLogger().addHandler(warnings)
    voice_holder: list = []  # the ZoneVoice, once made

    def heartbeat(rtt: float | None):  # on the link thread: the same fleet report a board sends, without a screen
        voice_now = voice_holder[0] if voice_holder else None
        held = voice_now is not None and voice_now.epoch is not None
        return dataclasses.replace(fleet.heartbeat(
            name=name, vitals=vitals, fps=0.0, seq=link.board.seq, zone=zone.name, size=None, rtt=rtt,
            clock=datetime.now(config.hall.timezone), audio="silent" if announcer.silent else "ok",
            audio_reason="", broken=(), warnings=warnings, layout="announcer"),
            voice_lease=f"{zone.name}@{voice_now.epoch}" if held else None)

    link = HubLink(url, token, client=name, history_limit=config.hub.history, clock=clock, wake=wakeup.set,
                   announce=True, zones=(zone.name,), lease_seconds=config.audio.lease_seconds,
                   heartbeat=heartbeat, heartbeat_seconds=config.fleet.heartbeat_seconds)
    voice = ZoneVoice(announcer, link, zone, config.announcer.max_age_seconds)
    voice_holder.append(voice)
    log.info("announcer %s: zone %s (%d counters, %s), hub %s", name, zone.name, len(zone.counters),
             "+".join(zone.languages), url)
    link.start()
    denied = False
    try:
        while running[0]:
            wakeup.wait(BUSY_POLL if announcer.busy else POLL)
            wakeup.clear()
            for event in pygame.event.get():
                announcer.handle_event(event)
            now = clock()
            for update in link.drain():
                if isinstance(update, BoardChanged):
                    voice.board(update.snapshot, notice_for(update.event) if update.event else None, now)
                elif isinstance(update, VoiceChanged):
                    voice.notice(update.notice, now)
                elif isinstance(update, StatusChanged):
                    if update.clock_offset is not None:
                        clock.offset = update.clock_offset
                    if update.status.state == "denied":
                        denied, running[0] = True, False
            now = clock()
            announcer.tick(now)
            voice.tick(now)
    finally:
        link.stop()
        announcer.stop()
        pygame.quit()
    return 1 if denied else 0
