"""Rules that span elements: references, ``extends``, depth and count limits, units, siblings.

They run once every document of a batch (and whatever the resolver fetched) has been
walked, so an Interface may extend one defined in another file.
"""

from __future__ import annotations

from typing import Any

from twinkit.dtdl.elements import GEOSPATIAL, Element, Reference, instance_class, is_subclass
from twinkit.dtdl.errors import PREFIX, ParsingError
from twinkit.dtdl.layering import merge, same_element_in_layers
from twinkit.dtdl.metamodel_tables import LANGUAGES
from twinkit.dtdl.siblings import SiblingRules
from twinkit.dtdl.type_resolution import property_rules, required_rules

_UNIT_ENUMS: dict[str, list[str]] = LANGUAGES["quantitativeTypes"]["unitEnums"]
_QT_CLASSES: dict[str, Any] = LANGUAGES["quantitativeTypes"]["classes"]
_INTEGRAL = frozenset({"integer", "long", "short", "byte"})


class Semantics:
    """Checks a walked batch; ``errors`` collects what is wrong."""

    def __init__(self, elements: list[Element], references: list[Reference]) -> None:
        self.elements = elements
        self.references = references
        self.errors: list[ParsingError] = []
        self.by_id: dict[str, Element] = {}
        self.siblings = SiblingRules(self)

    def error(
        self,
        element: Element,
        name: str,
        message: str,
        path: str | None = None,
        *,
        secondary: str | None = None,
        prop: str | None = None,
        value: Any = None,
    ) -> None:
        self.errors.append(
            ParsingError(
                PREFIX + name,
                message,
                element.document,
                element.path if path is None else path,
                element.id,
                secondary,
                prop,
                value,
            )
        )

    def index(self) -> None:
        merged: list[Element] = []
        for element in self.elements:
            other = self.by_id.get(element.id)
            if other is not None and same_element_in_layers(other, element):
                rules = property_rules(element.language, element.cls, element.cotypes)
                merge(other, element, rules, self.error)
                continue
            if other is not None and element.explicit_id:
                self.error(element, "duplicateDefinition", f"{element.id} is defined twice")
                continue
            self.by_id[element.id] = element
            merged.append(element)
        if len(merged) != len(self.elements):
            self.elements = merged  # later rules see each layered element once, merged

    def unresolved(self) -> list[str]:
        return sorted(
            {r.target for r in self.references if r.classes and r.target not in self.by_id}
        )

    def run(self) -> None:
        for ref in self.references:
            target = self.by_id.get(ref.target)
            if target is None or not ref.classes:
                continue
            home = _partition(target)
            if home is not target and home is not _partition(ref.source):
                self.error(
                    ref.source,
                    "crossPartitionReference",
                    f"{ref.target} belongs to {home.id if home else '?'}",
                    ref.path,
                    secondary=ref.target,
                    prop=ref.prop,
                    value=home.id if home else None,
                )
                continue
            version = target.language.version
            if ref.versions and version not in ref.versions and ref.source.language.version < 4:
                self.error(
                    ref.source,
                    "disallowedVersionReference",
                    f"{ref.target} is DTDL v{version}, not allowed here",
                    ref.path,
                    secondary=ref.target,
                    prop=ref.prop,
                )
                if ref.source.language.version < version:
                    self.error(
                        target,
                        "unrecognizedContextVersion",
                        f"DTDL v{ref.source.language.version} does not know v{version}",
                    )
                continue
            if not any(target.is_a(c) for c in ref.classes) and ref.source.language.version >= 4:
                self._wrong_class_v4(ref, target)
            elif not any(target.is_a(c) for c in ref.classes):
                self.error(
                    ref.source,
                    "notRequiredType" if ref.prop != "extends" else "badType",
                    f"{ref.target} is a {target.cls}, not a {' or '.join(ref.classes)}",
                    ref.path,
                    secondary=ref.target,
                    prop=ref.prop,
                )
        for element in self.elements:
            self._required(element)
            for limit in _limits(element):
                self._descendants(element, limit)
            if element.cls == "Interface":
                self._extends(element)
                self._component_cycle(element)
                self.siblings.check_inherited(element)
            if element.cls == "Enum":
                self._enum(element)
            self._semantic_types(element)
            if element.language.version >= 3:
                self._field_roles(element)
            self.siblings.check(element)

    # -- helpers --------------------------------------------------------------------------

    def targets(self, element: Element, prop: str) -> list[Element]:
        """The elements a property holds, inline or referenced (unresolved ones left out)."""
        children = element.children.get(prop)
        if not children:
            return []
        found: list[Element] = []
        for child in children:
            if isinstance(child, Element):
                found.append(child)
            else:
                target = self.by_id.get(child)
                if target is not None:
                    found.append(target)
        return found

    def _descendants(self, root: Element, limit: dict[str, Any]) -> None:
        props: list[str] = limit["properties"]
        narrow = bool(limit.get("narrow"))
        excluded = limit.get("excludeType")
        max_depth = limit.get("maxDepth")
        max_count = limit.get("maxCount")
        if "importProperties" in limit:
            return  # extends chains are checked in _extends
        if (
            max_count is not None
            and not excluded
            and max_depth is None
            and (len(self.elements) <= int(max_count))
        ):
            return  # cannot exceed the count; cycles are caught by the depth/type limits
        count = 0
        stack: list[tuple[Element, int, tuple[str, ...]]] = [(root, 1, (root.id,))]
        reported = False
        while stack:
            element, depth, trail = stack.pop()
            follow = props if narrow else list(element.children)
            for prop in follow:
                if excluded == "Array" and any(
                    isinstance(c, str) and c in GEOSPATIAL for c in element.children.get(prop, [])
                ):
                    self.error(
                        root,
                        "excludedType",
                        f"a geospatial schema holds arrays, not allowed under {root.id}",
                    )
                    return
                for child in self.targets(element, prop):
                    counted = prop in props
                    level = depth + (1 if counted else 0)
                    if excluded and child.is_a(excluded):
                        self.error(
                            root,
                            "excludedType",
                            f"a {excluded} is not allowed under {root.id}",
                            secondary=child.id,
                        )
                        return
                    if child.id in trail:
                        if limit.get("allowSelf"):
                            continue  # DTDL v4 schemas may refer to themselves
                        if not reported:
                            name = (
                                "recursiveStructureNarrow" if narrow else "recursiveStructureWide"
                            )
                            self.error(root, name, f"{root.id} contains itself", prop=prop)
                            reported = True
                        continue
                    count += 1
                    if excluded and child.is_a(excluded):
                        self.error(
                            root,
                            "excludedType",
                            f"a {excluded} is not allowed under {root.id}",
                            secondary=child.id,
                        )
                        return
                    if max_depth is not None and level > int(max_depth) and not reported:
                        name = "excessiveDepthNarrow" if narrow else "excessiveDepthWide"
                        self.error(
                            root,
                            name,
                            f"nesting under {root.id} exceeds {max_depth}",
                            secondary=child.id,
                        )
                        return
                    if max_count is not None and count > int(max_count):
                        name = "excessiveCountNarrow" if narrow else "excessiveCountWide"
                        self.error(root, name, f"more than {max_count} elements under {root.id}")
                        return
                    if len(trail) < 256:
                        stack.append((child, level, (*trail, child.id)))

    def _required(self, element: Element) -> None:
        """Required properties, checked once the layers of an element are merged."""
        rules = property_rules(element.language, element.cls, element.cotypes)
        site = element.site_rule
        for term, rule in required_rules(rules):
            cotype = rule.get("cotype")
            given = element.present
            if cotype and element.own_present is not None and cotype not in element.layer_cotypes:
                given = element.own_present  # the layer that states the type must supply it
            if term in given:
                continue
            literal = rule.get("kind") == "literal" or "datatype" in rule
            name = "missingLiteralProperty" if literal else "missingObjectProperty"
            if rule.get("cotype") and rule["cotype"] not in element.layer_cotypes:
                name = name.replace("missing", "missingSupplemental")
            if term == site.get("dtmiSegment") and not element.explicit_id:
                name = "missingDtmiSegPropertyValue"
            elif (
                term == site.get("dictionaryKey")
                and element.language.version == 2
                and term not in element.raw
                and (set(element.raw) - {"@id", "@type", "@context"})
            ):
                self.error(
                    element,
                    "missingDictKeyPropertyValue",
                    f"{element.cls} needs {term!r}",
                    prop=term,
                )
            self.error(element, name, f"{element.cls} requires property {term!r}", prop=term)

    def _component_cycle(self, interface: Element) -> None:
        """An Interface must not contain itself through components (any DTDL version).

        Only component edges are followed: a cycle through schemas is already reported by
        the schema depth rule, and walking every content of every component is costly."""
        seen: set[str] = {interface.id}
        stack = [interface]
        while stack:
            current = stack.pop()
            for content in self.targets(current, "contents"):
                if content.cls != "Component":
                    continue
                for schema in self.targets(content, "schema"):
                    if schema.id == interface.id:
                        self.error(
                            interface,
                            "recursiveStructureNarrow",
                            f"{interface.id} contains itself",
                            prop="contents",
                        )
                        return
                    if schema.id not in seen and len(seen) < 1024:
                        seen.add(schema.id)
                        stack.append(schema)

    def _extends(self, interface: Element) -> None:
        limit = next(
            (lim for lim in _limits(interface, all_limits=True) if "importProperties" in lim), None
        )
        max_depth = int(limit.get("maxDepth", 10)) if limit else 10
        max_count = int(limit.get("maxCount", 1 << 30)) if limit else 1 << 30
        names: dict[str, str] = {}
        for child in self.targets(interface, "contents"):
            name = child.name()
            if name is not None:
                names[name] = interface.id
        seen: set[str] = set()
        stack: list[tuple[Element, int, tuple[str, ...]]] = [(interface, 0, (interface.id,))]
        while stack:
            current, depth, trail = stack.pop()
            for base in self.targets(current, "extends"):
                if base.id in trail:
                    self.error(
                        interface,
                        "recursiveStructureNarrow",
                        f"{interface.id} extends itself",
                        prop="extends",
                    )
                    return
                if depth + 1 > max_depth:
                    self.error(
                        interface,
                        "excessiveDepthNarrow",
                        f"extends chain longer than {max_depth}",
                        secondary=base.id,
                        prop="extends",
                    )
                    return
                if base.id in seen:
                    continue
                seen.add(base.id)
                if len(seen) > max_count:
                    self.error(interface, "excessiveCountNarrow", "too many base interfaces")
                    return
                for content in self.targets(base, "contents"):
                    name = content.name()
                    if name is None:
                        continue
                    if name in names and names[name] != base.id:
                        self.error(
                            interface,
                            "nonUniqueImportedPropertyValue",
                            f"content {name!r} is also defined in {base.id}",
                            secondary=base.id,
                            prop="contents",
                            value=name,
                        )
                        return
                    names[name] = base.id
                stack.append((base, depth + 1, (*trail, base.id)))

    def _enum(self, enum: Element) -> None:
        schemas = enum.children.get("valueSchema", [])
        if not schemas or not isinstance(schemas[0], str):
            return
        integral = schemas[0] in _INTEGRAL
        for value in self.targets(enum, "enumValues"):
            raw = value.values.get("enumValue")
            if raw is None:
                continue
            good = (
                (isinstance(raw, int) and not isinstance(raw, bool))
                if integral
                else (isinstance(raw, str))
            )
            if not good:
                self.error(
                    value,
                    "nonConformantDatatype",
                    f"enumValue {raw!r} does not match valueSchema {schemas[0]}",
                    secondary=enum.id,
                    prop="enumValue",
                    value=raw,
                )

    def _semantic_types(self, element: Element) -> None:
        units = element.children.get("unit")
        lang = element.language
        quantitative = [c for c in element.cotypes if _is_quantitative(c, lang)]
        if len(quantitative) > 1:
            self.error(
                element,
                "conflictingSupplementalTypes",
                f"{' and '.join(quantitative)} conflict",
                prop="unit",
            )
            return
        for cotype in element.cotypes:
            self._cotype_schema(element, cotype)
            self._conformant_values(element, cotype)
            entry = lang.classes.get(cotype) or (
                _QT_CLASSES.get(cotype) if lang.version == 2 else None
            )
            if entry is None or not _is_quantitative(cotype, lang):
                continue
            child_of = _unit_enum(cotype)
            allowed = _UNIT_ENUMS.get(child_of or "", [])
            if units and isinstance(units[0], str) and allowed and units[0] not in allowed:
                if lang.version == 2:
                    self.error(
                        element,
                        "notRequiredType",
                        f"unit {units[0]!r} does not measure {cotype}",
                        prop="unit",
                        value=units[0],
                    )
                self.error(
                    element,
                    "wrongParent",
                    f"unit {units[0]!r} does not measure {cotype}",
                    prop="unit",
                    value=units[0],
                )
                if lang.version >= 4:
                    self.error(
                        element,
                        "badType",
                        f"unit {units[0]!r} is not a {child_of}",
                        prop="unit",
                        value=child_of,
                    )

    def _cotype_schema(self, element: Element, cotype: str) -> None:
        """Semantic types narrow the schema (a Temperature is numeric, an Event is not)."""
        lang = element.language
        rule = _cotype_schema_rule(lang, cotype)
        if rule is None:
            return
        classes: list[str] = rule.get("classes", [])
        allowed_in: list[str] = rule.get("in", [])
        for schema in element.children.get("schema", []):
            if isinstance(schema, str):
                if allowed_in:
                    ok = schema in allowed_in
                else:
                    cls = instance_class(schema) or ("Object" if schema in GEOSPATIAL else "")
                    target = self.by_id.get(schema)
                    if target is not None:
                        ok = any(target.is_a(c) for c in classes)
                    else:
                        ok = any(is_subclass(lang, cls, c) for c in classes)
            else:
                ok = any(schema.is_a(c) for c in classes) if classes else True
            if ok and rule.get("schemaCotypes"):
                ok = self._schema_has_cotype(schema, rule["schemaCotypes"])
            if not ok:
                self.error(
                    element,
                    "notRequiredValue" if allowed_in else "notRequiredType",
                    f"{cotype} does not allow this schema",
                    prop="schema",
                    secondary=str(schema),
                )

    def _wrong_class_v4(self, ref: Reference, target: Element) -> None:
        """DTDL v4 names the wrong class of a referenced element (``badType``) and, when the
        property needs a value, that it is left without one."""
        self.error(
            ref.source,
            "badType",
            f"{ref.target} is a {target.cls}, not a {' or '.join(ref.classes)}",
            ref.path,
            secondary=ref.target,
            prop=ref.prop,
            value=target.cls,
        )
        source = ref.source
        rule = property_rules(source.language, source.cls, source.cotypes).get(ref.prop, {})
        if rule.get("min", 0) >= 1:
            self.error(
                source,
                "propertyCountBelowMin",
                f"{ref.prop!r} has no valid value",
                ref.path,
                prop=ref.prop,
            )

    def _conformant_values(self, element: Element, cotype: str) -> None:
        """Literals that are values of the element's own schema (IoT Operations ``minimum``,
        ``scaleFactor``) must fit it: no fraction for an integer schema, and so on."""
        rules = element.language.classes.get(cotype, {}).get("props", {})
        schemas = element.children.get("schema", [])
        schema = schemas[0] if schemas else None
        cls = instance_class(schema) if isinstance(schema, str) else None
        if cls is None:
            return
        for term, rule in rules.items():
            if not rule.get("conformsToSchema") or term not in element.raw:
                continue
            value = element.raw[term]
            if isinstance(value, dict):
                value = value.get("@value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue  # not a number at all: reported as such by the literal rules
            if not _conforms(value, cls):
                self.error(
                    element,
                    "nonConformantPropertyValue",
                    f"{value!r} is not a {cls} value",
                    prop=term,
                    value=value,
                )

    def _schema_has_cotype(self, schema: Element | str, cotypes: list[str]) -> bool:
        """Whether a schema (inline or by DTMI) carries one of ``cotypes`` (an Error Object)."""
        target = self.by_id.get(schema) if isinstance(schema, str) else schema
        if target is None:
            return isinstance(schema, str) and schema not in self.by_id and ":" in schema
        return any(c in target.cotypes for c in cotypes)

    def _field_roles(self, element: Element) -> None:
        """Field roles (MQTT ``ErrorMessage``, ``ReadError``...): the enclosing Object must
        carry a matching cotype, and each role appears at most once among its fields."""
        if not element.cotypes and element.cls != "Object":
            return
        lang = element.language
        for cotype in element.cotypes:
            parents = lang.classes.get(cotype, {}).get("parentCotypes")
            if not parents:
                continue
            parent = element.parent
            if parent is None or not any(c in parent.cotypes for c in parents):
                self.error(
                    parent or element,
                    "parentMissingCotype",
                    f"{cotype} needs an enclosing Object typed {' or '.join(parents)}",
                    prop="fields",
                    secondary=element.id,
                )
        seen: dict[str, int] = {}
        roles = [
            role
            for cotype in element.cotypes
            for role in lang.classes.get(cotype, {}).get("fieldCotypes", [])
        ]
        for field_element in self.targets(element, "fields"):
            if roles and not any(c in field_element.cotypes for c in roles):
                self.error(
                    element,
                    "notRequiredType",
                    f"each field must be typed {' or '.join(roles)}",
                    prop="fields",
                    secondary=field_element.id,
                )
            for cotype in field_element.cotypes:
                if field_element.language.classes.get(cotype, {}).get("onlyOne"):
                    seen[cotype] = seen.get(cotype, 0) + 1
        for cotype, count in sorted(seen.items()):
            if count > 1:
                self.error(
                    element,
                    "siblingDuplicatesCotype",
                    f"more than one field is typed {cotype}",
                    prop="fields",
                )


_INTEGER_SCHEMAS = frozenset(
    {
        "Byte",
        "Short",
        "Integer",
        "Long",
        "UnsignedByte",
        "UnsignedShort",
        "UnsignedInteger",
        "UnsignedLong",
    }
)


def _conforms(value: Any, cls: str) -> bool:
    """Whether a JSON literal is a value of a primitive schema class."""
    if cls == "Boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if cls in _INTEGER_SCHEMAS:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if cls in ("Double", "Float", "Decimal"):
        return isinstance(value, int | float)
    return isinstance(value, str)


def _partition(element: Element | None) -> Element | None:
    while element is not None:
        if element.language.classes.get(element.cls, {}).get("partition"):
            return element
        element = element.parent
    return None


def _limits(element: Element, *, all_limits: bool = False) -> list[dict[str, Any]]:
    key = (id(element.language), element.cls, all_limits)
    cached = _LIMITS.get(key)
    if cached is None:
        cached = _LIMITS[key] = _collect_limits(element, all_limits)
    return cached


_LIMITS: dict[tuple[int, str, bool], list[dict[str, Any]]] = {}


def _collect_limits(element: Element, all_limits: bool) -> list[dict[str, Any]]:
    lang = element.language
    found: list[dict[str, Any]] = []
    current: str | None = element.cls
    seen = 0
    while current is not None and seen < 32:
        entry = lang.classes.get(current, {})
        for limit in entry.get("descendants", []):
            if all_limits or "datatypeProperty" not in limit:
                found.append(limit)
        current = entry.get("super")
        seen += 1
    return found


def _cotype_schema_rule(lang: Any, cotype: str) -> dict[str, Any] | None:
    entry = lang.classes.get(cotype) or (_QT_CLASSES.get(cotype) if lang.version == 2 else None)
    seen = 0
    while entry is not None and seen < 16:
        rule = entry["props"].get("schema")
        if rule and (rule.get("classes") or rule.get("in")):
            return dict(rule)
        parent = entry.get("super")
        entry = (lang.classes.get(parent) or _QT_CLASSES.get(parent)) if parent else None
        seen += 1
    return None


def _is_quantitative(cotype: str, lang: Any) -> bool:
    if lang.version == 2:
        return cotype in _QT_CLASSES
    return is_subclass(lang, cotype, "QuantitativeType")


def _unit_enum(cotype: str) -> str | None:
    entry = _QT_CLASSES.get(cotype)
    if entry is None:
        return None
    value = entry["props"].get("unit", {}).get("childOf")
    return value if isinstance(value, str) else None
