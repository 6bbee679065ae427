"""The query's syntax tree: what the parser produces and the planner checks. Pure data.

Paths keep the names exactly as written; which alias (twin or relationship) a
path starts from is decided by the planner, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Path:
    """``T.reported.temp``, ``$dtId``, ``R.$targetId``: the dotted names as written."""

    parts: tuple[str, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


Expr: TypeAlias = Literal | Path | Call | Compare | InList | And | Or | Not


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Join:
    """``JOIN C RELATED T.contains R``: C is the target twin, R the (optional) relationship."""

    alias: str
    source: str
    relationship: str
    relationship_alias: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    alias: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """One relationship condition of a MATCH pattern; direction is 'out', 'in' or 'any'."""

    direction: str
    names: tuple[str, ...] = ()
    alias: str | None = None
    min_hops: int = 1
    max_hops: int = 1


@dataclass(frozen=True, slots=True)
class Pattern:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True, slots=True)
class OrderItem:
    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    items: tuple[SelectItem, ...]  # empty means SELECT *
    collection: str  # "twins" or "relationships"
    alias: str | None = None
    joins: tuple[Join, ...] = ()
    pattern: Pattern | None = None
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    top: int | None = None
    as_of: str | None = None
