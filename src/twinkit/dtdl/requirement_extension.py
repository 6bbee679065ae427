"""The Requirement feature extension (``dtmi:dtdl:extension:requirement;1`` / ``;2``).

``Required`` marks an Object field (v1), or also a Property (v2), as mandatory in
instances.  Other extensions' roles that cannot be mandatory exclude it (MQTT ``Indirect``).
"""

from __future__ import annotations

from typing import Any


def requirement_language(version: int) -> dict[str, Any]:
    """The language table of Requirement extension ``version`` (1 or 2)."""
    applies_to = ["Field"] + (["Property"] if version >= 2 else [])
    required = {
        "abstract": False,
        "appliesTo": applies_to,
        "appliesToVersioned": False,
        "extensible": False,
        "material": False,
        "partition": False,
        "props": {},
        "super": "AdjunctType",
        "version": 4,
    }
    return {
        "context": f"dtmi:dtdl:extension:requirement;{version}",
        "classes": {"Required": required},
        "global": {},
        "terms": {"Required": f"dtmi:dtdl:extension:requirement:v{version}:Required"},
    }
