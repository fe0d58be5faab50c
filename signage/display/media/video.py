"""A video decoded by PyAV in a worker thread, presented on the display loop's clock.

    video = VideoSource(path, (w, h), PixelFormat.for_surface(screen), ...)
    video.open()                   # starts the thread; frames begin to queue
    ... video.ready                # the first picture is decoded
    video.start(t0)                # the timeline begins at monotonic time t0
    picture = video.picture(now)   # newest picture due at `now`, or None if nothing new
    video.next_due                 # when the next picture is due (the loop sleeps until then)
    video.ended(now), video.end_time, video.close()

FFmpeg does the work in C: the decoder (one thread up to 1080p, FFmpeg's frame threads
above) and the scaler, which scales each frame to the media area's size and converts it straight to
the window surface's pixel layout, so the main thread only blits (0.1–0.3 ms for a
1120×630 picture). One VideoReformatter per video, single-threaded: `frame.reformat()`
builds a new scaler context (filters, thread pool) for every frame, which measured 3.4 ms
of CPU per 720p frame against 1.3 ms reused. Pictures wait in a bounded queue
(FRAME_QUEUE): the decoder runs at most that far ahead, and memory stays flat however
long the video is.

Frame-timed: picture i is due at t0 + (pts_i − pts_0). A late loop shows the newest
due picture and counts the ones it skipped. The item ends at t0 + the last picture's
pts + one frame's duration, which is when the next item starts: with the next
video opened (preloaded) before that, two videos follow each other without a gap.

Errors (missing file, not a video, corrupt or truncated data, an unsupported codec)
never raise into the display loop: `error` holds one line, and the player skips the item.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pygame

log = logging.getLogger("signage.display.media")

FRAME_QUEUE = 3  # decoded pictures waiting (2.7 MB each at 1088×612); at 25 fps 120 ms ahead
ONE_THREAD_PIXELS = 1920 * 1080  # up to this size a decoder thread of our own is enough (720p: ~2 ms a frame)
CODEC_THREADS = 2  # above it, FFmpeg's frame threads, each of which costs its own frame buffers
DECODERS = 2  # the video playing and the one preloaded after it
BACKGROUND_NICE = 10  # media threads yield the CPU to the display loop and the link: calls come first


def lower_priority() -> None:
    """Make the calling thread (and threads it starts, such as FFmpeg's) a background thread (Linux: per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (OSError, AttributeError):  # not Linux, or not allowed: run at normal priority
        pass


class _Job:
    def __init__(self, run):
        self.run = run
        self.cancelled = False
        self.finished = threading.Event()

    def cancel(self) -> None:
        self.cancelled = True

    def done(self) -> bool:
        return self.finished.is_set()


class _Decoders:
    """Long-lived daemon threads that run decode jobs in turn.

    A thread per video would churn threads (and malloc arenas) at every loop of a short clip;
    daemon threads never hold up the process's exit.
    """

    def __init__(self, n: int):
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._n = n
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, run) -> _Job:
        with self._lock:
            while len(self._threads) < self._n:
                t = threading.Thread(target=self._work, name=f"video-decoder-{len(self._threads)}", daemon=True)
                t.start()
                self._threads.append(t)
        job = _Job(run)
        self._jobs.put(job)
        return job

    def _work(self) -> None:
        lower_priority()
        while True:
            job = self._jobs.get()
            try:
                if not job.cancelled:
                    job.run()
            finally:
                job.finished.set()


_decoders = _Decoders(DECODERS)
MAX_SIDE = 8192  # refuse absurd frame sizes before allocating for them
SUPPORTED_CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mjpeg", "libdav1d", "libvpx",
                    "libvpx-vp9")


@dataclass(frozen=True)
class PixelFormat:
    """FFmpeg's name and pygame's frombuffer name for a surface's pixel layout."""

    ffmpeg: str
    pygame: str

    @staticmethod
    def for_surface(surface: pygame.Surface) -> "PixelFormat":
        """The layout that blits into `surface` without a per-pixel conversion, if there is one."""
        if surface.get_bitsize() == 32:
            r, g, b, _ = surface.get_masks()
            if (r, g, b) == (0xFF0000, 0xFF00, 0xFF):
                return PixelFormat("bgra", "BGRA")  # B, G, R, A in memory: the usual X11 and dummy layout
            if (r, g, b) == (0xFF, 0xFF00, 0xFF0000):
                return PixelFormat("rgb0", "RGBX")
        return PixelFormat("rgb24", "RGB")


