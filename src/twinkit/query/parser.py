"""Text → syntax tree, with a lark LALR grammar (keywords are case-insensitive, as in ADT).

A syntax error becomes a :class:`QuerySyntaxError` (a 400) naming the line, the
column and the tokens that would have been accepted there.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.exceptions import UnexpectedToken, VisitError

from twinkit.model.errors import ValidationFailed
from twinkit.query import ast

GRAMMAR = r"""
query: select_clause from_clause where_clause? group_clause? order_clause? as_of?

select_clause: "SELECT"i top? select_list
top: "TOP"i "(" INT ")"
select_list: "*"                               -> select_star
           | select_item ("," select_item)*    -> select_items
select_item: expr ("AS"i NAME)?

from_clause: "FROM"i DIGITALTWINS NAME? join* match?   -> from_twins
           | "FROM"i DIGITALTWINS "AS"i NAME join* match? -> from_twins
           | "FROM"i RELATIONSHIPS NAME?                -> from_relationships
           | "FROM"i RELATIONSHIPS "AS"i NAME           -> from_relationships
join: "JOIN"i NAME "RELATED"i path NAME?
match: "MATCH"i node (edge node)*
node: "(" NAME? ")"
edge: "-" "[" rel_spec "]" "->"     -> edge_out
    | "<-" "[" rel_spec "]" "-"     -> edge_in
    | "-" "[" rel_spec "]" "-"      -> edge_any
rel_spec: NAME? rel_names? hops?
rel_names: ":" NAME ("|" NAME)*
hops: "*" INT                       -> hops_exact
    | "*" INT? RANGE INT?           -> hops_range
    | "*"                           -> hops_any

where_clause: "WHERE"i expr
group_clause: "GROUP"i "BY"i expr ("," expr)*
order_clause: "ORDER"i "BY"i order_item ("," order_item)*
order_item: expr DIRECTION?
as_of: AS_OF STRING

predicate: expr

?expr: or_expr
?or_expr: and_expr ("OR"i and_expr)*       -> or_
?and_expr: not_expr ("AND"i not_expr)*     -> and_
?not_expr: "NOT"i not_expr                 -> not_
         | comparison
?comparison: operand
           | operand COMPARE operand       -> compare
           | operand "IN"i value_list      -> in_
           | operand "NIN"i value_list     -> nin
?operand: literal
        | path
        | call
        | "(" expr ")"
call: NAME "(" [expr ("," expr)*] ")"
path: NAME ("." NAME)*
value_list: "[" [literal ("," literal)*] "]"
          | "(" [literal ("," literal)*] ")"
literal: STRING                            -> string
       | NUMBER                            -> number
       | TRUE                              -> true
       | FALSE                             -> false
       | NULL                              -> null

DIGITALTWINS: "DIGITALTWINS"i
RELATIONSHIPS: "RELATIONSHIPS"i
TRUE.2: "TRUE"i
FALSE.2: "FALSE"i
NULL.2: "NULL"i
DIRECTION.2: /(ASC|DESC)\b/i
AS_OF.3: /AS\s+OF\b/i
RANGE: ".."
COMPARE: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
NAME: /\$?[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.)*"/
NUMBER: /-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
INT: /\d+/
COMMENT: /--[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "INT": "an integer",
    "COMPARE": "a comparison (= != < <= > >=)",
    "DIRECTION": "ASC or DESC",
    "AS_OF": "AS OF",
    "DIGITALTWINS": "DIGITALTWINS",
    "RELATIONSHIPS": "RELATIONSHIPS",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "DOT": "'.'",
    "STAR": "'*'",
    "COLON": "':'",
    "MINUS": "'-'",
    "VBAR": "'|'",
    "RANGE": "'..'",
    "$END": "the end of the query",
}


class QuerySyntaxError(ValidationFailed):
    """The text is not a query; the message says where and what was expected."""

    code = "query_syntax"

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message, "/query")
        self.line = line
        self.column = column


