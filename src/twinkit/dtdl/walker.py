"""Walk DTDL JSON, one element at a time, checking it against the generated metamodel rules.

The walker checks what can be seen inside one element (its context, identifier, types,
property names, value shapes and counts). Rules that need other elements (references,
``extends``, depth limits) run afterwards in :mod:`twinkit.dtdl.semantics`.
"""

from __future__ import annotations

import re
from typing import Any

from twinkit.dtdl.context import (
    Context,
)
from twinkit.dtdl.context_reading import ContextReader
from twinkit.dtdl.elements import (
    DTMI,
    DTMI_UNVERSIONED,
    Element,
    Reference,
    instance_class,
    is_subclass,
)
from twinkit.dtdl.languages import PARTNER_PROPERTIES
from twinkit.dtdl.type_resolution import (
    ALL_RESERVED,
    TypeResolver,
    cotype_props,
    reserved_prefixes,
)
from twinkit.dtdl.walker_state import compiled, pointer_join
from twinkit.model.errors import pointer

MAX_NESTING = 64
"""JSON nesting deeper than this is refused outright (guards recursion on hostile input)."""
DTDL_CONTEXT_3PLUS = re.compile(r"^dtmi:dtdl:context;([3-9]|[1-9][0-9]+)")
_KEYWORDS = frozenset({"@id", "@type", "@context"})
_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$")


