"""Merging the layers of a model (``dtmi:acme:Pump;1#metadata`` layered over ``dtmi:acme:Pump;1``).

The reference parser reads a layered identifier as invalid DTDL but still merges the layer
into its base, and reports where the layers disagree. Doing the same gives the same errors:
a literal given differently in two layers, a second value for a single-valued property,
or layers that disagree on what the element is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twinkit.dtdl.elements import Element

ErrorSink = Callable[..., None]
_KINDS = {bool: "Boolean", int: "Integer", str: "String", dict: "LangString"}


def same_element_in_layers(first: Element, second: Element) -> bool:
    """True when ``second`` restates ``first`` from another layer (not a redefinition)."""
    return first.layer != second.layer or (
        not second.explicit_id
        and first.parent is not None
        and second.parent is not None
        and first.parent.layer != second.parent.layer
    )


def merge(
    base: Element, layer: Element, rules: dict[str, dict[str, Any]], error: ErrorSink
) -> None:
    """Fold ``layer`` into ``base``, reporting the disagreements between them."""
    if base.language.version != layer.language.version:
        error(
            base,
            "inconsistentContext",
            f"{base.id} is DTDL v{base.language.version} in one "
            f"layer and v{layer.language.version} in another",
        )
        return
    if base.cls != layer.cls:
        error(
            layer,
            "incompatibleType",
            f"{base.id} is a {base.cls} in one layer and a {layer.cls} in another",
            prop="schema",
        )
        return
    if base.parent is not None and layer.parent is not None and base.parent.id != layer.parent.id:
        error(
            base,
            "inconsistentParent",
            f"{base.id} has another parent in another layer",
            secondary=layer.parent.id,
        )
        return
    for term, value in layer.values.items():
        if term not in base.values:
            base.values[term] = value
            continue
        mine = base.values[term]
        if isinstance(mine, dict) and isinstance(value, dict):
            clash = any(code in mine and mine[code] != text for code, text in value.items())
            if not clash:
                base.values[term] = {**mine, **value}
                continue
        if mine != value:
            kind = _KINDS.get(type(value), "String")
            error(layer, f"inconsistent{kind}Values", f"{term!r} differs between layers", prop=term)
    for term, children in layer.children.items():
        mine = base.children.get(term)
        if not mine:
            base.children[term] = list(children)
            continue
        single = rules.get(term, {}).get("max") == 1
        known = {_key(c) for c in mine}
        fresh = [c for c in children if _key(c) not in known]
        if single and fresh:
            error(layer, "inconsistentObjectValues", f"{term!r} has one value per layer", prop=term)
            continue
        mine.extend(fresh)
        for key in rules.get(term, {}).get("unique", []):
            values = [c.values.get(key) for c in mine if isinstance(c, Element)]
            given = [v for v in values if isinstance(v, str | int) and not isinstance(v, bool)]
            if len(given) != len(set(given)):
                error(
                    base,
                    "nonUniquePropertyValue",
                    f"{key} repeats in {term!r} across layers",
                    prop=term,
                    value=key,
                )
    _own_supplements(layer, error)
    if base.own_present is None:
        base.own_present = set(base.present)
    base.present |= layer.present
    for cotype in layer.cotypes:
        if cotype not in base.cotypes:
            base.cotypes.append(cotype)
            base.layer_cotypes.add(cotype)


def _own_supplements(layer: Element, error: ErrorSink) -> None:
    """A layer that states a semantic type must give what that type requires itself."""
    rules = layer.language.classes
    for cotype in layer.cotypes:
        entry = rules.get(cotype)
        while entry is not None:
            for term, rule in entry["props"].items():
                if rule.get("min", 0) >= 1 and term not in layer.present:
                    literal = rule.get("kind") == "literal" or "datatype" in rule
                    name = "missingLiteralProperty" if literal else "missingObjectProperty"
                    error(layer, name, f"{cotype} requires {term!r} in every layer", prop=term)
            parent = entry.get("super")
            entry = rules.get(parent) if parent else None


def _key(child: Element | str) -> str:
    return child.id if isinstance(child, Element) else child
