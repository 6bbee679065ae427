"""Resolving ``@type``: one material class, valid cotypes, and the property rules they bring."""

from __future__ import annotations

from typing import Any

from twinkit.dtdl.context import Context, Language
from twinkit.dtdl.elements import DTMI, is_subclass
from twinkit.dtdl.languages import LANGUAGES
from twinkit.dtdl.walker_state import WalkerState, pointer_join

_CONSTRAINTS: dict[tuple[int, str, tuple[str, ...]], dict[str, dict[str, Any]]] = {}
"""Merged property rules per (language, class, cotypes); languages are cached for the
process lifetime, so their ids are stable keys."""


class TypeResolver(WalkerState):
    """Finds an element's class and cotypes and the property rules that follow from them."""

    def _types(
        self,
        obj: dict[str, Any],
        path: str,
        ctx: Context,
        identifier: str,
        allowed: list[str] | None,
        inferable: str | None,
        top: bool = False,
    ) -> tuple[str | None, list[str], list[str]]:
        lang = ctx.language
        raw = obj.get("@type")
        where = pointer_join(path, "@type")
        if "@type" not in obj:
            if inferable is not None:
                self._rejected = []
                return inferable, [], []
            parent_id, prop = self._site
            if top:
                self._error(
                    "typeNotRootable",
                    "a top-level element must be an Interface",
                    path,
                    value=identifier,
                )
            self._error(
                "badType",
                "element needs an @type",
                path,
                parent_id,
                secondary=identifier,
                prop=prop,
            )
            return None, [], []
        found = raw if isinstance(raw, list) else [raw]
        if not found or any(not isinstance(t, str) for t in found):
            self._error("badType", "@type must be a string or array of strings", where, identifier)
            return None, [], []
        items: list[str] = [str(t) for t in found]
        material: list[str] = []
        cotypes: list[str] = []
        undefined: list[str] = []
        ok = True
        for item in items:
            iri = lang.terms.get(item, item if item.startswith("dtmi:") else None)
            known = lang.iris.get(iri) if iri else None
            if known is not None and known[0] == "class":
                cls = iri.split(";")[0].rsplit(":", 1)[-1] if iri else item
                entry = lang.classes.get(cls)
                if entry is None:
                    if cls not in cotypes:
                        cotypes.append(cls)  # a standard semantic type (v2) or unit class
                elif entry.get("material"):
                    if cls not in material:
                        material.append(cls)
                elif cls not in cotypes:
                    cotypes.append(cls)
            elif known is not None and ctx.undefined_extension:
                undefined.append(item)
            elif known is not None:
                self._error(
                    "typeIrrelevantDtmiOrTerm",
                    f"{item!r} is not a type",
                    where,
                    identifier,
                    value=item,
                )
                if known[0] == "enum":  # an enumeration named as a type: the element is dropped
                    parent_id, prop = self._site
                    self._error(
                        "badType",
                        f"{item!r} is an enumeration, not a type",
                        where,
                        parent_id,
                        secondary=identifier,
                        prop=prop,
                        value=item,
                    )
                ok = False
            elif item.startswith("dtmi:"):
                if not DTMI.match(item):
                    self._error(
                        "typeInvalidDtmi",
                        f"{item!r} is not a valid DTMI",
                        where,
                        identifier,
                        value=item,
                    )
                    ok = False
                elif self._allow_undefined(ctx.version) or ctx.undefined_extension:
                    undefined.append(item)
                else:
                    self._error(
                        "typeIrrelevantDtmiOrTerm",
                        f"type {item!r} is not defined",
                        where,
                        identifier,
                        value=item,
                    )
                    ok = False
            elif ":" in item or ("/" in item and ctx.version < 4):
                if ctx.version == 2:
                    undefined.append(item)
                else:
                    self._error(
                        "typeNotDtmiNorTerm",
                        f"{item!r} is neither a DTMI nor a term",
                        where,
                        identifier,
                        value=item,
                    )
                    ok = False
            elif ctx.undefined_extension or ctx.version == 2:
                undefined.append(item)
            else:
                self._error(
                    "typeUndefinedTerm",
                    f"type {item!r} is not defined",
                    where,
                    identifier,
                    value=item,
                )
                ok = False
        parent_id, prop = self._site
        if not material and ctx.version == 2 and not ctx.undefined_extension:
            for item in undefined:
                if ":" not in item:
                    self._error(
                        "typeUndefinedTerm",
                        f"type {item!r} is not defined",
                        where,
                        identifier,
                        value=item,
                    )
        if len(material) != 1:
            if len(material) > 1:
                self._error(
                    "multipleMaterialTypes", f"conflicting types {material}", where, identifier
                )
            elif top:
                self._error(
                    "typeNotRootable",
                    "a top-level element must be an Interface",
                    where,
                    value=identifier,
                )
                self._error("badType", "no DTDL class among the types", where, secondary=identifier)
            elif self._layer is not None and identifier in self._ids:
                self._error(
                    "layerMissingMaterialType",
                    f"layer {self._layer!r} of {identifier} does not say what it is",
                    where,
                    identifier,
                )
            else:
                self._error(
                    "badType",
                    "no DTDL class among the types",
                    where,
                    parent_id,
                    secondary=identifier,
                    prop=prop,
                )
            return None, [], []
        cls = material[0]
        entry = lang.classes[cls]
        if top and not entry.get("partition"):
            self._error(
                "typeNotRootable", f"a {cls} cannot be a top-level element", where, value=identifier
            )
            return None, [], []
        if (
            entry.get("abstract")
            or is_subclass(lang, cls, "PrimitiveSchema")
            or (allowed is not None and not any(is_subclass(lang, cls, a) for a in allowed))
        ):
            self._error(
                "badType",
                f"a {cls} is not allowed here",
                where,
                parent_id,
                secondary=identifier,
                prop=prop,
                value=cls,
            )
            return None, [], []
        valid: list[str] = []
        self._rejected = [] if ok else ["?"]
        checked = {c: self._check_cotype(lang, cls, c, cotypes, where, identifier) for c in cotypes}
        for cotype in cotypes:
            partners = lang.classes.get(cotype, {}).get("requiresCotype", [])
            if checked[cotype] or (partners and all(checked.get(p) for p in partners)):
                # a refinement of a valid cotype (an Override of a ValueAnnotation) is reported
                # but still read, so its own rules are checked too
                valid.append(cotype)
            else:
                self._rejected.append(cotype)
        return cls, valid, undefined

    def _check_cotype(
        self, lang: Any, cls: str, cotype: str, cotypes: list[str], where: str, identifier: str
    ) -> bool:
        entry = lang.classes.get(cotype)
        applies = _applies_to(lang, cotype)
        newer = lang.version == 2 and entry is not None and entry.get("version") == 3
        fits = applies is not None and any(
            is_subclass(lang, cls, a) or (a in cotypes and a != cotype) for a in applies
        )  # an adjunct type may refine another adjunct type (MQTT Fragmented PropertyValue)
        versioned = entry is not None and entry.get("appliesToVersioned")
        if newer and fits and not versioned:
            self._error(
                "invalidCotypeVersion",
                f"{cotype} applies only to DTDL v3 elements",
                where,
                identifier,
                value=cotype,
            )
            return False
        if applies is None or newer or not fits:
            self._error(
                "invalidCotype",
                f"{cotype} cannot be applied to a {cls}",
                where,
                identifier,
                value=cotype,
            )
            if entry is not None and cls in entry.get("laterVersionsOf", []):
                self._error(
                    "invalidCotypeVersion",
                    f"{cotype} applies to a {cls} only in a later DTDL version",
                    where,
                    identifier,
                    value=cotype,
                )
            if newer and applies and any(is_subclass(lang, cls, a) for a in applies):
                self._error(
                    "invalidCotypeVersion",
                    f"{cotype} applies only to DTDL v3 elements",
                    where,
                    identifier,
                    value=cotype,
                )
            return False
        for required in (entry or {}).get("requiresCotype", []):
            if required not in cotypes:
                self._error(
                    "missingCocotype",
                    f"{cotype} also needs {required}",
                    where,
                    identifier,
                    value=required,
                )
        for excluded in (entry or {}).get("excludesCotype", []):
            if excluded in cotypes:
                self._error(
                    "disallowedCocotype",
                    f"{cotype} excludes {excluded}",
                    where,
                    identifier,
                    value=excluded,
                )
        return True

    def _constraints(self, lang: Any, cls: str, cotypes: list[str]) -> dict[str, dict[str, Any]]:
        return property_rules(lang, cls, cotypes)


