"""The small pieces of the ingest path: broker URLs, topic filters, payloads, limits, dedupe."""

from __future__ import annotations

import asyncio

import pytest

from twinkit.ingest.broker_url import parse_broker_url
from twinkit.ingest.dedupe import RecentIds, message_key
from twinkit.ingest.limits import TokenBuckets
from twinkit.ingest.mappers import Mappers
from twinkit.ingest.rejections import IngestStats, Rejection, Rejections
from twinkit.ingest.signals import MalformedPayload, Signal, decode_json, read_signal
from twinkit.ingest.topics import TopicFilter
from twinkit.model.errors import ValidationFailed


def test_broker_urls_carry_credentials_tls_and_defaults() -> None:
    plain = parse_broker_url("mqtt://broker.local")
    assert (plain.host, plain.port, plain.tls, plain.username) == (
        "broker.local",
        1883,
        False,
        None,
    )
    secure = parse_broker_url("mqtts://ann:s%40cret@10.0.0.5?ca=/etc/ca.pem")
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "ann",
        "s@cret",
    )
    assert secure.ca_file == "/etc/ca.pem"
    assert secure.url() == "mqtts://ann@10.0.0.5:8883"  # never the password
    assert parse_broker_url("mqtt://h:1999").port == 1999


@pytest.mark.parametrize("url", ["http://h", "mqtt://", "mqtt://h:notaport", "h:1883"])
def test_bad_broker_urls_are_refused_readably(url: str) -> None:
    with pytest.raises(ValidationFailed, match="broker URL"):
        parse_broker_url(url)


@pytest.mark.parametrize(
    ("pattern", "topic", "captured"),
    [
        ("a/+/c", "a/b/c", ["b"]),
        ("a/+/c", "a/b/d", None),
        ("a/#", "a/b/c", ["b/c"]),
        ("a/#", "a", [""]),
        ("a/+", "a/b/c", None),
        ("+/+", "x/y", ["x", "y"]),
    ],
)
def test_topic_filters_match_like_a_broker(
    pattern: str, topic: str, captured: list[str] | None
) -> None:
    assert TopicFilter(pattern).match(topic) == captured


@pytest.mark.parametrize("pattern", ["a/#/b", "a/b+", "a/#x"])
def test_malformed_filters_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationFailed):
        TopicFilter(pattern)


def test_payloads_are_an_envelope_or_a_flat_object() -> None:
    envelope = read_signal("p", "telemetry", {"at": "2026-01-01T00:00:00Z", "values": {"t": 1}})
    assert (
        envelope.values == {"t": 1} and envelope.at is not None and envelope.path_base == "/values"
    )
    flat = read_signal("p", "telemetry", {"t": 1, "values": 2})
    assert flat.values == {"t": 1, "values": 2} and flat.at is None
    keyed = read_signal("p", "telemetry", {"msg_id": 7, "values": {"t": 1}})
    assert keyed.msg_id == "7"
    with pytest.raises(ValidationFailed, match="ISO 8601"):
        read_signal("p", "telemetry", {"at": "yesterday", "values": {}})
    with pytest.raises(ValidationFailed, match="object"):
        read_signal("p", "telemetry", [1, 2])
    with pytest.raises(MalformedPayload):
        decode_json(b"{nope")


def test_the_first_matching_mapper_wins() -> None:
    mappers = Mappers()
    mappers.register("site/+/x", lambda topic, payload: [Signal("a", "telemetry", {})])
    mappers.register("site/#", lambda topic, payload: [Signal("b", "telemetry", {})])
    found = mappers.find(["site", "1", "x"])
    assert found is not None and found("", b"")[0].twin == "a"
    other = mappers.find(["site", "1", "y"])
    assert other is not None and other("", b"")[0].twin == "b"
    assert mappers.find(["elsewhere", "1"]) is None


def test_a_token_bucket_allows_bursts_then_the_rate() -> None:
    buckets = TokenBuckets(rate=10, burst=5)
    assert [buckets.allow("d", now=0.0) for _ in range(6)] == [True] * 5 + [False]
    assert buckets.allow("d", now=0.1)  # one token back after 1/10 s
    assert not buckets.allow("d", now=0.1)
    assert buckets.allow("other", now=0.1)  # devices do not share a bucket
    assert TokenBuckets(rate=0, burst=0).allow("x")


def test_message_keys_prefer_the_payload_id() -> None:
    assert message_key("abc", 5, b"x", 1) == "msg:abc"
    assert message_key(None, 5, b"x", 0) is None  # QoS 0 is never redelivered
    assert message_key(None, 5, b"x", 1) != message_key(None, 5, b"y", 1)


async def test_recent_ids_are_bounded_and_remember_running_writes() -> None:
    recent = RecentIds(size=3)
    write: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    recent.add("t", "k0", write)
    assert recent.get("t", "k0") == (True, write)
    recent.settle("t", "k0")
    assert recent.get("t", "k0") == (True, None)
    for index in range(1, 4):
        recent.add("t", f"k{index}")
    assert recent.get("t", "k0") == (False, None)  # pushed out of the window
    recent.restore("t", frozenset({"old"}))
    assert recent.get("t", "old")[0]
    recent.new_epoch()
    assert not recent.get("t", "old")[0]
    recent.forget("t", "k3")
    assert not recent.get("t", "k3")[0]


def test_rejections_are_counted_logged_once_a_minute_and_told_to_the_device(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told: list[tuple[str, bytes]] = []
    stats = IngestStats()
    rejections = Rejections(stats, lambda topic, body, qos, retain: told.append((topic, body)))
    for _ in range(3):
        rejections.reject(Rejection("p", "validation_failed", "bad", "/t"))
    for _ in range(3):
        rejections.reject(Rejection("p", "rate_limited", "flood"))
    assert stats.snapshot()["rejected"] == 6
    assert stats.snapshot()["rejected.validation_failed"] == 3
    assert len([r for r in caplog.records if "rejected" in r.getMessage()]) == 2
    assert [t for t, _ in told].count("twinkit/p/errors") == 4  # 3 invalid + 1 flood notice
    assert told[0][1] == b'{"code":"validation_failed","message":"bad","path":"/t"}'
