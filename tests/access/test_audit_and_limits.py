"""The audit log survives a reopen and answers newest first; token buckets refill."""

from __future__ import annotations

from pathlib import Path

from twinkit.access.audit import AuditEntry, AuditLog
from twinkit.access.ratelimit import RateLimiter, retry_after


def test_audit_log_is_durable_and_filterable(tmp_path: Path) -> None:
    path = tmp_path / "tk.db.audit.jsonl"
    log = AuditLog(path)
    log.record(AuditEntry("2026-01-01T00:00:00Z", "user:a", "PUT /x", "allowed", 200))
    log.record(
        AuditEntry("2026-01-02T00:00:00Z", "user:b", "PUT /y", "denied", 403, client="1.2.3.4:5")
    )
    log.record(AuditEntry("2026-01-03T00:00:00Z", "user:a", "DELETE /x", "allowed", 200))
    log.close()
    again = AuditLog(path)
    assert [e["action"] for e in again.list()] == ["DELETE /x", "PUT /y", "PUT /x"]
    assert [e["action"] for e in again.list(subject="user:a", limit=1)] == ["DELETE /x"]
    assert [e["subject"] for e in again.list(since="2026-01-02T00:00:00Z")] == ["user:a", "user:b"]
    assert again.list(outcome="denied")[0]["client"] == "1.2.3.4:5"
    again.close()


def test_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == 0.5
    assert retry_after(wait) == "1"
    assert limiter.take("b") == 0.0  # per identity
    now[0] = 0.5
    assert limiter.take("a") == 0.0
