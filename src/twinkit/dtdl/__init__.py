"""DTDL v2/v3 parser and validator: DTDL JSON in, :mod:`twinkit.model` Interfaces out.

>>> from twinkit.dtdl import parse
>>> result = parse([{
...     "@context": "dtmi:dtdl:context;3",
...     "@id": "dtmi:acme:Pump;1",
...     "@type": "Interface",
...     "contents": [{"@type": "Property", "name": "speed", "schema": "double"}],
... }])
>>> result.ok, result.interfaces[0].contents[0].name
(True, 'speed')
"""

from twinkit.dtdl.errors import ModelInvalid, ParsingError, format_error
from twinkit.dtdl.export import ExportError, to_json
from twinkit.dtdl.loading import load_paths
from twinkit.dtdl.parsing import ParseOptions, ParseResult, Resolver, interfaces, parse

__all__ = [
    "ExportError",
    "ModelInvalid",
    "ParseOptions",
    "ParseResult",
    "ParsingError",
    "Resolver",
    "format_error",
    "interfaces",
    "load_paths",
    "parse",
    "to_json",
]
