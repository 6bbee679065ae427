"""Generate :mod:`twinkit.dtdl.metamodel_tables` from the DTDL metamodel (RDF/SHACL JSON).

Run by hand when the metamodel changes::

    python src/twinkit/dtdl/metamodel_codegen.py /path/to/dtdl > /tmp/tables.py && \
        mv /tmp/tables.py src/twinkit/dtdl/metamodel_tables.py

The validator never reads the metamodel at run time: the rules are compiled into a
plain Python literal so the package works on a machine without the spec folders.
"""

from __future__ import annotations

import json
import pprint
import sys
from pathlib import Path
from typing import Any

_SOURCES: dict[str, tuple[str, str, str | None]] = {
    # key: (metamodel file, context file, context DTMI)
    "v2": ("v2/metamodel/DTDL.v2.ModelRDF-SHACL.json", "v2/context/DTDL.v2.context.json", None),
    "v3": ("v3/metamodel/DTDL.v3.ModelRDF-SHACL.json", "v3/context/DTDL.v3.context.json", None),
    "iotcentral": (
        "v2/metamodel/DTDL.v2.PartnerExtension.iotcentral.RDF-SHACL.json",
        "v2/context/DTDL.v2.iotcentral.context.json",
        "dtmi:iotcentral:context;2",
    ),
}
_EXTENSIONS = ("quantitativeTypes", "historization", "annotation", "overriding", "mqtt")


