"""The errors twinkit raises: each carries a stable code, a message and a JSON pointer.

Every surface (HTTP, CLI, MQTT error topic) renders these the same way, so a
client can always find the offending field from ``path``.
"""

from __future__ import annotations

from typing import Any


def pointer(*parts: str | int) -> str:
    """Build an RFC 6901 JSON pointer from path segments."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "".join("/" + p for p in escaped)


class TwinkitError(Exception):
    """Base of every error a user can cause. ``status`` is the matching HTTP status."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, path: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "path": self.path}}

    def __str__(self) -> str:
        return f"{self.message} (at {self.path})" if self.path else self.message


class ValidationFailed(TwinkitError):
    """A value or document does not match its schema or model."""

    code = "validation_failed"


class NotFound(TwinkitError):
    code = "not_found"
    status = 404


class AlreadyExists(TwinkitError):
    code = "already_exists"
    status = 409


class Conflict(TwinkitError):
    """The request cannot be applied to the current state (e.g. a twin still has relationships)."""

    code = "conflict"
    status = 409


class PreconditionFailed(TwinkitError):
    """An ``If-Match`` ETag or a ``condition`` predicate did not hold."""

    code = "precondition_failed"
    status = 412


class PatchFailed(TwinkitError):
    """A JSON Patch or merge patch could not be applied."""

    code = "patch_failed"
