"""The WHERE grammar as a predicate on one twin document (conditional writes, rules).

``temp > 5`` and ``reported.temp > 5`` both read the reported value; ``$dtId``,
``$metadata.$model``, ``desired.x``, ``delta.x`` and ``telemetry.x`` work as in
queries. A predicate is true only when the condition is *true* (an undefined
comparison, e.g. on a missing property, is not).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from twinkit.model.errors import ValidationFailed
from twinkit.model.interface import ModelRegistry
from twinkit.query.evaluate import truth
from twinkit.query.parser import parse_predicate
from twinkit.query.plan import plan_predicate

Predicate = Callable[[dict[str, Any]], bool]

_registry: ModelRegistry | None = None


@lru_cache(maxsize=1024)
def compile_predicate(text: str) -> Predicate:
    """Compile ``text`` once; the result is a pure function of the twin document."""
    try:
        condition = plan_predicate(parse_predicate(text), _registry)
    except ValidationFailed as exc:
        exc.path = "/condition"
        raise

    def predicate(doc: dict[str, Any]) -> bool:
        return truth(condition, (doc,)) is True

    return predicate


def install(registry: ModelRegistry | None = None) -> None:
    """Make this grammar the engine's condition language (call at platform start).

    With a registry, ``IS_OF_MODEL`` honours ``extends``; without one it compares
    the model id exactly.
    """
    global _registry
    from twinkit.twins.conditions import use_compiler

    _registry = registry
    compile_predicate.cache_clear()
    use_compiler(compile_predicate)
