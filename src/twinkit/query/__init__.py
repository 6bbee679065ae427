"""The twin query language: ADT-compatible SELECT/JOIN/MATCH plus GROUP BY, ORDER BY, AS OF.

    result = await run_query(platform, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp > 30")
    result.items, result.continuation

``compile_predicate`` turns a WHERE expression into a function of one twin
document; ``install()`` makes it the engine's conditional-write language.
"""

from twinkit.query.parser import QuerySyntaxError, parse_predicate, parse_query
from twinkit.query.predicate import compile_predicate, install
from twinkit.query.service import Query, QueryResult, run_query

__all__ = [
    "Query",
    "QueryResult",
    "QuerySyntaxError",
    "compile_predicate",
    "install",
    "parse_predicate",
    "parse_query",
    "run_query",
]
