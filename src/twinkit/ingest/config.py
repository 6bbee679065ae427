"""The ``--ingest`` file: limits, auto-create rules and payload mappers for ``twinkit serve``.

.. code-block:: yaml

    limits: {device_rate: 50, device_burst: 100, max_payload: 65536}
    auto_create:
      - {topic: "twinkit/+/telemetry", model: "dtmi:acme:Pump;1", id_prefix: "pump-"}
    mappers:
      - {topic: "plant/+/readings", function: "plant_gateway:readings"}

A mapper is named ``module:callable`` and imported when the server starts; the file's own
folder is searched first, so a mapper module can sit beside it. Mistakes are refused
before anything starts, with a JSON pointer into the file.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from twinkit.ingest.mappers import Mappers
from twinkit.ingest.pipeline import AutoCreate, IngestSettings
from twinkit.ingest.topics import TopicFilter
from twinkit.model.errors import ValidationFailed
from twinkit.rules.loading import read_document


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


_DEFAULT = IngestSettings()


class _Limits(_Strict):
    max_payload: pydantic.PositiveInt = _DEFAULT.max_payload
    device_rate: pydantic.NonNegativeFloat = _DEFAULT.device_rate
    device_burst: pydantic.PositiveFloat = _DEFAULT.device_burst
    max_pending: pydantic.PositiveInt = _DEFAULT.max_pending
    dedupe_window: pydantic.PositiveInt = _DEFAULT.dedupe_window


class _AutoCreate(_Strict):
    topic: str
    model: str | None = None
    id_prefix: str = ""


class _Mapper(_Strict):
    topic: str
    function: str = pydantic.Field(pattern=r"^[\w.]+:[\w.]+$")


class _File(_Strict):
    limits: _Limits = _Limits()
    auto_create: list[_AutoCreate] = []
    mappers: list[_Mapper] = []


@dataclass(frozen=True, slots=True)
class IngestConfig:
    settings: IngestSettings
    mappers: Mappers

    @classmethod
    def load(cls, path: str | Path) -> IngestConfig:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValidationFailed(f"cannot read the ingest file {path}: {exc.strerror}") from None
        raw = read_document(text)
        return cls.from_json(raw or {}, search=path.resolve().parent)

    @classmethod
    def from_json(cls, raw: Any, *, search: Path | None = None) -> IngestConfig:
        try:
            parsed = _File.model_validate(raw)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            pointer = "".join(f"/{part}" for part in first["loc"])
            raise ValidationFailed(f"ingest file: {first['msg']}", pointer) from None
        for index, rule in enumerate(parsed.auto_create):
            _check_filter(rule.topic, f"/auto_create/{index}/topic")
        for index, mapper in enumerate(parsed.mappers):
            _check_filter(mapper.topic, f"/mappers/{index}/topic")
        mappers = Mappers()
        for index, entry in enumerate(parsed.mappers):
            mappers.register(entry.topic, _import(entry.function, search, f"/mappers/{index}"))
        limits = parsed.limits
        settings = IngestSettings(
            max_payload=limits.max_payload,
            device_rate=limits.device_rate,
            device_burst=limits.device_burst,
            max_pending=limits.max_pending,
            dedupe_window=limits.dedupe_window,
            autocreate=tuple(
                AutoCreate(rule.topic, rule.model, rule.id_prefix) for rule in parsed.auto_create
            ),
        )
        return cls(settings, mappers)


def _check_filter(pattern: str, pointer: str) -> None:
    try:
        TopicFilter(pattern)
    except ValidationFailed as exc:
        raise ValidationFailed(f"ingest file: {exc.message}", pointer) from None


def _import(name: str, search: Path | None, pointer: str) -> Any:
    module_name, _, attribute = name.partition(":")
    added = search is not None and str(search) not in sys.path
    if added:
        sys.path.insert(0, str(search))
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        text = f"cannot import mapper module {module_name!r}: {exc}"
        raise ValidationFailed(text, pointer) from None
    finally:
        if added:
            sys.path.remove(str(search))
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise ValidationFailed(f"{name} is not a function", f"{pointer}/function")
    return target
