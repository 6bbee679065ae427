"""The state contract: turn a requested change into event data, or refuse it.

Pure functions of (current state, model, request). Nothing here writes; a refused
request raises a :class:`~twinkit.model.errors.TwinkitError` naming the JSON
pointer of the offending field, so the stored twin is never touched.
"""

from __future__ import annotations

import copy
from typing import Any

import json_merge_patch
import jsonpatch

from twinkit.model.errors import (
    Conflict,
    PatchFailed,
    PreconditionFailed,
    ValidationFailed,
    pointer,
)
from twinkit.model.interface import ModelRegistry, ResolvedInterface
from twinkit.model.schema import check
from twinkit.twins.state import Section, TwinState


def check_etag(state: TwinState, if_match: str | None) -> None:
    """``If-Match``: ``*`` means 'exists'; otherwise the ETag must be the current one."""
    if if_match is None:
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in wanted and state.exists:
        return
    if state.exists and state.etag in wanted:
        return
    raise PreconditionFailed(
        f"ETag {if_match} does not match the current {state.etag if state.exists else 'none'}",
        "/If-Match",
    )


def check_section(
    values: Section, section: str, model: ResolvedInterface, registry: ModelRegistry, base: str
) -> None:
    """Validate a whole reported or desired section against the model."""
    for name, value in values.items():
        check_value(name, value, section, model, registry, f"{base}/{_esc(name)}")


def check_value(
    name: str,
    value: Any,
    section: str,
    model: ResolvedInterface,
    registry: ModelRegistry,
    path: str,
) -> None:
    if not model.id:
        return
    schema = registry.property_schema(model, name)
    if schema is None:
        known = ", ".join(sorted(model.names())) or "none"
        raise ValidationFailed(f"{model.id} has no property {name!r} (known: {known})", path)
    if section == "desired":
        prop = model.properties.get(name)
        if prop is not None and not prop.writable:
            raise ValidationFailed(f"property {name!r} is read-only: it cannot be desired", path)
    if value is not None:
        check(value, schema, path)


def section_change(
    current: Section,
    patch: Any,
    *,
    json_patch: bool,
    section: str,
    model: ResolvedInterface,
    registry: ModelRegistry,
) -> dict[str, Any]:
    """Apply a merge patch (RFC 7396) or JSON Patch (RFC 6902) to a section.

    Returns event data ``{"set": {...}, "removed": [...]}`` naming every top-level
    name the patch wrote (even when equal: that is an update), validated.
    """
    if json_patch:
        updated, touched = _apply_json_patch(current, patch)
    else:
        if not isinstance(patch, dict):
            raise ValidationFailed("a merge patch must be a JSON object", "")
        updated = json_merge_patch.merge(copy.deepcopy(current), patch)
        touched = set(patch)
    if not isinstance(updated, dict):
        raise PatchFailed(f"the patch would make {section} a non-object", "")
    removed = sorted(k for k in current if k not in updated)
    changed = {k: updated[k] for k in sorted(touched) if k in updated}
    for name, value in changed.items():
        check_value(name, value, section, model, registry, pointer(name))
    return {"set": changed, "removed": removed}


def _apply_json_patch(current: Section, patch: Any) -> tuple[Any, set[str]]:
    if not isinstance(patch, list):
        raise ValidationFailed("a JSON Patch must be an array of operations", "")
    touched: set[str] = set()
    for index, op in enumerate(patch):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise ValidationFailed("each operation needs an op and a path", f"/{index}")
        for key in ("path", "from"):
            target = op.get(key)
            if isinstance(target, str) and target.startswith("/"):
                head = target[1:].split("/", 1)[0]
                touched.add(head.replace("~1", "/").replace("~0", "~"))
    try:
        updated = jsonpatch.apply_patch(current, patch, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PreconditionFailed(f"JSON Patch test failed: {exc}", "") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise PatchFailed(f"JSON Patch does not apply: {exc}", "") from None
    except (TypeError, KeyError, IndexError, ValueError) as exc:
        raise PatchFailed(f"JSON Patch is malformed: {exc}", "") from None
    return updated, touched


def telemetry_values(
    values: Any, model: ResolvedInterface, registry: ModelRegistry, base: str = "/values"
) -> dict[str, Any]:
    """Validate one telemetry message; ``None`` values (missing readings) are dropped."""
    if not isinstance(values, dict) or not values:
        raise ValidationFailed("telemetry values must be a non-empty object", base)
    clean: dict[str, Any] = {}
    numeric = model.numeric_telemetry
    for name, value in values.items():
        if value is None:
            continue
        if name in numeric and type(value) in (float, int):
            clean[name] = value  # the hot path: a plain number for a float/double telemetry
            continue
        path = f"{base}/{_esc(name)}"
        if model.id:
            tele = model.telemetry.get(name)
            if tele is None:
                known = ", ".join(sorted(model.telemetry)) or "none"
                raise ValidationFailed(
                    f"{model.id} has no telemetry {name!r} (known: {known})", path
                )
            check(value, tele.schema, path)
        clean[name] = value
    return clean


def relationship_change(
    state: TwinState,
    rel_id: str,
    body: Any,
    model: ResolvedInterface,
    target_model: ResolvedInterface | None,
) -> dict[str, Any]:
    """Validate a relationship write; returns the relationship document."""
    if not isinstance(body, dict):
        raise ValidationFailed("a relationship must be an object", "")
    name = body.get("name")
    target = body.get("target")
    properties = body.get("properties", {}) or {}
    if not isinstance(name, str) or not name:
        raise ValidationFailed("a relationship needs a name", "/name")
    if not isinstance(target, str) or not target:
        raise ValidationFailed("a relationship needs a target twin id", "/target")
    if not isinstance(properties, dict):
        raise ValidationFailed("relationship properties must be an object", "/properties")
    if target_model is None:
        raise ValidationFailed(f"target twin {target!r} does not exist", "/target")
    if model.id:
        declared = model.relationships.get(name)
        if declared is None:
            known = ", ".join(sorted(model.relationships)) or "none"
            raise ValidationFailed(
                f"{model.id} has no relationship {name!r} (known: {known})", "/name"
            )
        if declared.target and not target_model.is_a(declared.target):
            raise ValidationFailed(
                f"relationship {name!r} must target a {declared.target}, "
                f"but {target!r} is a {target_model.id or 'twin without a model'}",
                "/target",
            )
        limit = declared.max_multiplicity
        if limit is not None:
            others = [
                r for r in state.relationships.values() if r["name"] == name and r["id"] != rel_id
            ]
            if len(others) >= limit:
                raise Conflict(f"relationship {name!r} allows at most {limit}", "/name")
        schemas = {p.name: p.schema for p in declared.properties}
        for key, value in properties.items():
            path = f"/properties/{_esc(key)}"
            if key not in schemas:
                raise ValidationFailed(f"relationship {name!r} has no property {key!r}", path)
            check(value, schemas[key], path)
    return {
        "id": rel_id,
        "source": state.id,
        "name": name,
        "target": target,
        "properties": properties,
    }


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