class Walker(ContextReader, TypeResolver):
    """Turns the JSON of one batch into :class:`Element` objects plus errors."""

    def document(self, doc: Any, document: int | str) -> None:
        self._document = document
        if isinstance(doc, list):
            for index, item in enumerate(doc):
                self._top(item, pointer(index))
        else:
            self._top(doc, "")

    def _top(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self._error("notJsonObject", "a top-level DTDL element must be a JSON object", path)
            return
        if "@context" not in obj:
            self._error("missingContext", "a top-level element needs an @context", path)
            inner = obj.get("@graph")
            if isinstance(inner, dict) and DTDL_CONTEXT_3PLUS.match(str(inner.get("@context"))):
                self._error("topLevelGraphDisallowed", "@graph is not allowed in DTDL", path)
            return
        if "@graph" in obj:
            self._error("topLevelGraphDisallowed", "@graph is not allowed in DTDL", path)
            return
        ctx = self._context(obj["@context"], None, pointer_join(path, "@context"))
        if ctx is None:
            return
        element = self._element(obj, path, ctx, ["Interface"], None, None, None, top=True)
        if element is not None:
            self.roots.append(element)

    # -- elements -------------------------------------------------------------------------

    def _element(self, obj: dict[str, Any], path: str, *args: Any, **kwargs: Any) -> Element | None:
        """Walk one element; nesting beyond MAX_NESTING is refused, so hostile input
        cannot exhaust the stack."""
        if self._nesting >= MAX_NESTING:
            self._error("excessiveDepthNarrow", "elements are nested too deeply", path)
            return None
        self._nesting += 1
        try:
            return self._element_body(obj, path, *args, **kwargs)
        finally:
            self._nesting -= 1

    def _element_body(
        self,
        obj: dict[str, Any],
        path: str,
        ctx: Context,
        allowed: list[str] | None,
        inferable: str | None,
        parent: Element | None,
        prop: str | None,
        *,
        top: bool = False,
        segment: str | None = None,
        site_rule: dict[str, Any] | None = None,
    ) -> Element | None:
        if "@context" in obj and not top:
            inner = self._context(obj["@context"], ctx, pointer_join(path, "@context"))
            if inner is None:
                return None
            ctx = inner
        lang = ctx.language
        self._lang = lang
        identifier, explicit = self._identifier(obj, path, parent, prop, segment, top)
        if identifier is None:
            return None
        self._site = (parent.id if parent else None, prop)
        self._site_rule = site_rule or {}
        material, cotypes, undefined = self._types(
            obj, path, ctx, identifier, allowed, inferable, top
        )
        rejected = self._rejected
        if material is None:
            return None
        entry = lang.classes[material]
        max_len = entry.get("idMaxLength") or lang.glob.get("idMaxLength")
        if explicit and max_len and len(identifier) > int(max_len):
            name = "idTooLongForType" if entry.get("idMaxLength") else "idTooLong"
            self._error(name, f"identifier longer than {max_len}", path, value=identifier)
        element = Element(identifier, material, lang, self._document, path, cotypes, undefined)
        element.layer = self._layer
        if parent is not None and explicit and parent.layer != element.layer:
            self._error(
                "mismatchedLayers",
                f"{identifier} is not in the same layer as {parent.id}",
                path,
                parent.id,
                secondary=identifier,
                prop=prop,
            )
        element.raw = obj
        element.parent = parent
        element.explicit_id = explicit
        self.elements.append(element)
        self._ids.add(identifier)
        constraints = self._constraints(lang, material, cotypes)
        orphans = (
            {t for c in rejected if c != "?" for t in cotype_props(lang, c)} - set(constraints)
            if rejected
            else set()
        )
        element.rejected_cotypes = rejected
        seen: set[str] = set()
        for key, value in obj.items():
            if key in _KEYWORDS:
                continue
            where = pointer_join(path, key)
            if key.startswith("@"):
                if lang.glob.get("restrictKeywords") or key == "@graph":
                    self._error(
                        "topLevelKeywordDisallowed" if top else "keywordDisallowed",
                        f"keyword {key} is not allowed",
                        where,
                        identifier,
                        prop=prop,
                        value=key,
                    )
                continue
            if key in orphans and _partner_property(key, rejected, lang, known=True):
                continue  # a partner type that cannot apply is reported once, as the type
            if key in orphans or (lang.terms.get(key) and key in orphans):
                self._error(
                    "noTypeThatAllows",
                    f"no valid type of {identifier} allows {key!r}",
                    where,
                    identifier,
                    prop=key,
                )
                continue
            term = self._property_term(key, lang, constraints, element, where, ctx)
            if term is None:
                continue
            if term in seen:
                self._error(
                    "duplicatePropertyName",
                    f"{term!r} is given twice",
                    where,
                    identifier,
                    prop=term,
                )
                continue
            if value is not None or "datatype" not in constraints[term]:
                seen.add(term)
            self._value(element, term, constraints[term], value, where, ctx)
        element.present = seen
        element.site_rule = self._site_rule
        return element

    def _identifier(
        self,
        obj: dict[str, Any],
        path: str,
        parent: Element | None,
        prop: str | None,
        segment: str | None,
        top: bool,
    ) -> tuple[str | None, bool]:
        raw = obj.get("@id")
        self._layer = parent.layer if parent is not None else None
        if "@id" not in obj:
            if top:
                self._error("missingTopLevelId", "a top-level element needs an @id", path)
                return None, False
            return _synthetic_id(parent, prop, segment), False
        where = pointer_join(path, "@id")
        if not isinstance(raw, str) or not raw:
            self._error("idNotString", "@id must be a non-empty string", where, value=raw)
            return None, False
        base, hash_sign, fragment = raw.partition("#")
        if hash_sign and _FRAGMENT.match(fragment) and self._id_pattern(self._lang).match(base):
            # A layer of a model (the layering extension): reported, then merged with its base
            # so the problems between layers are reported too.
            if _declares_layer(obj):
                self._error("invalidId", f"{raw!r} is not a valid DTMI", where, value=raw)
            else:
                if self._lang.version >= 4:  # v4 also calls the identifier itself invalid
                    self._error("invalidId", f"{raw!r} is not a valid DTMI", where, value=raw)
                self._error("disallowedIdFragment", f"{raw!r} has a fragment", where, base)
                return None, False
            self._layer = fragment
            return base, True
        if parent is not None and parent.layer is not None:
            self._layer = None
        if not self._id_pattern(self._lang).match(raw):
            self._error("invalidId", f"{raw!r} is not a valid DTMI", where, value=raw)
            return None, False
        if any(raw.startswith(p) for p in reserved_prefixes(self._lang)):
            self._error("reservedId", f"{raw!r} uses a reserved prefix", where, value=raw)
            return None, False
        return raw, True

    def _property_term(
        self,
        key: str,
        lang: Any,
        constraints: dict[str, dict[str, Any]],
        element: Element,
        where: str,
        ctx: Context,
    ) -> str | None:
        iri = lang.terms.get(key)
        term: str | None = None
        if iri is not None:
            term = key
        elif key.startswith("dtmi:") and key in lang.iris:
            term = lang.iris[key][1]
        if term is not None and term in constraints:
            return term
        tolerated = bool(element.undefined_cotypes)
        v2 = ctx.version == 2
        if term is not None or (key.startswith("dtmi:") and DTMI.match(key)):
            if tolerated and (v2 or ctx.undefined_extension or self._allow_undefined(ctx.version)):
                return None
            name = "propertyIrrelevantDtmiOrTerm"
        elif key.startswith("dtmi:"):
            if tolerated and v2:
                return None
            name = "propertyInvalidDtmi"
        elif ":" in key or "/" in key:
            if tolerated and v2:
                return None
            name = "propertyNotDtmiNorTerm"
        else:
            if tolerated and (v2 or ctx.undefined_extension):
                return None
            if _partner_property(key, element.raw.get("@type"), lang):
                return None
            name = "propertyUndefinedTerm"
        self._error(
            name, f"property {key!r} is not allowed on a {element.cls}", where, element.id, prop=key
        )
        if not element.undefined_cotypes and not element.rejected_cotypes:
            inferred = "@type" not in element.raw
            self._error(
                "inferredTypeDoesNotAllow" if inferred else "noTypeThatAllows",
                f"no type of {element.id} allows {key!r}",
                where,
                element.id,
                prop=key,
            )
        return None

    # -- values ---------------------------------------------------------------------------

    def _value(
        self,
        element: Element,
        term: str,
        rule: dict[str, Any],
        value: Any,
        where: str,
        ctx: Context,
    ) -> None:
        if "datatype" in rule or rule.get("kind") == "literal":
            literal = self.literals.check(element, term, rule, value, where)
            if literal is not None:
                element.values[term] = literal
            return
        items = value if isinstance(value, list) else [value]
        maximum = rule.get("max")
        if maximum is not None and len(items) > maximum:
            self._error(
                "objectMultipleValues",
                f"{term!r} allows at most {maximum} values",
                where,
                element.id,
                prop=term,
            )
        if not items and rule.get("min", 0) >= 1:
            self._error(
                "objectCountBelowMin", f"{term!r} needs a value", where, element.id, prop=term
            )
        classes = rule.get("classes")
        inferable = classes[0] if rule.get("inferable") and classes else None
        if rule.get("childOf"):
            inferable = None
        found: list[Element | str] = []
        for index, item in enumerate(items):
            at = pointer_join(where, index) if isinstance(value, list) else where
            if isinstance(item, str):
                target = self._reference(element, term, rule, item, at, ctx)
                if target is not None:
                    found.append(target)  # "" marks a reported error that counts as a value
            elif isinstance(item, dict):
                if rule.get("in") and not rule.get("childOf") and "@type" in item:
                    self._error(
                        "badType",
                        f"{term!r} names a predefined value; it cannot be defined here",
                        at,
                        element.id,
                        secondary=item.get("@id") if isinstance(item.get("@id"), str) else None,
                        prop=term,
                    )
                    continue
                if rule.get("childOf") or rule.get("in"):
                    self._error(
                        "refObjectNotAllowed",
                        f"{term!r} must name a value",
                        at,
                        element.id,
                        prop=term,
                    )
                    continue
                if (
                    rule.get("kind") == "iri"
                    and not rule.get("classes")
                    and element.language.version >= 4
                ):
                    self._error(
                        "identifierNotString",
                        f"{term!r} must be an identifier string",
                        at,
                        element.id,
                        prop=term,
                    )
                    continue
                if rule.get("kind") == "iri" and "@id" not in item:
                    self._error(
                        "missingRequiredId",
                        f"an inline {term!r} needs an @id",
                        at,
                        element.id,
                        prop=term,
                    )
                    found.append("")
                    continue
                segment = _segment_of(item) if rule.get("dtmiSegment") else None
                if set(item) == {"@id"}:
                    self._error(
                        "idReference",
                        f"{term!r} names {item['@id']!r} by an object",
                        at,
                        element.id,
                        prop=term,
                        value=item["@id"],
                    )
                    continue
                child = self._element(
                    item,
                    at,
                    ctx,
                    classes,
                    inferable,
                    element,
                    term,
                    segment=segment,
                    site_rule=rule,
                )
                versions = rule.get("versions") or []
                if (
                    child is not None
                    and versions
                    and child.language.version not in versions
                    and element.language.version >= 4
                ):
                    self._error(
                        "disallowedVersionDefinition",
                        f"a DTDL v{child.language.version} element cannot appear in {term!r}",
                        at,
                        element.id,
                        prop=term,
                        value=child.language.version,
                    )
                    continue
                if (
                    child is not None
                    and versions
                    and child.language.version not in versions
                    and child.language.version < 4
                ):
                    self._error(
                        "inconsistentContext",
                        f"a DTDL v{child.language.version} element cannot appear in {term!r} here",
                        at,
                        element.id,
                        prop=term,
                    )
                    continue
                if child is not None:
                    found.append(child)
            else:
                self._error(
                    "refNotStringOrObject",
                    f"{term!r} must be a DTMI, a term or an object",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
        if items and not found and rule.get("min", 0) >= 1:
            self._error(
                "objectCountBelowMin", f"{term!r} has no valid value", where, element.id, prop=term
            )
        found = [f for f in found if not (type(f) is str and not f)]
        element.children[term] = found
        if "unique" in rule and len(found) > 1:
            self._unique(element, term, rule, found, where)

    def _reference(
        self,
        element: Element,
        term: str,
        rule: dict[str, Any],
        item: str,
        at: str,
        ctx: Context,
    ) -> str | None:
        lang = ctx.language
        known = _GOOD_TERMS.get((id(lang), id(rule), item))
        if known is not None:
            return known  # a term already accepted for this rule ("double" as a schema)
        classes = rule.get("classes") or []
        allowed_in = rule.get("in")
        iri = lang.terms.get(item)
        if iri is None and item in lang.iris:
            iri = item
        if iri is not None:
            kind, name = lang.iris[iri]
            if kind == "class" and not rule.get("childOf"):
                self._error(
                    "badType",
                    f"{item!r} is a class, not a value",
                    at,
                    element.id,
                    secondary=iri,
                    prop=term,
                )
                return ""
            if allowed_in is not None and name not in allowed_in:
                cls = instance_class(name)
                if cls and classes and not any(is_subclass(lang, cls, c) for c in classes):
                    self._error(
                        "badType",
                        f"{item!r} is not a {' or '.join(classes)}",
                        at,
                        element.id,
                        prop=term,
                        value=cls,
                    )
                    if rule.get("min", 0) >= 1:
                        self._error(
                            "propertyCountBelowMin",
                            f"{term!r} needs a valid value",
                            at,
                            element.id,
                            prop=term,
                        )
                    return ""
                self._error(
                    "incorrectPropertyValue",
                    f"{item!r} is not allowed for {term!r}",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
                # DTDL v4 reports the wrong value only, not also the missing one
                return "" if lang.version >= 4 else None
            not_unit = "notRequiredType" if lang.version == 2 else "badType"
            if rule.get("childOf") and kind not in ("unit", "instance"):
                self._error(
                    not_unit,
                    f"{item!r} is not a unit",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
            if rule.get("childOf") and kind == "instance" and instance_class(name):
                self._error(
                    not_unit,
                    f"{item!r} is not a unit",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
            if rule.get("childOf") or not classes:
                return name
            cls = "Enum" if kind == "enum" else instance_class(name)
            if cls is None or (classes and not any(is_subclass(lang, cls, c) for c in classes)):
                self._error(
                    "notRequiredType" if cls else "badDtmiOrTerm",
                    f"{item!r} is not a valid {term}",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
                return None
            _GOOD_TERMS[(id(lang), id(rule), item)] = name
            return name
        if rule.get("childOf"):
            self._error(
                "notRequiredValue",
                f"{item!r} is not a valid {term}",
                at,
                element.id,
                prop=term,
                value=item,
            )
            return None
        pattern = rule.get("pattern")
        good = compiled(pattern).match(item) if pattern else self._id_pattern(lang).match(item)
        if item.startswith("dtmi:") and good and item.startswith(ALL_RESERVED):
            self._error(
                "undefinedReservedId",
                f"{item!r} uses a reserved prefix but is not defined",
                at,
                element.id,
                secondary=item,
                prop=term,
            )
            return ""
        if item.startswith("dtmi:") and good:
            if allowed_in is not None:
                self._error(
                    "incorrectPropertyValue",
                    f"{item!r} is not allowed for {term!r}",
                    at,
                    element.id,
                    prop=term,
                    value=item,
                )
                return None
            self.references.append(
                Reference(item, classes, element, term, at, rule.get("versions") or [])
            )
            return item
        if not item.startswith("dtmi:") or not DTMI_UNVERSIONED.match(item):
            name = "identifierNotDtmi" if term == "target" else "badDtmiOrTerm"
        else:
            name = "badDtmiOrTerm"
        self._error(
            name, f"{item!r} is neither a DTMI nor a term", at, element.id, prop=term, value=item
        )
        return None

    def _unique(
        self,
        element: Element,
        term: str,
        rule: dict[str, Any],
        found: list[Element | str],
        where: str,
    ) -> None:
        for key in rule.get("unique", []):
            seen: set[Any] = set()
            ids: set[str] = set()
            for child in found:
                if not isinstance(child, Element):
                    continue
                if child.explicit_id and child.id in ids:
                    continue
                ids.add(child.id)
                value = child.values.get(key)
                if value is None or isinstance(value, dict | list):
                    continue
                marker = (type(value).__name__, value)
                if marker in seen:
                    self._error(
                        "nonUniquePropertyValue",
                        f"{key} {value!r} is not unique in {term!r}",
                        where,
                        element.id,
                        prop=term,
                        value=value,
                    )
                seen.add(marker)


def _segment_of(item: dict[str, Any]) -> str | None:
    name = item.get("name")
    return name if isinstance(name, str) and _NAME.match(name) else None


_GOOD_TERMS: dict[tuple[int, int, str], str] = {}
"""Terms accepted for a rule (rule tables live for the process: their ids are stable keys)."""
_FRAGMENT = re.compile(r"^[A-Za-z0-9_]+$")


def _declares_layer(obj: dict[str, Any]) -> bool:
    types = obj.get("@type")
    return "Layer" in (types if isinstance(types, list) else [types])


def _synthetic_id(parent: Element | None, prop: str | None, segment: str | None) -> str:
    base, _, version = (parent.id if parent else "dtmi:anonymous;1").partition(";")
    tail = f":_{prop}" + (f":__{segment}" if segment else "")
    return f"{base}{tail};{version or '1'}"


def _partner_property(key: str, types: Any, lang: Any, *, known: bool = False) -> bool:
    """Whether ``key`` belongs to a partner-extension type named in ``@type`` that cannot
    apply (undefined without its context, or ``known`` but invalid here): the type is
    reported, its own properties are not."""
    named = types if isinstance(types, list) else [types]
    return any(
        isinstance(t, str)
        and (known or t not in lang.terms)
        and key in PARTNER_PROPERTIES.get(t, ())
        for t in named
    )
