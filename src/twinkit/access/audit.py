"""The audit log: every write and every denied attempt — who, what, when, from where.

Stored as JSON Lines next to the database (``twinkit.db.audit.jsonl``), one
object per line, each appended with a single ``write`` on an ``O_APPEND`` descriptor
opened for that entry: a crashed process loses none, several writers (the API and
the broker plugins) never interleave inside a line, and nothing stays open to leak.
A separate file keeps audit appends off the platform's SQLite writer and makes the
log easy to ship (``tail -F``, logrotate with copytruncate). Without a database
file the log is kept in memory.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

MEMORY_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str  # ISO 8601, UTC
    subject: str  # principal id, "anonymous" when unauthenticated
    action: str  # "PATCH /api/v1/twins/{twin_id}/desired", "mqtt publish", "cli token create"
    outcome: str  # "allowed" or "denied"
    status: int = 0  # HTTP status (0 off HTTP)
    resource: str = ""  # the resource path decided on, e.g. twin:/desired/setpoint
    twin: str | None = None
    tenant: str | None = None
    client: str | None = None  # "host:port" of the caller
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_path_for(db_path: str | os.PathLike[str] | None) -> Path | None:
    return None if db_path is None else Path(f"{os.fspath(db_path)}.audit.jsonl")


class AuditLog:
    """Append-only log; :meth:`list` answers newest first."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._memory: deque[dict[str, Any]] = deque(maxlen=MEMORY_ENTRIES)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def reader(cls, path: str | os.PathLike[str] | None) -> AuditLog:
        """A log opened only to read (the CLI): it creates no file."""
        log = cls(None)
        log.path = Path(path) if path is not None else None
        return log

    def record(self, entry: AuditEntry) -> None:
        body = entry.to_json()
        if self.path is None:
            self._memory.append(body)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, orjson.dumps(body) + b"\n")
        finally:
            os.close(fd)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest first."""
        if self.path is None:
            yield from list(self._memory)
            return
        if not self.path.exists():
            return
        with self.path.open("rb") as source:
            for line in source:
                if line.strip():
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue  # a torn last line after a crash

    def list(
        self,
        *,
        subject: str | None = None,
        since: str | None = None,
        outcome: str | None = None,
        tenant: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Matching entries, newest first; ``since`` is an ISO 8601 lower bound (inclusive)."""
        since_at = _parse(since) if since else None
        found: deque[dict[str, Any]] = deque(maxlen=limit)
        for entry in self.entries():
            if subject is not None and entry.get("subject") != subject:
                continue
            if outcome is not None and entry.get("outcome") != outcome:
                continue
            if tenant is not None and entry.get("tenant") != tenant:
                continue
            if since_at is not None and _parse(entry.get("at", "")) < since_at:
                continue
            found.append(entry)
        return list(reversed(found))

    def close(self) -> None:
        """Nothing stays open between entries; kept so callers can treat the log as a resource."""


def _parse(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
