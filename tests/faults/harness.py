"""Shared by the fault suite: the hall under test, what we read from outside the processes
(/proc, /healthz, the journal file, the display's log), and a stream of calls."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from signage.config import Config, load_config
from signage.core import messages as m
from signage.operator.client import Session
from support import timeout, write_config

# Reuse the colleagues' display harness: a real `signage display` process, headless, with --snapshot-dir.
from integration.test_display_live import DisplayProcess, notices  # noqa: F401  (re-exported)


# ---------------------------------------------------------------- the hall under test


@dataclass
class Hall:
    config_path: Path
    config: Config
    operator: str  # the supervisor's token: may call on every counter
    display: str  # the token a display picks by default

    @property
    def journal(self) -> Path:
        return self.config.hub.journal


def make_hall(tmp_path: Path, **hub_changes) -> Hall:
    """The real config.yaml written to tmp_path (rate limit lifted, journal in tmp_path unless changed)."""
    path = write_config(tmp_path, **hub_changes)
    config = load_config(path)
    supervisor = next(t.secret for t in config.tokens if t.name == "supervisor")
    return Hall(path, config, supervisor, config.first_token("display").secret)


# ---------------------------------------------------------------- processes


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


# ---------------------------------------------------------------- hub


def healthz(port: int) -> tuple[int, dict]:
    """(HTTP status, body) of the hub's /healthz; 503 means degraded."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout(5)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def journal_seqs(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [seq for (seq,) in db.execute("SELECT seq FROM events ORDER BY seq")]


async def hub_snapshot(url: str, display_token: str) -> tuple[int, m.Snapshot]:
    """(seq, state) as the hub sends it to a newly connected display."""
    async with Session(url, display_token, role="display", client="fault-test", subscribe=True) as session:
        return session.welcome.seq, session.welcome.state


# ---------------------------------------------------------------- display log


def shown_seqs(display: DisplayProcess) -> list[int]:
    """Seqs from 'shown seq=N' lines, in log order (one line per frame that first showed a new seq)."""
    return [int(found.group(1)) for line in display.lines if (found := re.search(r"shown seq=(\d+) ", line))]


def link_connects(display: DisplayProcess) -> int:
    return sum("link: connected to" in line for line in display.lines)


async def eventually(predicate, seconds: float, what: str, poll: float = 0.02, context=lambda: "") -> None:
    """Wait until predicate() is true; on timeout, fail with `what` and context() (e.g. a process log)."""
    deadline = time.monotonic() + timeout(seconds)
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}\n{context()}")
        await asyncio.sleep(poll)


# ---------------------------------------------------------------- traffic


def call_for(n: int, prefix: str = "call") -> m.Call:
    """The n-th call of a stream: counters in turn, one ticket letter per counter."""
    counter = (n - 1) % 21 + 1
    return m.Call(f"{prefix}-{n}", counter, f"{chr(ord('A') + counter - 1)}-{n:03d}")


async def stream_calls(url: str, token: str, acked: dict[str, int], stop: asyncio.Event, *,
                       pause: float = 0.0, prefix: str = "call") -> int:
    """Send calls one after another until `stop`; records id → seq of every ack. Returns calls sent."""
    n = 0
    async with Session(url, token) as operator:
        while not stop.is_set():
            n += 1
            command = call_for(n, prefix)
            acked[command.id] = (await operator.request(command)).seq
            if pause:
                await asyncio.sleep(pause)
    return n
