"""Time: timezone-aware UTC everywhere, ISO 8601 on the wire, and an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from twinkit.model.errors import ValidationFailed


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_recent: dict[datetime, str] = {}


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, microsecond precision when present."""
    text = _recent.get(moment)
    if text is None:  # events of one batch share their timestamps: format each once
        text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if len(_recent) >= 64:
            _recent.clear()
        _recent[moment] = text
    return text


def parse_time(text: str, path: str = "") -> datetime:
    """Parse ISO 8601; a time without a zone is refused rather than guessed."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed(f"{text!r} is not an ISO 8601 time", path) from None
    if moment.tzinfo is None:
        raise ValidationFailed(f"{text!r} has no time zone (add Z or +00:00)", path)
    return moment.astimezone(UTC)


def parse_duration(text: str, path: str = "") -> timedelta:
    """Parse a short duration: ``500ms``, ``10s``, ``5m``, ``2h``, ``1d``, ``1w`` or seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip()
    for suffix in ("ms", "s", "m", "h", "d", "w"):
        if raw.endswith(suffix):
            number = raw[: -len(suffix)]
            break
    else:
        suffix, number = "s", raw
    try:
        value = float(number)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a duration like 10s, 5m or 1h", path) from None
    if value <= 0:
        raise ValidationFailed(f"duration {text!r} must be positive", path)
    return timedelta(seconds=value * units[suffix])
