"""The display loop's one handle on its media area: the player, the cache and the sync thread together.

    media = open_media_area(config, zone, layout, hub_url=..., clock=..., fonts=..., wake=...)
    media.on_event(event)   # every event the link applied: `content` events start a download
    media.on_online()       # the link (re)connected: ask the hub for its current manifest
    media.place(...), media.due_in(...), media.present(...), media.describe(), media.stop()
    media.fleet_facts()     # (manifest version, failures) for the fleet heartbeat

Until the hub answers, the board plays its cached manifest (after a restart, offline) or,
on a first start, the slides its own config generates.
"""

from __future__ import annotations

from typing import Callable

from signage.core import manifest as manifests, messages as m, text
from signage.display.media.audio import AudioOut
from signage.display.media.cache import ContentCache
from signage.display.media.player import MediaPlayer
from signage.display.media.sync import ContentSync, Mailbox, Playlist, http_base


class MediaArea:
    def __init__(self, player: MediaPlayer, sync: ContentSync):
        self.player = player
        self.sync = sync

    def on_event(self, event) -> None:
        if isinstance(event, m.ContentChanged):
            self.sync.offer(event.manifest)

    def on_online(self) -> None:
        self.sync.refresh()

    def place(self, area, pixels) -> None:
        self.player.place(area, pixels)

    def due_in(self, mono: float) -> float | None:
        return self.player.due_in(mono)

    def present(self, surface, mono: float, covers=(), repaint: bool = False):
        return self.player.present(surface, mono, covers, repaint)

    def describe(self) -> dict:
        info = self.player.describe()
        info["errors"] = {**self.sync.errors(), **info["errors"]}  # downloads, then playback
        return info

    def fleet_facts(self) -> tuple[str | None, tuple[str, ...]]:
        """For the heartbeat (called on the link thread): the playing manifest's version, and what failed."""
        playlist = self.player.playlist
        errors = {**self.sync.errors(), **dict(self.player.errors)}  # dict(): one atomic copy
        return (playlist.manifest.digest[:12] if playlist else None,
                tuple(text.for_log(f"{label}: {error}", 200) for label, error in errors.items()))

    def stop(self) -> None:
        self.sync.stop()
        self.player.close()


def open_media_area(config, zone, *, hub_url: str | None, clock, fonts, wake: Callable[[], None],
                    speaking: Callable[[], bool] = lambda: False) -> MediaArea:
    """Started: the first playlist (cached, else local slides) is already in the player's mailbox."""
    mailbox = Mailbox()
    mailbox.put(Playlist(manifests.local(config), {}, "local"))
    cache = ContentCache(config.content.cache_dir / zone.name, config.content.cache_bytes)
    sync = ContentSync(http_base(hub_url) if hub_url else None, cache, mailbox, wake)
    player = MediaPlayer(config.content, zone.name, clock=clock, fonts=fonts, mailbox=mailbox, wake=wake,
                         audio=AudioOut.open(config.content, speaking))
    sync.start()
    return MediaArea(player, sync)
