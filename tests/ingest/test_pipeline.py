"""The ingest pipeline without a broker: messages in, twin writes and acks out."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from twinkit.ingest.pipeline import AutoCreate, Ingest, IngestSettings
from twinkit.ingest.publish_packets import Message
from twinkit.ingest.signals import Signal
from twinkit.platform import Platform
from twinkit.storage.sqlite import SQLiteStore


@pytest.fixture
async def tk() -> AsyncIterator[Platform]:
    async with Platform.open(None) as platform:
        await platform.twins.put("p1")
        yield platform


def message(topic: str, body: object, qos: int = 1, mid: int = 1, dup: bool = False) -> Message:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    return Message(topic, payload, qos, mid, dup, False)


def feed(ingest: Ingest, *messages: Message) -> None:
    for item in messages:
        ingest.receive(item, item.topic.split("/"))


async def settle(ingest: Ingest) -> None:
    await ingest.drain()
    await asyncio.sleep(0)


async def test_qos1_is_acknowledged_only_after_the_write_committed(tk: Platform) -> None:
    acked: list[int] = []
    ingest = Ingest(tk, ack=lambda m: acked.append(m.mid))
    feed(ingest, message("twinkit/p1/telemetry", {"t": 1}, mid=7))
    assert acked == []  # not yet: the write is still in the group commit
    await settle(ingest)
    assert acked == [7]
    assert (await tk.twins.get("p1")).telemetry == {"t": 1}


async def test_qos0_is_never_acknowledged(tk: Platform) -> None:
    acked: list[int] = []
    ingest = Ingest(tk, ack=lambda m: acked.append(m.mid))
    feed(ingest, message("twinkit/p1/telemetry", {"t": 1}, qos=0))
    await settle(ingest)
    assert acked == [] and ingest.stats.counters["applied"] == 1


async def test_rejected_input_is_acknowledged_so_it_is_not_redelivered(tk: Platform) -> None:
    acked: list[int] = []
    ingest = Ingest(tk, ack=lambda m: acked.append(m.mid))
    feed(
        ingest,
        message("twinkit/p1/telemetry", b"{", mid=1),
        message("twinkit/ghost/telemetry", {"t": 1}, mid=2),
        message("twinkit/p1/reported", [1], mid=3),
    )
    await settle(ingest)
    assert sorted(acked) == [1, 2, 3]
    assert dict(ingest.stats.rejected) == {
        "malformed_payload": 1,
        "unknown_twin": 1,
        "validation_failed": 1,
    }


async def test_a_storage_failure_is_not_acknowledged(tk: Platform) -> None:
    acked: list[int] = []
    ingest = Ingest(tk, ack=lambda m: acked.append(m.mid))

    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    tk.twins.telemetry_batch = broken  # type: ignore[method-assign,assignment]
    feed(ingest, message("twinkit/p1/telemetry", {"t": 1}, mid=9))
    await settle(ingest)
    assert acked == []  # the broker will redeliver it after the next reconnect
    assert ingest.stats.rejected["write_failed"] == 1


async def test_a_redelivery_waits_for_the_original_write_and_is_applied_once(
    tk: Platform,
) -> None:
    acked: list[int] = []
    ingest = Ingest(tk, ack=lambda m: acked.append(m.mid))
    body = {"values": {"t": 1}}
    feed(ingest, message("twinkit/p1/telemetry", body, mid=4))
    feed(ingest, message("twinkit/p1/telemetry", body, mid=4, dup=True))
    await settle(ingest)
    assert acked == [4, 4]
    assert ingest.stats.counters["duplicates"] == 1
    assert len(await tk.history.read("p1", "telemetry/t")) == 1


async def test_auto_create_only_for_matching_topics_and_prefixes(tk: Platform) -> None:
    rule = AutoCreate("twinkit/+/telemetry", None, id_prefix="dev-")
    ingest = Ingest(tk, ack=lambda m: None, settings=IngestSettings(autocreate=(rule,)))
    feed(
        ingest,
        message("twinkit/dev-1/telemetry", {"t": 1}, mid=1),
        message("twinkit/dev-1/telemetry", {"t": 2}, mid=2),
        message("twinkit/dev-2/reported", {"x": 1}, mid=3),
        message("twinkit/other/telemetry", {"t": 1}, mid=4),
    )
    await settle(ingest)
    assert await tk.twins.exists("dev-1")
    assert len(await tk.history.read("dev-1", "telemetry/t")) == 2
    assert not await tk.twins.exists("dev-2")  # reported is not in the rule's topic
    assert not await tk.twins.exists("other")
    assert ingest.stats.counters["created"] == 1


async def test_qos0_is_shed_when_too_many_writes_are_in_flight(tk: Platform) -> None:
    ingest = Ingest(tk, ack=lambda m: None, settings=IngestSettings(max_pending=2))
    feed(ingest, *[message("twinkit/p1/telemetry", {"t": i}, qos=0) for i in range(5)])
    await settle(ingest)
    assert ingest.stats.counters["applied"] == 2
    assert ingest.stats.rejected["overloaded"] == 3


async def test_a_failing_mapper_is_counted_and_never_stalls_the_rest(tk: Platform) -> None:
    from twinkit.ingest.mappers import Mappers

    mappers = Mappers()

    @mappers.register("vendor/#")
    def broken(topic: str, payload: bytes) -> list[Signal]:
        raise KeyError("devices")

    told: list[str] = []
    ingest = Ingest(
        tk,
        ack=lambda m: None,
        publish=lambda topic, body, qos, retain: told.append(topic),
        mappers=mappers,
    )
    feed(ingest, message("vendor/gw/1", {"x": 1}), message("twinkit/p1/telemetry", {"t": 1}))
    await settle(ingest)
    assert ingest.stats.rejected["mapping_failed"] == 1
    assert ingest.stats.counters["applied"] == 1
    assert told == []  # a foreign topic names no twin to tell


async def test_a_batch_waits_for_the_one_before_it_to_be_staged(tmp_path: Path) -> None:
    """Batch 1 holds a twin that must be read back from storage and a cached twin; batch 2
    (QoS 1 may start one while another is in flight) holds only the cached twin. Batch 2
    could fold at once, ahead of batch 1's older message for the same twin: it must wait."""
    platform = Platform(SQLiteStore(tmp_path / "t.db"), cache_size=8)
    await platform.start()
    try:
        for index in range(40):
            await platform.twins.put(f"t{index}")
        await platform.twins.get("t39")  # cached; t0 was evicted long ago
        ingest = Ingest(platform, ack=lambda m: None, settings=IngestSettings(device_rate=0))
        feed(ingest, message("twinkit/t0/telemetry", {"seq": 0}, mid=1))
        feed(ingest, message("twinkit/t39/telemetry", {"seq": 1}, mid=2))
        await asyncio.sleep(0)  # batch 1 leaves; it will wait for t0 to be read
        feed(ingest, message("twinkit/t39/telemetry", {"seq": 2}, mid=3))
        await settle(ingest)
        events = await platform.journal.events("t39", after_revision=0, limit=10)
        assert [e.data["values"]["seq"] for e in events if "values" in e.data] == [1, 2]
        assert (await platform.twins.get("t39")).telemetry["seq"] == 2
    finally:
        await platform.close()


