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


def predicate_for(text: str, registry: ModelRegistry | None) -> Predicate:
    """``text`` as a function of one twin document; ``IS_OF_MODEL`` resolves in ``registry``.

    Without a registry ``IS_OF_MODEL`` compares the model id exactly.
    """
    key = (id(registry), len(registry)) if registry is not None else (0, 0)
    return _compiled(text, key, registry)


@lru_cache(maxsize=1024)
def _compiled(text: str, key: tuple[int, int], registry: ModelRegistry | None) -> Predicate:
    # ``key`` changes when models are added or removed, so a cached predicate never
    # holds an outdated set of descendant models
    try:
        condition = plan_predicate(parse_predicate(text), registry)
    except ValidationFailed as exc:
        exc.path = "/condition"
        raise

    def predicate(doc: dict[str, Any]) -> bool:
        return truth(condition, (doc,)) is True

    return predicate


def compile_predicate(text: str) -> Predicate:
    """``text`` against the registry given to :func:`install` (the engine's compiler hook)."""
    return predicate_for(text, _registry)


def install(registry: ModelRegistry | None = None) -> None:
    """Set the registry :func:`compile_predicate` resolves ``IS_OF_MODEL`` in (process-wide;
    the platform calls it at start). Conditional writes do not need it: each platform's
    engine compiles its conditions with :func:`predicate_for` and its own registry."""
    global _registry
    _registry = registry
