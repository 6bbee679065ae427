"""Parsing errors in the reference parser's vocabulary (``dtmi:dtdl:parsingError:<name>``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twinkit.model.errors import ValidationFailed

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


class ModelInvalid(ValidationFailed):
    """DTDL validation failed: every error, each with its validationID and JSON pointer."""

    code = "model_invalid"

    def __init__(self, errors: list[ParsingError], *, many: bool) -> None:
        self.errors = [
            {
                "validationID": e.validation_id,
                "message": e.message,
                "path": self._pointer(e, many),
            }
            for e in errors
        ]
        first = self.errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['message']} [{first['validationID']}]{more}", first["path"])

    @staticmethod
    def _pointer(error: ParsingError, many: bool) -> str:
        if many and isinstance(error.document, int):
            return f"/{error.document}{error.path}"
        return error.path

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["error"]["errors"] = self.errors
        return body
