"""`signage display`: the fullscreen hall board (kiosk).

    signage display [--config PATH] [--zone NAME] [--windowed WxH] [--hub URL] [--token T]
                    [--silent] [--snapshot-dir DIR] [--layout queue|split|media]

Fullscreen at the screen's own resolution, cursor hidden, screensaver blocked.
--windowed WxH opens a window instead (Escape quits). --snapshot-dir DIR writes
DIR/frame.png and DIR/frame.json (seq, link state, texts per region) after every
frame in which the board changed: for tests and remote checks; costs a PNG
encode per change, so leave it off on kiosks. --layout overrides display.layout
(and the zone's own layout): split and media add the media area (docs/content.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from signage.config import Config
from signage.core.content import LAYOUTS
from signage.display.cli_render import parse_size

log = logging.getLogger("signage.display")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", metavar="URL", help="hub address (default: $SIGNAGE_HUB, else from config)")
    parser.add_argument("--token", help="display token (default: $SIGNAGE_TOKEN, else one from config)")
    parser.add_argument("--zone", metavar="NAME", help="zone from display.zones (default: the first)")
    parser.add_argument("--windowed", type=parse_size, metavar="WxH", help="a window of this size, not fullscreen")
    parser.add_argument("--silent", action="store_true", help="no announcer (another machine speaks)")
    parser.add_argument("--snapshot-dir", type=Path, metavar="DIR",
                        help="save DIR/frame.png and DIR/frame.json after each board change")
    parser.add_argument("--layout", choices=LAYOUTS, help="queue, split or media (default: display.layout)")
    parser.add_argument("--name", help="this screen's name on /status and for `signage screenshot NAME` "
                                       "(default: the token's name)")


def run(args: argparse.Namespace, config: Config) -> int:
    from signage.cli import hub_url, pick_token

    zone = config.zone(args.zone)
    url = hub_url(args, config)
    token = pick_token(args, config, "display")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not config.display.framebuffer_acceleration:
        # The plain X11 shared-memory framebuffer: partial updates cost ~nothing (see STACK.md).
        os.environ["SDL_FRAMEBUFFER_ACCELERATION"] = "0"

    import pygame

    from signage.display.app import Display, HallClock
    from signage.display.cli_render import load_logo
    from signage.display.link import HubLink
    from signage.display.renderer import FontBook, Renderer

    pygame.display.init()
    pygame.font.init()
    pygame.display.set_allow_screensaver(False)
    if args.windowed:
        screen = pygame.display.set_mode(args.windowed)
    else:
        screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
    pygame.display.set_caption(f"{config.hall.short_name} · {zone.title or zone.name}")
    pygame.mouse.set_visible(False)
    # Only our own event types matter; keep the queue free of mouse motion etc.
    pygame.event.set_blocked([pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP,
                              pygame.MOUSEWHEEL, pygame.FINGERMOTION])
    wakeup = threading.Event()  # the loop sleeps on this; the link thread sets it

    def terminate(*_) -> None:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        wakeup.set()

    signal.signal(signal.SIGTERM, terminate)

    from signage.display import fleet

    warnings = fleet.WarningCounter()
    logging.getLogger().addHandler(warnings)
    fonts = FontBook(config.display.font_dir)
    if fonts.bundled:
        log.warning("DejaVu fonts not found (display.font_dir or %s); using pygame's bundled font",
                    "/usr/share/fonts/truetype/dejavu")
    renderer = Renderer(fonts, {"logo": load_logo(config)})
    broken = content_problems(config)
    clock = HallClock(config.hall.timezone)
    audio_zone = None if args.silent else board_audio_zone(config, zone, token)
    if not args.silent and audio_zone is None:
        log.info("no audio zone lets this board's token speak over its counters: silent")
    announcer = None if audio_zone is None else make_announcer(config, audio_zone)
    speaks = announcer is not None and not announcer.silent and audio_zone is not None
    vitals, frame_rate = fleet.Vitals(config.path.parent), fleet.FrameRate()
    display: Display | None = None

    def heartbeat(rtt: float | None):  # on the link thread; reads what the render thread last wrote
        import datetime as dt

        if announcer is None:
            audio, why = "off", ""
        else:
            audio = "silent" if announcer.silent else "ok"
            why = "no audio device or no voice at start (see last_warnings)" if announcer.silent else ""
        version, failed = media.fleet_facts() if media is not None else (None, ())
        return fleet.heartbeat(
            name=args.name or link.token_name or "display", vitals=vitals, fps=frame_rate.read(display.frames),
            seq=display.view.seq if display.view is not None else 0, zone=zone.name,
            size=tuple(display.screen.get_size()), rtt=rtt, clock=dt.datetime.now(config.hall.timezone),
            audio=audio, audio_reason=why, broken=broken + failed, warnings=warnings,
            cache_bytes=renderer.cached_text_bytes, layout=layout, content_version=version)

    link = HubLink(url, token, client=f"display-{zone.name}", history_limit=config.hub.history,
                   clock=clock, wake=wakeup.set, heartbeat=heartbeat,
                   heartbeat_seconds=config.fleet.heartbeat_seconds,
                   announce=speaks, zones=(audio_zone.name,) if speaks else (),
                   lease_seconds=config.audio.lease_seconds)
    voice = None
    if speaks:
        from signage.announcer.zone_voice import ZoneVoice
        voice = ZoneVoice(announcer, link, audio_zone, config.announcer.max_age_seconds)
    layout = args.layout or config.content.layout_for(zone.name)
    board: list = []  # the Display, once made: its `speaking` is the zone's speaking state
    media = make_media_area(config, zone, layout, url, clock, fonts, wakeup, announcer,
                            zone_speaking=lambda: bool(board) and board[0].speaking)
    display = Display(config, zone, screen, renderer, link, announcer, clock=clock, wakeup=wakeup,
                      quit_on_escape=bool(args.windowed), snapshot_dir=args.snapshot_dir, layout=layout,
                      media=media, voice=voice)
    board.append(display)
    address = fleet.local_address(url)
    display.identity = lambda: [args.name or link.token_name or "display", f"IP {address} · zona {zone.name}",
                                f"signage {fleet.version()} · hub {url}"]
    log.info("display %dx%d, zone %s (%d counters), layout %s, hub %s, announcer %s, framebuffer acceleration %s",
             *screen.get_size(), zone.name, len(zone.counters), layout, url, "on" if announcer else "off",
             os.environ.get("SDL_FRAMEBUFFER_ACCELERATION", "SDL default"))
    link.start()
    try:
        display.run()
    finally:
        link.stop()
        if media is not None:
            media.stop()
        if announcer is not None:
            announcer.stop()
        pygame.quit()
    if display.restart_requested:
        log.info("exiting for a restart the hub asked for")
    return 1 if display.status.state == "denied" else 0


def make_media_area(config: Config, zone, layout: str, url: str, clock, fonts, wakeup, announcer,
                    zone_speaking=lambda: False):
    """The media area for split/media layouts (None for queue).

    Video sound is ducked while `speaking()`: this board announcing, or its audio zone speaking
    (`zone_speaking`: the voice lease's `speaking` state, read from the Display).
    """
    if layout == "queue":
        return None
    from signage.display.media.area import open_media_area

    def speaking() -> bool:
        return (announcer is not None and announcer.busy) or zone_speaking()

    return open_media_area(config, zone, hub_url=url, clock=clock, fonts=fonts, wake=wakeup.set, speaking=speaking)


def board_audio_zone(config: Config, zone, token_secret: str):
    """The audio zone a speaking board asks for: the first that covers its counters and lets its token speak."""
    token = config.token(token_secret)
    name = token.name if token else ""
    for audio in config.audio.zones:
        if set(audio.counters) & set(zone.counters) and (audio.speakers is None or name in audio.speakers):
            return audio
    return None


def content_problems(config: Config) -> tuple[str, ...]:
    """Configured content files that fail to load (the board shows a fallback; the fleet raises an alert)."""
    import pygame

    problems = []
    if config.display.logo is not None:
        try:
            pygame.image.load(str(config.display.logo))
        except (FileNotFoundError, pygame.error) as exc:
            problems.append(f"display.logo {config.display.logo.name}: {exc}")
    return tuple(problems)


def make_announcer(config: Config, audio_zone=None):
    """The started announcer, or None when announcer.enabled is false.

    The loop takes any object with submit/handle_event/tick/busy; None means silent.
    """
    if not config.announcer.enabled:
        return None
    from signage.announcer.service import Announcer

    announcer = Announcer(config.announcer, counters={c.number: c.name for c in config.counters},
                          locale=config.hall.locale, languages=audio_zone.languages if audio_zone else None)
    announcer.start()  # never raises: without audio it stays silent with one warning
    return announcer
