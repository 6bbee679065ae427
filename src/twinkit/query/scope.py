"""The twin graph as one caller may see it: the hook access control hands to ``run_query``.

A :class:`TwinScope` partitions the twins a caller may see into *branches*: each
has a :data:`Selector` (which twins: id prefixes, ids, models) and a
:class:`TwinView` (how each document path reads for those twins). Twins no branch
selects are invisible. The query package needs nothing else from access control:

* the evaluator runs on :meth:`TwinScope.restrict` of the graph — invisible twins
  and unreadable relationships gone, documents passed through ``view.redact``
  *before* ``WHERE`` sees them (the reference semantics);
* the SQL compiler ANDs the selectors into every twin and relationship it reads
  and rewrites each field through its :class:`Reading`, so a revoked field is
  missing for ``WHERE``/``ORDER BY``/``GROUP BY``/aggregates exactly as it is in
  the redacted graph. A reading SQL cannot express is :data:`OPAQUE`: then
  :class:`ScopeUnsupported` is raised and the caller evaluates in Python.

Selectors are small trees so both executors can run them: ``matches`` in Python,
``selector_sql`` in SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from twinkit.query.graph import Graph


class ScopeUnsupported(Exception):
    """The SQL compiler cannot honour this scope for this query (evaluate in Python)."""


# -- which twins --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdIn:
    ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class IdPrefix:
    prefix: str


@dataclass(frozen=True, slots=True)
class ModelIn:
    """Twins whose model is one of ``models`` (a twin without a model never is)."""

    models: frozenset[str]


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Selector, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Selector, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Selector


Selector: TypeAlias = IdIn | IdPrefix | ModelIn | AllOf | AnyOf | Not
EVERY: Selector = AllOf(())


def matches(selector: Selector, twin: str, model: str | None) -> bool:
    if isinstance(selector, IdIn):
        return twin in selector.ids
    if isinstance(selector, IdPrefix):
        return twin.startswith(selector.prefix)
    if isinstance(selector, ModelIn):
        return model is not None and model in selector.models
    if isinstance(selector, AllOf):
        return all(matches(s, twin, model) for s in selector.items)
    if isinstance(selector, AnyOf):
        return any(matches(s, twin, model) for s in selector.items)
    return not matches(selector.item, twin, model)


def uses_models(selector: Selector) -> bool:
    if isinstance(selector, ModelIn):
        return True
    if isinstance(selector, AllOf | AnyOf):
        return any(uses_models(s) for s in selector.items)
    if isinstance(selector, Not):
        return uses_models(selector.item)
    return False


def selector_sql(selector: Selector, twin: str, model: str, param: Callable[[Any], str]) -> str:
    """``selector`` as an SQL test that is always 0 or 1 (never NULL, so NOT is safe)."""
    if isinstance(selector, IdIn):
        if not selector.ids:
            return "0"
        return f"({twin} IN ({', '.join(param(i) for i in sorted(selector.ids))}))"
    if isinstance(selector, IdPrefix):
        return f"({twin} GLOB {param(glob_prefix(selector.prefix))})"
    if isinstance(selector, ModelIn):
        if not selector.models:
            return "0"
        models = ", ".join(param(m) for m in sorted(selector.models))
        return f"({model} IS NOT NULL AND {model} IN ({models}))"
    if isinstance(selector, AllOf | AnyOf):
        if not selector.items:
            return "1" if isinstance(selector, AllOf) else "0"
        joiner = " AND " if isinstance(selector, AllOf) else " OR "
        return "(" + joiner.join(selector_sql(s, twin, model, param) for s in selector.items) + ")"
    return f"(NOT {selector_sql(selector.item, twin, model, param)})"


def glob_prefix(prefix: str) -> str:
    """A GLOB pattern for "starts with ``prefix``" (SQLite uses the primary key for it)."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in prefix) + "*"


# -- how paths read -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """How one document path reads for the twins of a branch.

    ``full``: as stored; ``missing``: absent; ``empty``: an empty object (a section
    the caller may not read at all stays, empty); ``pruned``: an object without the
    sub-paths in ``paths`` (when it is an object); ``if_defined``: as stored when the
    document path ``paths[0]`` exists (metadata of a value that is shown);
    ``opaque``: something SQL cannot say (e.g. only a few grants under a revoke).
    """

    kind: str
    paths: tuple[tuple[str, ...], ...] = ()


FULL = Reading("full")
MISSING = Reading("missing")
EMPTY = Reading("empty")
OPAQUE = Reading("opaque")


class TwinView(Protocol):
    """What a caller may read of one group of twins (access control implements it)."""

    def reading(self, path: tuple[str, ...]) -> Reading:
        """How ``path`` of the document (``("reported", "temp")``, ``("delta", "sp")``) reads."""
        ...

    def redact(self, document: dict[str, Any]) -> dict[str, Any] | None:
        """The document as the caller may read it."""
        ...

    def relationships(self) -> tuple[bool, frozenset[str]]:
        """(default, exceptions): it may read relationship ``x`` when
        ``default != (x in exceptions)``."""
        ...


@dataclass(frozen=True, slots=True)
class Branch:
    twins: Selector
    view: TwinView


@dataclass(frozen=True, slots=True)
class TwinScope:
    """The twins a caller may see (branches are disjoint; a twin in none is invisible)."""

    branches: tuple[Branch, ...]

    @property
    def uses_models(self) -> bool:
        return any(uses_models(b.twins) for b in self.branches)

    def view_of(self, twin: str, model: str | None) -> TwinView | None:
        for branch in self.branches:
            if matches(branch.twins, twin, model):
                return branch.view
        return None

    def redact(self, document: dict[str, Any]) -> dict[str, Any] | None:
        view = self.view_of(document["id"], document.get("model"))
        return None if view is None else view.redact(document)

    def restrict(self, docs: Iterable[dict[str, Any]], rels: Iterable[dict[str, Any]]) -> Graph:
        """The graph of ``docs`` and ``rels`` as the caller sees it."""
        twins: dict[str, dict[str, Any]] = {}
        views: dict[str, TwinView] = {}
        for doc in docs:
            view = self.view_of(doc["id"], doc.get("model"))
            kept = view.redact(doc) if view is not None else None
            if view is not None and kept is not None:
                twins[doc["id"]] = kept
                views[doc["id"]] = view
        kept_rels = []
        for rel in rels:
            view = views.get(rel["source"])
            if view is None or rel["target"] not in twins:
                continue
            default, exceptions = view.relationships()
            if default != (rel["id"] in exceptions):
                kept_rels.append(rel)
        return Graph.from_parts(twins, kept_rels)
