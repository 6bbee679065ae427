"""Parsing errors in the reference parser's vocabulary (``dtmi:dtdl:parsingError:<name>``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "dtmi:dtdl:parsingError:"


@dataclass(frozen=True, slots=True)
class ParsingError:
    """One reason a DTDL document was rejected.

    ``validation_id`` is stable (it is what tools match on); ``document`` is the index of
    the document in the parsed batch or its file name; ``path`` is a JSON pointer into it.
    """

    validation_id: str
    message: str
    document: int | str = 0
    path: str = ""
    primary_id: str | None = None
    secondary_id: str | None = None
    property: str | None = None
    value: Any = None

    def short_name(self) -> str:
        """The short name: ``missingLiteralProperty`` for ``dtmi:dtdl:parsingError:...``."""
        return self.validation_id.rsplit(":", 1)[-1]


def format_error(error: ParsingError) -> str:
    """The one-line form the CLI prints: ``<validationID> <file>#<json-pointer>: <message>``."""
    return f"{error.validation_id} {error.document}#{error.path}: {error.message}"
