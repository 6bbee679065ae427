"""Rate limits per identity: a token bucket each, refilled continuously.

A caller over its rate gets 429 with ``Retry-After`` (whole seconds, at least 1)
saying when one request will be allowed again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Bucket:
    __slots__ = ("level", "stamp")

    def __init__(self, level: float, stamp: float) -> None:
        self.level = level
        self.stamp = stamp


class RateLimiter:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, rate: float | None = None, burst: float | None = None) -> float:
        """Spend one token for ``key``: 0.0 when allowed, else seconds until one is available."""
        rate = rate or self.rate
        burst = burst or self.burst
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._buckets.clear()  # bounded memory under a flood of identities
            bucket = self._buckets[key] = Bucket(burst, now)
        bucket.level = min(burst, bucket.level + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.level >= 1.0:
            bucket.level -= 1.0
            return 0.0
        return (1.0 - bucket.level) / rate


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
