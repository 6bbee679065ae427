"""The shared query corpus: each query with the rows it must return over the fixture graph.

Expected rows were worked out by hand from ``fixture_graph.py`` (not produced by
running the engine). Rows that are whole twin or relationship documents are
written as their ids (``Ids`` / the alias keys hold ids); ``Raw`` compares the rows
exactly; ``Error`` expects a ValidationFailed whose message contains the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

P = "dtmi:twinkit:plant:"
R = "dtmi:twinkit:rec:"
BUILT = "2026-01-01T06:00:00Z"


@dataclass(frozen=True)
class Ids:
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Raw:
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Error:
    text: str


def ids(*names: str) -> Ids:
    return Ids(names)


def col(name: str, *values: Any) -> list[dict[str, Any]]:
    return [{name: v} for v in values]


ALL = [
    "co2-101",
    "co2-202",
    "floor-1",
    "floor-2",
    "floor-3",
    "note-1",
    "pump-1",
    "pump-2",
    "pump-3",
    "pump-4",
    "room-101",
    "room-102",
    "room-201",
    "room-202",
    "room-301",
    "room-302",
    "site-1",
    "tank-1",
    "tank-2",
    "temp-101",
    "temp-102",
    "temp-201",
    "temp-202",
    "temp-301",
    "temp-302",
]
ROOMS = ["room-101", "room-102", "room-201", "room-202", "room-301", "room-302"]
SENSORS = ["temp-101", "temp-102", "temp-201", "temp-202", "temp-301", "temp-302"]
PUMP = f"'{P}Pump;1'"
ROOM = f"'{R}Room;1'"
TSENSOR = f"'{R}TemperatureSensor;1'"
SPACE = f"'{R}Space;1'"

S = "SELECT T.$dtId FROM DIGITALTWINS T WHERE "  # the common "which twins" prefix

CORPUS: list[tuple[str, Any]] = [
    # -- SELECT / FROM / TOP / COUNT / IS_OF_MODEL ------------------------------------------------
    ("SELECT * FROM DIGITALTWINS", Ids(tuple(ALL))),
    ("SELECT * FROM DIGITALTWINS WHERE $dtId = 'pump-1'", ids("pump-1")),
    ("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'tank-2'", ids("tank-2")),
    ("SELECT T FROM DIGITALTWINS T WHERE T.$dtId = 'site-1'", [{"T": "site-1"}]),
    ("SELECT TOP(3) * FROM DIGITALTWINS", ids("co2-101", "co2-202", "floor-1")),
    (
        f"SELECT TOP(2) T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {PUMP})",
        col("$dtId", "pump-1", "pump-2"),
    ),
    ("SELECT COUNT() FROM DIGITALTWINS", [{"COUNT": 25}]),
    (f"SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {SPACE})", [{"COUNT": 10}]),
    (f"SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL({ROOM})", [{"COUNT": 6}]),
    (f"SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL({ROOM}, exact)", [{"COUNT": 1}]),
    (
        f"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('{R}ConferenceRoom;1')",
        ids("room-102", "room-202"),
    ),
    (S + f"IS_OF_MODEL(T, '{R}Point;1')", col("$dtId", "co2-101", "co2-202", *SENSORS)),
    (f"SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('{R}Point;1', exact)", [{"COUNT": 0}]),
    (S + f"T.$metadata.$model = '{P}Tank;1'", col("$dtId", "tank-1", "tank-2")),
    (S + "IS_NULL(T.$metadata.$model)", col("$dtId", "note-1")),
    (S + "T.$metadata.$model = null", col("$dtId", "note-1")),
    (S + f"T.$metadata.$model != {TSENSOR} AND STARTSWITH(T.$dtId, 'temp')", []),
    ("select t.$dtId from digitaltwins t where t.$dtId = 'pump-3'", col("$dtId", "pump-3")),
    (S + f"IS_OF_MODEL(T, {PUMP}) AND NOT IS_OF_MODEL(T, {PUMP}, exact)", []),
    (
        S + f"IS_OF_MODEL(T, '{P}Asset;1') AND T.$dtId > 'pump-3'",
        col("$dtId", "pump-4", "tank-1", "tank-2"),
    ),
    # -- numbers ----
    (
        "SELECT T.$dtId, T.temperature FROM DIGITALTWINS T WHERE T.temperature > 22",
        [{"$dtId": "temp-201", "temperature": 23.5}, {"$dtId": "temp-301", "temperature": 26.0}],
    ),
    (S + "T.temperature >= 22", col("$dtId", "temp-102", "temp-201", "temp-301")),
    (S + "T.temperature < 22", col("$dtId", "temp-101", "temp-202")),
    (S + "T.temperature <= 21.5", col("$dtId", "temp-101", "temp-202")),
    (S + "T.temperature = 19", col("$dtId", "temp-202")),
    (S + "T.temperature != 22", col("$dtId", "temp-101", "temp-201", "temp-202", "temp-301")),
    (S + "T.temperature <> 22", col("$dtId", "temp-101", "temp-201", "temp-202", "temp-301")),
    (S + "NOT T.temperature > 22", col("$dtId", "temp-101", "temp-102", "temp-202")),
    (S + "NOT (T.temperature > 22)", col("$dtId", "temp-101", "temp-102", "temp-202")),
    (S + "T.rpm > 1000", col("$dtId", "pump-1", "pump-2")),
    (S + "T.rpm = 0", col("$dtId", "pump-3")),
    (S + "T.area >= 1500", col("$dtId", "floor-1", "floor-2", "site-1")),
    (S + "T.area > 20 AND T.area < 60", col("$dtId", "room-102", "room-201", "room-301")),
    (
        S + "T.area < 20 OR T.area > 1000",
        col("$dtId", "floor-1", "floor-2", "floor-3", "room-302", "site-1"),
    ),
    (S + "22 < T.temperature", col("$dtId", "temp-201", "temp-301")),
    (S + "T.level = 2", col("$dtId", "floor-2")),
    (S + "T.level > 2", col("$dtId", "floor-3", "tank-1", "tank-2")),
    (S + "T.co2 >= 1000", col("$dtId", "co2-202")),
    (S + "T.vibration > 7", col("$dtId", "pump-2")),
    (S + "T.vibration = 0", col("$dtId", "pump-3")),
    (S + "T.n = 5", []),
    (S + "T.n = '5'", col("$dtId", "note-1")),
    (S + "T.n > 4", []),
    (S + "T.rpm >= -1 AND T.rpm <= 1.5e3", col("$dtId", "pump-1", "pump-2", "pump-3", "pump-4")),
    (S + "T.area = 1.5E3", col("$dtId", "floor-1", "floor-2")),
    (S + "(T.rpm > 1000 OR T.rpm = 0) AND T.running = true", col("$dtId", "pump-1", "pump-2")),
    (S + "T.rpm > 1000 OR T.rpm = 0 AND T.running = true", col("$dtId", "pump-1", "pump-2")),
    (S + "NOT (T.rpm > 1000 OR T.running = false)", []),
    (S + "NOT (T.rpm > 1000 OR T.rpm = 0)", col("$dtId", "pump-4")),
    # -- strings ----
    (S + "T.name = 'HQ'", col("$dtId", "site-1")),
    (S + 'T.name = "HQ"', col("$dtId", "site-1")),
    (S + "T.roomType = 'office'", col("$dtId", "room-101", "room-201", "room-301")),
    (S + "T.roomType != 'office'", col("$dtId", "room-102", "room-202", "room-302")),
    (
        S + f"IS_OF_MODEL(T, {TSENSOR}) AND T.name > 'T2'",
        col("$dtId", "temp-201", "temp-202", "temp-301", "temp-302"),
    ),
    (S + "STARTSWITH(T.name, 'Office')", col("$dtId", "room-101", "room-201", "room-301")),
    (S + "ENDSWITH(T.name, 'pump')", col("$dtId", "pump-1", "pump-2", "pump-3", "pump-4")),
    (S + "CONTAINS(T.name, 'oom')", col("$dtId", "room-102", "room-302")),
    (S + "STARTSWITH(T.$dtId, 'room-2')", col("$dtId", "room-201", "room-202")),
    (
        S + "ENDSWITH(T.$dtId, '-1')",
        col("$dtId", "floor-1", "note-1", "pump-1", "site-1", "tank-1"),
    ),
    (S + "CONTAINS(T.$dtId, 'o2')", col("$dtId", "co2-101", "co2-202")),
    (S + "STARTSWITH(T.level, '1')", []),
    (
        S + f"IS_OF_MODEL(T, '{R}Point;1') AND NOT STARTSWITH(T.name, 'T')",
        col("$dtId", "co2-101", "co2-202"),
    ),
    (S + "startswith(T.name, 'Glycol')", col("$dtId", "tank-2")),
    (S + "STARTSWITH(T.name, '')", [{"$dtId": i} for i in ALL if i != "note-1"]),
    (S + "ENDSWITH(T.label, '')", col("$dtId", "note-1")),
    (
        S + "CONTAINS(T.name, 'Floor') AND NOT CONTAINS(T.name, '2')",
        col("$dtId", "floor-1", "floor-3"),
    ),
    (S + "T.name = 'it''s'", []),
    (S + "T.fluid IN ['water', 'oil']", col("$dtId", "tank-1")),
    (S + "T.fluid NIN ['water']", col("$dtId", "tank-2")),
    (S + "T.$dtId IN ['pump-1', 'tank-2', 'nope']", col("$dtId", "pump-1", "tank-2")),
    (
        S + f"T.$dtId NIN ['pump-1'] AND IS_OF_MODEL(T, {PUMP})",
        col("$dtId", "pump-2", "pump-3", "pump-4"),
    ),
    (S + "T.rpm IN [0, 900]", col("$dtId", "pump-3", "pump-4")),
    (S + "T.rpm IN ['1500']", []),
    (S + "T.occupied IN [true]", col("$dtId", "room-101", "room-202")),
    (
        S + "T.roomType IN ('office', 'plant')",
        col("$dtId", "room-101", "room-201", "room-301", "room-302"),
    ),
    (S + "T.roomType NIN []", col("$dtId", *ROOMS)),
    (S + "T.roomType IN []", []),
    (S + f"T.$metadata.$model IN ['{P}Tank;1', null]", col("$dtId", "note-1", "tank-1", "tank-2")),
    # -- booleans and type tests ----
    (S + "T.occupied = true", col("$dtId", "room-101", "room-202")),
    (S + "T.occupied = FALSE", col("$dtId", "room-102", "room-201", "room-302")),
    (S + "T.occupied != true", col("$dtId", "room-102", "room-201", "room-302")),
    (
        S + f"NOT T.occupied = true AND IS_OF_MODEL(T, {ROOM})",
        col("$dtId", "room-102", "room-201", "room-302"),
    ),
    (S + "T.running = true", col("$dtId", "pump-1", "pump-2")),
    (S + "T.running = 1", []),
    (S + "T.running > false", []),
    (
        S + "IS_DEFINED(T.occupied)",
        col("$dtId", "room-101", "room-102", "room-201", "room-202", "room-302"),
    ),
    (S + f"NOT IS_DEFINED(T.occupied) AND IS_OF_MODEL(T, {ROOM})", col("$dtId", "room-301")),
    (S + "IS_BOOL(T.running)", col("$dtId", "pump-1", "pump-2", "pump-3")),
    (S + "IS_NUMBER(T.n)", []),
    (S + "IS_STRING(T.n)", col("$dtId", "note-1")),
    (S + "IS_NUMBER(T.level)", col("$dtId", "floor-1", "floor-2", "floor-3", "tank-1", "tank-2")),
    (S + "IS_OBJECT(T.location)", col("$dtId", "pump-1", "pump-2", "pump-3")),
    (S + "IS_OBJECT(T.name)", []),
    (S + "IS_PRIMITIVE(T.location)", []),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE IS_PRIMITIVE(T.name)", [{"COUNT": 24}]),
    (S + "IS_ARRAY(T.tags)", col("$dtId", "pump-1")),
    (S + "IS_ARRAY(T.meta.tags) AND IS_OBJECT(T.meta)", col("$dtId", "note-1")),
    (S + "IS_NULL(T.meta.owner)", col("$dtId", "note-1")),
    (S + "IS_DEFINED(T.meta.owner)", col("$dtId", "note-1")),
    (S + "IS_PRIMITIVE(T.meta.owner)", col("$dtId", "note-1")),
    (S + "T.meta.owner = null", col("$dtId", "note-1")),
    (S + "T.meta.owner != null", []),
    (S + "NOT T.meta.owner = 'x'", []),
    (S + "IS_NUMBER(T.meta.size)", col("$dtId", "note-1")),
    (S + "T.meta.size = 3", col("$dtId", "note-1")),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE IS_STRING(T.$dtId)", [{"COUNT": 25}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE IS_DEFINED(T.$metadata.$model)", [{"COUNT": 25}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE IS_STRING(T.$metadata.$model)", [{"COUNT": 24}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE IS_DEFINED(T.nothing)", [{"COUNT": 0}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE true", [{"COUNT": 25}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE false OR T.rpm = 0", [{"COUNT": 1}]),
    # -- nested paths ----
    (S + "T.location.floor = 3", col("$dtId", "pump-2", "pump-3")),
    (S + "T.location.zone = 'A'", col("$dtId", "pump-1")),
    (
        f"SELECT T.$dtId, T.location.zone FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {PUMP})",
        [
            {"$dtId": "pump-1", "zone": "A"},
            {"$dtId": "pump-2", "zone": "B"},
            {"$dtId": "pump-3", "zone": "B"},
            {"$dtId": "pump-4"},
        ],
    ),
    (
        "SELECT T.location FROM DIGITALTWINS T WHERE T.$dtId = 'pump-1'",
        [{"location": {"floor": 1, "zone": "A"}}],
    ),
    (
        "SELECT T.tags FROM DIGITALTWINS T WHERE T.$dtId = 'pump-1'",
        [{"tags": ["feed", "critical"]}],
    ),
    (S + "T.location.floor.x = 1", []),
    (S + "T.location = 3", []),
    (
        S + "T.reported.location.zone = 'B' AND T.location.floor > 2",
        col("$dtId", "pump-2", "pump-3"),
    ),
    # -- explicit sections ----
    (S + "T.desired.rpm > 1500", col("$dtId", "pump-1")),
    (S + "T.delta.rpm = 1600", col("$dtId", "pump-1")),
    (S + "IS_DEFINED(T.delta.rpm)", col("$dtId", "pump-1")),
    (
        "SELECT T.$dtId, T.desired.rpm AS want, T.reported.rpm AS have FROM DIGITALTWINS T"
        " WHERE IS_DEFINED(T.desired.rpm)",
        [
            {"$dtId": "pump-1", "want": 1600, "have": 1500},
            {"$dtId": "pump-2", "want": 1200, "have": 1200},
        ],
    ),
    (S + "T.telemetry.flow > 9", col("$dtId", "pump-1")),
    (
        "SELECT T.telemetry.reading FROM DIGITALTWINS T WHERE IS_DEFINED(T.telemetry.reading)",
        [{"reading": 23.25}],
    ),
    (S + "T.reported.temperature > 25", col("$dtId", "temp-301")),
    (S + "IS_DEFINED(T.delta.setpoint)", col("$dtId", "temp-101")),
    (
        "SELECT T.desired FROM DIGITALTWINS T WHERE T.$dtId = 'temp-101'",
        [{"desired": {"setpoint": 22.5}}],
    ),
    ("SELECT T.delta FROM DIGITALTWINS T WHERE T.$dtId = 'pump-2'", [{"delta": {}}]),
    ("SELECT T.$etag FROM DIGITALTWINS T WHERE T.$dtId = 'site-1'", [{"$etag": '"4"'}]),
    (S + "T.telemetry.flow > T.reported.rpm", []),
    (S + "T.desired.rpm = T.reported.rpm", col("$dtId", "pump-2")),
    (S + "T.desired.rpm != T.rpm", col("$dtId", "pump-1")),
    # -- projections ----
    (
        f"SELECT T.name AS n, T.area FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '{R}Level;1')",
        [
            {"n": "Floor 1", "area": 1500.0},
            {"n": "Floor 2", "area": 1500.0},
            {"n": "Floor 3", "area": 1200.0},
        ],
    ),
    ("SELECT name FROM DIGITALTWINS WHERE $dtId = 'tank-1'", [{"name": "Water tank"}]),
    (
        "SELECT $dtId, fluid FROM DIGITALTWINS WHERE IS_DEFINED(fluid)",
        [{"$dtId": "tank-1", "fluid": "water"}, {"$dtId": "tank-2", "fluid": "glycol"}],
    ),
    ("SELECT T.missing FROM DIGITALTWINS T WHERE T.$dtId = 'site-1'", [{}]),
    ("SELECT T.$metadata.$model FROM DIGITALTWINS T WHERE T.$dtId = 'note-1'", [{"$model": None}]),
    (
        "SELECT T.$metadata.$model AS m FROM DIGITALTWINS T WHERE T.$dtId = 'pump-4'",
        [{"m": P + "Pump;1"}],
    ),
    # -- JOIN ----
    (
        "SELECT C.$dtId FROM DIGITALTWINS T JOIN C RELATED T.hasPart WHERE T.$dtId = 'site-1'",
        col("$dtId", "floor-1", "floor-2", "floor-3"),
    ),
    (
        "SELECT T, C FROM DIGITALTWINS T JOIN C RELATED T.hasPart WHERE T.$dtId = 'floor-2'",
        [{"T": "floor-2", "C": "room-201"}, {"T": "floor-2", "C": "room-202"}],
    ),
    (
        "SELECT T.$dtId AS floor, C.$dtId AS room FROM DIGITALTWINS T JOIN C RELATED T.hasPart"
        f" WHERE IS_OF_MODEL(T, '{R}Level;1') AND C.occupied = true",
        [{"floor": "floor-1", "room": "room-101"}, {"floor": "floor-2", "room": "room-202"}],
    ),
    (
        "SELECT F.$dtId AS floor, S.$dtId AS sensor FROM DIGITALTWINS F JOIN R RELATED F.hasPart"
        " JOIN S RELATED R.hasPoint WHERE F.$dtId = 'floor-1'",
        [
            {"floor": "floor-1", "sensor": "co2-101"},
            {"floor": "floor-1", "sensor": "temp-101"},
            {"floor": "floor-1", "sensor": "temp-102"},
        ],
    ),
    (
        "SELECT T.$dtId AS src, R.flow, P.$dtId AS dst FROM DIGITALTWINS T JOIN P RELATED T.feeds R"
        " WHERE R.flow > 5",
        [
            {"src": "pump-1", "flow": 10.5, "dst": "tank-1"},
            {"src": "tank-1", "flow": 8.0, "dst": "pump-2"},
        ],
    ),
    (
        "SELECT R FROM DIGITALTWINS T JOIN P RELATED T.feeds R WHERE T.$dtId = 'tank-2'",
        [{"R": "feeds-pump-1"}],
    ),
    (
        "SELECT COUNT() FROM DIGITALTWINS S JOIN F RELATED S.hasPart JOIN R RELATED F.hasPart"
        " JOIN P RELATED R.hasPoint WHERE S.$dtId = 'site-1'",
        [{"COUNT": 8}],
    ),
    (
        "SELECT P.$dtId AS pump, K.$dtId AS tank FROM DIGITALTWINS S JOIN F RELATED S.hasPart"
        " JOIN R RELATED F.hasPart JOIN P RELATED R.hasPart JOIN K RELATED P.feeds"
        " WHERE S.$dtId = 'site-1'",
        [{"pump": "pump-2", "tank": "tank-2"}, {"pump": "pump-3", "tank": "tank-1"}],
    ),
    (
        "SELECT G.$dtId FROM DIGITALTWINS A JOIN B RELATED A.feeds JOIN C RELATED B.feeds"
        " JOIN D RELATED C.feeds JOIN E RELATED D.feeds JOIN F RELATED E.feeds"
        " JOIN G RELATED F.feeds WHERE A.$dtId = 'pump-1'",
        col("$dtId", "pump-2"),
    ),
    ("SELECT C FROM DIGITALTWINS T JOIN C RELATED T.feeds WHERE T.$dtId = 'site-1'", []),
    (
        "SELECT T.$dtId, C.$dtId AS c FROM DIGITALTWINS T JOIN C RELATED T.feeds"
        f" WHERE IS_OF_MODEL(C, '{P}Tank;1')",
        [
            {"$dtId": "pump-1", "c": "tank-1"},
            {"$dtId": "pump-2", "c": "tank-2"},
            {"$dtId": "pump-3", "c": "tank-1"},
        ],
    ),
    (
        "SELECT T.$dtId AS a, C.$dtId AS b FROM DIGITALTWINS T JOIN C RELATED T.feeds"
        " WHERE C.level > 50",
        [{"a": "pump-1", "b": "tank-1"}, {"a": "pump-3", "b": "tank-1"}],
    ),
    (
        "SELECT R.$dtId FROM DIGITALTWINS F JOIN R RELATED F.hasPart"
        " WHERE F.area > R.area AND F.$dtId = 'floor-3'",
        col("$dtId", "room-301", "room-302"),
    ),
    ("SELECT R.$dtId FROM DIGITALTWINS F JOIN R RELATED F.hasPart WHERE F.name = R.name", []),
    ("SELECT COUNT() FROM DIGITALTWINS T JOIN C RELATED T.hasPart", [{"COUNT": 11}]),
    (
        "SELECT T.$dtId AS t, C.$dtId AS c FROM DIGITALTWINS AS T JOIN C RELATED T.feeds"
        " WHERE T.$dtId = C.$dtId",
        [],
    ),
    # -- RELATIONSHIPS ----
    ("SELECT COUNT() FROM RELATIONSHIPS", [{"COUNT": 24}]),
    ("SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$relationshipName = 'feeds'", [{"COUNT": 5}]),
    (
        "SELECT * FROM RELATIONSHIPS R WHERE R.$sourceId = 'room-302'",
        ids("part-pump-2", "part-pump-3", "point-temp-302"),
    ),
    (
        "SELECT R.$relationshipId, R.flow FROM RELATIONSHIPS R WHERE R.flow >= 4.5",
        [
            {"$relationshipId": "feeds-tank-1", "flow": 10.5},
            {"$relationshipId": "feeds-tank-2", "flow": 4.5},
            {"$relationshipId": "feeds-pump-2", "flow": 8.0},
        ],
    ),
    (
        "SELECT R.$sourceId FROM RELATIONSHIPS R WHERE R.$targetId = 'tank-1'",
        col("$sourceId", "pump-1", "pump-3"),
    ),
    (
        "SELECT * FROM RELATIONSHIPS WHERE $relationshipName = 'feeds' AND NOT IS_DEFINED(flow)",
        ids("returns-tank-1"),
    ),
    (
        "SELECT R.$relationshipName, COUNT() FROM RELATIONSHIPS R GROUP BY R.$relationshipName",
        [
            {"$relationshipName": "feeds", "COUNT": 5},
            {"$relationshipName": "hasPart", "COUNT": 11},
            {"$relationshipName": "hasPoint", "COUNT": 8},
        ],
    ),
    (
        "SELECT R.$relationshipName AS name, SUM(R.flow) AS total FROM RELATIONSHIPS R"
        " GROUP BY R.$relationshipName",
        [{"name": "feeds", "total": 25.0}, {"name": "hasPart"}, {"name": "hasPoint"}],
    ),
    (
        "SELECT TOP(2) R.$relationshipId FROM RELATIONSHIPS R",
        col("$relationshipId", "part-room-101", "part-room-102"),
    ),
    (
        "SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipId = 'feeds-tank-1'",
        Raw(
            (
                {
                    "$relationshipId": "feeds-tank-1",
                    "$sourceId": "pump-1",
                    "$targetId": "tank-1",
                    "$relationshipName": "feeds",
                    "flow": 10.5,
                },
            )
        ),
    ),
    ("SELECT R FROM RELATIONSHIPS R WHERE R.flow = 0", []),
    ("SELECT COUNT() FROM RELATIONSHIPS R WHERE STARTSWITH(R.$targetId, 'temp')", [{"COUNT": 6}]),
    (
        "SELECT R.$targetId FROM RELATIONSHIPS R WHERE R.$relationshipName IN ['feeds']"
        " AND R.flow < 5",
        col("$targetId", "tank-2", "pump-1"),
    ),
    # -- MATCH ----
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart]->(b) WHERE a.$dtId = 'site-1'",
        col("$dtId", "floor-1", "floor-2", "floor-3"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart*2]->(b) WHERE a.$dtId = 'site-1'",
        col("$dtId", *ROOMS),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart*1..2]->(b) WHERE a.$dtId = 'site-1'",
        col("$dtId", "floor-1", "floor-2", "floor-3", *ROOMS),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart|hasPoint*3]->(b)"
        " WHERE a.$dtId = 'site-1'",
        col("$dtId", "co2-101", "co2-202", "pump-2", "pump-3", *SENSORS),
    ),
    (
        "SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[*1..5]->(b) WHERE a.$dtId = 'site-1'",
        [{"COUNT": 22}],
    ),
    (
        "SELECT a.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart*1..3]->(b) WHERE b.$dtId = 'pump-2'",
        col("$dtId", "floor-3", "room-302", "site-1"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)<-[:hasPart]-(b) WHERE a.$dtId = 'room-101'",
        col("$dtId", "floor-1"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)<-[:feeds*1..2]-(b) WHERE a.$dtId = 'tank-1'",
        col("$dtId", "pump-1", "pump-3", "tank-2"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds]-(b) WHERE a.$dtId = 'tank-1'",
        col("$dtId", "pump-1", "pump-3", "pump-2"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:hasPart*2]-(b) WHERE a.$dtId = 'room-101'",
        col("$dtId", "room-101", "room-102", "site-1"),
    ),
    (
        "SELECT f.$dtId AS f, r.$dtId AS r, s.$dtId AS s FROM DIGITALTWINS"
        " MATCH (f)-[:hasPart]->(r)-[:hasPoint]->(s) WHERE f.$dtId = 'floor-2'",
        [
            {"f": "floor-2", "r": "room-201", "s": "temp-201"},
            {"f": "floor-2", "r": "room-202", "s": "co2-202"},
            {"f": "floor-2", "r": "room-202", "s": "temp-202"},
        ],
    ),
    (
        "SELECT p.$dtId AS p, r.flow AS flow, t.$dtId AS t FROM DIGITALTWINS"
        f" MATCH (p)-[r:feeds]->(t) WHERE IS_OF_MODEL(p, {PUMP})",
        [
            {"p": "pump-1", "flow": 10.5, "t": "tank-1"},
            {"p": "pump-2", "flow": 4.5, "t": "tank-2"},
            {"p": "pump-3", "t": "tank-1"},
        ],
    ),
    ("SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[:hasPoint]->(b)", [{"COUNT": 8}]),
    (
        "SELECT a.$dtId AS room FROM DIGITALTWINS MATCH (f)-[:hasPart]->(a)-[:hasPoint]->(s)"
        " WHERE s.temperature > 22",
        col("room", "room-201", "room-301"),
    ),
    (
        "SELECT a.$dtId FROM DIGITALTWINS"
        " MATCH (a)-[:feeds]->(b)-[:feeds]->(c)-[:feeds]->(d)-[:feeds]->(a)",
        col("$dtId", "pump-1", "pump-2", "tank-1", "tank-2"),
    ),
    ("SELECT a.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds]->(b)-[:feeds]->(a)", []),
    (
        "SELECT a.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds*1..4]->(a)",
        col("$dtId", "pump-1", "pump-2", "tank-1", "tank-2"),
    ),
    ("SELECT a.$dtId FROM DIGITALTWINS MATCH (a) WHERE a.rpm = 900", col("$dtId", "pump-4")),
    (
        "SELECT s.$dtId FROM DIGITALTWINS MATCH ()-[:hasPart]->()-[:hasPoint]->(s) WHERE s.co2 > 0",
        col("$dtId", "co2-101", "co2-202"),
    ),
    (
        "SELECT p.$dtId FROM DIGITALTWINS MATCH (f)-[:hasPart*2]->(p) WHERE f.$dtId = 'floor-3'"
        f" AND IS_OF_MODEL(p, {PUMP}) AND p.vibration > 7",
        col("$dtId", "pump-2"),
    ),
    (
        "SELECT u.$dtId FROM DIGITALTWINS MATCH (u)-[:feeds*2]->(t) WHERE t.$dtId = 'tank-2'",
        col("$dtId", "tank-1"),
    ),
    (
        "SELECT u.$dtId FROM DIGITALTWINS MATCH (u)-[:feeds*1..2]->(t) WHERE t.$dtId = 'tank-2'",
        col("$dtId", "pump-2", "tank-1"),
    ),
    (
        "SELECT u.$dtId FROM DIGITALTWINS MATCH (u)-[:feeds*..2]->(t) WHERE t.$dtId = 'tank-2'",
        col("$dtId", "pump-2", "tank-1"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (r)<-[:hasPart]-(f)-[:hasPart]->(b)"
        " WHERE r.$dtId = 'room-201'",
        col("$dtId", "room-201", "room-202"),
    ),
    (
        "SELECT r.$relationshipId FROM DIGITALTWINS MATCH (a)-[r]->(b) WHERE a.$dtId = 'room-302'",
        col("$relationshipId", "part-pump-2", "part-pump-3", "point-temp-302"),
    ),
    (
        "SELECT a.$dtId AS a, b.$dtId AS b FROM DIGITALTWINS MATCH (a)-[r:feeds]->(b)"
        " WHERE r.flow < 5",
        [{"a": "pump-2", "b": "tank-2"}, {"a": "tank-2", "b": "pump-1"}],
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds*0..1]->(b) WHERE a.$dtId = 'pump-4'",
        col("$dtId", "pump-4"),
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[:nothing*1..3]->(b) WHERE a.$dtId = 'site-1'",
        [],
    ),
    (
        "SELECT b.$dtId FROM DIGITALTWINS MATCH (a)-[*1..2]-(b) WHERE a.$dtId = 'temp-302'",
        col("$dtId", "floor-3", "pump-2", "pump-3", "room-302", "temp-302"),
    ),
    (
        "SELECT a, b FROM DIGITALTWINS MATCH (a)-[:hasPoint]->(b) WHERE b.co2 > 1000",
        [{"a": "room-202", "b": "co2-202"}],
    ),
    (
        "SELECT * FROM DIGITALTWINS MATCH (a)-[:hasPoint]->(b) WHERE b.co2 > 1000",
        [{"a": "room-202", "b": "co2-202"}],
    ),
    (
        "SELECT * FROM DIGITALTWINS MATCH (a)-[r:hasPoint]->(b) WHERE b.co2 > 1000",
        [{"a": "room-202", "r": "point-co2-202", "b": "co2-202"}],
    ),
    # -- GROUP BY / aggregates / ORDER BY ----
    (
        "SELECT T.$metadata.$model AS model, COUNT() AS n FROM DIGITALTWINS T"
        " GROUP BY T.$metadata.$model",
        [
            {"model": None, "n": 1},
            {"model": P + "Pump;1", "n": 4},
            {"model": P + "Tank;1", "n": 2},
            {"model": R + "Co2Sensor;1", "n": 2},
            {"model": R + "ConferenceRoom;1", "n": 2},
            {"model": R + "Level;1", "n": 3},
            {"model": R + "Office;1", "n": 3},
            {"model": R + "Room;1", "n": 1},
            {"model": R + "Site;1", "n": 1},
            {"model": R + "TemperatureSensor;1", "n": 6},
        ],
    ),
    (
        "SELECT T.$metadata.$model AS model, COUNT() AS n FROM DIGITALTWINS T"
        " GROUP BY T.$metadata.$model ORDER BY n DESC",
        [
            {"model": R + "TemperatureSensor;1", "n": 6},
            {"model": P + "Pump;1", "n": 4},
            {"model": R + "Level;1", "n": 3},
            {"model": R + "Office;1", "n": 3},
            {"model": P + "Tank;1", "n": 2},
            {"model": R + "Co2Sensor;1", "n": 2},
            {"model": R + "ConferenceRoom;1", "n": 2},
            {"model": None, "n": 1},
            {"model": R + "Room;1", "n": 1},
            {"model": R + "Site;1", "n": 1},
        ],
    ),
    (
        "SELECT T.roomType, COUNT(), AVG(T.area) AS avgArea FROM DIGITALTWINS T"
        f" WHERE IS_OF_MODEL(T, {ROOM}) GROUP BY T.roomType",
        [
            {"roomType": "meeting", "COUNT": 2, "avgArea": 50.0},
            {"roomType": "office", "COUNT": 3, "avgArea": 25.0},
            {"roomType": "plant", "COUNT": 1, "avgArea": 15.0},
        ],
    ),
    (
        "SELECT T.unit, MIN(T.temperature) AS lo, MAX(T.temperature) AS hi, COUNT() AS n"
        f" FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {TSENSOR}) GROUP BY T.unit",
        [{"unit": "C", "lo": 19.0, "hi": 26.0, "n": 5}, {"unit": "F", "n": 1}],
    ),
    (
        "SELECT SUM(T.rpm) AS total, AVG(T.rpm) AS mean, COUNT() AS n FROM DIGITALTWINS T"
        f" WHERE IS_OF_MODEL(T, {PUMP})",
        [{"total": 3600, "mean": 900.0, "n": 4}],
    ),
    ("SELECT AVG(T.temperature) AS avg FROM DIGITALTWINS T", [{"avg": 22.4}]),
    ("SELECT MAX(T.co2) AS peak FROM DIGITALTWINS T", [{"peak": 1200}]),
    ("SELECT MIN(T.name) AS m FROM DIGITALTWINS T", [{}]),
    ("SELECT COUNT() FROM DIGITALTWINS T WHERE T.rpm > 99999", [{"COUNT": 0}]),
    ("SELECT SUM(T.rpm) AS s FROM DIGITALTWINS T WHERE T.rpm > 99999", [{}]),
    (
        "SELECT R.roomType AS type, AVG(S.temperature) AS avgTemp FROM DIGITALTWINS R"
        f" JOIN S RELATED R.hasPoint WHERE IS_OF_MODEL(S, {TSENSOR}) GROUP BY R.roomType",
        [
            {"type": "meeting", "avgTemp": 20.5},
            {"type": "office", "avgTemp": 71.0 / 3},
            {"type": "plant"},
        ],
    ),
    (
        "SELECT f.$dtId AS floor, COUNT() AS sensors FROM DIGITALTWINS"
        " MATCH (f)-[:hasPart]->(r)-[:hasPoint]->(s) GROUP BY f.$dtId",
        [
            {"floor": "floor-1", "sensors": 3},
            {"floor": "floor-2", "sensors": 3},
            {"floor": "floor-3", "sensors": 2},
        ],
    ),
    (
        "SELECT f.$dtId AS floor, COUNT() AS sensors FROM DIGITALTWINS"
        " MATCH (f)-[:hasPart]->(r)-[:hasPoint]->(s) GROUP BY f.$dtId ORDER BY sensors",
        [
            {"floor": "floor-3", "sensors": 2},
            {"floor": "floor-1", "sensors": 3},
            {"floor": "floor-2", "sensors": 3},
        ],
    ),
    (
        "SELECT s.unit AS unit, COUNT() AS n FROM DIGITALTWINS"
        " MATCH (site)-[:hasPart]->(f)-[:hasPart]->(r)-[:hasPoint]->(s) GROUP BY s.unit",
        [{"unit": "C", "n": 5}, {"unit": "F", "n": 1}, {"unit": "ppm", "n": 2}],
    ),
    (
        "SELECT T.occupied AS occ, COUNT() AS n FROM DIGITALTWINS T"
        f" WHERE IS_OF_MODEL(T, {ROOM}) GROUP BY T.occupied",
        [{"n": 1}, {"occ": False, "n": 3}, {"occ": True, "n": 2}],
    ),
    (
        "SELECT T.location.zone AS zone, AVG(T.vibration) AS v FROM DIGITALTWINS T"
        f" WHERE IS_OF_MODEL(T, {PUMP}) GROUP BY T.location.zone",
        [{}, {"zone": "A", "v": 3.25}, {"zone": "B", "v": 4.5}],
    ),
    (
        "SELECT T.location.floor AS floor, T.running AS running, COUNT() AS n FROM DIGITALTWINS T"
        f" WHERE IS_OF_MODEL(T, {PUMP}) GROUP BY T.location.floor, T.running",
        [
            {"n": 1},
            {"floor": 1, "running": True, "n": 1},
            {"floor": 3, "running": False, "n": 1},
            {"floor": 3, "running": True, "n": 1},
        ],
    ),
    (
        f"SELECT T.$dtId, T.area FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {ROOM})"
        " ORDER BY T.area DESC",
        [
            {"$dtId": "room-202", "area": 60.0},
            {"$dtId": "room-102", "area": 40.0},
            {"$dtId": "room-301", "area": 30.0},
            {"$dtId": "room-201", "area": 25.0},
            {"$dtId": "room-101", "area": 20.0},
            {"$dtId": "room-302", "area": 15.0},
        ],
    ),
    (
        f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {ROOM}) ORDER BY T.area ASC",
        col("$dtId", "room-302", "room-101", "room-201", "room-301", "room-102", "room-202"),
    ),
    (
        f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {ROOM})"
        " ORDER BY T.occupied DESC, T.area",
        col("$dtId", "room-101", "room-202", "room-302", "room-201", "room-102", "room-301"),
    ),
    (
        f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {SPACE}) AND T.area > 1000"
        " ORDER BY T.level DESC",
        col("$dtId", "floor-3", "floor-2", "floor-1", "site-1"),
    ),
    (
        "SELECT TOP(2) T.$dtId, T.temperature FROM DIGITALTWINS T ORDER BY T.temperature DESC",
        [{"$dtId": "temp-301", "temperature": 26.0}, {"$dtId": "temp-201", "temperature": 23.5}],
    ),
    (
        f"SELECT T.name FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {PUMP}) ORDER BY T.name",
        col("name", "Feed pump", "New pump", "Standby pump", "Transfer pump"),
    ),
    (
        "SELECT TOP(3) T.$dtId FROM DIGITALTWINS T ORDER BY T.$dtId DESC",
        col("$dtId", "temp-302", "temp-301", "temp-202"),
    ),
    (
        "SELECT T.$dtId AS id, T.rpm AS speed FROM DIGITALTWINS T WHERE IS_DEFINED(T.rpm)"
        " ORDER BY speed",
        [
            {"id": "pump-3", "speed": 0},
            {"id": "pump-4", "speed": 900},
            {"id": "pump-2", "speed": 1200},
            {"id": "pump-1", "speed": 1500},
        ],
    ),
    (
        "SELECT T.roomType AS t, COUNT() FROM DIGITALTWINS T WHERE IS_DEFINED(T.roomType)"
        " GROUP BY T.roomType ORDER BY COUNT() DESC",
        [{"t": "office", "COUNT": 3}, {"t": "meeting", "COUNT": 2}, {"t": "plant", "COUNT": 1}],
    ),
    (
        "SELECT R.$sourceId AS src, COUNT() AS n FROM RELATIONSHIPS R GROUP BY R.$sourceId"
        " ORDER BY n DESC, src DESC",
        [{"src": s, "n": 3} for s in ("site-1", "room-302")]
        + [{"src": s, "n": 2} for s in ("room-202", "room-101", "floor-3", "floor-2", "floor-1")]
        + [
            {"src": s, "n": 1}
            for s in (
                "tank-2",
                "tank-1",
                "room-301",
                "room-201",
                "room-102",
                "pump-3",
                "pump-2",
                "pump-1",
            )
        ],
    ),
    (
        f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '{P}Asset;1') ORDER BY T.level",
        col("$dtId", "pump-1", "pump-2", "pump-3", "pump-4", "tank-2", "tank-1"),
    ),
    (
        "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.$dtId IN ['note-1', 'site-1', 'pump-1']"
        " ORDER BY T.$metadata.$model DESC",
        col("$dtId", "site-1", "pump-1", "note-1"),
    ),
    # -- AS OF ----
    (
        f"SELECT T.$dtId, T.vibration FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, {PUMP})"
        f" AS OF '{BUILT}'",
        [
            {"$dtId": "pump-1", "vibration": 3.25},
            {"$dtId": "pump-2", "vibration": 7.5},
            {"$dtId": "pump-3", "vibration": 0.0},
        ],
    ),
    (f"SELECT COUNT() FROM DIGITALTWINS AS OF '{BUILT}'", [{"COUNT": 24}]),
    (
        f"SELECT a.$dtId FROM DIGITALTWINS MATCH (a)-[:feeds]->(b)-[:feeds]->(a) AS OF '{BUILT}'",
        col("$dtId", "pump-3", "tank-1"),
    ),
    (f"SELECT COUNT() FROM RELATIONSHIPS AS OF '{BUILT}'", [{"COUNT": 25}]),
    ("SELECT COUNT() FROM DIGITALTWINS AS OF '2025-12-31T00:00:00Z'", [{"COUNT": 0}]),
    ("SELECT T.$dtId FROM DIGITALTWINS T AS OF '2026-01-01T00:00:01Z'", col("$dtId", "site-1")),
    (f"SELECT T.$dtId FROM DIGITALTWINS T WHERE T.vibration > 8 AS OF '{BUILT}'", []),
    (
        "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.vibration > 8 AS OF '2026-01-01T12:00:00Z'",
        col("$dtId", "pump-2"),
    ),
    ("SELECT COUNT() FROM RELATIONSHIPS AS OF '2026-01-01T00:00:30Z'", [{"COUNT": 6}]),
    (
        "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_DEFINED(T.delta.rpm)"
        " AS OF '2026-01-01T00:00:50+00:00'",
        col("$dtId", "pump-1"),
    ),
    (f"SELECT * FROM DIGITALTWINS WHERE $dtId = 'pump-2' AS OF '{BUILT}'", ids("pump-2")),
    # -- errors ----
    ("SELEC * FROM DIGITALTWINS", Error("line 1, column 1")),
    ("SELECT * FROM DIGITALTWINS WHERE", Error("line 1")),
    ("SELECT * FROM DIGITALTWINS T\nWHERE T.x == 1", Error("line 2, column 12")),
    ("SELECT * FROM DIGITALTWINS T WHERE FOO(T.x)", Error("unknown function FOO")),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:nope;1')", Error("unknown model")),
    ("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.name, 5)", Error("needs a string")),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.a, T.b)", Error("takes 1 argument")),
    ("SELECT X.name FROM DIGITALTWINS T", Error("unknown alias 'X'")),
    (
        "SELECT T.name, C.name FROM DIGITALTWINS T JOIN C RELATED T.hasPart",
        Error("two columns are named 'name'"),
    ),
    ("SELECT T.name, COUNT() FROM DIGITALTWINS T", Error("must be in GROUP BY")),
    ("SELECT * FROM DIGITALTWINS T WHERE T.$foo = 1", Error("unknown system property")),
    ("SELECT * FROM DIGITALTWINS MATCH (a)-[r:feeds*1..2]->(b)", Error("exactly one hop")),
    ("SELECT * FROM DIGITALTWINS MATCH (a)-[:feeds*3..1]->(b)", Error("lower bound")),
    ("SELECT * FROM DIGITALTWINS T WHERE COUNT() > 1", Error("only be used in SELECT")),
    ("SELECT * FROM DIGITALTWINS T JOIN C RELATED X.feeds", Error("not a twin alias")),
    ("SELECT * FROM DIGITALTWINS T WHERE T.name", Error("not a condition")),
    ("SELECT * FROM DIGITALTWINS T WHERE T.x = 1 AS OF 'yesterday'", Error("ISO 8601")),
    ("SELECT * FROM DIGITALTWINS MATCH (a)-[:feeds*1..]->(b)", Error("upper bound")),
    ("SELECT SUM() FROM DIGITALTWINS", Error("takes 1 argument")),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T)", Error("IS_OF_MODEL takes")),
    ("SELECT * FROM DIGITALTWINS T WHERE T.x IN [T.y]", Error("line 1")),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 5)", Error("IS_OF_MODEL takes")),
    ("SELECT * FROM DIGITALTWINS JOIN C RELATED T.feeds", Error("needs an alias")),
    ("SELECT * FROM DIGITALTWINS T JOIN T RELATED T.feeds", Error("used twice")),
    ("SELECT T.name FROM DIGITALTWINS T GROUP BY T.area", Error("must be in GROUP BY")),
    ("SELECT COUNT(T.x) FROM DIGITALTWINS T", Error("COUNT() takes no arguments")),
    ("SELECT STARTSWITH(T.x, 'a') FROM DIGITALTWINS T", Error("is a condition")),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T)", Error("needs a property path")),
    ("SELECT * FROM RELATIONSHIPS R WHERE R.$bogus = 1", Error("unknown relationship property")),
    ("", Error("empty")),
]

CORPUS += [
    # ADT allows IS_OF_MODEL without the alias when the query binds one twin
    (
        f"SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL('{P}Tank;1')",
        col("$dtId", "tank-1", "tank-2"),
    ),
    (
        f"SELECT C.$dtId FROM DIGITALTWINS T JOIN C RELATED T.feeds WHERE IS_OF_MODEL({PUMP})",
        Error("name the twin"),
    ),
]

CORPUS += [
    # nothing changed after this moment: SQLite answers from the live tables
    ("SELECT COUNT() FROM DIGITALTWINS AS OF '2030-01-01T00:00:00Z'", [{"COUNT": 25}]),
    (
        "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.vibration > 8 AS OF '2030-01-01T00:00:00Z'",
        col("$dtId", "pump-2"),
    ),
]
