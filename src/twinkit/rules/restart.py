"""What the rule engine keeps across a restart, so a restart — a crash included — neither
forgets nor repeats.

Rules themselves are kept with the platform (``engine.RULES_KEY``). Beside them each twin has
one *hold record*, ``{rule: [fingerprint, since, fired]}``, in the store's ``detector_states``
table under :data:`HOLD_NAME`: since when each rule's condition holds on the twin (a pending
``for:``) and whether it fired. The engine writes a twin's record through the group committer
whenever one of its holds changes state — the condition starts holding, the rule fires, it
stops holding — never for a sample that changes nothing, so a steady twin costs no writes. A
rule's actions run only once the record of its firing is durable: after a crash a rule that
fired is still fired (its actions do not run again) and a pending ``for:`` keeps its start.

Records are read lazily, the first time the engine judges a twin (the start-up pass reads a
page of twins at once), and only for twins in the *index*: the ids of the twins that have a
record, in ``INDEX_SHARDS`` rows (``$platform``, ``rule-hold-twins/<n>``) read once on start.
A twin joins the index in the same write as its first record (and leaves it when deleted), so
a fleet whose rules hold nowhere costs 64 reads on start, not one a twin. The fingerprint ties
a pending ``for:`` to the rule's definition: a rule changed in between starts timing afresh
(but stays fired, as when a rule is replaced on a running engine). Where a twin has no record
of a rule (a database from before records, or ``persist=False``), the rule's open alert on the
twin still says it fired.
Deadlines are not stored at all: on start every timed rule is judged once on the stored twins,
which arms them again from the twins' metadata and windows (see :mod:`twinkit.rules.schedule`).
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from twinkit.platform import Platform
from twinkit.rules.rule import Rule
from twinkit.rules.tracking import Hold
from twinkit.storage.ports import Batch

HOLD_NAME = "$rule-holds"  # a twin's hold record, in the store's detector_states table
INDEX_SHARDS = 64  # rows of the index of twins with a record: ("$platform", "rule-hold-twins/n")

Written = asyncio.Future[None]


def fingerprint(rule: Rule) -> str:
    """Identifies a rule's definition (its API description)."""
    text = orjson.dumps(rule.describe(), option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]


