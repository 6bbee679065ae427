"""Signals: what a device message means to the platform, once its topic and format are read.

A payload mapper turns ``(topic, payload)`` into signals; the default mapper reads the
twinkit layout. Everything after this point (dedupe, limits, writes) only sees signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from twinkit.model.errors import ValidationFailed
from twinkit.model.time import parse_time

SignalKind = Literal["telemetry", "reported"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One change for one twin: telemetry values or a reported merge patch."""

    twin: str
    kind: SignalKind
    values: dict[str, Any]
    at: datetime | None = None
    msg_id: str | None = None
    # where ``values`` sit in the device's payload, to point errors at the device's own JSON
    path_base: str = ""


class MalformedPayload(ValidationFailed):
    code = "malformed_payload"


def decode_json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload(f"payload is not JSON: {exc}", "") from None


def read_signal(twin: str, kind: SignalKind, body: Any) -> Signal:
    """Read a twinkit payload: ``{"at"?, "values", "msg_id"?}`` or a flat object of values.

    A reported message is a merge patch; it may also be wrapped the same way
    (``{"at": …, "values": {…}}``) to carry a source timestamp.
    """
    if not isinstance(body, dict):
        raise ValidationFailed("payload must be a JSON object", "")
    at = None
    msg_id = None
    values: Any = body
    base = ""
    if "values" in body and isinstance(body["values"], dict) and set(body) <= _ENVELOPE:
        values = body["values"]
        base = "/values"
        if body.get("at") is not None:
            if not isinstance(body["at"], str):
                raise ValidationFailed("at must be an ISO 8601 string", "/at")
            at = parse_time(body["at"], "/at")
        raw_id = body.get("msg_id")
        if raw_id is not None:
            if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
                raise ValidationFailed("msg_id must be a string or an integer", "/msg_id")
            msg_id = str(raw_id)
    return Signal(twin, kind, values, at, msg_id, base)


_ENVELOPE = frozenset({"values", "at", "msg_id"})
