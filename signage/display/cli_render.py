"""`signage render`: one board frame to a PNG, without a screen.

    signage render --state tests/fixtures/demo_state.json --size 1920x1080 --out frame.png
    signage render --hub ws://10.0.0.5:8765/ --size 1080x1920 --out portrait.png --zone lantai-1

--state reads a JSON snapshot or a whole welcome frame; --hub connects as a
display, takes the welcome and renders its state at the hub's clock. --layout split or
media (default: display.layout) shows the media area with the playlist item due at that
time (content.dir's files if they are here, else the generated slides).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from datetime import datetime
from pathlib import Path

from signage.config import Config
from signage.errors import ConfigError, SignageError

log = logging.getLogger("signage.display.render")


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080); argparse type."""
    try:
        w, h = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got {text!r}") from None
    if not (64 <= w <= 16384 and 64 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"size out of range (64..16384 per side): {text!r}")
    return w, h


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--hub", metavar="URL", help="connect to this hub as a display and render its state")
    source.add_argument("--state", metavar="FILE", type=Path, help="a JSON snapshot or welcome frame")
    parser.add_argument("--token", help="display token for --hub (default: $SIGNAGE_TOKEN, else from config)")
    parser.add_argument("--size", type=parse_size, required=True, metavar="WxH", help="e.g. 1920x1080")
    parser.add_argument("--out", type=Path, required=True, metavar="PNG")
    parser.add_argument("--zone", metavar="NAME", help="zone from display.zones (default: the first)")
    parser.add_argument("--layout", choices=("queue", "split", "media"),
                        help="queue, split or media (default: display.layout, or the zone's)")
    parser.add_argument("--at", metavar="ISO-TIME",
                        help="render as at this time, e.g. 2026-11-26T09:41:00 (hall time zone if no offset)")


def parse_at(text: str, config: Config) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at: expected an ISO time such as 2026-11-26T09:41:00, got {text!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=config.hall.timezone)


def run(args: argparse.Namespace, config: Config) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from signage.core import protocol
    from signage.core.layout import LinkStatus, build_view

    zone = config.zone(args.zone)
    if args.state is not None:
        try:
            text = args.state.read_text(encoding="utf-8")
        except OSError as exc:
            raise SignageError(f"--state: cannot read {args.state}: {exc}") from None
        snapshot, server_time = protocol.snapshot_from_json(text), None
    else:
        snapshot, server_time = asyncio.run(_fetch(args, config))
    now = (parse_at(args.at, config) if args.at else server_time or datetime.now(config.hall.timezone))
    layout = args.layout or config.content.layout_for(zone.name)
    if layout == "queue":
        surface = render_still(build_view(snapshot, config, zone, now, LinkStatus("online"), args.size), config)
    else:
        from signage.core.screens import build_screen
        screen = build_screen(snapshot, config, zone, now, LinkStatus("online"), args.size, layout)
        surface = render_screen_still(screen, config, zone, now)

    import pygame
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(args.out))
    print(f"{args.out}: {args.size[0]}x{args.size[1]}, zone {zone.name}, layout {layout}, seq {snapshot.seq}, "
          f"at {now.isoformat(timespec='seconds')}")
    return 0


def render_still(view, config: Config):
    """A whole frame on a new Surface, ticker text starting at the left edge."""
    import pygame

    from signage.display.renderer import FontBook, Renderer, still_ticker_elapsed

    pygame.font.init()
    renderer = Renderer(FontBook(config.display.font_dir), {"logo": load_logo(config)})
    surface = pygame.Surface(view.size)
    renderer.draw(view, surface)
    if view.ticker is not None:
        renderer.draw_ticker(view.ticker, surface, still_ticker_elapsed(view.ticker))
    return surface


def render_screen_still(screen, config: Config, zone, now: datetime):
    """A split or media frame: the board, and in the media area the item due at `now`."""
    from signage.core.content import pick
    from signage.core.screens import MEDIA_BG
    from signage.display.media.stills import still_picture
    from signage.display.renderer import FontBook, Renderer
    from signage.hub.content import FileIndex, scan

    surface = render_still(screen.view, config)
    area = screen.media
    index = FileIndex()
    manifest = scan(config, index).manifest
    items = manifest.items
    i = pick(items, None, now, zone.name)
    item = items[i] if i is not None else manifest.fallback[0]
    renderer = Renderer(FontBook(config.display.font_dir))
    try:
        picture = still_picture(item, index.path(item.sha256) if item.sha256 else None, (area.w, area.h), renderer)
    except ValueError as exc:
        log.warning("render: %s %s %s: %s; showing the first generated slide", item.key, item.kind, item.file, exc)
        item = manifest.fallback[0]
        picture = still_picture(item, None, (area.w, area.h), renderer)
    pw, ph = picture.get_size()
    x, y = area.x + (area.w - pw) // 2, area.y + (area.h - ph) // 2
    surface.fill(MEDIA_BG, (area.x, area.y, area.w, area.h))
    surface.blit(picture, (x, y))
    board = Renderer(FontBook(config.display.font_dir), {"logo": load_logo(config)})
    for region in screen.view.regions:  # the overlays stay on top
        if any(region.rect == cover for cover in screen.covers):
            board.draw_region(region, surface)
    return surface


def load_logo(config: Config):
    """The configured logo, else the generated one (with a warning)."""
    import pygame

    from signage.display.logo import draw_logo

    path = config.display.logo
    if path is not None:
        try:
            return pygame.image.load(str(path))
        except (FileNotFoundError, pygame.error) as exc:
            log.warning("display.logo %s: %s; using the built-in logo", path, exc)
    return draw_logo()


async def _fetch(args: argparse.Namespace, config: Config):
    from signage.cli import hub_url, pick_token
    from signage.operator.client import Session

    token = pick_token(args, config, "display")
    async with Session(hub_url(args, config), token, role="display", client="signage-render",
                       subscribe=False) as session:
        welcome = session.welcome
    from dataclasses import replace
    return replace(welcome.state, seq=welcome.seq), welcome.server_time
