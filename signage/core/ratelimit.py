"""Token bucket, pure: the caller passes the time and keeps the returned bucket."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float  # monotonic seconds


def full(burst: int, now: float) -> Bucket:
    return Bucket(float(burst), now)


def take(bucket: Bucket, now: float, per_second: float, burst: int) -> tuple[Bucket, bool]:
    """Spend one token if there is one. Returns (new bucket, allowed)."""
    tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.updated) * per_second)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), True
    return Bucket(tokens, now), False


# ---------------------------------------------------------------- failed hellos, per address


@dataclass(frozen=True)
class Strikes:
    """Failed hellos from one address: after FREE_STRIKES in a row, each one more
    blocks the address for twice as long as the last (1 s, 2 s, 4 s ... up to MAX_BLOCK).
    A good hello forgives everything."""

    count: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


FREE_STRIKES = 10
MAX_BLOCK = 300.0
FORGET_AFTER = 600.0  # a quiet address starts over


def strike(strikes: Strikes, now: float) -> Strikes:
    count = 1 if now - strikes.last > FORGET_AFTER else strikes.count + 1
    blocked = strikes.blocked_until
    if count > FREE_STRIKES:
        blocked = now + min(MAX_BLOCK, 2.0 ** (count - FREE_STRIKES - 1))
    return Strikes(count, blocked, now)


def blocked_for(strikes: Strikes | None, now: float) -> float:
    """Seconds this address must still wait; 0 if it may try."""
    return 0.0 if strikes is None else max(0.0, strikes.blocked_until - now)
