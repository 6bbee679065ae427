"""A :class:`~twinkit.query.scope.TwinScope` in SQL: visibility tests and field readings.

The compiler (:mod:`twinkit.query.sql`) calls these while it writes a statement:
``twin`` for every ``twins`` alias, ``relationship`` for every ``relationships``
alias (its source must be visible and let the caller read that relationship, its
target must be visible), and ``field`` for every value it reads from a document,
which becomes the value *as the caller sees it*: a revoked path is NULL (missing),
so no ``WHERE``, ``ORDER BY``, ``GROUP BY`` or aggregate can tell what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twinkit.query.scope import Reading, ScopeUnsupported, TwinScope, selector_sql


@dataclass(frozen=True, slots=True)
class Value:
    """One field's SQL: its value, its ``json_type``, its JSON text (also its group key)."""

    value: str
    types: str
    json: str


NOTHING = Value("NULL", "NULL", "NULL")


def json_path(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


class ScopeSql:
    def __init__(self, scope: TwinScope, param: Callable[[Any], str]) -> None:
        self.scope = scope
        self.param = param
        self.uses_models = scope.uses_models

    def _model(self, twin: str) -> str:
        return f"(SELECT m.model FROM twins AS m WHERE m.id = {twin})"

    def twin(self, twin: str, model: str | None = None) -> str:
        """Is the twin with id ``twin`` (and model ``model``) visible?"""
        if not self.scope.branches:
            return "0"
        model = model or (self._model(twin) if self.uses_models else "NULL")
        tests = [selector_sql(b.twins, twin, model, self.param) for b in self.scope.branches]
        return tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")"

    def relationship(self, rel: str) -> str:
        """Are the relationship ``rel``'s ends visible and may the caller read it?"""
        source = f"{rel}.source"
        model = self._model(source) if self.uses_models else "NULL"
        tests = []
        for branch in self.scope.branches:
            default, exceptions = branch.view.relationships()
            test = selector_sql(branch.twins, source, model, self.param)
            if exceptions:
                ids = ", ".join(self.param(x) for x in sorted(exceptions))
                test += f" AND {rel}.id {'NOT IN' if default else 'IN'} ({ids})"
            elif not default:
                continue
            tests.append(test)
        if not tests:
            return "0"
        return f"({' OR '.join(tests)}) AND {self.twin(f'{rel}.target')}"

    def field(
        self, twin: str, model: str, doc: str, path: tuple[str, ...], plain: Value
    ) -> tuple[Value, bool]:
        """``plain`` (the stored value at ``path`` of ``doc``) as the caller reads it, and
        whether it is the stored value for every visible twin (then indexes still apply)."""
        readings = [(b.twins, b.view.reading(path)) for b in self.scope.branches]
        if not readings:
            return NOTHING, False  # no twin is visible
        kinds = {r for _, r in readings}
        if len(kinds) == 1:
            (reading,) = kinds
            return self._read(reading, doc, plain), reading.kind == "full"
        cases = [
            (selector_sql(s, twin, model, self.param), self._read(r, doc, plain))
            for s, r in readings
        ]

        def pick(part: Callable[[Value], str]) -> str:
            return "(CASE " + " ".join(f"WHEN {w} THEN {part(v)}" for w, v in cases) + " END)"

        return Value(
            pick(lambda v: v.value), pick(lambda v: v.types), pick(lambda v: v.json)
        ), False

    def _read(self, reading: Reading, doc: str, plain: Value) -> Value:
        kind = reading.kind
        if kind == "full":
            return plain
        if kind == "missing":
            return NOTHING
        if kind == "empty":
            return Value("'{}'", "'object'", "'{}'")
        if kind == "pruned":
            gone = ", ".join(f"'{json_path(p)}'" for p in reading.paths)
            return Value(
                f"(CASE WHEN {plain.types} = 'object' THEN json_remove({plain.value}, {gone})"
                f" ELSE {plain.value} END)",
                plain.types,
                f"json_remove({plain.json}, {gone})",
            )
        if kind == "if_defined":
            shown = f"json_type({doc}, '{json_path(reading.paths[0])}') IS NOT NULL"
            return Value(
                f"(CASE WHEN {shown} THEN {plain.value} END)",
                f"(CASE WHEN {shown} THEN {plain.types} END)",
                f"(CASE WHEN {shown} THEN {plain.json} END)",
            )
        raise ScopeUnsupported(f"a field reads {kind} for this caller")