class _Build(Transformer[Token, Any]):
    """Tree → :mod:`twinkit.query.ast` objects."""

    def query(self, items: list[Any]) -> ast.Query:
        select, source = items[0], items[1]
        parts: dict[str, Any] = {}
        for item in items[2:]:
            parts[item[0]] = item[1]
        top, selected = select
        return ast.Query(
            items=selected,
            top=top,
            where=parts.get("where"),
            group_by=parts.get("group", ()),
            order_by=parts.get("order", ()),
            as_of=parts.get("as_of"),
            **source,
        )

    def select_clause(self, items: list[Any]) -> tuple[int | None, tuple[ast.SelectItem, ...]]:
        if len(items) == 2:
            return items[0], items[1]
        return None, items[0]

    def top(self, items: list[Any]) -> int:
        return int(items[0])

    def select_star(self, _: list[Any]) -> tuple[ast.SelectItem, ...]:
        return ()

    def select_items(self, items: list[Any]) -> tuple[ast.SelectItem, ...]:
        return tuple(items)

    def select_item(self, items: list[Any]) -> ast.SelectItem:
        return ast.SelectItem(items[0], str(items[1]) if len(items) > 1 else None)

    def from_twins(self, items: list[Any]) -> dict[str, Any]:
        alias = next((str(i) for i in items[1:2] if isinstance(i, Token)), None)
        joins = tuple(i for i in items if isinstance(i, ast.Join))
        pattern = next((i for i in items if isinstance(i, ast.Pattern)), None)
        return {"collection": "twins", "alias": alias, "joins": joins, "pattern": pattern}

    def from_relationships(self, items: list[Any]) -> dict[str, Any]:
        alias = str(items[1]) if len(items) > 1 else None
        return {"collection": "relationships", "alias": alias}

    def join(self, items: list[Any]) -> ast.Join:
        path: ast.Path = items[1]
        if len(path.parts) != 2:
            raise QuerySyntaxError(
                f"JOIN ... RELATED needs <alias>.<relationship>, got {path.text!r}",
                path.line,
                path.column,
            )
        rel_alias = str(items[2]) if len(items) > 2 else None
        return ast.Join(str(items[0]), path.parts[0], path.parts[1], rel_alias)

    def match(self, items: list[Any]) -> ast.Pattern:
        nodes = tuple(i for i in items if isinstance(i, ast.Node))
        edges = tuple(i for i in items if isinstance(i, ast.Edge))
        return ast.Pattern(nodes, edges)

    def node(self, items: list[Any]) -> ast.Node:
        return ast.Node(str(items[0]) if items else None)

    def _edge(self, direction: str, spec: dict[str, Any]) -> ast.Edge:
        return ast.Edge(direction, **spec)

    def edge_out(self, items: list[Any]) -> ast.Edge:
        return self._edge("out", items[0])

    def edge_in(self, items: list[Any]) -> ast.Edge:
        return self._edge("in", items[0])

    def edge_any(self, items: list[Any]) -> ast.Edge:
        return self._edge("any", items[0])

    def rel_spec(self, items: list[Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        for item in items:
            if isinstance(item, Token):
                spec["alias"] = str(item)
            elif isinstance(item, tuple) and item and isinstance(item[0], str):
                spec["names"] = item
            elif isinstance(item, tuple):
                spec["min_hops"], spec["max_hops"] = item[1], item[2]
        return spec

    def rel_names(self, items: list[Any]) -> tuple[str, ...]:
        return tuple(str(i) for i in items)

    def hops_exact(self, items: list[Any]) -> tuple[None, int, int]:
        return (None, int(items[0]), int(items[0]))

    def hops_range(self, items: list[Any]) -> tuple[None, int, int]:
        low, high = 1, None
        before = True
        for item in items:
            if item.type == "RANGE":
                before = False
            elif before:
                low = int(item)
            else:
                high = int(item)
        if high is None:
            raise QuerySyntaxError(
                "a variable-length relationship needs an upper bound, like *1..3",
                items[-1].line or 0,
                items[-1].column or 0,
            )
        return (None, low, high)

    def hops_any(self, _: list[Any]) -> tuple[None, int, int]:
        raise QuerySyntaxError("give the number of hops, like *1..3", 0, 0)

    def where_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("where", items[0])

    def group_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("group", tuple(items))

    def order_clause(self, items: list[Any]) -> tuple[str, Any]:
        return ("order", tuple(items))

    def order_item(self, items: list[Any]) -> ast.OrderItem:
        descending = len(items) > 1 and str(items[1]).upper() == "DESC"
        return ast.OrderItem(items[0], descending)

    def as_of(self, items: list[Any]) -> tuple[str, Any]:
        return ("as_of", _unquote(str(items[1])))

    def predicate(self, items: list[Any]) -> ast.Expr:
        expr: ast.Expr = items[0]
        return expr

    def or_(self, items: list[Any]) -> ast.Expr:
        return ast.Or(tuple(items)) if len(items) > 1 else items[0]

    def and_(self, items: list[Any]) -> ast.Expr:
        return ast.And(tuple(items)) if len(items) > 1 else items[0]

    def not_(self, items: list[Any]) -> ast.Not:
        return ast.Not(items[0])

    def compare(self, items: list[Any]) -> ast.Compare:
        op = str(items[1])
        return ast.Compare("!=" if op == "<>" else op, items[0], items[2])

    def in_(self, items: list[Any]) -> ast.InList:
        return ast.InList(items[0], items[1])

    def nin(self, items: list[Any]) -> ast.InList:
        return ast.InList(items[0], items[1], negated=True)

    def value_list(self, items: list[Any]) -> tuple[Any, ...]:
        return tuple(i.value for i in items if i is not None)

    def call(self, items: list[Any]) -> ast.Call:
        name: Token = items[0]
        args = tuple(i for i in items[1:] if i is not None)
        return ast.Call(str(name).upper(), args, name.line or 0, name.column or 0)

    def path(self, items: list[Any]) -> ast.Path:
        first: Token = items[0]
        return ast.Path(tuple(str(i) for i in items), first.line or 0, first.column or 0)

    def string(self, items: list[Any]) -> ast.Literal:
        return ast.Literal(_unquote(str(items[0])))

    def number(self, items: list[Any]) -> ast.Literal:
        text = str(items[0])
        if any(c in text for c in ".eE"):
            return ast.Literal(float(text))
        return ast.Literal(int(text))

    def true(self, _: list[Any]) -> ast.Literal:
        return ast.Literal(True)

    def false(self, _: list[Any]) -> ast.Literal:
        return ast.Literal(False)

    def null(self, _: list[Any]) -> ast.Literal:
        return ast.Literal(None)


def _unquote(text: str) -> str:
    quote, body = text[0], text[1:-1]
    if quote == "'":
        body = body.replace("''", "'")
    out: list[str] = []
    escape = False
    for char in body:
        if escape:
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(char, char))
            escape = False
        elif char == "\\":
            escape = True
        else:
            out.append(char)
    return "".join(out)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, start=["query", "predicate"], parser="lalr", propagate_positions=False)


