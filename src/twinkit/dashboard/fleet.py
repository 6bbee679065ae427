"""The fleet table's rows: one compact summary per twin, paged by id, searchable by id.

The public ``GET /api/v1/twins`` returns whole twin documents; the fleet page only needs a few
fields per twin (status, last seen, the first live values with their units, open alerts), so
this module condenses them on the server and keeps a page at 100k twins to one indexed read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

from twinkit.model.errors import NotFound, TwinkitError
from twinkit.model.interface import ResolvedInterface
from twinkit.model.time import format_time, parse_time
from twinkit.platform import Platform
from twinkit.twins.state import TwinState

T = TypeVar("T")

# a device that sent nothing for this long is shown offline
ONLINE_WINDOW = timedelta(seconds=60)
KEY_VALUES = 4
# values the analytics write back onto a twin; shown first when present
ANALYTICS_VALUES = ("anomaly_score", "rul_cycles")


@runtime_checkable
class SQLReader(Protocol):
    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


@dataclass(frozen=True, slots=True)
class FleetQuery:
    """What the fleet page asks for: a model (with its descendants), an id search, a page."""

    model: str | None = None
    search: str = ""
    after: str = ""
    limit: int = 50


def last_seen(state: TwinState) -> str | None:
    """When the device last spoke: the newest reported or telemetry write (not desired)."""
    newest: datetime | None = None
    for section in ("reported", "telemetry"):
        for meta in state.metadata.get(section, {}).values():
            stamp = meta.get("updated_at") if isinstance(meta, dict) else None
            if not isinstance(stamp, str):
                continue
            try:
                moment = parse_time(stamp)
            except TwinkitError:
                continue
            if newest is None or moment > newest:
                newest = moment
    return format_time(newest) if newest else None


# what the MQTT side knows about a device's connection: True/False, or None when it does not know
PresenceOf = Callable[[str], bool | None]


def no_presence(twin: str) -> bool | None:
    return None


def is_online(
    state: TwinState, seen: str | None, now: datetime, presence: PresenceOf = no_presence
) -> bool:
    """Online per the broker (status topic, last will), else ``reported.connected``, else
    whether the device spoke within the window."""
    announced = presence(state.id)
    if announced is not None:
        return announced
    connected = state.reported.get("connected")
    if isinstance(connected, bool):
        return connected
    return seen is not None and now - parse_time(seen) <= ONLINE_WINDOW


def key_values(state: TwinState, model: ResolvedInterface | None) -> list[dict[str, Any]]:
    """The first few scalar values worth a glance: analytics, telemetry, then reported."""
    picked: list[dict[str, Any]] = []
    telemetry_meta = state.metadata.get("telemetry", {})
    reported_meta = state.metadata.get("reported", {})

    def unit_of(name: str) -> tuple[str | None, str | None]:
        if model is None:
            return None, None
        element: Any = model.telemetry.get(name) or model.properties.get(name)
        if element is None:
            return None, None
        return element.unit, element.display_name

    candidates: list[tuple[str, str, Any, Any]] = []
    analytics: dict[str, Any] = getattr(state, "analytics", {}) or {}
    analytics_meta = state.metadata.get("analytics", {})
    for name in ANALYTICS_VALUES:
        if name in analytics:
            candidates.append(("analytics", name, analytics[name], analytics_meta.get(name)))
        elif name in state.telemetry:
            candidates.append(("telemetry", name, state.telemetry[name], telemetry_meta.get(name)))
        elif name in state.reported:
            candidates.append(("reported", name, state.reported[name], reported_meta.get(name)))
    declared = list(model.telemetry) if model else []
    ordered = [n for n in declared if n in state.telemetry] + sorted(
        n for n in state.telemetry if n not in declared
    )
    candidates += [("telemetry", n, state.telemetry[n], telemetry_meta.get(n)) for n in ordered]
    candidates += [
        ("reported", n, v, reported_meta.get(n)) for n, v in sorted(state.reported.items())
    ]
    seen: set[str] = set()
    for source, name, value, meta in candidates:
        if name in seen or isinstance(value, dict | list) or value is None:
            continue
        seen.add(name)
        unit, display = unit_of(name)
        at = meta.get("updated_at") if isinstance(meta, dict) else None
        picked.append(
            {"name": name, "display_name": display, "value": value, "unit": unit,
             "source": source, "at": at}
        )  # fmt: skip
        if len(picked) == KEY_VALUES:
            break
    return picked


def open_alerts(state: TwinState) -> int:
    """Raised or acknowledged alerts: the twin folds them from its journal."""
    return len(getattr(state, "alerts", {}) or {})


def summarize(
    state: TwinState,
    model: ResolvedInterface | None,
    now: datetime,
    presence: PresenceOf = no_presence,
) -> dict[str, Any]:
    """One fleet row."""
    seen = last_seen(state)
    return {
        "id": state.id,
        "model": state.model,
        "revision": state.revision,
        "online": is_online(state, seen, now, presence),
        "last_seen": seen,
        "values": key_values(state, model),
        "delta": sorted(k for k, v in state.desired.items() if state.reported.get(k) != v),
        "alerts": open_alerts(state),
    }


async def fleet_page(
    platform: Platform,
    query: FleetQuery,
    presence: PresenceOf = no_presence,
) -> dict[str, Any]:
    """A page of fleet rows plus the cursor of the next page and the number of matches."""
    models = _models(platform, query.model)
    total: int | None
    if isinstance(platform.store, SQLReader):
        ids, total = await platform.store.read(lambda c: _sql_page(c, query, models))
    else:
        ids, total = await _scan_page(platform, query, models)
    now = platform.clock.now().astimezone(UTC)
    rows = []
    for twin in ids[: query.limit]:
        try:
            state = await platform.twins.get(twin)
        except NotFound:
            continue
        model = model_of(platform, state)
        rows.append(summarize(state, model, now, presence))
    more = len(ids) > query.limit
    return {
        "items": rows,
        "next": ids[query.limit - 1] if more and ids else None,
        "total": total,
    }


async def model_counts(platform: Platform) -> list[dict[str, Any]]:
    """How many twins each model has, for the model filter (one grouped index read)."""
    counts: dict[str | None, int] = {}
    if isinstance(platform.store, SQLReader):
        rows = await platform.store.read(
            lambda c: c.execute("SELECT model, count(*) FROM twins GROUP BY model").fetchall()
        )
        counts = {m: int(n) for m, n in rows}
    else:
        after = ""
        while page := await platform.store.twin_ids(after=after, limit=5000):
            for twin in page:
                state = await platform.twins.get(twin)
                counts[state.model] = counts.get(state.model, 0) + 1
            after = page[-1]
    for interface in platform.models.list():
        counts.setdefault(interface.id, 0)
    return [{"model": m, "twins": n} for m, n in sorted(counts.items(), key=lambda i: str(i[0]))]


def _models(platform: Platform, model: str | None) -> Sequence[str] | None:
    if not model:
        return None
    try:
        return sorted(platform.registry.descendants(model)) or [model]
    except NotFound:
        return [model]


def model_of(platform: Platform, state: TwinState) -> ResolvedInterface | None:
    """The twin's resolved model; None when it has none or the model was removed since."""
    try:
        return platform.twins.resolve_model(state) if state.model else None
    except NotFound:
        return None


