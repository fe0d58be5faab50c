"""The media area's player: what plays now, what plays next, and painting it around the board's overlays.

The display loop drives it from its one thread:

    player.place(screen.media, PixelFormat.for_surface(surface))   # where (once, and when the layout changes)
    waits.append(player.due_in(mono))                               # when it next needs the loop
    rects += player.present(surface, now, mono, screen.covers, repaint)

`present` never blocks and never raises into the loop:
- it takes a newer Playlist from the mailbox (the sync thread's) and switches to it at
  once; an item that is in both keeps playing, untouched;
- when the current item ends it starts the next one at exactly the current one's end time,
  so two videos follow each other without a gap: the next item was opened (preloaded) as
  soon as the current one started;
- it picks items with signage.core.content.pick (schedule, zone, skips), and plays the
  manifest's generated slides when no item is due;
- an item that fails (a corrupt, truncated or unsupported file, a file not in the cache)
  is skipped with one log line, and its error is kept in `errors` for reports;
- it draws only the media area, around `covers` (the hero overlay, the offline bar), and
  returns the rectangles it changed.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import pygame

from signage.core.content import ContentConfig, ManifestItem, duration, is_due, pick
from signage.core.layout import Rect
from signage.core.screens import MEDIA_BG, around
from signage.display.media.stills import ImageSource, SlideSource
from signage.display.media.sync import Mailbox, Playlist
from signage.display.media.video import RGB24, PixelFormat, VideoSource, lower_priority

log = logging.getLogger("signage.display.media")

PREPARE_LIMIT = 10.0  # seconds an item may take to open before it is skipped
SLIDE_BUDGET = 0.003  # seconds of slide drawing per loop turn: the loop stays free for calls
SLIDE_POLL = 0.01  # a slide being drawn: a little every this often
STARVING_POLL = 0.05  # a video with nothing decoded yet: look again this soon
LATE_START = 0.1  # the next item starts where the previous ended, unless the loop is later than this
PRELOAD_AHEAD = 2.0  # seconds before an item's end when the next one is opened
MAX_ERRORS = 200
MAX_SWITCHES = 1000


@dataclass
class _Slot:
    list: str  # "items" or "fallback"
    index: int
    item: ManifestItem
    source: object  # VideoSource | ImageSource | SlideSource
    opened: float  # monotonic time it was prepared
    started: bool = False
    first_picture: float | None = None  # monotonic time its first picture was drawn


class MediaPlayer:
    def __init__(self, content: ContentConfig, zone: str | None, *, clock: Callable[[], datetime],
                 fonts, mailbox: Mailbox, wake: Callable[[], None] = lambda: None, audio=None,
                 mono: Callable[[], float] = time.monotonic):
        from signage.display.renderer import Renderer

        self.content = content
        self.zone = zone
        self.clock = clock  # hall time, for schedules
        self.mono = mono
        self.mailbox = mailbox
        self.wake = wake
        self.audio = audio  # signage.display.media.audio.AudioOut or None: videos stay muted
        self.renderer = Renderer(fonts, cache_bytes=4 * 1024 * 1024)  # slides' own text caches
        self.playlist: Playlist | None = None
        self.area: Rect | None = None
        self.pixels: PixelFormat = RGB24
        self.current: _Slot | None = None
        self.next: _Slot | None = None
        self.errors: dict[str, str] = {}
        self.skip: dict[tuple[str, int], str] = {}
        # (from key, to key, seconds from the last picture of one to the first of the next): the loop gap
        self.switches: list[tuple[str, str, float]] = []
        # (from key, to key, next start − previous end): 0 when the next item took over exactly on time
        self.schedule_gaps: list[tuple[str, str, float]] = []
        self.items_started = 0
        self.preload = True  # open the next item while the current one plays (off: a benchmark's baseline)
        self._stills = ThreadPoolExecutor(max_workers=1, thread_name_prefix="media-stills", initializer=lower_priority)
        self._picture_rect: Rect | None = None
        self._on_screen: pygame.Surface | None = None
        self._starving = False
        self._last_picture: tuple[str, float] | None = None
        self._last_key = ""
        self._cursor: tuple[str, int] | None = None  # the last item that ended: the order goes on from it
        self._start_at: float | None = None  # when the last item ended: the next one starts there
        self._last_failure = ""
        self._ended_key = ""

    # ------------------------------------------------------------ loop side

    def place(self, area: Rect | None, pixels: PixelFormat = RGB24) -> None:
        """Where the media area is; a new size reopens what plays at that size."""
        if area == self.area and pixels == self.pixels:
            return
        self.area, self.pixels = area, pixels
        self._close(self.current)
        self._close(self.next)
        self.current = self.next = None
        self._picture_rect = None
        self._on_screen = None

    def due_in(self, mono: float) -> float | None:
        """Seconds until present() has something to do; None when nothing is scheduled."""
        if self.area is None or self.playlist is None:
            return None
        times = []
        for slot in (self.current, self.next):
            if slot is not None and not slot.source.ready:
                # Opening (decoder) or being drawn (a slide, a little each turn).
                times.append(mono + (SLIDE_POLL if isinstance(slot.source, SlideSource) else STARVING_POLL))
        current = self.current
        if current is None:
            times.append(mono + STARVING_POLL)
        elif current.started:
            source = current.source
            for t in (source.next_due, source.end_time):
                if t is not None:
                    times.append(t)
            if self.next is None and self.preload and source.expected_end is not None:
                times.append(max(mono, source.expected_end - PRELOAD_AHEAD))  # time to open the next one
            if source.kind == "video" and source.next_due is None and source.end_time is None:
                self._starving = True  # the decoder wakes the loop when a picture arrives
                times.append(mono + max(source.frame_duration, STARVING_POLL))
        if self.audio is not None:
            times.append(mono + self.audio.feed_interval)
        return max(0.0, min(times) - mono) if times else None

    def present(self, surface: pygame.Surface, mono: float, covers: tuple[Rect, ...] = (),
                repaint: bool = False) -> list[pygame.Rect]:
        """Advance and draw what is due at `mono`; returns the rectangles changed."""
        if self.area is None:
            return []
        try:
            return self._present(surface, mono, covers, repaint)
        except Exception as exc:  # the board must survive any media failure; the item is skipped
            if repr(exc) != self._last_failure:  # once, not every frame
                self._last_failure = repr(exc)
                log.exception("media: presenting %s failed", self.current.item.key if self.current else "nothing")
            if self.current is not None:
                self._fail(self.current, "internal error while presenting (see the log)")
                self._close(self.current)
                self.current = None
            return []

    def _present(self, surface, mono, covers, repaint) -> list[pygame.Rect]:
        fresh = self.mailbox.take()
        if fresh is not None:
            self._switch_playlist(fresh, mono)
        if self.playlist is None:
            return []
        self._advance(mono)
        for slot in (self.next, self.current):
            if slot is not None and isinstance(slot.source, SlideSource):
                slot.source.step(SLIDE_BUDGET)
        if self.audio is not None:
            self.audio.tick(self.current.source if self.current and self.current.started else None)
        picture = None
        current = self.current
        if current is not None and current.started:
            picture = current.source.picture(mono)
            if picture is not None:
                self._note_picture(current, mono)
        if picture is None and repaint:
            picture = self._on_screen  # the board was redrawn over everything: put the last picture back
        if picture is None:
            return []
        return self._draw(surface, picture, covers, repaint)

    def describe(self) -> dict:
        """For frame.json and health: what plays, from which manifest, and what failed."""
        current = self.current
        return {
            "item": current.item.key if current else None,
            "kind": current.item.kind if current else None,
            "file": current.item.file if current else None,
            "fallback": bool(current and current.list == "fallback"),
            "manifest": self.playlist.manifest.digest[:12] if self.playlist else None,
            "source": self.playlist.source if self.playlist else None,
            "frames": getattr(current.source, "shown", 0) if current else 0,
            "dropped": getattr(current.source, "dropped", 0) if current else 0,
            "started": self.items_started,
            "errors": dict(self.errors),
        }

    def close(self) -> None:
        self._close(self.current)
        self._close(self.next)
        self.current = self.next = None
        self._stills.shutdown(wait=False, cancel_futures=True)
        if self.audio is not None:
            self.audio.stop()

    # ------------------------------------------------------------ what plays

    def _switch_playlist(self, playlist: Playlist, mono: float) -> None:
        old = self.playlist
        self.playlist = playlist
        self.skip = {}
        log.info("media: playlist %s (%s), %d item(s), %d file(s)", playlist.manifest.digest[:12], playlist.source,
                 len(playlist.manifest.items), len(playlist.paths))
        if old is not None and old.manifest.digest == playlist.manifest.digest and self.current is not None:
            return
        self._close(self.next)
        self.next = None
        current = self.current
        if current is None:
            return
        # The item on screen keeps playing if the new playlist has it; the new order follows from there.
        for list_name in ("items", "fallback"):
            for i, item in enumerate(self._list(list_name)):
                if item.identity == current.item.identity and (item.sha256 is None or item.sha256 in playlist.paths):
                    current.list, current.index, current.item = list_name, i, item
                    return
        self._close(current)
        self.current = None  # something new starts now; the last picture stays until it does
        self._cursor = None

    def _list(self, name: str) -> tuple[ManifestItem, ...]:
        manifest = self.playlist.manifest
        return manifest.items if name == "items" else manifest.fallback

    def _advance(self, mono: float) -> None:
        for _ in range(8):  # a few failing items in a row are skipped in one turn
            if self.current is None:
                self.current = self._take_next(mono)
                if self.current is None:
                    return
            current = self.current
            if not current.started and not self._try_start(current, mono):
                return  # still opening: the last picture stays on screen
            if self.current is not current:
                continue  # it failed to start and was dropped
            if not current.source.ended(mono):
                if self.next is None and self.preload and self._ending_soon(current, mono):
                    self.next = self._prepare_after((current.list, current.index), mono)  # preload
                return
            if current.source.error:
                self._fail(current, current.source.error)
            self._start_at = current.source.end_time
            self._ended_key = current.item.key
            self._cursor = (current.list, current.index)
            self._close(current)
            self.current = None

    def _ending_soon(self, slot: _Slot, mono: float) -> bool:
        """Within PRELOAD_AHEAD of its end (or its end unknown yet): open the next item now, so it is ready on time.

        Not earlier: a second decoder costs its frame buffers and pictures for as long as it waits.
        """
        end = slot.source.expected_end
        return end is None and slot.source.kind != "video" or end is not None and end - mono <= PRELOAD_AHEAD

    def _take_next(self, mono: float) -> _Slot | None:
        """The preloaded next item if it is still due, else one prepared now."""
        prepared, self.next = self.next, None
        if prepared is not None and is_due(prepared.item, self.clock(), self.zone) \
                and (prepared.list, prepared.index) not in self.skip:
            return prepared
        self._close(prepared)
        return self._prepare_after(self._cursor, mono)

    def _prepare_after(self, cursor: tuple[str, int] | None, mono: float) -> _Slot | None:
        now = self.clock()
        items = self.playlist.manifest.items
        after = cursor[1] if cursor is not None and cursor[0] == "items" else None
        for _ in range(len(items) + 1):
            i = pick(items, after, now, self.zone, skip={k[1] for k in self.skip if k[0] == "items"})
            if i is None:
                break
            made = self._open("items", i, items[i], mono)
            if made is not None:
                return made
            after = i
        fallback = self.playlist.manifest.fallback  # nothing due: the generated slides
        after = cursor[1] if cursor is not None and cursor[0] == "fallback" else None
        i = pick(fallback, after, now, self.zone, skip={k[1] for k in self.skip if k[0] == "fallback"})
        return None if i is None else self._open("fallback", i, fallback[i], mono)

    def _open(self, list_name: str, index: int, item: ManifestItem, mono: float) -> _Slot | None:
        """Start preparing an item (decoder thread, image worker, or slide drawing); None if it can't be."""
        area = (self.area.w, self.area.h)
        seconds = duration(item, self.content)
        if item.kind == "slide":
            source = SlideSource(item.slide, area, seconds, self.renderer)
        elif item.sha256 not in self.playlist.paths:
            self._fail(_Slot(list_name, index, item, None, mono), "not in the cache (not downloaded, or it failed)",
                       quiet=True)
            return None
        elif item.kind == "image":
            source = ImageSource(self.playlist.paths[item.sha256], area, seconds, self._stills)
        else:
            audio = self.audio.track() if self.audio is not None else None
            source = VideoSource(self.playlist.paths[item.sha256], area, self.pixels, seconds=seconds,
                                 on_picture=self._picture_arrived, audio=audio).open()
        return _Slot(list_name, index, item, source, mono)

    def _try_start(self, slot: _Slot, mono: float) -> bool:
        """Start the slot's timeline once it is ready: where the previous item ended, if that was just now."""
        source = slot.source
        if not source.ready:
            if mono - slot.opened > PREPARE_LIMIT:
                self._fail(slot, f"took more than {PREPARE_LIMIT:g} s to open")
                self._close(slot)
                self.current = None
            return False
        if source.error is not None:
            self._fail(slot, source.error)
            self._close(slot)
            self.current = None
            return False
        t0 = self._start_at if self._start_at is not None and mono - self._start_at < LATE_START else mono
        if self._start_at is not None:
            self.schedule_gaps.append((self._ended_key, slot.item.key, t0 - self._start_at))
            del self.schedule_gaps[:-MAX_SWITCHES]
        self._start_at = None
        source.start(t0)
        slot.started = True
        self.items_started += 1
        if self._last_key != slot.item.key:
            log.info("media: playing %s %s", slot.item.key, slot.item.file or slot.item.slide.kind)
            self._last_key = slot.item.key
        return True

    def _fail(self, slot: _Slot, error: str, quiet: bool = False) -> None:
        item = slot.item
        label = f"{item.key} {item.kind} {item.file or (item.slide.kind if item.slide else '')}".strip()
        self.skip[(slot.list, slot.index)] = error
        if self.errors.get(label) != error:
            if len(self.errors) < MAX_ERRORS:
                self.errors[label] = error
            (log.info if quiet else log.warning)("content: skipped %s: %s", label, error)

    def _close(self, slot: _Slot | None) -> None:
        if slot is not None and slot.source is not None:
            slot.source.close()

    # ------------------------------------------------------------ drawing

    def _picture_arrived(self) -> None:
        """Decoder thread: a picture was queued. Wake the loop only if it is waiting for one."""
        if self._starving:
            self._starving = False
            self.wake()

    def _note_picture(self, slot: _Slot, mono: float) -> None:
        if slot.first_picture is None:
            slot.first_picture = mono
            if self._last_picture is not None:
                key, at = self._last_picture
                self.switches.append((key, slot.item.key, mono - at))
                del self.switches[:-MAX_SWITCHES]
        self._last_picture = (slot.item.key, mono)

    def _draw(self, surface: pygame.Surface, picture: pygame.Surface, covers, repaint: bool) -> list[pygame.Rect]:
        area = self.area
        pw, ph = picture.get_size()
        placed = Rect(area.x + (area.w - pw) // 2, area.y + (area.h - ph) // 2, pw, ph)
        whole = repaint or placed != self._picture_rect
        if whole:  # letterbox bars, around the picture and the overlays
            for piece in around(area, [*covers, placed]):
                surface.fill(MEDIA_BG, (piece.x, piece.y, piece.w, piece.h))
            self._picture_rect = placed
        pieces = around(placed, covers)
        for piece in pieces:
            surface.blit(picture, (piece.x, piece.y), (piece.x - placed.x, piece.y - placed.y, piece.w, piece.h))
        self._on_screen = picture
        shown = [area] if whole else pieces
        return [pygame.Rect(r.x, r.y, r.w, r.h) for r in shown]
