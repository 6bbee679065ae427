"""``@context`` handling: which DTDL version and which extensions a document speaks.

A context decides how terms (``Property``, ``schema``, ``Temperature``) map to metamodel
classes and properties; nested elements may add extension contexts, never replace the
DTDL version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from twinkit.dtdl.languages import LANGUAGES, apply_limits

DTDL_CONTEXT = re.compile(r"^dtmi:dtdl:context;(\d+)(?:\.(\d+))?$")
_CONTEXT_SPECIFIER = re.compile(
    r"^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*"
    r"(;[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,5})?)?$"
)
SUPPORTED_VERSIONS = (2, 3, 4)
DTDL_CONTEXT_FRAGMENT = re.compile(r"^dtmi:dtdl:context;(\d+)#(.*)$")
"""A DTDL context with a fragment; v4 knows ``#limits`` and ``#limitless``."""
LIMITLESS = "#limitless"
LIMIT_CONTEXT = re.compile(r"^dtmi:dtdl:limits:([A-Za-z][A-Za-z0-9_]*);[1-9][0-9]*$")
"""A limit extension (``dtmi:dtdl:limits:onvif;1``): raises some of the core limits."""
_EXTENSIONS: dict[str, str] = {
    str(lang["context"]): name
    for name, lang in LANGUAGES.items()
    if lang["context"] is not None and name not in ("v2", "v3", "v4")
}


@dataclass(frozen=True)
class Language:
    """Everything a context brings into scope, merged: terms, classes, global rules."""

    version: int
    names: tuple[str, ...]
    terms: dict[str, str]
    iris: dict[str, tuple[str, str]]
    classes: dict[str, dict[str, Any]]
    glob: dict[str, Any]
    later: frozenset[str] = frozenset()
    """Extensions named at a later version than the metamodel these rules come from."""
    limits: str | None = None
    """The limit extension in force (``onvif``), if a ``#limitless`` context chose one."""


@dataclass(frozen=True)
class Context:
    language: Language
    undefined_extension: bool = False
    specifiers: tuple[str, ...] = field(default=())

    @property
    def version(self) -> int:
        return self.language.version


def base_language(version: int) -> str:
    return {2: "v2", 3: "v3"}.get(version, "v4")


@cache
def language(
    version: int,
    extensions: tuple[str, ...],
    later: frozenset[str] = frozenset(),
    limits: str | None = None,
) -> Language:
    names = (base_language(version), *extensions)
    terms: dict[str, str] = {}
    classes: dict[str, dict[str, Any]] = {}
    for name in names:
        terms.update(LANGUAGES[name]["terms"])
        classes.update(LANGUAGES[name]["classes"])
    for name in later:
        for cls, change in LATER_VERSION_CHANGES.get(name, {}).items():
            classes[cls] = {**classes[cls], **change}
    iris: dict[str, tuple[str, str]] = {}
    for term, iri in terms.items():
        iris[iri] = (_kind_of(iri, classes), term)
    glob = dict(LANGUAGES[names[0]]["global"])
    if limits:
        classes = apply_limits(classes, limits)
    return Language(version, names, terms, iris, classes, glob, later, limits)


def _kind_of(iri: str, classes: dict[str, Any]) -> str:
    """Classify a metamodel IRI: class, property, unit, prefix or instance."""
    parts = iri.split(";")[0].split(":")
    if ":property:" in iri or (len(parts) >= 5 and parts[-2][:1].isupper() and "extension" in iri):
        return "property"
    if ":enum:" in iri:
        return "enum"
    if ":unitprefix:" in iri:
        return "prefix"
    if ":unit:" in iri:
        return "unit"
    if ":class:" in iri or ":enum:" in iri or parts[-1] in classes:
        return "class"
    return "instance"


LATER_VERSION_CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    # historization v2 also names command responses, map values and object fields, for a
    # later DTDL version: on today's versions they are the wrong version, not the wrong class
    "historization": {"Historized": {"laterVersionsOf": ["CommandResponse", "MapValue", "Field"]}},
}
_LATER_VERSIONS = frozenset({"2", "3", "4"})
"""Later versions of the extensions (used by DTDL v4 tooling) are read with the v1 rules."""


def extension_name(specifier: str) -> str | None:
    """The extension a context specifier names; later versions of a known extension
    (``dtmi:dtdl:extension:annotation;2``) are read with the rules of the version we know."""
    found = _EXTENSIONS.get(specifier)
    base, _, version = specifier.rpartition(";")
    if found is None and version in _LATER_VERSIONS and base.startswith("dtmi:dtdl:extension:"):
        found = _EXTENSIONS.get(base + ";1")
    return found


def is_context_specifier(value: str) -> bool:
    return bool(_CONTEXT_SPECIFIER.match(value))
