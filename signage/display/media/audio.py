"""A video's sound, through the mixer the announcer opened, lowered while the board speaks.

Videos are muted unless `content.audio` is on. Then the decoder thread hands each audio
frame to the video's VideoAudio track, which resamples it (PyAV's AudioResampler, in C) to
the mixer's own format and cuts it into CHUNK_SECONDS chunks; the display loop queues
them on a mixer channel of their own (channel 1; the announcer keeps channel 0), so calls
and video sound never fight over a channel. The chunk queue is bounded and drops its oldest
chunk rather than block the decoder: a video never stalls for its sound.

Ducking: every tick the level is set by signage.core.content.video_volume from `speaking()`,
which the display wires to "this board is announcing" (the announcer is busy). The voice-zone
issue's `speaking` state (another board of the same zone is speaking) is meant to be OR-ed
into that same callable: see make_audio() in signage.display.cli_display.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Callable

from signage.core.content import ContentConfig, video_volume

log = logging.getLogger("signage.display.media")

CHUNK_SECONDS = 0.2
QUEUE_CHUNKS = 25  # 5 s of sound at most, per video
VIDEO_CHANNEL = 1


class VideoAudio:
    """One video's sound: fed by its decoder thread, drained by the display loop."""

    def __init__(self, rate: int, channels: int):
        import av

        self.rate, self.channels = rate, channels
        layout = "mono" if channels == 1 else "stereo"
        self._resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
        self._chunk_bytes = int(rate * CHUNK_SECONDS) * 2 * channels
        self._pending = bytearray()
        self._chunks: collections.deque[bytes] = collections.deque(maxlen=QUEUE_CHUNKS)
        self._lock = threading.Lock()
        self.closed = False

    def feed(self, frame) -> None:
        """Decoder thread: one decoded audio frame."""
        if self.closed:
            return
        for out in self._resampler.resample(frame):
            self._pending += bytes(out.planes[0])[: out.samples * 2 * self.channels]
        while len(self._pending) >= self._chunk_bytes:
            chunk = bytes(self._pending[: self._chunk_bytes])
            del self._pending[: self._chunk_bytes]
            with self._lock:
                self._chunks.append(chunk)  # full: the oldest goes (maxlen)

    def take(self) -> bytes | None:
        with self._lock:
            return self._chunks.popleft() if self._chunks else None

    def close(self) -> None:
        self.closed = True
        with self._lock:
            self._chunks.clear()


class AudioOut:
    feed_interval = CHUNK_SECONDS / 2

    def __init__(self, content: ContentConfig, speaking: Callable[[], bool]):
        import pygame

        self.content = content
        self.speaking = speaking
        self._pygame = pygame
        frequency, size, channels = pygame.mixer.get_init()
        self.rate, self.channels = frequency, channels
        if pygame.mixer.get_num_channels() < VIDEO_CHANNEL + 1:
            pygame.mixer.set_num_channels(8)
        pygame.mixer.set_reserved(VIDEO_CHANNEL + 1)
        self.channel = pygame.mixer.Channel(VIDEO_CHANNEL)
        self._track: VideoAudio | None = None

    @classmethod
    def open(cls, content: ContentConfig, speaking: Callable[[], bool]) -> "AudioOut | None":
        """An AudioOut if content.audio is on and the mixer is open (the board announces), else None."""
        if not content.audio:
            return None
        import pygame

        if pygame.mixer.get_init() is None:
            log.info("content.audio is on, but this board has no mixer (--silent or no sound card): videos stay muted")
            return None
        return cls(content, speaking)

    def track(self) -> VideoAudio:
        return VideoAudio(self.rate, self.channels)

    def tick(self, source) -> None:
        """Display loop: keep the current video's sound queued, at the ducked or full level."""
        track = getattr(source, "audio", None)
        if track is not self._track:
            self.channel.stop()
            self._track = track
        self.channel.set_volume(video_volume(self.content, bool(self.speaking())))
        if track is None:
            return
        if self.channel.get_queue() is None:
            chunk = track.take()
            if chunk is not None:
                sound = self._pygame.mixer.Sound(buffer=chunk)
                if self.channel.get_busy():
                    self.channel.queue(sound)
                else:
                    self.channel.play(sound)

    def stop(self) -> None:
        self.channel.stop()
        self._track = None
