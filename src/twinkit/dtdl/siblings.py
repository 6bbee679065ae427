"""Rules between sibling contents: annotations (``annotates``), overrides and unique values.

A ValueAnnotation names a sibling Property or Telemetry by ``name``; an Override replaces a
supplemental property (one a semantic type adds, like ``unit``) of the annotated sibling.
Siblings include what the Interface inherits through ``extends``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from twinkit.dtdl.elements import Element
from twinkit.dtdl.metamodel_tables import LANGUAGES

if TYPE_CHECKING:
    from twinkit.dtdl.semantics import Semantics

_QT_CLASSES: dict[str, Any] = LANGUAGES["quantitativeTypes"]["classes"]


class SiblingRules:
    def __init__(self, semantics: Semantics) -> None:
        self.semantics = semantics
        self._owner: Element | None = None

    def check_inherited(self, interface: Element) -> None:
        """Annotations an Interface inherits are checked against its own contents too."""
        inherited = [c for c in self._inherited(interface) if _has_sibling_rules(c)]
        if not inherited:
            return
        for content in inherited:
            self.check(content, owner=interface)

    def _inherited(self, interface: Element) -> list[Element]:
        found: list[Element] = []
        visited: set[str] = {interface.id}
        stack = list(self.semantics.targets(interface, "extends"))
        while stack and len(visited) < 64:
            base = stack.pop()
            if base.id in visited:
                continue
            visited.add(base.id)
            found.extend(self.semantics.targets(base, "contents"))
            stack.extend(self.semantics.targets(base, "extends"))
        return found

    def check(self, element: Element, owner: Element | None = None) -> None:
        self._owner = owner
        lang = element.language
        for cotype in element.cotypes:
            entry = lang.classes.get(cotype, {})
            for rule in entry.get("siblings", []):
                key, ref = rule.get("dtmm:keyProperty"), rule.get("dtmm:keyrefProperty")
                if not key or not ref:
                    continue
                if rule.get("dtmm:path") == "overrides":
                    self._override(element, str(key), str(ref))
                elif not rule.get("dtmm:path"):
                    self._annotates(element, rule, str(key), str(ref))
            for term, rule in entry.get("props", {}).items():
                if rule.get("uniqueValue"):
                    self._unique_value(element, term)

    def pool(self, element: Element) -> Iterator[Element]:
        """The element's siblings, including contents inherited by its Interface."""
        parent = self._owner or element.parent
        if parent is None:
            return
        prop = "contents" if self._owner is not None else _prop_of(element)
        seen: set[int] = {id(element)}
        stack = [parent]
        visited: set[str] = set()
        while stack:
            current = stack.pop()
            if current.id in visited:
                continue
            visited.add(current.id)
            for sibling in self.semantics.targets(current, prop or ""):
                if id(sibling) not in seen:
                    seen.add(id(sibling))
                    yield sibling
            if current.cls == "Interface" and len(visited) < 64:
                stack.extend(self.semantics.targets(current, "extends"))

    def _annotates(self, element: Element, rule: dict[str, Any], key: str, ref: str) -> None:
        target = element.values.get(ref)
        if not isinstance(target, str):
            return
        kinds = [str(c.get("sh:class")) for c in rule.get("sh:or", [])]
        for sibling in self.pool(element):
            if sibling.values.get(key) != target:
                continue
            if "ValueAnnotation" in sibling.cotypes:
                self.semantics.error(
                    element,
                    "disallowedType",
                    f"{target!r} is itself an annotation",
                    prop=ref,
                    value=target,
                )
            elif kinds and not any(sibling.is_a(k.split(":")[-1].split(";")[0]) for k in kinds):
                self.semantics.error(
                    element,
                    "notSiblingRequiredType",
                    f"{target!r} is a {sibling.cls}",
                    prop=ref,
                    value=target,
                )

    def _override(self, element: Element, key: str, ref: str) -> None:
        target = element.values.get(ref)
        overridden = element.children.get("overrides", [])
        if element.parent is None or not overridden or not isinstance(overridden[0], str):
            return
        prop = overridden[0]
        for other in self.pool(element):
            others = other.children.get("overrides", [])
            if (
                "Override" in other.cotypes
                and other.values.get(ref) == target
                and others
                and others[0] == prop
                and (other.document, other.path) < (element.document, element.path)
            ):
                self.semantics.error(
                    element,
                    "multipleReference",
                    f"{prop!r} of {target!r} is overridden twice",
                    prop="overrides",
                    value=f"{target!r} and {prop!r}",
                )
                return
        for sibling in self.pool(element):
            if sibling.values.get(key) != target or "Override" in sibling.cotypes:
                continue
            supplemental = _supplemental(sibling)
            if prop not in supplemental:
                material = sibling.language.classes.get(sibling.cls, {})
                name = (
                    "matchingPropertyNotSupplemental"
                    if prop in _material_props(sibling, material)
                    else "noMatchingSupplementalProperty"
                )
                self.semantics.error(
                    element,
                    name,
                    f"{prop!r} of {target!r} cannot be overridden",
                    prop="overrides",
                    value=prop,
                )
                continue
            expected = supplemental[prop].get("childOf")
            schemas = element.children.get("schema", [])
            if expected and schemas and schemas[0] != expected:
                self.semantics.error(
                    element,
                    "siblingPropertyMismatch",
                    f"an override of {prop!r} needs schema {expected}",
                    prop="schema",
                    value=expected,
                )

    def _unique_value(self, element: Element, term: str) -> None:
        value = element.values.get(term)
        if value is None or element.parent is None:
            return
        for sibling in self.semantics.targets(element.parent, _prop_of(element) or ""):
            if sibling is not element and sibling.values.get(term) == value:
                if sibling.path < element.path:
                    self.semantics.error(
                        element,
                        "nonUniquePropertyValue",
                        f"{term} {value!r} is used twice",
                        prop=term,
                        value=value,
                    )
                return


def _has_sibling_rules(element: Element) -> bool:
    classes = element.language.classes
    return any("siblings" in classes.get(c, {}) for c in element.cotypes)


def _prop_of(element: Element) -> str | None:
    parent = element.parent
    if parent is None:
        return None
    for prop, children in parent.children.items():
        if any(child is element for child in children):
            return prop
    return None


def _supplemental(element: Element) -> dict[str, dict[str, Any]]:
    """Properties an element has because of its cotypes (``unit`` from a semantic type)."""
    found: dict[str, dict[str, Any]] = {}
    classes = element.language.classes
    for cotype in element.cotypes:
        entry = classes.get(cotype) or _QT_CLASSES.get(cotype)
        chain: list[dict[str, Any]] = []
        while entry is not None and len(chain) < 16:
            chain.append(entry)
            parent = entry.get("super")
            entry = (classes.get(parent) or _QT_CLASSES.get(parent)) if parent else None
        for link in reversed(chain):
            for term, rule in link["props"].items():
                if "kind" in rule or term in found:
                    found[term] = {**found.get(term, {}), **rule}
    return found


def _material_props(element: Element, entry: dict[str, Any]) -> set[str]:
    props: set[str] = set()
    classes = element.language.classes
    seen = 0
    while entry and seen < 16:
        props.update(entry.get("props", {}))
        parent = entry.get("super")
        entry = classes.get(parent, {}) if parent else {}
        seen += 1
    return props
