"""State and error reporting shared by the parts of the walker."""

from __future__ import annotations

import re
from typing import Any

from twinkit.dtdl.context import Language, language
from twinkit.dtdl.elements import DTMI, Element, Reference
from twinkit.dtdl.errors import PREFIX, ParsingError
from twinkit.dtdl.literals import LiteralChecker
from twinkit.model.errors import pointer


class WalkerState:
    """What a walk has found so far, and how it reports an error."""

    def __init__(self, allow_undefined: bool | None, max_version: int | None = None) -> None:
        self.allow_undefined = allow_undefined
        self.max_version = max_version
        self.errors: list[ParsingError] = []
        self.elements: list[Element] = []
        self.references: list[Reference] = []
        self.roots: list[Element] = []
        self.literals = LiteralChecker(self._error)
        self._document: int | str = 0
        self._lang: Language = language(3, ())
        self._site: tuple[str | None, str | None] = (None, None)
        self._rejected: list[str] = []
        self._nesting = 0
        self._layer: str | None = None
        self._ids: set[str] = set()
        self._site_rule: dict[str, Any] = {}

    def _error(
        self,
        name: str,
        message: str,
        path: str,
        primary: str | None = None,
        *,
        secondary: str | None = None,
        prop: str | None = None,
        value: Any = None,
    ) -> None:
        self.errors.append(
            ParsingError(
                PREFIX + name, message, self._document, path, primary, secondary, prop, value
            )
        )

    @staticmethod
    def _id_pattern(lang: Language) -> re.Pattern[str]:
        return compiled(str(lang.glob.get("idPattern") or DTMI.pattern))

    def _allow_undefined(self, version: int) -> bool:
        if self.allow_undefined is not None:
            return self.allow_undefined
        return bool(language(version, ()).glob.get("allowUndefinedExtensionsByDefault"))

    # -- elements -------------------------------------------------------------------------


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}


def compiled(text: str) -> re.Pattern[str]:
    """Compile a metamodel pattern once per process."""
    found = _PATTERN_CACHE.get(text)
    if found is None:
        found = _PATTERN_CACHE[text] = re.compile(text)
    return found


def pointer_join(path: str, part: str | int) -> str:
    """Append one RFC 6901 segment (the common case needs no escaping)."""
    text = str(part)
    if "~" in text or "/" in text:
        return path + pointer(text)
    return f"{path}/{text}"
