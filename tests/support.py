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
