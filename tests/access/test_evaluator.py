"""The evaluator: most specific path wins, revoke beats grant, WRITE is not READ, scopes."""

from __future__ import annotations

from typing import Any

import pytest

from twinkit.access.evaluator import Evaluator
from twinkit.access.policy import Permission, Policy, Resource, load_policies
from twinkit.access.principal import Principal
from twinkit.access.tenants import Tenants
from twinkit.model.errors import ValidationFailed

R, W, X = Permission.READ, Permission.WRITE, Permission.EXECUTE
alice = Principal.of("user:alice", groups=("operators",), tenant="acme")
bob = Principal.of("user:bob", tenant="globex")


def policy(resources: dict[str, Any], subjects: list[str] | None = None, **scope: str) -> Policy:
    return Policy.from_json(
        {
            "id": "p",
            **scope,
            "entries": {"e": {"subjects": subjects or ["user:alice"], "resources": resources}},
        }
    )


def test_most_specific_path_wins_and_revoke_beats_grant() -> None:
    ev = Evaluator(
        [
            policy(
                {
                    "twin:/": {"grant": ["READ"]},
                    "twin:/reported/secret": {"revoke": ["READ"]},
                    "twin:/reported/secret/public": {"grant": ["READ"]},
                    "twin:/desired": {"grant": ["READ", "WRITE"], "revoke": ["WRITE"]},
                }
            )
        ]
    )
    assert ev.can(alice, R, "twin:/reported/temperature", twin="t1")
    assert not ev.can(alice, R, "twin:/reported/secret", twin="t1")
    assert not ev.can(alice, R, "twin:/reported/secret/deep", twin="t1")
    assert ev.can(alice, R, "twin:/reported/secret/public/x", twin="t1")
    assert not ev.can(alice, W, "twin:/desired/x", twin="t1")
    assert not ev.can(bob, R, "twin:/", twin="t1")


def test_write_does_not_imply_read() -> None:
    ev = Evaluator([policy({"twin:/desired": {"grant": ["WRITE"]}})])
    assert ev.can(alice, W, "twin:/desired/setpoint", twin="t")
    assert not ev.can(alice, R, "twin:/desired/setpoint", twin="t")
    assert ev.redact_twin({"id": "t", "desired": {"setpoint": 1}}, alice) is None


def test_scopes_twin_model_tenant() -> None:
    tenants = Tenants.of(["acme", "globex"])
    ev = Evaluator(
        [
            Policy.from_json(
                {
                    "id": "a",
                    "twin": "acme~p1",
                    "entries": {
                        "e": {
                            "subjects": ["user:alice"],
                            "resources": {"command:/reboot": {"grant": ["EXECUTE"]}},
                        }
                    },
                }
            ),
            Policy.from_json(
                {
                    "id": "b",
                    "model": "dtmi:acme:Pump;1",
                    "entries": {
                        "e": {
                            "subjects": ["group:operators"],
                            "resources": {"twin:/desired": {"grant": ["WRITE"]}},
                        }
                    },
                }
            ),
            Policy.from_json(
                {
                    "id": "c",
                    "tenant": "acme",
                    "entries": {
                        "e": {
                            "subjects": ["tenant:acme"],
                            "resources": {"twin:/": {"grant": ["READ"]}},
                        }
                    },
                }
            ),
        ],
        tenants,
    )
    assert ev.can(alice, X, "command:/reboot", twin="acme~p1")
    assert not ev.can(alice, X, "command:/reboot", twin="acme~p2")
    assert ev.can(alice, W, "twin:/desired/x", twin="acme~p2", model="dtmi:acme:Pump;1")
    assert not ev.can(alice, W, "twin:/desired/x", twin="acme~p2", model="dtmi:acme:Valve;1")
    assert ev.can(alice, R, "twin:/reported/x", twin="acme~p9")
    # nothing crosses tenants: acme's policy never applies to globex twins, nor to shared ones
    assert not ev.can(alice, R, "twin:/reported/x", twin="globex~p1")
    assert not ev.can(alice, R, "twin:/reported/x", twin="p1")
    assert not ev.can(bob, R, "twin:/reported/x", twin="acme~p1")


