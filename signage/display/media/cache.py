"""A display's local copy of the content: files named by their SHA-256, and the last complete manifest.

    var/content-cache/
      manifest.json        the manifest whose files are all here (replaced atomically)
      files/<sha256>       one file per content hash, verified before it got this name
      partial/<sha256>     a download in progress (resumed after a restart or an outage)

Bounded: `max_bytes` caps files/ + partial/. Files the current manifest needs are never
evicted; others go least recently used first. A display that restarts offline plays what
manifest.json lists, straight from files/. Used by the sync thread only (and read by the
player through the paths it is handed), so nothing here is shared between threads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from signage.core import protocol
from signage.core.content import Manifest
from signage.errors import ProtocolError

log = logging.getLogger("signage.display.media")


class ContentCache:
    def __init__(self, directory: Path, max_bytes: int):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.files = self.directory / "files"
        self.partial = self.directory / "partial"
        self.manifest_path = self.directory / "manifest.json"

    def open(self) -> "ContentCache":
        for d in (self.files, self.partial):
            d.mkdir(parents=True, exist_ok=True)
        return self

    # -- manifest

    def load_manifest(self) -> Manifest | None:
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("content cache: cannot read %s: %s; starting without it", self.manifest_path, exc)
            return None
        try:
            return protocol.decode_manifest(text)
        except ProtocolError as exc:
            log.warning("content cache: %s is unusable (%s); starting without it", self.manifest_path, exc.message)
            return None

    def save_manifest(self, manifest: Manifest) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(protocol.encode_manifest(manifest))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.manifest_path)

    # -- files

    def path(self, sha256: str) -> Path:
        return self.files / sha256

    def partial_path(self, sha256: str) -> Path:
        return self.partial / sha256

    def has(self, sha256: str, size: int) -> bool:
        try:
            return self.path(sha256).stat().st_size == size
        except OSError:
            return False

    def admit(self, sha256: str) -> Path:
        """The verified partial download becomes the cached file."""
        final = self.path(sha256)
        os.replace(self.partial_path(sha256), final)
        return final

    def touch(self, sha256: str) -> None:
        try:
            os.utime(self.path(sha256))
        except OSError:
            pass

    def discard(self, sha256: str) -> None:
        for p in (self.path(sha256), self.partial_path(sha256)):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def usage(self) -> int:
        return sum(_size(p) for d in (self.files, self.partial) for p in _entries(d))

    def make_room(self, need: int, keep: set[str]) -> bool:
        """Evict files not in `keep`, least recently used first, until `need` more bytes fit. False if they can't."""
        used = self.usage()
        if used + need <= self.max_bytes:
            return True
        candidates = sorted((p for d in (self.files, self.partial) for p in _entries(d) if p.name not in keep),
                            key=_mtime)
        for p in candidates:
            size = _size(p)
            try:
                p.unlink()
            except OSError:
                continue
            used -= size
            log.info("content cache: evicted %s (%d bytes)", p.name[:12], size)
            if used + need <= self.max_bytes:
                return True
        return used + need <= self.max_bytes


def _entries(directory: Path) -> list[Path]:
    try:
        return [p for p in directory.iterdir() if p.is_file()]
    except FileNotFoundError:
        return []


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0