def _expected(names: set[str]) -> str:
    shown = sorted({_TERMINAL_NAMES.get(n, _keyword(n)) for n in names if not n.startswith("_")})
    if len(shown) > 8:
        shown = [*shown[:8], "..."]
    return ", ".join(shown)


def _keyword(name: str) -> str:
    return name.upper() if name.isalpha() else name


def _syntax_error(text: str, exc: UnexpectedInput) -> QuerySyntaxError:
    line, column = exc.line or 1, exc.column or 1
    if isinstance(exc, UnexpectedToken):
        found = repr(str(exc.token))
        if exc.token.type == "$END":
            found = "end of the query"
            line, column = _end_position(text)
        expected = _expected(set(exc.expected))
        message = f"syntax error at line {line}, column {column}: unexpected {found}"
    elif isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        expected = _expected(set(exc.allowed or ()))
        message = f"syntax error at line {line}, column {column}: unexpected character {char!r}"
    elif isinstance(exc, UnexpectedEOF):
        line, column = _end_position(text)
        expected = _expected(set(exc.expected))
        message = f"syntax error at line {line}, column {column}: the query ends too early"
    else:  # pragma: no cover - lark has no other subclasses today
        expected = ""
        message = f"syntax error at line {line}, column {column}"
    if expected:
        message += f"; expected {expected}"
    return QuerySyntaxError(message, line, column)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _parse(text: str, start: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise QuerySyntaxError("the query is empty", 1, 1)
    try:
        tree = _parser().parse(text, start=start)
        return _Build().transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, ValidationFailed):
            raise exc.orig_exc from None
        raise


_STRINGS = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"")
_MARK = "\x00"


@lru_cache(maxsize=512)
def _parse_template(template: str) -> tuple[ast.Query, frozenset[int]] | None:
    """The template's tree and the ids of the nodes that hold a placeholder."""
    try:
        query: ast.Query = _parse(template, "query")
    except ValidationFailed:
        return None
    marked: set[int] = set()

    def mark(node: Any) -> bool:
        if isinstance(node, str):
            return node.startswith(_MARK)
        if isinstance(node, tuple):
            found = [mark(item) for item in node]
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            found = [mark(getattr(node, f.name)) for f in dataclasses.fields(node) if f.compare]
        else:
            return False
        if any(found):
            marked.add(id(node))
        return any(found)

    mark(query)
    return query, frozenset(marked)


def _fill(node: Any, values: list[str], marked: frozenset[int]) -> Any:
    """The template's syntax tree with each string placeholder replaced by its real text."""
    if isinstance(node, str):
        if node.startswith(_MARK) and node.endswith(_MARK):
            return values[int(node[1:-1])]
        return node
    if id(node) not in marked:
        return node
    if isinstance(node, tuple):
        return tuple(_fill(item, values, marked) for item in node)
    changes = {
        f.name: _fill(getattr(node, f.name), values, marked)
        for f in dataclasses.fields(node)
        if f.compare
    }
    return dataclasses.replace(node, **changes)


def parse_query(text: str) -> ast.Query:
    """Parse a full ``SELECT … FROM …`` query.

    Queries that differ only in their string literals (``WHERE T.$dtId = '…'``) share
    one parse: the literals are swapped for placeholders, the template's tree is
    cached, and the literals are put back.
    """
    if isinstance(text, str) and _MARK not in text and "--" not in text:
        values: list[str] = []

        def mark(match: re.Match[str]) -> str:
            values.append(_unquote(match.group(0)))
            return f"'{_MARK}{len(values) - 1}{_MARK}'"

        cached = _parse_template(_STRINGS.sub(mark, text))
        if cached is not None:
            filled: ast.Query = _fill(cached[0], values, cached[1])
            return filled
    query: ast.Query = _parse(text, "query")
    return query


def parse_exactly(text: str) -> ast.Query:
    """Parse without the literal-template cache (exact positions in every node)."""
    query: ast.Query = _parse(text, "query")
    return query


def parse_predicate(text: str) -> ast.Expr:
    """Parse a WHERE expression on its own (conditional writes, rules)."""
    expr: ast.Expr = _parse(text, "predicate")
    return expr