RGB24 = PixelFormat("rgb24", "RGB")


@dataclass
class _Picture:
    due: float  # seconds from the video's start
    surface: pygame.Surface  # shows the reformatted frame's memory: it holds the plane, the plane its frame


_END = object()


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    duration: float | None  # seconds; None if the container doesn't say
    fps: float | None


def probe(path: Path) -> VideoInfo:
    """Codec, size, duration of a file's first video stream; decodes its first frame. Raises ValueError."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            fps = float(stream.average_rate) if stream.average_rate else None
            first = next(container.decode(stream), None)
            if first is None:
                raise ValueError("no frame could be decoded")
            return VideoInfo(codec, first.width, first.height, duration, fps)
    except (av.FFmpegError, OSError, StopIteration) as exc:
        raise ValueError(_describe(exc)) from None


class VideoSource:
    kind = "video"

    def __init__(self, path: Path, area: tuple[int, int], pixels: PixelFormat = RGB24, *,
                 seconds: float | None = None, on_picture=lambda: None, audio=None):
        self.path = Path(path)
        self.area = area  # the media area: pictures are scaled to fit it, keeping their shape
        self.size: tuple[int, int] | None = None  # the pictures' size, known at the first frame
        self.pixels = pixels
        self.seconds = seconds  # cut after this long (None: to the end)
        self.on_picture = on_picture  # called from the decoder thread when a picture is queued
        self.audio = audio  # signage.display.media.audio.VideoAudio or None (muted)
        self.error: str | None = None
        self.duration: float | None = None  # seconds, as the container says (or `seconds`), once open
        self.decoded_all = False  # the decoder reached the end: the last pictures are queued
        self.frame_duration = 1 / 25
        self.dropped = 0  # pictures decoded but never shown (the loop was late)
        self.shown = 0
        self.t0: float | None = None
        self.last: pygame.Surface | None = None
        self._queue: queue.Queue = queue.Queue(FRAME_QUEUE)
        self._head: _Picture | object | None = None  # taken from the queue, not yet due
        self._last_due = 0.0
        self._ended_at: float | None = None  # seconds from start, once the end was reached
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._task = None

    # ------------------------------------------------------------ loop side

    def open(self) -> "VideoSource":
        self._task = _decoders.submit(self._decode)
        return self

    @property
    def ready(self) -> bool:
        """The first picture is decoded (or the video failed: check `error`)."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def start(self, t0: float) -> None:
        self.t0 = t0

    def picture(self, now: float) -> pygame.Surface | None:
        """The newest picture due at `now` (monotonic), or None when none is newly due."""
        if self.t0 is None:
            return None
        newest = None
        while True:
            head = self._peek()
            if head is None or head is _END:
                break
            if self.t0 + head.due > now:
                break
            if newest is not None:
                self.dropped += 1
            newest = head
            self._head = None
        if newest is None:
            return None
        self.shown += 1
        self._last_due = newest.due
        self.last = newest.surface
        return newest.surface

    @property
    def next_due(self) -> float | None:
        """Monotonic time the next picture is due; None if none is decoded yet or the video has ended."""
        head = self._peek()
        if self.t0 is None or head is None or head is _END:
            return None
        return self.t0 + head.due

    @property
    def end_time(self) -> float | None:
        """Monotonic time this video's last picture stops showing; known once that picture was taken."""
        if self.t0 is None or self._ended_at is None:
            return None
        return self.t0 + self._ended_at

    @property
    def expected_end(self) -> float | None:
        """When it should end: from the container's duration, else once everything is decoded; None if unknown."""
        if self.t0 is None:
            return None
        if self.end_time is not None:
            return self.end_time
        if self.duration is not None:
            return self.t0 + self.duration
        return self.t0 + self._last_decoded_end if self.decoded_all else None

    def ended(self, now: float) -> bool:
        if self.error is not None and self.shown == 0:
            return True  # nothing to show at all
        end = self.end_time
        return end is not None and now >= end

    @property
    def decoding(self) -> bool:
        """The decoder task still runs (for tests: a closed source's task ends on its own, soon)."""
        return self._task is not None and not self._task.done()

    def close(self) -> None:
        self._stop.set()
        try:  # unblock a decoder waiting on a full queue
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        if self._task is not None:
            self._task.cancel()  # not started yet: never runs; running: it sees the stop flag within 0.1 s
        self._head = None  # no waiting here: the display loop goes on at once
        self.last = None
        if self.audio is not None:
            self.audio.close()

    def _peek(self):
        if self._head is None:
            try:
                self._head = self._queue.get_nowait()
            except queue.Empty:
                return None
            if self._head is _END:
                self._ended_at = self._last_decoded_end
        return self._head

    # ------------------------------------------------------------ decoder thread

    _last_decoded_end = 0.0

    def _decode(self) -> None:
        import av
        from av.video.reformatter import VideoReformatter

        reformatter = VideoReformatter()  # one scaler context for the whole video
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ValueError("no video stream")
                stream = container.streams.video[0]
                codec = stream.codec_context.name
                if codec not in SUPPORTED_CODECS:
                    raise ValueError(f"unsupported codec {codec!r}")
                if stream.average_rate:
                    self.frame_duration = 1 / float(stream.average_rate)
                if stream.duration is not None and stream.time_base is not None:
                    self.duration = float(stream.duration * stream.time_base)
                elif container.duration is not None:
                    self.duration = container.duration / 1_000_000
                if self.seconds is not None:
                    self.duration = min(self.duration or self.seconds, self.seconds)
                if stream.codec_context.width * stream.codec_context.height > ONE_THREAD_PIXELS:
                    stream.thread_type = "AUTO"  # 4K needs FFmpeg's frame threads
                    stream.codec_context.thread_count = CODEC_THREADS
                else:
                    stream.thread_type = "NONE"  # up to 1080p one thread keeps up, with fewer frames in memory
                streams = [stream]
                if self.audio is not None and container.streams.audio:
                    streams.append(container.streams.audio[0])
                first_pts = None
                for packet in container.demux(*streams):
                    if self._stop.is_set():
                        return
                    if packet.stream.type == "audio":
                        for frame in packet.decode():
                            self.audio.feed(frame)
                        continue
                    for frame in packet.decode():
                        if frame.width > MAX_SIDE or frame.height > MAX_SIDE:
                            raise ValueError(f"frames of {frame.width}x{frame.height} are too large")
                        if self.size is None:
                            self.size = _fit((frame.width, frame.height), self.area)
                        w, h = self.size
                        seconds = float(frame.time) if frame.time is not None else self._last_decoded_end
                        if first_pts is None:
                            first_pts = seconds
                        due = seconds - first_pts
                        if self.seconds is not None and due >= self.seconds:
                            self._last_decoded_end = self.seconds  # cut: the item lasts exactly `seconds`
                            self.decoded_all = True
                            return
                        picture = reformatter.reformat(frame, width=w, height=h, format=self.pixels.ffmpeg,
                                                       threads=1)
                        plane = picture.planes[0]
                        surface = pygame.image.frombuffer(plane, (w, h), self.pixels.pygame, plane.line_size)
                        if not self._put(_Picture(due, surface)):
                            return
                        self._last_decoded_end = due + self.frame_duration
                        if not self._ready.is_set():
                            self._ready.set()
                        self.on_picture()
                if first_pts is None:
                    raise ValueError("no frame could be decoded")
                self.decoded_all = True
        except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
            self.error = _describe(exc)
        except Exception as exc:  # a decoder bug must not take the board down; the player skips the item
            log.exception("video %s: unexpected decoder failure", self.path.name)
            self.error = _describe(exc)
        finally:
            self._put(_END)
            self._ready.set()
            self.on_picture()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled into `box`, keeping its shape, width a multiple of 8 and height even.

    FFmpeg's scaler leaves its SIMD path for odd widths: a 720p frame to 1091×614 BGRA cost
    5.5 ms of CPU, to 1088×612 1.2 ms (to 1739×978: 9.0 ms, to 1744×980: 2.2 ms).
    """
    k = min(box[0] / max(1, size[0]), box[1] / max(1, size[1]))
    w = max(8, int(size[0] * k) // 8 * 8)
    h = max(2, int(size[1] * k) // 2 * 2)
    return w, h


def _describe(exc: BaseException) -> str:
    """One line for a log and a report: FFmpeg's own words, without its errno and the file's path."""
    reason = getattr(exc, "strerror", None)
    if reason and type(exc).__module__.startswith("av"):
        return str(reason)
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {detail}" if detail and name not in ("ValueError",) else (detail or name)


def monotonic() -> float:
    return time.monotonic()