def property_rules(lang: Any, cls: str, cotypes: list[str]) -> dict[str, dict[str, Any]]:
    """The property rules of a class with its cotypes, cached per process."""
    key = (id(lang), cls, tuple(cotypes))
    cached = _CONSTRAINTS.get(key)
    if cached is None:
        cached = _CONSTRAINTS[key] = _merge_constraints(lang, cls, cotypes)
    return cached


def _merge_constraints(lang: Any, cls: str, cotypes: list[str]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    chain: list[str] = []
    current: str | None = cls
    while current is not None and len(chain) < 32:
        chain.append(current)
        current = lang.classes.get(current, {}).get("super")
    for name in reversed(chain):
        for term, rule in lang.classes[name]["props"].items():
            merged[term] = {**merged.get(term, {}), **rule}
    for cotype in cotypes:
        for term, rule in cotype_props(lang, cotype).items():
            merged[term] = {**merged.get(term, {}), **rule, "cotype": cotype}
    return merged


_REQUIRED: dict[int, list[tuple[str, dict[str, Any]]]] = {}


def required_rules(constraints: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The rules with a minimum count, for a (cached, never mutated) constraints table."""
    found = _REQUIRED.get(id(constraints))
    if found is None:
        found = _REQUIRED[id(constraints)] = [
            (term, rule) for term, rule in constraints.items() if rule.get("min", 0) >= 1
        ]
    return found


ALL_RESERVED: tuple[str, ...] = tuple(
    sorted({p for lang in LANGUAGES.values() for p in lang["global"].get("reservedPrefix", [])})
)
"""Identifier prefixes that belong to DTDL or a known affiliate; users cannot define them."""


def reserved_prefixes(lang: Language) -> tuple[str, ...]:
    prefixes: list[str] = ["dtmi:dtdl:", "dtmi:standard:"]
    for name in lang.names:
        prefixes.extend(LANGUAGES[name]["global"].get("reservedPrefix", []))
    return tuple(prefixes)


def _applies_to(lang: Any, cotype: str) -> list[str] | None:
    entry = lang.classes.get(cotype)
    current: str | None = cotype
    seen = 0
    while entry is not None and seen < 16:
        if "appliesTo" in entry:
            return list(entry["appliesTo"])
        current = entry.get("super")
        entry = lang.classes.get(current) if current else None
        seen += 1
    if entry is None and current == cotype and lang.version == 2:
        return ["Property", "Telemetry"] if not cotype.endswith("Unit") else None
    return None


def cotype_props(lang: Any, cotype: str) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    chain: list[dict[str, Any]] = []
    entry = lang.classes.get(cotype)
    if entry is None and lang.version == 2:
        return {
            "unit": {"classes": ["Unit"], "kind": "node", "min": 1, "max": 1, "childOf": cotype}
        }
    while entry is not None and len(chain) < 16:
        chain.append(entry)
        parent = entry.get("super")
        entry = lang.classes.get(parent) if parent else None
    for found in reversed(chain):
        for term, rule in found["props"].items():
            if term == "schema":
                continue  # semantic types narrow the schema; checked in semantics
            merged[term] = {**merged.get(term, {}), **rule}
    return merged
