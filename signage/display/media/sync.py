"""Bring the hub's content to this display: a thread that fetches manifests and files into the cache.

    sync = ContentSync("http://10.0.0.5:8765", cache, mailbox, wake)
    sync.start()            # the cached manifest (if complete enough) is offered at once: plays offline
    sync.offer(manifest)    # a `content` event arrived (any thread)
    sync.refresh()          # the link came online: ask the hub for its current manifest
    mailbox.take()          # the display loop: the newest complete Playlist, or None

For each new manifest, every file it lacks is downloaded from GET /content/files/<sha256>
in ranges of CHUNK bytes (a cut connection resumes where it stopped), hashed while it is
written, and renamed into the cache only if its SHA-256 matches. Then the manifest is saved
and one Playlist with every usable file goes to the mailbox: the player switches in one step,
never to a half-downloaded playlist. A file that can't be had (404, hash mismatch, no room in
the cache) is left out with one log line, and its error is kept in `errors()` for reports.
While the hub is unreachable the old playlist keeps playing and the download is retried.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from signage.core import protocol
from signage.core.content import Manifest
from signage.display.media.cache import ContentCache
from signage.errors import ProtocolError

log = logging.getLogger("signage.display.media")

CHUNK = 1024 * 1024  # per request: the hub reads it on its event loop, so keep it short
HTTP_TIMEOUT = 10.0
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
MAX_ERRORS = 200


@dataclass(frozen=True)
class Playlist:
    manifest: Manifest
    paths: Mapping[str, Path] = field(default_factory=dict)  # sha256 → a verified file in the cache
    source: str = "local"  # hub | cache (restored at start) | local (this display's own config)


class Mailbox:
    """Newest wins: the sync thread puts, the display loop takes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._item = None

    def put(self, item) -> None:
        with self._lock:
            self._item = item

    def take(self):
        with self._lock:
            item, self._item = self._item, None
            return item