class HoldRecords:
    """Every twin's hold record: read from the store once per twin, written on each change.

    ``records`` only keeps twins that hold something (pending or fired), so memory follows the
    holds, not the fleet; ``loaded`` remembers which twins were read already.
    """

    def __init__(self, platform: Platform, *, persist: bool = True) -> None:
        self._platform = platform
        self._persist = persist
        self._loaded: set[str] = set()  # twins of the index whose record was read
        self._index: list[set[str]] | None = None  # by shard; None until read
        if not persist:
            self._index = [set() for _ in range(INDEX_SHARDS)]
        self._records: dict[str, dict[str, list[Any]]] = {}  # twin → rule → [print, since, fired]
        self._prints: dict[str, str] = {}  # rule id → fingerprint of its definition
        self._alerted: set[tuple[str, str]] = set()  # (rule, twin) with an open alert of the rule
        self.writes = 0  # records staged: one per change of a hold

    def define(self, rule: Rule, printed: str) -> None:
        """``rule``'s definition is now the one with fingerprint ``printed``."""
        self._prints[rule.id] = printed

    def alerted(self, rule: Rule, open_alerts: Iterable[Mapping[str, Any]]) -> None:
        """``rule``'s open alerts stand in for its records where a twin has none."""
        alert = rule.alert
        if alert is not None and alert.options.get("clear", "auto") == "auto":
            self._alerted |= {(rule.id, str(a["twin"])) for a in open_alerts}

    def loaded(self, twin: str) -> bool:
        """Whether nothing is left to read for ``twin`` (read, or not in the index)."""
        index = self._index
        return twin in self._loaded or (index is not None and twin not in index[_shard(twin)])

    async def load_many(self, twins: Iterable[str]) -> None:
        """Read the records of ``twins`` not read yet in one store read (the start-up pass)."""
        if self._index is None:
            await self._read_index()
        todo = [twin for twin in dict.fromkeys(twins) if not self.loaded(twin)]
        if not todo:
            return
        raws = await self._platform.store.load_detector_states(todo, HOLD_NAME)
        for twin in todo:
            if twin not in self._loaded:  # else read meanwhile by another judgement
                self._keep(twin, raws.get(twin))

    async def load(self, twin: str) -> None:
        """Read ``twin``'s record (once)."""
        if self._index is None:
            await self._read_index()
        if self.loaded(twin):
            return
        raw = await self._platform.store.load_detector_state(twin, HOLD_NAME)
        if twin not in self._loaded:  # else read meanwhile by another judgement
            self._keep(twin, raw)

    def _keep(self, twin: str, raw: bytes | None) -> None:
        self._loaded.add(twin)
        record = orjson.loads(raw) if raw else None
        if isinstance(record, dict) and record:
            self._records[twin] = record

    def kept(self, rule_id: str, twin: str) -> bool:
        """Whether ``twin`` holds something for the rule from before (its record, its alert)."""
        return rule_id in self._records.get(twin, ()) or (rule_id, twin) in self._alerted

    def restore(self, rule: Rule, twin: str) -> Hold:
        """``rule``'s hold on ``twin`` as recorded (a fresh one when there is none)."""
        entry = self._records.get(twin, {}).get(rule.id)
        if entry is None:
            return Hold(active=(rule.id, twin) in self._alerted)
        printed, since, fired = entry
        if printed != self._prints.get(rule.id):
            since = None  # a changed rule starts timing afresh
        return Hold(since, bool(fired))

    def note(self, rule: Rule, twin: str, hold: Hold) -> Written | None:
        """``hold`` changed state: record it; the future resolves once the record is durable."""
        self._alerted.discard((rule.id, twin))
        record = self._records.get(twin)
        if hold.since is None and not hold.active:
            if record is None or record.pop(rule.id, None) is None:
                return None
            if not record:
                del self._records[twin]
        else:
            if record is None:
                record = self._records[twin] = {}
            record[rule.id] = [self._prints.get(rule.id, ""), hold.since, hold.active]
        return self._write(twin, record)

    async def drop_rule(self, rule_id: str) -> None:
        """A removed rule: its holds go from every record (all are read first, so the same
        rule added again later starts afresh everywhere)."""
        if self._index is None:
            await self._read_index()
        assert self._index is not None
        await self.load_many([twin for members in self._index for twin in members])
        self._prints.pop(rule_id, None)
        self._alerted = {k for k in self._alerted if k[0] != rule_id}
        for twin in [t for t, r in self._records.items() if rule_id in r]:
            record = self._records[twin]
            del record[rule_id]
            if not record:
                del self._records[twin]
            self._write(twin, record)

    def drop_twin(self, twin: str) -> None:
        """A deleted twin: its record goes (a twin created again with its id starts afresh)."""
        self._records.pop(twin, None)
        self._alerted = {k for k in self._alerted if k[1] != twin}
        self._loaded.discard(twin)
        self._write(twin, {}, deleted=True)

    async def read_index(self) -> None:
        """Read the index of twins with a record (the engine does it on start)."""
        if self._index is None:
            await self._read_index()

    async def _read_index(self) -> None:
        index: list[set[str]] = [set() for _ in range(INDEX_SHARDS)]
        for shard in range(INDEX_SHARDS):
            raw = await self._platform.store.load_detector_state(*_index_key(shard))
            index[shard].update(orjson.loads(raw) if raw else ())
        if self._index is None:  # else read meanwhile
            self._index = index

    def _write(
        self, twin: str, record: dict[str, list[Any]] | None, *, deleted: bool = False
    ) -> Written | None:
        if not self._persist:
            return None
        self.writes += 1
        states = {(twin, HOLD_NAME): orjson.dumps(record or {})}
        if self._index is not None:  # the index changes in the same write as the record
            members = self._index[shard := _shard(twin)]
            joins = bool(record) and twin not in members
            if joins or (deleted and twin in members):
                members.symmetric_difference_update({twin})
                if joins:  # what is in memory is its record now: never read it back
                    self._loaded.add(twin)
                states[_index_key(shard)] = orjson.dumps(sorted(members))
        written = self._platform.stage(Batch(detector_states=states))
        written.add_done_callback(_seen)
        return written


def _shard(twin: str) -> int:
    return zlib.crc32(twin.encode()) % INDEX_SHARDS


def _index_key(shard: int) -> tuple[str, str]:
    return ("$platform", f"rule-hold-twins/{shard}")


def _seen(written: Written) -> None:
    """A failed commit is the committer's to report; a record nobody waits on must not also
    leave an "exception was never retrieved" behind."""
    if not written.cancelled():
        written.exception()
