"""Shared test setup: headless SDL, the real config with a temporary journal."""

from __future__ import annotations

import os

# Before anything imports pygame: no window, no sound card, no banner.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from pathlib import Path

import pytest

from signage.config import Config
from support import hall_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return hall_config(tmp_path)


@pytest.fixture
def tokens(config: Config) -> dict[str, str]:
    """Token name → secret."""
    return {t.name: t.secret for t in config.tokens}
