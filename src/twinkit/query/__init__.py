"""The twin query language: ADT-compatible SELECT/JOIN/MATCH plus GROUP BY, ORDER BY, AS OF.

    result = await run_query(platform, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp > 30")
    result.items, result.continuation

``run_query(..., visible=scope)`` answers as one caller may see the graph (a
:class:`TwinScope`, built by access control). ``compile_predicate`` turns a WHERE
expression into a function of one twin document; ``install()`` makes it the
engine's conditional-write language.
"""

from twinkit.query.parser import QuerySyntaxError, parse_predicate, parse_query
from twinkit.query.predicate import compile_predicate, install
from twinkit.query.scope import Branch, Reading, ScopeUnsupported, TwinScope, TwinView
from twinkit.query.service import Query, QueryResult, run_query

__all__ = [
    "Branch",
    "Query",
    "QueryResult",
    "QuerySyntaxError",
    "Reading",
    "ScopeUnsupported",
    "TwinScope",
    "TwinView",
    "compile_predicate",
    "install",
    "parse_predicate",
    "parse_query",
    "run_query",
]
