"""The HTTP API: ``create_app(platform)`` gives the ASGI app ``twinkit serve`` runs."""

from twinkit.api.app import create_app
from twinkit.api.commands import CommandOutcome, CommandSender
from twinkit.api.feeds import ChangeFeed
from twinkit.api.metrics import ApiMetrics

__all__ = ["ApiMetrics", "ChangeFeed", "CommandOutcome", "CommandSender", "create_app"]
