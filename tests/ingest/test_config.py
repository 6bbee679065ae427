"""The ``--ingest`` file: what it sets, and the one-line refusals with a JSON pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinkit.ingest.config import IngestConfig
from twinkit.ingest.signals import Signal
from twinkit.model.errors import ValidationFailed

MAPPER = """
import orjson
from twinkit.ingest import Signal


def readings(topic, payload):
    body = orjson.loads(payload)
    return [Signal(r["sensor"], "telemetry", {"level": r["level"]}) for r in body["readings"]]


NOT_A_FUNCTION = 3
"""


def write(folder: Path, text: str, name: str = "ingest.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_limits_auto_create_and_a_mapper_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "plant_gateway_a.py").write_text(MAPPER)
    path = write(
        tmp_path,
        """
limits: {device_rate: 5, device_burst: 10, max_payload: 4096}
auto_create:
  - {topic: "twinkit/+/telemetry", model: "dtmi:acme:Pump;1", id_prefix: "pump-"}
mappers:
  - {topic: "plant/+/readings", function: "plant_gateway_a:readings"}
""",
    )
    config = IngestConfig.load(path)
    settings = config.settings
    assert (settings.device_rate, settings.device_burst, settings.max_payload) == (5, 10, 4096)
    assert settings.max_pending == 50_000  # unspecified limits keep their defaults
    rule = settings.autocreate[0]
    assert (rule.topic, rule.model, rule.id_prefix) == (
        "twinkit/+/telemetry",
        "dtmi:acme:Pump;1",
        "pump-",
    )
    mapper = config.mappers.find(["plant", "gw1", "readings"])
    assert mapper is not None
    payload = b'{"readings": [{"sensor": "tank-1", "level": 0.5}]}'
    assert mapper("plant/gw1/readings", payload) == [Signal("tank-1", "telemetry", {"level": 0.5})]
    assert config.mappers.find(["other", "gw1", "readings"]) is None


def test_json_files_and_an_empty_file(tmp_path: Path) -> None:
    config = IngestConfig.load(write(tmp_path, '{"limits": {"device_rate": 0}}', "i.json"))
    assert config.settings.device_rate == 0  # 0 = unlimited
    empty = IngestConfig.load(write(tmp_path, ""))
    assert empty.settings.autocreate == () and empty.mappers.patterns == []


@pytest.mark.parametrize(
    ("text", "pointer", "words"),
    [
        ("limits: {device_rate: -1}", "/limits/device_rate", "greater than or equal to 0"),
        ("limits: {speed: 3}", "/limits/speed", "Extra inputs"),
        ("mappers: [{topic: 'a/#/b', function: 'm:f'}]", "/mappers/0/topic", "'#'"),
        ("mappers: [{topic: 'a/+', function: 'no colon'}]", "/mappers/0/function", "pattern"),
        ("auto_create: [{model: 'dtmi:a:B;1'}]", "/auto_create/0/topic", "required"),
        ("mappers: [{topic: 'a/+', function: 'no_such_module_x:f'}]", "/mappers/0", "import"),
        (
            "mappers: [{topic: 'a/+', function: 'plant_gateway_b:NOT_A_FUNCTION'}]",
            "/mappers/0/function",
            "not a function",
        ),
    ],
)
def test_mistakes_are_refused_with_a_pointer(
    tmp_path: Path, text: str, pointer: str, words: str
) -> None:
    (tmp_path / "plant_gateway_b.py").write_text(MAPPER)
    with pytest.raises(ValidationFailed) as caught:
        IngestConfig.load(write(tmp_path, text))
    assert caught.value.path == pointer
    assert words in caught.value.message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot read the ingest file"):
        IngestConfig.load(tmp_path / "missing.yaml")
    with pytest.raises(ValidationFailed, match="not valid YAML or JSON at line 1"):
        IngestConfig.load(write(tmp_path, "limits: [unclosed"))