def _like(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sql_page(
    conn: sqlite3.Connection, query: FleetQuery, models: Sequence[str] | None
) -> tuple[list[str], int]:
    where, args = [], []
    if models is not None:
        where.append(f"model IN ({','.join('?' * len(models))})")
        args += list(models)
    if query.search:
        where.append("id LIKE ? ESCAPE '\\'")
        args.append(_like(query.search))
    condition = " AND ".join(where) or "1"
    total = int(conn.execute(f"SELECT count(*) FROM twins WHERE {condition}", args).fetchone()[0])
    rows = conn.execute(
        f"SELECT id FROM twins WHERE {condition} AND id > ? ORDER BY id LIMIT ?",
        [*args, query.after, query.limit + 1],
    ).fetchall()
    return [r[0] for r in rows], total


async def _scan_page(
    platform: Platform, query: FleetQuery, models: Sequence[str] | None
) -> tuple[list[str], int | None]:
    """The same page without SQL (the in-memory store): walk ids in order and filter."""
    needle = query.search.lower()
    wanted = set(models) if models is not None else None
    found: list[str] = []
    after = query.after
    while len(found) <= query.limit and (page := await platform.store.twin_ids(after=after)):
        for twin in page:
            if needle and needle not in twin.lower():
                continue
            if wanted is not None and (await platform.twins.get(twin)).model not in wanted:
                continue
            found.append(twin)
        after = page[-1]
    total = await platform.store.count_twins() if not needle and wanted is None else None
    return found[: query.limit + 1], total
