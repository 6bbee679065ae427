"""What of the twin graph one principal may see, as a query scope (:mod:`twinkit.query.scope`).

A principal's decisions on a twin depend on the twin's context: its id (twin-scoped
policies), its model (model-scoped policies, through ``extends``) and its tenant
(tenant-scoped policies). Only scopes with an entry that names the principal and
has rules on ``twin:`` can change what it reads, so the twins fall into a few
classes — each of those twins, each of those tenants, each group of models with
the same covering scopes, and "the rest" — and every class is one test on the
twin's id and model. Classes whose READ rules are the same become one branch;
classes that read nothing are left out (invisible).

So a tenant member answers with one branch, ``id GLOB 'acme~*'``, whose view says
which fields are missing; the SQL compiler then runs the query as it runs it for
an admin, narrowed and with revoked fields NULL. The views answer with exactly the
rules of :func:`twinkit.access.evaluator.redact_document`, which the Python path
(:mod:`twinkit.access.query_filter`) applies to whole documents.
"""

from __future__ import annotations

from typing import Any, Final

from twinkit.access.evaluator import IDENTITY_FIELDS, SECTIONS, Decisions, Evaluator, Node
from twinkit.access.evaluator import redact_document as _redact
from twinkit.access.principal import Principal
from twinkit.access.tenants import SEPARATOR
from twinkit.query.scope import (
    EMPTY,
    EVERY,
    FULL,
    MISSING,
    OPAQUE,
    AllOf,
    AnyOf,
    Branch,
    IdIn,
    IdPrefix,
    ModelIn,
    Not,
    Reading,
    Selector,
    TwinScope,
)

_R: Final = 1  # READ
MAX_CLASSES = 256  # beyond this many (twin × model) classes, queries take the Python path
METADATA_SECTIONS = ("reported", "desired", "telemetry")


def twin_scope(evaluator: Evaluator, principal: Principal) -> TwinScope | None:
    """The twins ``principal`` may see and how it reads them; None when too many classes."""
    scopes = evaluator.scopes_naming(principal, "twin")
    twins = sorted(v for k, v in scopes if k == "twin")
    tenants = sorted(
        v for k, v in scopes if k == "tenant" and v in evaluator.tenants and SEPARATOR not in v
    )
    id_classes = _id_classes(twins, tenants)
    model_classes = _model_classes(evaluator, {v for k, v in scopes if k == "model"})
    if len(id_classes) * len(model_classes) > MAX_CLASSES:
        return None
    groups: dict[Any, tuple[Decisions, list[tuple[int, int]]]] = {}
    for i, (_, twin, tenant) in enumerate(id_classes):
        for m, (_, model) in enumerate(model_classes):
            decisions = evaluator.decisions(principal, twin=twin, model=model, tenant=tenant)
            root = decisions.roots.get("twin")
            if root is None or not root.grant_below & _R:
                continue  # reads nothing of these twins: they are invisible
            found = groups.setdefault(_signature(root), (decisions, []))
            found[1].append((i, m))
    branches = []
    for decisions, members in groups.values():
        terms: list[Selector] = []
        for i, (id_selector, _, _) in enumerate(id_classes):
            models = [model_classes[m][0] for j, m in members if j == i]
            if len(models) == len(model_classes):
                terms.append(id_selector)
            elif models:
                terms.append(AllOf((id_selector, _any(models))))
        branches.append(Branch(_any(terms), DecisionsView(decisions)))
    return TwinScope(tuple(branches))


def _any(selectors: list[Selector]) -> Selector:
    return selectors[0] if len(selectors) == 1 else AnyOf(tuple(selectors))


def _id_classes(
    twins: list[str], tenants: list[str]
) -> list[tuple[Selector, str | None, str | None]]:
    """(selector, twin, tenant): each twin with its own policies, each tenant, the rest."""
    special = IdIn(frozenset(twins))
    classes: list[tuple[Selector, str | None, str | None]] = [
        (IdIn(frozenset({t})), t, None) for t in twins
    ]
    for name in tenants:
        prefix = IdPrefix(f"{name}{SEPARATOR}")
        classes.append((AllOf((prefix, Not(special))) if twins else prefix, None, name))
    others: list[Selector] = [IdPrefix(f"{n}{SEPARATOR}") for n in tenants]
    if twins:
        others.append(special)
    classes.append((Not(_any(others)) if others else EVERY, None, None))
    return classes


