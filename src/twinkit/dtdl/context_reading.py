"""Reading ``@context``: which DTDL version and extensions an element speaks."""

from __future__ import annotations

import re
from typing import Any

from twinkit.dtdl.context import (
    DTDL_CONTEXT,
    DTDL_CONTEXT_FRAGMENT,
    LIMIT_CONTEXT,
    LIMITLESS,
    SUPPORTED_VERSIONS,
    Context,
    extension_name,
    is_context_specifier,
    language,
)
from twinkit.dtdl.languages import KNOWN_LIMITS
from twinkit.dtdl.walker_state import WalkerState, pointer_join

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s]+$")


_SCHEME_PREFIXES = frozenset({"dtmi", "http", "https", "urn", "file", "mailto"})
"""IRI schemes: a local term spelled like one would make compact IRIs ambiguous."""


def _stated_version(items: list[Any], outer: Context | None) -> int:
    """The DTDL version an ``@context`` states (or inherits), 0 when it states none."""
    found = [
        int(m.group(1)) for x in items if isinstance(x, str) for m in [DTDL_CONTEXT.match(x)] if m
    ]
    if found:
        return max(found)
    return outer.version if outer else 0


def _is_limit(item: str) -> bool:
    """Whether a context can supply the limits a ``#limitless`` context leaves open."""
    fragment = DTDL_CONTEXT_FRAGMENT.match(item)
    if fragment:
        return fragment.group(2) == "limits"
    return bool(DTDL_CONTEXT.match(item)) or item.startswith("dtmi:dtdl:limits:")


