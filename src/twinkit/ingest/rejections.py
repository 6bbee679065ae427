"""Bad input: counted, logged at most once per (twin, reason) a minute, told to the device.

The counters are plain ints in :attr:`IngestStats.counters` so ``/metrics`` can
render them without knowing this module (see docs/mqtt.md for the names).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from twinkit.ingest.topics import errors_topic

log = logging.getLogger("twinkit.ingest")

# reason codes a rejected message is counted under
MALFORMED = "malformed_payload"
UNKNOWN_TWIN = "unknown_twin"
INVALID = "validation_failed"
TOO_LARGE = "payload_too_large"
RATE_LIMITED = "rate_limited"
MAPPING_FAILED = "mapping_failed"
OVERLOADED = "overloaded"
WRITE_FAILED = "write_failed"


@dataclass(frozen=True, slots=True)
class Rejection:
    twin: str | None
    code: str
    message: str
    path: str = ""

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "path": self.path}


class IngestStats:
    """Counters of the ingest path; read by the API's ``/metrics``."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def snapshot(self) -> dict[str, int]:
        """Flat ``{name: value}``: ``received``, ``applied``, ``duplicates``, ``rejected``,
        ``rejected.<reason>``, ``acked``, ``pending``."""
        flat = dict(self.counters)
        flat["rejected"] = sum(self.rejected.values())
        flat.update({f"rejected.{reason}": n for reason, n in self.rejected.items()})
        return flat


Publish = Callable[[str, bytes, int, bool], None]


class Rejections:
    """Counts, logs (throttled) and publishes rejections on ``twinkit/{id}/errors``."""

    def __init__(self, stats: IngestStats, publish: Publish | None, quiet_seconds: float = 60.0):
        self._stats = stats
        self._publish = publish
        self._quiet = quiet_seconds
        self._last: OrderedDict[tuple[str | None, str], float] = OrderedDict()

    def reject(self, rejection: Rejection) -> None:
        self._stats.rejected[rejection.code] += 1
        key = (rejection.twin, rejection.code)
        now = time.monotonic()
        last = self._last.get(key)
        first_in_a_while = last is None or now - last >= self._quiet
        if first_in_a_while:
            self._last[key] = now
            self._last.move_to_end(key)
            if len(self._last) > 50_000:
                self._last.popitem(last=False)
            log.warning(
                "rejected MQTT message for twin %s: %s: %s%s",
                rejection.twin,
                rejection.code,
                rejection.message,
                f" (at {rejection.path})" if rejection.path else "",
            )
        # A flood is told once a minute, everything else every time (it is the device's only
        # feedback); an unidentifiable sender cannot be told.
        tell = rejection.code != RATE_LIMITED or first_in_a_while
        if tell and rejection.twin and self._publish is not None:
            body = orjson.dumps(rejection.to_json())
            self._publish(errors_topic(rejection.twin), body, 0, False)
