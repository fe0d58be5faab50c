"""How long a client waits before reconnecting: exponential backoff with full jitter. Pure.

    backoff_delay(0) in [0.125, 0.5] s, doubling per failed attempt, capped at BACKOFF_MAX

The jitter spreads the reconnects of a hall's screens after a hub restart, so
they don't all arrive in the same instant. The random source is a parameter,
so tests can pin it.
"""

from __future__ import annotations

import random
from typing import Callable

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 8.0


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Full jitter: uniform in [0.25, 1] × min(max, first × 2^attempt)."""
    cap = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(attempt, 16)))
    return cap * (0.25 + 0.75 * rng())
