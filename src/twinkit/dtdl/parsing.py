"""``parse``: DTDL JSON documents in, validated :class:`~twinkit.model.interface.Interface` out.

One call validates a whole batch (an ontology of thousands of Interfaces), resolving
references across its documents and, through the ``resolver`` hook, beyond them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from twinkit.dtdl.building import build_interfaces
from twinkit.dtdl.errors import ModelInvalid, ParsingError
from twinkit.dtdl.semantics import Semantics
from twinkit.dtdl.walker import Walker
from twinkit.model.interface import Interface

Resolver = Callable[[list[str]], list[Any]]
"""Given DTMIs the batch references but does not define, return documents defining them."""

MAX_RESOLVER_ROUNDS = 16


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """How strict to be.

    ``allow_undefined_extensions``: ``None`` follows the language default (DTDL v2 allows
    undefined extension types, v3 does not); ``True``/``False`` force it either way.
    """

    allow_undefined_extensions: bool | None = None
    max_dtdl_version: int | None = None

    @classmethod
    def from_flags(cls, flags: Iterable[str], max_dtdl_version: int | None = None) -> ParseOptions:
        """Read the reference parser's option names (``AllowUndefinedExtensions``...)."""
        allow: bool | None = None
        for flag in flags:
            if flag == "AllowUndefinedExtensions":
                allow = True
            elif flag == "DisallowUndefinedExtensions":
                allow = False
        return cls(allow, max_dtdl_version)


@dataclass(frozen=True, slots=True)
class ParseResult:
    interfaces: list[Interface] = field(default_factory=list)
    errors: list[ParsingError] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse(
    documents: list[Any],
    *,
    options: ParseOptions | None = None,
    resolver: Resolver | None = None,
    names: list[str] | None = None,
) -> ParseResult:
    """Validate ``documents`` (each an Interface, or an array of them) as one batch.

    ``names`` labels each document in errors (a file name); by default its index.
    Returns every error found; ``interfaces`` is filled only when there are none.
    """
    options = options or ParseOptions()
    walker = Walker(options.allow_undefined_extensions, options.max_dtdl_version)
    for index, document in enumerate(documents):
        walker.document(document, names[index] if names else index)
    semantics = _resolve(walker, resolver, len(documents))
    errors = _ordered([*walker.errors, *semantics.errors])
    unresolved = semantics.unresolved()
    for dtmi in unresolved:
        source = next(r for r in semantics.references if r.target == dtmi)
        errors.append(
            ParsingError(
                "dtmi:dtdl:resolutionError:unresolvedReference",
                f"{dtmi} is referenced but not defined",
                source.source.document,
                source.path,
                source.source.id,
                dtmi,
                source.prop,
                dtmi,
            )
        )
    if errors:
        return ParseResult([], errors, unresolved)
    roots = [r for r in walker.roots if r.document in _own(names, len(documents))]
    return ParseResult(build_interfaces(roots, semantics.by_id), [], [])


def interfaces(documents: Any, *, resolver: Resolver | None = None) -> list[Interface]:
    """The Interfaces of one DTDL document or an array of them; raises :class:`ModelInvalid`
    (a 400-class error listing every problem with its JSON pointer) when any is invalid."""
    many = isinstance(documents, list)
    result = parse(documents if many else [documents], resolver=resolver)
    if not result.ok:
        raise ModelInvalid(result.errors, many=many)
    return result.interfaces


def _resolve(walker: Walker, resolver: Resolver | None, first_extra: int) -> Semantics:
    semantics = Semantics(walker.elements, walker.references)
    semantics.index()
    asked: set[str] = set()
    extra = first_extra
    for _ in range(MAX_RESOLVER_ROUNDS):
        missing = [d for d in semantics.unresolved() if d not in asked]
        if resolver is None or not missing:
            break
        asked.update(missing)
        answer = resolver(missing)
        for document in answer if isinstance(answer, list) else []:
            walker.document(document, f"<resolved {extra}>")
            extra += 1
        semantics = Semantics(walker.elements, walker.references)
        semantics.index()
    semantics.run()
    return semantics


def _own(names: list[str] | None, count: int) -> set[int | str]:
    return set(names) if names else set(range(count))


def _ordered(errors: list[ParsingError]) -> list[ParsingError]:
    seen: set[tuple[str, str, str, str | None]] = set()
    unique: list[ParsingError] = []
    for error in errors:
        key = (error.validation_id, str(error.document), error.path, error.primary_id)
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return unique