def short(iri: str) -> str:
    """``dtmi:dtdl:class:Interface;3`` -> ``Interface``; terms stay as they are."""
    if not iri.startswith("dtmi:"):
        return iri
    return iri.split(";")[0].rsplit(":", 1)[-1]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _classes_of(node: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if "sh:class" in node:
        found.append(short(node["sh:class"]))
    for alt in node.get("sh:or", []):
        found.extend(_classes_of(alt))
    return sorted(set(found))


def _versions_of(node: dict[str, Any], own: int | None) -> list[int]:
    """DTDL versions a class reference admits: a versioned DTMI names its version, a bare
    term means the defining language's own version."""
    found: set[int] = set()
    if "sh:class" in node:
        iri = node["sh:class"]
        found.add(
            int(iri.rsplit(";", 1)[1]) if iri.startswith("dtmi:") and ";" in iri else own or 0
        )
    for alt in node.get("sh:or", []):
        found.update(_versions_of(alt, own))
    return sorted(found)


def _constraint(raw: dict[str, Any], own: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name in (
        ("sh:minCount", "min"),
        ("sh:maxCount", "max"),
        ("sh:maxLength", "maxLength"),
        ("sh:minInclusive", "minInclusive"),
        ("sh:maxInclusive", "maxInclusive"),
        ("sh:pattern", "pattern"),
        ("dtmm:value", "value"),
        ("dtmm:childOf", "childOf"),
    ):
        if key in raw:
            out[name] = raw[key]
    if "sh:datatype" in raw:
        out["datatype"] = raw["sh:datatype"].split(":")[-1]
    classes = _classes_of(raw)
    if classes:
        out["classes"] = classes
        out["versions"] = _versions_of(raw, own)
    if "sh:in" in raw:
        out["in"] = sorted({short(v) for v in raw["sh:in"]})
    kind = raw.get("sh:nodeKind")
    if kind:
        out["kind"] = {"sh:Literal": "literal", "sh:IRI": "iri"}.get(kind, "node")
    for key, name in (
        ("sh:uniqueLang", "uniqueLang"),
        ("dtmm:typeInferable", "inferable"),
        ("dtmm:uniqueValue", "uniqueValue"),
        ("dtmm:deprecated", "deprecated"),
    ):
        if raw.get(key):
            out[name] = True
    if "dtmm:uniqueProperties" in raw:
        out["unique"] = [short(p) for p in raw["dtmm:uniqueProperties"]]
    if "dtmm:dtmiSegment" in raw:
        out["dtmiSegment"] = short(raw["dtmm:dtmiSegment"])
    if "dtmm:dictionaryKey" in raw:
        out["dictionaryKey"] = short(raw["dtmm:dictionaryKey"])
    return out


def _class(node: dict[str, Any], version: int | None) -> dict[str, Any]:
    types = node.get("@type", [])
    entry: dict[str, Any] = {
        "version": node.get("dtmm:dtdlVersion", version),
        "super": short(node["rdfs:subClassOf"]) if "rdfs:subClassOf" in node else None,
        "abstract": "dtmm:Abstract" in types,
        "material": "dtmm:Material" in types,
        "partition": "dtmm:Partition" in types,
        "extensible": "dtmm:Extensible" in types,
        "props": {
            short(p["sh:path"]): _constraint(p, node.get("dtmm:dtdlVersion", version))
            for p in node.get("sh:property", [])
        },
    }
    if "sh:or" in node:
        entry["appliesTo"] = _classes_of(node)
        entry["appliesToVersioned"] = all(
            str(alt.get("sh:class", "")).startswith("dtmi:") for alt in node["sh:or"]
        )
    if "sh:and" in node:
        entry["requiresCotype"] = [short(c["sh:class"]) for c in node["sh:and"]]
    if "sh:not" in node:
        nots = node["sh:not"] if isinstance(node["sh:not"], list) else [node["sh:not"]]
        entry["excludesCotype"] = [short(c["sh:class"]) for c in nots]
    if "dtmm:identifier" in node:
        entry["idMaxLength"] = node["dtmm:identifier"].get("sh:maxLength")
    if "dtmm:siblings" in node:
        entry["siblings"] = [
            {short(k): (short(v) if isinstance(v, str) else v) for k, v in s.items()}
            for s in node["dtmm:siblings"]
        ]
    limits = []
    for desc in node.get("dtmm:descendants", []):
        limit = {
            "properties": [short(p) for p in desc.get("dtmm:properties", [])],
            "narrow": bool(desc.get("dtmm:narrow")),
        }
        for key, name in (
            ("dtmm:maxDepth", "maxDepth"),
            ("dtmm:maxCount", "maxCount"),
            ("dtmm:excludeType", "excludeType"),
            ("dtmm:datatypeProperty", "datatypeProperty"),
        ):
            if key in desc:
                value = desc[key]
                limit[name] = short(value) if isinstance(value, str) else value
        if "dtmm:importProperties" in desc:
            limit["importProperties"] = [short(p) for p in desc["dtmm:importProperties"]]
        limits.append(limit)
    if limits:
        entry["descendants"] = limits
    return entry


def _graph(path: Path, version: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    graph = _load(path)["@graph"]
    classes: dict[str, Any] = {}
    glob: dict[str, Any] = {}
    for node in graph:
        types = node.get("@type", [])
        if "dtmm:Global" in types:
            ident = node.get("dtmm:identifier", {})
            glob = {
                "idPattern": ident.get("sh:pattern"),
                "idMaxLength": ident.get("sh:maxLength"),
                "reservedPrefix": ident.get("dtmm:reservedPrefix", []),
                "allowUndefinedExtensionsByDefault": node.get(
                    "dtmm:allowUndefinedExtensionsByDefault", False
                ),
                "restrictKeywords": node.get("dtmm:restrictKeywords", False),
                "apocrypha": node.get("dtmm:apocrypha", {}),
            }
        elif "rdfs:Class" in types:
            classes[short(node["@id"])] = _class(node, version)
    return classes, glob


def _context(path: Path) -> dict[str, str]:
    terms: dict[str, str] = {}
    for term, value in _load(path).items():
        iri = value.get("@id") if isinstance(value, dict) else value
        if isinstance(iri, str) and iri.startswith("dtmi:") and not term.startswith("@"):
            terms[term] = iri
    return terms


def _unit_enums(path: Path) -> dict[str, list[str]]:
    return {
        short(e["@id"]): [v["name"] for v in e["enumValues"]]
        for e in _load(path)
        if e.get("@type") == "Enum"
    }


def build(root: Path) -> dict[str, Any]:
    languages: dict[str, Any] = {}
    for key, (meta, context, dtmi) in _SOURCES.items():
        version = 2 if key in ("v2", "iotcentral") else 3
        classes, glob = _graph(root / meta, version)
        languages[key] = {
            "context": dtmi,
            "classes": classes,
            "global": glob,
            "terms": _context(root / context),
        }
    for ext in _EXTENSIONS:
        classes, glob = _graph(
            root / f"v3/metamodel/DTDL.FeatureExtension.{ext}.v1.RDF-SHACL.json", 3
        )
        languages[ext] = {
            "context": f"dtmi:dtdl:extension:{ext};1",
            "classes": classes,
            "global": glob,
            "terms": _context(root / f"v3/context/DTDL.FeatureExtension.{ext}.v1.context.json"),
        }
    languages["quantitativeTypes"]["unitEnums"] = _unit_enums(
        root / "v3/metamodel/DTDL.FeatureExtension.quantitativeTypes.v1.Elements.json"
    )
    return languages


def render(tables: dict[str, Any]) -> str:
    body = pprint.pformat(tables, width=99, sort_dicts=True)
    return (
        '"""DTDL metamodel rules, generated by metamodel_codegen.py -- do not edit."""\n\n'
        "# ruff: noqa: E501  (generated: long IRIs and patterns stay on one line)\n\n"
        "from typing import Any\n\n"
        f"LANGUAGES: dict[str, Any] = {body}\n"
    )


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "/work/shared/data/dtdl")
    sys.stdout.write(render(build(root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
