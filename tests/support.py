"""Helpers shared by tests (importable as `support`; pytest's pythonpath includes tests/)."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta
from pathlib import Path

from signage.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
# Every timeout in tests scales with this (slow CI machines: SIGNAGE_TEST_TIMEOUT_SCALE=3).
TIMEOUT_SCALE = float(os.environ.get("SIGNAGE_TEST_TIMEOUT_SCALE", "1"))


def timeout(seconds: float) -> float:
    return seconds * TIMEOUT_SCALE


def hall_config(tmp_path: Path, **hub_changes) -> Config:
    """The real Pandeglang config, with the journal in tmp_path and port 0."""
    cfg = load_config(ROOT / "config.yaml")
    hub = dataclasses.replace(cfg.hub, journal=tmp_path / "journal.sqlite", host="127.0.0.1", port=0,
                              **hub_changes)
    return dataclasses.replace(cfg, hub=hub)


class FakeClock:
    """A hall clock tests can move; the hub and core take time as a parameter."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


# ---------------------------------------------------------------- hubs and clients


import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
import threading

from websockets.asyncio.client import connect


@contextlib.asynccontextmanager
async def running_hub(config: Config, clock=None):
    """A real hub on 127.0.0.1, port 0, with a real SQLite journal."""
    from signage.hub.server import Hub

    hub = Hub(config, clock=clock, host="127.0.0.1", port=0)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


class Raw:
    """A websocket client that speaks raw JSON, to test the wire contract itself."""

    def __init__(self, ws):
        self.ws = ws

    async def send(self, obj) -> None:
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    async def recv(self, wait: float = 5.0) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout(wait)))

    async def recv_type(self, kind: str, wait: float = 5.0) -> dict:
        """Next frame of `kind`, skipping others (e.g. events on an operator connection)."""
        while True:
            frame = await self.recv(wait)
            if frame["type"] == kind:
                return frame

    async def nothing(self, wait: float = 0.3) -> bool:
        try:
            await asyncio.wait_for(self.ws.recv(), timeout(wait))
        except asyncio.TimeoutError:
            return True
        return False


@contextlib.asynccontextmanager
async def raw_client(url: str, token: str | None, role: str = "operator", since=None, subscribe=None,
                     client: str = "test", **connect_kw):
    async with connect(url, compression=None, **connect_kw) as ws:
        raw = Raw(ws)
        if token is not None:
            hello = {"type": "hello", "role": role, "token": token, "client": client, "since": since}
            if subscribe is not None:
                hello["subscribe"] = subscribe
            await raw.send(hello)
        yield raw


class HubProcess:
    """`python -m signage hub` as a real process, for crash tests."""

    def __init__(self, config_path: Path, env: dict | None = None):
        self.config_path = config_path
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self, port: int = 0) -> "HubProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "signage", "hub", "--config", str(self.config_path), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        self.output: list[str] = []
        for line in self.proc.stdout:
            self.output.append(line)
            found = re.search(r"signage hub: (ws://\S+)", line)
            if found:
                self.url = found.group(1)
                # keep draining, or a full pipe would block the hub's logging
                self._drainer = threading.Thread(target=self._drain, daemon=True)
                self._drainer.start()
                return self
        raise RuntimeError("hub did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def wait(self, seconds: float = 10) -> int:
        """Exit status, once the process ended and all its output was read."""
        code = self.proc.wait(timeout(seconds))
        self._drainer.join(timeout(seconds))
        return code

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout(10))
            except subprocess.TimeoutExpired:
                self.kill()


def write_config(tmp_path: Path, **hub_changes) -> Path:
    # Tests drive many commands through one connection: lift the per-connection rate limit
    # unless a test sets it.
    hub_changes.setdefault("rate", {"per_second": 10_000, "burst": 10_000})
    """A copy of the real config.yaml with the hub section changed, e.g. journal=..."""
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["hub"].update({"journal": str(tmp_path / "journal.sqlite"), **hub_changes})
    raw["announcer"]["chime"] = str(ROOT / "assets" / "chime.wav")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, token: str | None = None) -> tuple[int, bytes, str]:
    """GET with an optional bearer token: (status, body, content type), errors included."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout(5)) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


async def fetch(hub, path: str, token: str | None = None) -> tuple[int, bytes, str]:
    """http_get of a running hub's path, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, http_get, f"http://127.0.0.1:{hub.port}{path}",
                                                            token)


async def until(predicate, seconds: float = 5.0):
    """Poll an async predicate until it returns something true (its value), or fail after `seconds` (scaled)."""
    deadline = asyncio.get_running_loop().time() + timeout(seconds)
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