def _model_classes(evaluator: Evaluator, scoped: set[str]) -> list[tuple[Selector, str | None]]:
    """(selector, a model of the class): models grouped by the model scopes covering them."""
    if not scoped:
        return [(EVERY, None)]
    groups: dict[tuple[str, ...], set[str]] = {}
    registry = evaluator.registry
    for interface in registry or ():
        covering = tuple(s for s in evaluator.model_scopes(interface.id) if s in scoped)
        if covering:
            groups.setdefault(covering, set()).add(interface.id)
    for model in scoped:
        if registry is None or model not in registry:  # only twins of that very id
            groups.setdefault((model,), set()).add(model)
    classes: list[tuple[Selector, str | None]] = [
        (ModelIn(frozenset(g)), min(g)) for _, g in sorted(groups.items())
    ]
    covered = frozenset().union(*groups.values())
    classes.append((Not(ModelIn(covered)), None))
    return classes


def _reads(node: Node) -> bool:
    """Does READ get granted or revoked at this node or below?"""
    return bool((node.grant | node.revoke) & _R) or any(_reads(c) for c in node.children.values())


def _signature(node: Node) -> Any:
    """The READ rules of a trie (WRITE-only nodes do not change what is read)."""
    children = sorted((k, _signature(c)) for k, c in node.children.items() if _reads(c))
    return node.grant & _R, node.revoke & _R, tuple(children)


class DecisionsView:
    """How the twins of one branch read: :class:`twinkit.query.scope.TwinView` over a trie."""

    __slots__ = ("decisions", "root", "whole")

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions
        self.root = decisions.roots["twin"]
        # redact_document returns such documents as they are
        self.whole = self.root.decide(_R, False) and not self.root.revoke_below & _R

    def redact(self, document: dict[str, Any]) -> dict[str, Any] | None:
        return _redact(document, self.decisions)

    def relationships(self) -> tuple[bool, frozenset[str]]:
        node = self.root.children.get("relationships")
        base = self.root.decide(_R, False)
        if node is None:
            return base, frozenset()
        base = node.decide(_R, base)
        flipped = (k for k, c in node.children.items() if c.decide(_R, base) != base)
        return base, frozenset(flipped)

    def reading(self, path: tuple[str, ...]) -> Reading:
        if self.whole or path[0] in IDENTITY_FIELDS:
            return FULL
        if path[0] == "metadata":
            # redact_document keeps the stamps of the values that remain in their section
            if len(path) < 3 or path[1] not in METADATA_SECTIONS:
                return OPAQUE
            value = self.reading(path[1:3])
            if value.kind == "missing":
                return MISSING
            return (
                Reading("if_defined", (path[1:3],)) if value.kind in ("full", "pruned") else OPAQUE
            )
        allowed = self.root.decide(_R, False)
        node = self.root.children.get("desired" if path[0] == "delta" else path[0])
        if node is not None:
            allowed = node.decide(_R, allowed)
        for segment in path[1:]:
            if node is None or not node.children:
                break  # the whole value below is shown or not, as its parent
            node = node.children.get(segment)
            if node is not None:
                allowed = node.decide(_R, allowed)
        if node is None or not any(_reads(c) for c in node.children.values()):
            found = FULL if allowed else MISSING
        elif allowed:
            found = _pruned(node)
        else:
            found = OPAQUE  # a few things granted inside a revoked object: SQL cannot build it
        if found is MISSING and len(path) == 1 and path[0] in SECTIONS:
            return EMPTY  # a section stays, empty
        return found


def _pruned(node: Node) -> Reading:
    """A readable object minus its revoked parts; OPAQUE when something inside is re-granted."""
    removed: list[tuple[str, ...]] = []
    pending: list[tuple[tuple[str, ...], Node]] = [((k,), c) for k, c in node.children.items()]
    while pending:
        path, child = pending.pop()
        if child.decide(_R, True):
            pending.extend(((*path, k), c) for k, c in child.children.items())
        elif _regranted(child):
            return OPAQUE
        else:
            removed.append(path)
    return Reading("pruned", tuple(sorted(removed))) if removed else FULL


def _regranted(node: Node) -> bool:
    return any(
        (c.grant & _R and not c.revoke & _R) or _regranted(c) for c in node.children.values()
    )