def test_redact_twin_document() -> None:
    ev = Evaluator(
        [
            policy(
                {
                    "twin:/reported": {"grant": ["READ"]},
                    "twin:/reported/patient": {"revoke": ["READ"]},
                    "twin:/reported/nested/hidden": {"revoke": ["READ"]},
                    "twin:/telemetry/temp": {"grant": ["READ"]},
                }
            )
        ]
    )
    doc: dict[str, Any] = {
        "id": "t",
        "model": None,
        "revision": 3,
        "reported": {"temp": 1, "patient": "x", "nested": {"hidden": 1, "shown": 2}},
        "desired": {"sp": 5},
        "delta": {"sp": 5},
        "telemetry": {"temp": 20, "rpm": 3},
        "metadata": {"reported": {"temp": {}, "patient": {}}, "desired": {"sp": {}}},
        "alerts": {},
        "analytics": {"score": 1},
    }
    out = ev.redact_twin(doc, alice)
    assert out == {
        "id": "t",
        "model": None,
        "revision": 3,
        "reported": {"temp": 1, "nested": {"shown": 2}},
        "desired": {},
        "delta": {},
        "telemetry": {"temp": 20},
        "metadata": {"reported": {"temp": {}}, "desired": {}},
        "alerts": {},
        "analytics": {},
    }


def test_redact_events() -> None:
    ev = Evaluator([policy({"twin:/reported/a": {"grant": ["READ"]}})])
    base = {"twin": "t", "model": None, "seq": 1, "revision": 2}
    changed = {
        **base,
        "kind": "ReportedChanged",
        "data": {"set": {"a": 1, "b": 2}, "removed": ["b"]},
    }
    assert ev.redact_event(changed, alice) == {**changed, "data": {"set": {"a": 1}, "removed": []}}
    only_b = {**base, "kind": "ReportedChanged", "data": {"set": {"b": 2}}}
    assert ev.redact_event(only_b, alice) is None
    telemetry = {**base, "kind": "TelemetryReceived", "data": {"values": {"x": 1}}}
    assert ev.redact_event(telemetry, alice) is None
    command = {**base, "kind": "CommandSent", "data": {"name": "reboot"}}
    assert ev.redact_event(command, alice) is None


def test_full_reader_fast_path() -> None:
    ev = Evaluator(
        [
            policy({"twin:/": {"grant": ["READ"]}}, ["user:root"]),
            policy({"twin:/reported/x": {"revoke": ["READ"]}}, ["user:alice"], twin="t"),
        ]
        and load_policies(
            [
                {
                    "id": "1",
                    "entries": {
                        "e": {
                            "subjects": ["user:root", "user:alice"],
                            "resources": {"twin:/": {"grant": ["READ"]}},
                        }
                    },
                },
                {
                    "id": "2",
                    "twin": "t",
                    "entries": {
                        "e": {
                            "subjects": ["user:alice"],
                            "resources": {"twin:/reported/x": {"revoke": ["READ"]}},
                        }
                    },
                },
            ]
        )
    )
    assert ev.reads_every_twin(Principal.of("user:root"))
    assert not ev.reads_every_twin(alice)


@pytest.mark.parametrize(
    "bad",
    [
        {"entries": {}},
        {"id": "x", "twin": "a", "model": "b"},
        {"id": "x", "entries": {"e": {"subjects": ["u"], "resources": {"thing:/": {}}}}},
        {
            "id": "x",
            "entries": {"e": {"subjects": ["u"], "resources": {"twin:/": {"grant": ["FLY"]}}}},
        },
    ],
)
def test_invalid_policies_name_their_place(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        Policy.from_json(bad)


def test_policy_round_trip() -> None:
    raw = {
        "id": "p",
        "model": "dtmi:a:B;1",
        "entries": {
            "e": {
                "subjects": ["group:g"],
                "resources": {
                    "twin:/reported/a~1b": {"grant": ["READ", "WRITE"], "revoke": ["EXECUTE"]}
                },
            }
        },
    }
    policy = Policy.from_json(raw)
    assert policy.entries[0].rules[0].resource == Resource("twin", ("reported", "a/b"))
    assert Policy.from_json(policy.to_json()) == policy
