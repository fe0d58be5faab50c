"""The hub's content service: scan the content folder, publish manifests, know which file has which hash.

    service = ContentService(hub)
    service.start()                  # after the hub listens: scan, publish if changed (a task; calls first)
    await service.publish(reload=True)  # `signage content publish`: reread config + folder, publish if changed
    service.file(sha256)             # the path serving that hash, or None (signage.hub.content_http)

Publishing goes through the hub's own command pipeline (Hub.submit): a Publish command
becomes a `content` event with the next seq, journaled before anything is sent, then
broadcast to every display like any other event (signage.core.rules). At start, the last
journaled `content` event tells what was published before; a new event is written only if
the manifest's digest differs, so a restart with the same files announces nothing.

At start the hub publishes only if some zone's layout (display.layout, or the zone's own) has
a media area: a hall of queue boards gets no content events. It still scans, and serves the
scanned manifest over HTTP to a display started with --layout; `signage content publish`
publishes whatever the layouts say.

Hashing reads every file once; a (size, mtime) cache keeps rescans cheap. It runs in a thread
of its own, never on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from signage.config import Config, Token, load_config
from signage.core import manifest as manifests, messages as m
from signage.core.content import Manifest, kind_of_file
from signage.core.manifest import Built, FileFacts
from signage.core.rules import HUB_ROLE
from signage.errors import ConfigError, JournalError

log = logging.getLogger("signage.hub.content")

# The token the hub's own services act with. Its secret is random and in no config: no client can present it.
SYSTEM_TOKEN = Token("hub", HUB_ROLE, secrets.token_hex(16), None)


@dataclass(frozen=True)
class _Stat:
    size: int
    mtime_ns: int


class FileIndex:
    """sha256 → file, with the (size, mtime) each hash was computed for. Used from the scan thread."""

    def __init__(self):
        self._by_path: dict[Path, tuple[_Stat, str]] = {}
        self._by_sha: dict[str, tuple[Path, _Stat]] = {}

    def facts(self, path: Path) -> FileFacts:
        st = path.stat()
        stat = _Stat(st.st_size, st.st_mtime_ns)
        known = self._by_path.get(path)
        if known is not None and known[0] == stat:
            sha = known[1]
        else:
            sha = sha256_of(path)
        self._by_path[path] = (stat, sha)
        self._by_sha[sha] = (path, stat)
        return FileFacts(sha, stat.size)

    def path(self, sha: str) -> Path | None:
        """The file whose content has this hash, if it still is what was hashed."""
        entry = self._by_sha.get(sha)
        if entry is None:
            return None
        path, stat = entry
        try:
            st = path.stat()
        except OSError:
            return None
        return path if (st.st_size, st.st_mtime_ns) == (stat.size, stat.mtime_ns) else None


def has_media_area(config: Config) -> bool:
    return any(config.content.layout_for(z.name) != "queue" for z in config.display.zones)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan(config: Config, index: FileIndex | None = None) -> Built:
    """The manifest for `config`'s playlist and content folder (reads and hashes files)."""
    index = index or FileIndex()
    content = config.content
    facts: dict[str, FileFacts | str] = {}
    for item in content.playlist:
        if item.file is None or item.file in facts:
            continue
        if content.dir is None:
            facts[item.file] = "content.dir is not set"
            continue
        path = content.dir / item.file
        try:
            resolved = path.resolve(strict=True)
            if not resolved.is_relative_to(content.dir.resolve()):
                facts[item.file] = f"{path} lies outside content.dir"
            elif not resolved.is_file():
                facts[item.file] = f"{path} is not a file"
            elif kind_of_file(item.file) is None:
                facts[item.file] = f"unsupported file type {Path(item.file).suffix or '(none)'}"
            else:
                facts[item.file] = index.facts(resolved)
        except FileNotFoundError:
            facts[item.file] = f"{path} not found"
        except OSError as exc:
            facts[item.file] = f"{path}: {exc.strerror or exc}"
    return manifests.build(config, facts)