async def test_batches_in_flight_together_keep_each_twins_order(tmp_path: Path) -> None:
    """Twins that must be read back from storage (a cache far smaller than the fleet)
    make a batch wait before it folds; the next batch must still fold after it."""
    platform = Platform(SQLiteStore(tmp_path / "t.db"), cache_size=8)
    await platform.start()
    try:
        twins = [f"t{index}" for index in range(40)]
        for twin in twins:
            await platform.twins.put(twin)
        ingest = Ingest(platform, ack=lambda m: None, settings=IngestSettings(device_rate=0))
        shuffle = random.Random(7)
        sent = 0
        for _ in range(30):
            for twin in shuffle.sample(twins, 13):  # a different mix of twins every loop turn
                feed(ingest, message(f"twinkit/{twin}/telemetry", {"seq": sent}, qos=0))
                sent += 1
            await asyncio.sleep(0)
        await settle(ingest)
        assert ingest.stats.counters["applied"] == sent
        for twin in twins:
            events = await platform.journal.events(twin, after_revision=0, limit=1000)
            seqs = [e.data["values"]["seq"] for e in events if "values" in e.data]
            assert seqs == sorted(seqs) and seqs, twin
            assert (await platform.twins.get(twin)).telemetry["seq"] == seqs[-1]
    finally:
        await platform.close()
