"""Flood control: a token bucket per device, so one chatty device cannot starve the rest."""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBuckets:
    """``rate`` messages per second per device with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float, devices: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max = devices
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def allow(self, device: str, now: float | None = None) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(device)
        if bucket is None:
            bucket = self._buckets[device] = [self.burst, now]
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True