class ContextReader(WalkerState):
    """Checks context specifiers; an error leaves the element unparsed."""

    def _context(self, raw: Any, outer: Context | None, path: str) -> Context | None:
        items = raw if isinstance(raw, list) else [raw]
        if outer is None and not items:
            self._error("emptyContext", "@context must name the DTDL context", path)
            return None
        version = outer.version if outer else None
        extensions: list[str] = list(outer.language.names[1:]) if outer else []
        undefined = outer.undefined_extension if outer else False
        later: set[str] = set(outer.language.later) if outer else set()
        limits = outer.language.limits if outer else None
        for index, item in enumerate(items):
            where = pointer_join(path, index) if isinstance(raw, list) else path
            if isinstance(item, dict):
                self._error(
                    "disallowedLocalContext", "local term definitions are not allowed", where
                )
                v4 = _stated_version(items, outer) >= 4
                if v4 and index != len(items) - 1:
                    self._error(
                        "localContextNotLast", "local definitions must end the context", where
                    )
                self._local_terms(item, where, v4=v4)
                return None
            if not isinstance(item, str):
                self._error("invalidContext", "a context specifier must be a string", where)
                return None
            limit = self._limit_context(items, index, where)
            if limit is False:
                return None
            if isinstance(limit, str):
                if limit.startswith("#"):
                    version = int(limit[1:])
                else:
                    limits = limit or limits
                continue
            match = DTDL_CONTEXT.match(item)
            if match:
                found = int(match.group(1))
                if match.group(2) is not None and found < 4:
                    self._error(
                        "invalidContextSpecifierForVersion",
                        f"DTDL v{found} contexts have no minor version",
                        where,
                        value=item,
                    )
                    return None
                if self.max_version is not None and found > self.max_version:
                    self._error(
                        "disallowedContextVersion",
                        f"DTDL v{found} is above the allowed v{self.max_version}",
                        where,
                        value=item,
                    )
                    return None
                if found not in SUPPORTED_VERSIONS:
                    self._error(
                        "unrecognizedContextVersion", f"unknown DTDL version {found}", where
                    )
                    return None
                earlier = [str(x) for x in items[:index]]
                dtdl_before = any(DTDL_CONTEXT.match(x) for x in earlier)
                affiliates = [x for x in earlier if not DTDL_CONTEXT.match(x)]
                if any(extension_name(x) != "iotcentral" for x in affiliates) or (
                    dtdl_before and affiliates
                ):
                    self._error(
                        "dtdlContextFollowsAffiliate",
                        "the DTDL context must come before extension contexts",
                        where,
                    )
                    return None
                if outer is not None and found > outer.version == 2:
                    self._error(
                        "disallowedVersionDefinition",
                        f"a DTDL v{found} element cannot be defined inside DTDL v2",
                        where,
                        self._site[0],
                        prop=self._site[1],
                    )
                    self._error(
                        "unrecognizedContextVersion",
                        f"DTDL v2 does not know {item}",
                        where,
                        value=item,
                    )
                    return None
                if outer is not None and found > outer.version:
                    self._error(
                        "inconsistentContext",
                        "a nested element cannot raise the DTDL version",
                        where,
                    )
                    return None
                version = found
                continue
            if item.startswith("dtmi:dtdl:context"):
                if outer is not None and outer.version >= 4:
                    self._error(
                        "invalidContextSpecifierForVersion",
                        f"{item!r} is not a DTDL v{outer.version} context",
                        where,
                        value=item,
                    )
                self._error("missingContextVersion", f"{item!r} has no version", where)
                return None
            if not item.startswith("dtmi:"):
                self._error(
                    "nonDtmiContextSpecifier", f"context {item!r} is not a DTMI", where, value=item
                )
                return None
            if not is_context_specifier(item):
                self._error("invalidContextSpecifier", f"{item!r} is not valid", where, value=item)
                return None
            if "." in item.rsplit(";", 1)[-1] and (version or 2) < 3:
                self._error(
                    "invalidContextSpecifierForVersion",
                    f"DTDL v{version or 2} context specifiers have no minor version",
                    where,
                    value=item,
                )
                return None
            name = extension_name(item)
            if version is None and name != "iotcentral":
                self._error("missingDtdlContext", "the first context must be DTDL's", where)
                return None
            if version is None and name == "iotcentral":
                extensions.append(name)
            elif (
                name is not None and version is not None and (name != "iotcentral" or version == 2)
            ):
                if name not in extensions:
                    extensions.append(name)
                if not item.endswith(";1"):
                    later.add(name)
            elif ";" not in item:
                self._error(
                    "invalidContextSpecifierForVersion", f"context {item!r} has no version", where
                )
                self._error("missingContextVersion", f"context {item!r} has no version", where)
                return None
            elif item.startswith("dtmi:dtdl:extension:") and not self._allow_undefined(
                version or 2
            ):
                self._error(
                    "unresolvableContextVersion",
                    f"no known version of extension {item!r}",
                    where,
                    value=item,
                )
                return None
            elif self._allow_undefined(version or 2):
                undefined = True
            else:
                self._error("unresolvableContextSpecifier", f"context {item!r} is not known", where)
                return None
        if version is None:
            self._error("missingDtdlContext", "the DTDL context is missing", path)
            return None
        allowed = tuple(e for e in extensions if e != "iotcentral" or version == 2)
        return Context(
            language(version, allowed, frozenset(later) & set(allowed), limits), undefined
        )

    def _limit_context(self, items: list[Any], index: int, where: str) -> str | bool | None:
        """DTDL v4 limit contexts: ``dtmi:dtdl:context;4#limitless`` must be followed at once
        by the limits to use instead (``dtmi:dtdl:limits:onvif;1``, or the core limits
        ``dtmi:dtdl:context;4`` / ``#limits``).

        ``None``: not a limit context; ``False``: an error was reported; ``"#..."``: the
        DTDL context itself with a limit fragment; another string: the limits it selects
        (``""`` for the core limits)."""
        item = items[index]
        if not isinstance(item, str):
            return None
        previous = items[index - 1] if index > 0 else None
        after_limitless = isinstance(previous, str) and previous.endswith(LIMITLESS)
        fragment = DTDL_CONTEXT_FRAGMENT.match(item)
        if fragment and int(fragment.group(1)) < 4:
            return None  # limit contexts came with DTDL v4; earlier versions have no fragments
        if fragment:
            if fragment.group(2) not in ("limits", "limitless"):
                self._error(
                    "invalidContextFragment",
                    f"{item!r} has an unknown fragment",
                    where,
                    value=item,
                )
                return False
            if fragment.group(2) == "limitless":
                following = items[index + 1] if index + 1 < len(items) else None
                if not (isinstance(following, str) and _is_limit(following)):
                    self._error(
                        "missingLimitContext",
                        f"{item!r} must be followed by a limit context",
                        where,
                        value=item,
                    )
                    return False
                return f"#{fragment.group(1)}"
            if not after_limitless:
                self._error(
                    "misplacedLimitContext",
                    f"{item!r} must directly follow a #limitless context",
                    where,
                    value=item,
                )
                return False
            return ""
        if after_limitless and DTDL_CONTEXT.match(item):
            return ""
        name = LIMIT_CONTEXT.match(item)
        if name and name.group(1) in KNOWN_LIMITS:
            if not after_limitless:
                self._error(
                    "misplacedLimitContext",
                    f"{item!r} must directly follow a #limitless context",
                    where,
                    value=item,
                )
                return False
            return str(name.group(1))
        return None

    def _local_terms(self, definitions: dict[str, Any], where: str, *, v4: bool = False) -> None:
        """Say what is wrong with each local term definition, as the reference parser does."""
        reserved = set(language(3, ()).terms) | set(language(2, ()).terms)
        for term, value in definitions.items():
            if term.startswith("@"):
                self._error("localTermInvalid", f"{term} is not a term", where, prop=term)
                continue
            if v4 and term in _SCHEME_PREFIXES:
                self._error("localTermSchemePrefix", f"{term!r} is an IRI scheme", where, prop=term)
                continue
            if term in reserved:
                self._error("localTermReserved", f"{term!r} is a DTDL term", where, prop=term)
                continue
            if isinstance(value, dict):
                if "@id" not in value:
                    self._error(
                        "termDefinitionMissingIdProperty", f"{term!r} has no @id", where, prop=term
                    )
                    continue
                value = value["@id"]
                if not isinstance(value, str):
                    self._error(
                        "termDefinitionIdPropertyNotString",
                        f"{term!r} @id is not a string",
                        where,
                        prop=term,
                    )
                    continue
            if not isinstance(value, str):
                self._error(
                    "termDefinitionNotStringOrObject",
                    f"{term!r} must map to a string or an object",
                    where,
                    prop=term,
                )
            elif value.startswith("dtmi:"):
                if not is_context_specifier(value) and not value.endswith(":"):
                    self._error(
                        "localTermDefinitionInvalidDtmi",
                        f"{value!r} is not a valid DTMI",
                        where,
                        prop=term,
                        value=value,
                    )
            elif not _URI.match(value):
                self._error(
                    "localTermDefinitionInvalidUri",
                    f"{value!r} is not a valid URI",
                    where,
                    prop=term,
                    value=value,
                )
