"""twinkit: a Python-native digital twin platform.

The curated public API; everything else is private to the package.
"""

from twinkit.bus import Bus, Feed, FeedOverflow, Filter
from twinkit.model.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    PatchFailed,
    PreconditionFailed,
    TwinkitError,
    ValidationFailed,
)
from twinkit.model.events import Context, Event, EventKind
from twinkit.model.interface import Interface, ModelRegistry
from twinkit.platform import Platform
from twinkit.twins.state import TwinState

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "Bus",
    "Conflict",
    "Context",
    "Event",
    "EventKind",
    "Feed",
    "FeedOverflow",
    "Filter",
    "Interface",
    "ModelRegistry",
    "NotFound",
    "PatchFailed",
    "Platform",
    "PreconditionFailed",
    "TwinState",
    "TwinkitError",
    "ValidationFailed",
    "__version__",
]