def http_base(hub_url: str) -> str:
    """ws://host:port/… → http://host:port (wss → https)."""
    parts = urlsplit(hub_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


Response = tuple[int, bytes]  # (status, body)


def http_get(url: str, headers: dict[str, str], timeout: float = HTTP_TIMEOUT) -> Response:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (our own hub, http)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


class _Unreachable(Exception):
    """The hub can't be reached now: try again later."""


class _Unusable(Exception):
    """This file can't be had from this hub (404, wrong hash): leave it out."""


class ContentSync:
    def __init__(self, base: str | None, cache: ContentCache, mailbox: Mailbox, wake: Callable[[], None] = lambda: None,
                 *, get: Callable[[str, dict], Response] = http_get):
        self.base = base  # http://hub:port, or None: cache and local content only
        self.cache = cache
        self.mailbox = mailbox
        self.wake = wake
        self.get = get
        self.installed: Manifest | None = None  # the manifest whose playlist was last handed over
        self.downloads = 0  # files fetched, for tests and logs
        self._errors: dict[str, str] = {}
        self._cv = threading.Condition()
        self._offered: Manifest | None = None
        self._refresh = False
        self._retry_at: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ any thread

    def start(self) -> "ContentSync":
        self.cache.open()
        cached = self.cache.load_manifest()
        if cached is not None:
            playlist = self._playlist(cached, "cache")
            self.installed = cached
            log.info("content: %d item(s) of manifest %s from the cache", len(playlist.paths), cached.digest[:12])
            self._hand_over(playlist)
        self._thread = threading.Thread(target=self._run, name="content-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def offer(self, manifest: Manifest) -> None:
        with self._cv:
            self._offered = manifest
            self._cv.notify_all()

    def refresh(self) -> None:
        with self._cv:
            self._refresh = True
            self._cv.notify_all()

    def errors(self) -> dict[str, str]:
        with self._cv:
            return dict(self._errors)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        from signage.display.media.video import lower_priority

        lower_priority()  # hashing and writing files yields to the display loop
        attempt = 0
        while True:
            with self._cv:
                while not (self._stopping or self._offered is not None or self._refresh
                           or (self._retry_at is not None and time.monotonic() >= self._retry_at)):
                    timeout = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
                    self._cv.wait(timeout)
                if self._stopping:
                    return
                offered, self._offered = self._offered, None
                refresh, self._refresh = self._refresh, False
                retry, self._retry_at = self._retry_at is not None, None
            try:
                manifest = offered
                if manifest is None and (refresh or retry) and self.base is not None:
                    manifest = self._fetch_manifest()
                if manifest is not None:
                    self._install(manifest)
                attempt = 0
            except _Unreachable as exc:
                delay = min(RETRY_MAX, RETRY_FIRST * 2 ** attempt)
                attempt += 1
                log.info("content: hub unreachable (%s); retrying in %.0f s", exc, delay)
                with self._cv:
                    if self._offered is None:
                        self._offered = offered  # keep the pending manifest for the retry
                    self._retry_at = time.monotonic() + delay
            except Exception:  # a bug here must not stop content forever; the board keeps playing
                log.exception("content sync failed")
                with self._cv:
                    self._retry_at = time.monotonic() + RETRY_MAX

    def _fetch_manifest(self) -> Manifest | None:
        status, body = self._get("/content/manifest.json", {})
        if status == 404:
            return None  # the hub has published nothing yet
        if status != 200:
            raise _Unreachable(f"manifest: HTTP {status}")
        try:
            return protocol.decode_manifest(body)
        except ProtocolError as exc:
            log.warning("content: the hub's manifest is unusable: %s", exc.message)
            return None

    def _install(self, manifest: Manifest) -> None:
        if self.installed is not None and manifest.digest == self.installed.digest and self._complete(manifest):
            return
        needed = manifest.files()
        errors: dict[str, str] = {}
        room = set()
        budget = self.cache.max_bytes
        for sha, size in needed.items():  # the playlist's order decides what fits a small cache
            if size <= budget:
                budget -= size
                room.add(sha)
        for item in manifest.items:
            if item.sha256 is not None and item.sha256 not in room:
                errors[item.sha256] = f"{item.key} {item.file}: does not fit the cache (content.cache_mb)"
        for sha in room:
            if self.cache.has(sha, needed[sha]):
                self.cache.touch(sha)
                continue
            try:
                self._download(sha, needed[sha], keep=room)
            except _Unusable as exc:
                name = next((i.file for i in manifest.items if i.sha256 == sha), sha[:12])
                errors[sha] = f"{name}: {exc}"
        for message in errors.values():
            log.warning("content: left out %s", message)
        self.cache.save_manifest(manifest)
        self.installed = manifest
        with self._cv:
            self._errors = {k: v for k, v in list(errors.items())[:MAX_ERRORS]}
        playlist = self._playlist(manifest, "hub")
        log.info("content: manifest %s ready, %d file(s), %d item(s)", manifest.digest[:12], len(playlist.paths),
                 len(manifest.items))
        self._hand_over(playlist)

    def _complete(self, manifest: Manifest) -> bool:
        return all(self.cache.has(sha, size) for sha, size in manifest.files().items())

    def _playlist(self, manifest: Manifest, source: str) -> Playlist:
        paths = {sha: self.cache.path(sha) for sha, size in manifest.files().items() if self.cache.has(sha, size)}
        return Playlist(manifest, paths, source)

    def _hand_over(self, playlist: Playlist) -> None:
        self.mailbox.put(playlist)
        self.wake()

    def _download(self, sha: str, size: int, keep: set[str]) -> None:
        part = self.cache.partial_path(sha)
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        if not self.cache.make_room(size - have, keep):
            raise _Unusable(f"does not fit the cache ({size} bytes)")
        digest = hashlib.sha256()
        if have:
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        with open(part, "ab") as out:
            while have < size:
                end = min(size, have + CHUNK) - 1
                status, body = self._get(f"/content/files/{sha}", {"Range": f"bytes={have}-{end}"})
                if status == 404:
                    raise _Unusable("the hub does not have this file (404)")
                if status == 416 or (status == 200 and have):
                    out.truncate(0)
                    out.seek(0)
                    digest, have = hashlib.sha256(), 0
                    if status == 416:
                        continue
                if status not in (200, 206):
                    raise _Unreachable(f"HTTP {status}")
                if not body:
                    raise _Unreachable("empty response")
                if have + len(body) > size:
                    body = body[: size - have]
                out.write(body)
                digest.update(body)
                have += len(body)
        if digest.hexdigest() != sha:
            self.cache.discard(sha)
            raise _Unusable(f"downloaded bytes have SHA-256 {digest.hexdigest()[:12]}…, expected {sha[:12]}…")
        self.cache.admit(sha)
        self.downloads += 1

    def _get(self, path: str, headers: dict) -> Response:
        try:
            return self.get(f"{self.base}{path}", headers)
        except (OSError, urllib.error.URLError, TimeoutError) as exc:
            raise _Unreachable(str(getattr(exc, "reason", exc))) from None