class ContentService:
    def __init__(self, hub):
        self.hub = hub
        self.config: Config = hub.config
        self.index = FileIndex()
        self.current: Manifest | None = None  # the last published manifest
        self.current_seq: int | None = None
        self.scanned: Manifest | None = None  # the last scan's, published or not
        self.problems: tuple[str, ...] = ()
        self.last_result: str = "not scanned yet"
        self.requests = 0  # publish requests over HTTP ...
        self.completed = 0  # ... and how many of them have finished
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="content-scan")
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._lock = asyncio.Lock()
        self._task = self.hub.spawn(self._first(), "content first publish")  # tracked: never fails unseen

    async def wait_started(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        for task in [self._task]:  # publishes asked for over HTTP run on hub.spawn: the hub awaits them
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _first(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            last = await loop.run_in_executor(self.hub._io, self.hub.journal.last_of_type, "content")
        except JournalError as exc:
            log.error("content: cannot read the last manifest from the journal: %s", exc)
            last = None
        if isinstance(last, m.ContentChanged):
            self.current, self.current_seq = last.manifest, last.seq
        try:
            await self.publish(reload=False, force=False)
        except Exception:  # the hub serves calls whatever happens to content
            log.exception("content: first publish failed")

    async def publish(self, reload: bool = True, force: bool = True) -> str:
        """Rescan (rereading config if `reload`) and publish if the manifest changed. Returns what happened.

        Without `force`, only when some zone's layout has a media area.
        """
        assert self._lock is not None, "start() first"
        async with self._lock:
            loop = asyncio.get_running_loop()
            try:
                config = await loop.run_in_executor(self._executor, self._config, reload)
                built = await loop.run_in_executor(self._executor, scan, config, self.index)
            except ConfigError as exc:
                self.last_result = f"config error: {exc.problems[0]}"
                log.error("content: not published: %s", "; ".join(exc.problems))
                return self.last_result
            self._report(built.problems)
            self.scanned = built.manifest
            if not force and not has_media_area(config):
                self.last_result = (f"scanned manifest {built.manifest.digest[:12]}, not published: no zone uses "
                                    "the split or media layout (signage content publish does it anyway)")
                log.info("content: %s", self.last_result)
                return self.last_result
            if self.current is not None and self.current.digest == built.manifest.digest:
                self.last_result = f"unchanged (manifest {built.manifest.digest[:12]}, seq {self.current_seq})"
                return self.last_result
            reply = await self.hub.submit(m.Publish(f"content-{built.manifest.digest[:16]}-{secrets.token_hex(4)}",
                                                    built.manifest), SYSTEM_TOKEN)
            if isinstance(reply, m.Ack):
                self.current, self.current_seq = built.manifest, reply.seq
                self.last_result = f"published manifest {built.manifest.digest[:12]} as seq {reply.seq}"
                log.info("content: %s: %d item(s), %d generated slide(s), %d problem(s)", self.last_result,
                         len(built.manifest.items), len(built.manifest.fallback), len(built.problems))
            else:
                self.last_result = f"not published: {reply.code}: {reply.message}"
                log.error("content: %s", self.last_result)
            return self.last_result

    def request_publish(self) -> int:
        """From the HTTP handler (no await there): publish in the background; returns the request number."""
        self.requests += 1
        self.hub.spawn(self._background_publish(), f"content publish {self.requests}")
        return self.requests

    async def _background_publish(self) -> None:
        try:
            await self.publish(reload=True)
        except Exception:
            log.exception("content: publish failed")
            self.last_result = "failed (see the hub's log)"
        finally:
            self.completed += 1

    def _config(self, reload: bool) -> Config:
        if not reload:
            return self.config
        fresh = load_config(self.config.path)
        self.config = fresh  # the content parts only: the hub's other settings need a restart
        return fresh

    def _report(self, problems: tuple[str, ...]) -> None:
        for problem in problems:
            if problem not in self.problems:
                log.warning("content: %s", problem)
        self.problems = problems

    def file(self, sha256: str) -> Path | None:
        return self.index.path(sha256)

    def status(self) -> dict:
        return {
            "seq": self.current_seq,
            "digest": self.current.digest if self.current else None,
            "scanned": self.scanned.digest if self.scanned else None,
            "items": len(self.current.items) if self.current else 0,
            "problems": list(self.problems),
            "last_result": self.last_result,
            "requests": self.requests,
            "completed": self.completed,
        }
