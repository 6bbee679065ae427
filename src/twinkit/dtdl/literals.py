"""Checks for literal property values: strings, localized strings, integers, booleans, durations.

JSON-LD lets a literal be written bare (``"name": "x"``) or as a value object
(``{"@value": "x"}``); both are accepted, anything else is an error naming the property.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from twinkit.dtdl.elements import Element

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_DURATION = re.compile(
    r"^P(?!$)(?:(?:(?:(?:\d+Y)|(?:\d+\.\d+Y$))?(?:(?:\d+M)|(?:\d+\.\d+M$))?)|"
    r"(?:(?:(?:\d+W)|(?:\d+\.\d+W$))?))(?:(?:\d+D)|(?:\d+\.\d+D$))?"
    r"(?:T(?!$)(?:(?:\d+H)|(?:\d+\.\d+H$))?(?:(?:\d+M)|(?:\d+\.\d+M$))?(?:\d+(?:\.\d+)?S)?)?$"
)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_VALUE_KEYS = frozenset({"@value", "@language", "@type"})
ErrorSink = Callable[..., None]
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(text: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(text)
    if compiled is None:
        compiled = _PATTERNS[text] = re.compile(text)
    return compiled


class LiteralChecker:
    """Validates literal values against one metamodel constraint and normalises them."""

    def __init__(self, error: ErrorSink) -> None:
        self._error = error

    def check(
        self, element: Element, term: str, rule: dict[str, Any], value: Any, where: str
    ) -> Any:
        datatype = rule.get("datatype")
        plain = type(value) is str and datatype == "string" and "pattern" not in rule
        if plain and len(value) <= rule.get("maxLength", 1 << 30):
            return value  # the common case (comments, symbols) in one step
        if rule.get("max") == 0:
            self._error(
                "propertyIrrelevantDtmiOrTerm",
                f"{term!r} may not be given",
                where,
                element.id,
                prop=term,
            )
            self._error(
                "noTypeThatAllows", f"no type allows {term!r}", where, element.id, prop=term
            )
            return None
        if value is None:
            self._error(
                "propertyValueNull", f"{term!r} must not be null", where, element.id, prop=term
            )
            kind = {
                "string": "string",
                "integer": "integer",
                "boolean": "boolean",
                "double": "numeric",
            }.get(datatype or "", "string" if datatype in ("duration", "langString") else "")
            if kind:
                self._error(
                    f"{kind}Not{kind.capitalize()}",
                    f"{term!r} must not be null",
                    where,
                    element.id,
                    prop=term,
                )
            return None
        if datatype == "langString":
            return self._lang_string(element, term, rule, value, where)
        kind = {
            "string": "string",
            "integer": "integer",
            "boolean": "boolean",
            "double": "numeric",
        }.get(datatype or "", "string" if datatype == "duration" else "literal")
        items = value if isinstance(value, list) else [value]
        if len(items) > int(rule.get("max", 1 << 30)):
            self._error(
                f"{kind}MultipleValues", f"{term!r} takes one value", where, element.id, prop=term
            )
            return None
        if not items and int(rule.get("min", 0)) >= 1:
            self._error(
                f"{kind}CountBelowMin" if kind != "literal" else "propertyCountBelowMin",
                f"{term!r} needs a value",
                where,
                element.id,
                prop=term,
            )
            return None
        found: list[Any] = []
        for item in items:
            plain = self._unwrap(element, term, kind, item, where)
            if plain is _INVALID:
                return None
            if not self._scalar(element, term, rule, datatype, kind, plain, where):
                return None
            found.append(plain)
        return (
            found[0]
            if len(found) == 1 and not isinstance(value, list)
            else (found[0] if len(found) == 1 else found)
        )

    def _unwrap(self, element: Element, term: str, kind: str, item: Any, where: str) -> Any:
        if not isinstance(item, dict):
            return item
        if "@value" not in item:
            self._error(
                f"{kind}ObjectNoValue" if kind != "literal" else "literalNotValid",
                f"{term!r} object has no @value",
                where,
                element.id,
                prop=term,
            )
            for key in item:
                if not key.startswith("@"):
                    self._error(
                        "valueObjectInvalidProp",
                        f"{key!r} not allowed in a value object",
                        where,
                        element.id,
                        prop=term,
                        value=key,
                    )
            return _INVALID
        for key in item:
            if key == "@id":
                self._error(
                    "valueObjectId", "a value object cannot have @id", where, element.id, prop=term
                )
                return _INVALID
            if key == "@context":
                self._error(
                    "valueObjectContext",
                    "a value object cannot have @context",
                    where,
                    element.id,
                    prop=term,
                )
                return _INVALID
            if key == "@graph":
                self._error(
                    "valueObjectGraph",
                    "a value object cannot have @graph",
                    where,
                    element.id,
                    prop=term,
                )
                return _INVALID
            if key == "@language" and element.language.version >= 3:
                self._error(
                    "valueObjectLanguage",
                    "only text values have a language",
                    where,
                    element.id,
                    prop=term,
                )
                return _INVALID
            if key == "@type" and not self._value_type(element, term, kind, item[key], where):
                return _INVALID
            if (
                key.startswith("@")
                and key not in _VALUE_KEYS
                and (element.language.glob.get("restrictKeywords"))
            ):
                self._error(
                    "valueObjectKeyword", f"keyword {key} not allowed", where, element.id, prop=term
                )
                return _INVALID
            if not key.startswith("@"):
                self._error(
                    "valueObjectInvalidProp",
                    f"{key!r} not allowed in a value object",
                    where,
                    element.id,
                    prop=term,
                )
                return _INVALID
        value = item["@value"]
        if kind == "literal" and isinstance(item.get("@type"), str | list):
            raw = item["@type"]
            xsd = str(raw[0] if isinstance(raw, list) else raw).replace(_XSD, "xsd:")
            expected = {"xsd:boolean": bool, "xsd:string": str, "xsd:integer": int}.get(xsd)
            if expected is not None and (
                not isinstance(value, expected) or (expected is int and isinstance(value, bool))
            ):
                label = xsd.split(":")[1]
                self._error(
                    f"{label}ValueNot{label.capitalize()}",
                    f"{term!r} is not a {label}",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                self._error(
                    "literalNotValid",
                    f"{term!r} does not match its @type",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return _INVALID
        return value

    def _value_type(self, element: Element, term: str, kind: str, raw: Any, where: str) -> bool:
        """A value object's ``@type`` must name the property's XSD datatype, once."""
        items = raw if isinstance(raw, list) else [raw]
        ok = len(items) == 1 and isinstance(items[0], str)
        if len(items) > 1 and element.language.version >= 4:
            kind = "literal"  # DTDL v4 names the plurality itself, whatever the datatype
        if ok and kind == "literal":
            return self._typed_literal(element, term, items[0].replace(_XSD, "xsd:"), where)
        if ok:
            name = items[0].replace(_XSD, "xsd:")
            ok = name == f"xsd:{kind}" or (kind == "integer" and name == "xsd:int")
        if not ok:
            self._error(
                f"{kind}TypeNot{kind.capitalize()}"
                if kind != "literal"
                else "literalTypeNotSingular",
                f"{term!r} value object has a wrong @type",
                where,
                element.id,
                prop=term,
            )
        return ok

    def _typed_literal(self, element: Element, term: str, xsd: str, where: str) -> bool:
        """A literal of open type (``enumValue``) written as a typed value object."""
        expected = {
            "xsd:boolean": "boolean",
            "xsd:string": "string",
            "xsd:integer": "integer",
            "xsd:int": "integer",
        }.get(xsd)
        if expected is None:
            self._error(
                "literalNotValid",
                f"{term!r} has an unknown datatype {xsd}",
                where,
                element.id,
                prop=term,
            )
            return False
        return True

    def _scalar(
        self,
        element: Element,
        term: str,
        rule: dict[str, Any],
        datatype: str | None,
        kind: str,
        value: Any,
        where: str,
    ) -> bool:
        if kind == "string":
            if not isinstance(value, str):
                self._error(
                    "stringNotString",
                    f"{term!r} must be a string",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            if "maxLength" in rule and len(value) > int(rule["maxLength"]):
                self._error(
                    "stringTooLong",
                    f"{term!r} is longer than {rule['maxLength']}",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            if "pattern" in rule and not _pattern(rule["pattern"]).search(value):
                self._error(
                    "stringInvalid",
                    f"{value!r} is not a valid {term}",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            if datatype == "duration" and not _DURATION.match(value):
                self._error(
                    "durationInvalid",
                    f"{value!r} is not an ISO 8601 duration",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            return True
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                self._error(
                    "integerNotInteger",
                    f"{term!r} must be an integer",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            low, high = rule.get("minInclusive"), rule.get("maxInclusive")
            bounded = low is not None and high is not None
            if bounded and low == high and value != low:
                self._error(
                    "valueNotExact",
                    f"{term!r} must be {low}",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            if low is not None and value < int(low):
                for name in ("valueBelowMin", "valueBelowRange"):
                    self._error(
                        name,
                        f"{term!r} must be >= {low}",
                        where,
                        element.id,
                        prop=term,
                        value=value,
                    )
                return False
            if high is not None and value > int(high):
                self._error(
                    "valueAboveRange" if bounded else "valueAboveMax",
                    f"{term!r} must be <= {high}",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            return True
        if kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                self._error(
                    "numericNotNumeric",
                    f"{term!r} must be a number",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            return True
        if kind == "boolean":
            if not isinstance(value, bool):
                self._error(
                    "booleanNotBoolean",
                    f"{term!r} must be true or false",
                    where,
                    element.id,
                    prop=term,
                    value=value,
                )
                return False
            return True
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self._error(
                "literalNotValid",
                f"{term!r} must be a string or a number",
                where,
                element.id,
                prop=term,
                value=value,
            )
            return False
        return True

    def _lang_string(
        self, element: Element, term: str, rule: dict[str, Any], value: Any, where: str
    ) -> dict[str, str] | None:
        limit = int(rule.get("maxLength", 1 << 30))
        texts: dict[str, str] = {}
        entries: list[tuple[Any, Any]] = []
        in_array = isinstance(value, list)
        if isinstance(value, str):
            entries.append(("en", value))
        elif isinstance(value, dict):
            entries.extend(value.items())
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    entries.append(("en", item))
                elif isinstance(item, dict) and "@value" in item:
                    extra = set(item) - {"@value", "@language"}
                    if element.language.version == 2 and item.get("@type") == "rdf:langString":
                        extra.discard("@type")
                    for key, name in (
                        ("@id", "langStringElementId"),
                        ("@context", "langStringElementContext"),
                        ("@graph", "langStringElementGraph"),
                    ):
                        if key in extra:
                            self._error(
                                name, f"{key} is not allowed in text", where, element.id, prop=term
                            )
                            return None
                    if "@type" in extra and not (
                        element.language.version == 2 and item["@type"] == "rdf:langString"
                    ):
                        self._error(
                            "langStringElementType",
                            "text cannot have a @type",
                            where,
                            element.id,
                            prop=term,
                        )
                        return None
                    if extra and element.language.glob.get("restrictKeywords"):
                        self._error(
                            "langStringElementInvalidProp",
                            f"{sorted(extra)} not allowed",
                            where,
                            element.id,
                            prop=term,
                        )
                        return None
                    entries.append((item.get("@language", "en"), item["@value"]))
                elif isinstance(item, dict):
                    if any(not str(key).startswith("@") for key in item):
                        self._error(
                            "langStringElementInvalidProp",
                            f"{term!r} element is a language map",
                            where,
                            element.id,
                            prop=term,
                        )
                    self._error(
                        "langStringElementNoValue",
                        f"{term!r} element has no @value",
                        where,
                        element.id,
                        prop=term,
                    )
                    return None
                else:
                    self._error(
                        "langStringElementNotStringOrObject",
                        f"{term!r} elements must be strings or objects",
                        where,
                        element.id,
                        prop=term,
                    )
                    return None
        else:
            self._error(
                "langStringNotLangString",
                f"{term!r} must be text or a language map",
                where,
                element.id,
                prop=term,
                value=value,
            )
            self._error(
                "langStringElementNotStringOrObject",
                f"{term!r} must be text",
                where,
                element.id,
                prop=term,
                value=value,
            )
            return None
        prefix = "langStringElement" if in_array else "langString"
        for code, text in entries:
            if not isinstance(code, str):
                self._error(
                    "langStringElementCodeNotString",
                    "language must be a string",
                    where,
                    element.id,
                    prop=term,
                    value=code,
                )
                self._error(
                    "langStringElementInvalidCode",
                    f"{code!r} is not a language code",
                    where,
                    element.id,
                    prop=term,
                    value=code,
                )
                return None
            if code.startswith("@"):
                self._error(
                    "langMapObjKeyword",
                    f"keyword {code} in a language map",
                    where,
                    element.id,
                    prop=term,
                    value=code,
                )
                return None
            if not _LANGUAGE_CODE.match(code):
                self._error(
                    f"{prefix}InvalidCode",
                    f"{code!r} is not a language code",
                    where,
                    element.id,
                    prop=term,
                    value=code,
                )
                return None
            if not isinstance(text, str):
                self._error(
                    f"{prefix}ValueNotString",
                    f"{term!r} text must be a string",
                    where,
                    element.id,
                    prop=term,
                    value=text,
                )
                return None
            if code in texts and rule.get("uniqueLang"):
                self._error(
                    f"{prefix}CodeNotUnique",
                    f"language {code!r} twice",
                    where,
                    element.id,
                    prop=term,
                    value=code,
                )
                return None
            if len(text) > limit:
                self._error(
                    "langStringValueTooLong",
                    f"{term!r} is longer than {limit}",
                    where,
                    element.id,
                    prop=term,
                    value=text,
                )
                return None
            texts[code] = text
        return texts


_INVALID = object()
