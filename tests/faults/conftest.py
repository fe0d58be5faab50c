"""Fixtures for the fault suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from faults.harness import Hall, make_hall


@pytest.fixture
def hall(tmp_path: Path) -> Hall:
    return make_hall(tmp_path)
