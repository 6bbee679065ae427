"""Platform → device: desired state sync, commands with acks, the offline queue, presence."""

from twinkit.dispatch.commands import CommandOutcome, Commands, DeviceUnreachable
from twinkit.dispatch.desired import DesiredPublisher
from twinkit.dispatch.outbox import MemoryOutbox, QueuedCommand, SQLiteOutbox, outbox_for
from twinkit.dispatch.presence import Presence

__all__ = [
    "CommandOutcome",
    "Commands",
    "DesiredPublisher",
    "DeviceUnreachable",
    "MemoryOutbox",
    "Presence",
    "QueuedCommand",
    "SQLiteOutbox",
    "outbox_for",
]
