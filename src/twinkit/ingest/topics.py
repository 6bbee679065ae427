"""Topic filters with ``+`` and ``#`` wildcards, and the twinkit topic layout.

Device → platform: ``twinkit/{id}/telemetry``, ``twinkit/{id}/reported``,
``twinkit/{id}/status`` (presence) and ``twinkit/{id}/commands/{name}/{request_id}/response``.
Platform → device: ``twinkit/{id}/desired`` (retained),
``twinkit/{id}/commands/{name}/{request_id}`` and ``twinkit/{id}/errors``.
"""

from __future__ import annotations

from twinkit.model.errors import ValidationFailed

ROOT = "twinkit"


class TopicFilter:
    """A subscription filter such as ``plant/+/readings`` or ``gateways/#``."""

    __slots__ = ("levels", "text")

    def __init__(self, text: str) -> None:
        levels = text.split("/")
        for index, level in enumerate(levels):
            if "#" in level and (level != "#" or index != len(levels) - 1):
                raise ValidationFailed(f"'#' must be a whole last level in {text!r}", "/topic")
            if "+" in level and level != "+":
                raise ValidationFailed(f"'+' must be a whole level in {text!r}", "/topic")
        self.text = text
        self.levels = tuple(levels)

    def match(self, topic: str) -> list[str] | None:
        """The values of the wildcard levels when ``topic`` matches, else None."""
        parts = topic.split("/")
        return self.match_levels(parts)

    def match_levels(self, parts: list[str]) -> list[str] | None:
        captured: list[str] = []
        for index, level in enumerate(self.levels):
            if level == "#":
                captured.append("/".join(parts[index:]))
                return captured
            if index >= len(parts):
                return None
            if level == "+":
                captured.append(parts[index])
            elif level != parts[index]:
                return None
        return captured if len(parts) == len(self.levels) else None

    def __repr__(self) -> str:
        return f"TopicFilter({self.text!r})"


def telemetry_topic(twin: str) -> str:
    return f"{ROOT}/{twin}/telemetry"


def reported_topic(twin: str) -> str:
    return f"{ROOT}/{twin}/reported"


def desired_topic(twin: str) -> str:
    return f"{ROOT}/{twin}/desired"


def errors_topic(twin: str) -> str:
    return f"{ROOT}/{twin}/errors"


def status_topic(twin: str) -> str:
    return f"{ROOT}/{twin}/status"


def command_topic(twin: str, name: str, request_id: str) -> str:
    return f"{ROOT}/{twin}/commands/{name}/{request_id}"


def command_response_topic(twin: str, name: str, request_id: str) -> str:
    return f"{command_topic(twin, name, request_id)}/response"
