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
