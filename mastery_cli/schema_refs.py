"""Local references inside one JSON Schema (``"$ref": "#/$defs/text"``)."""

from __future__ import annotations

from typing import Any


def resolve(root: dict[str, Any], reference: Any) -> Any:
    """The subschema a local ``$ref`` names in ``root``; None for any other reference."""
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    node: Any = root
    for part in reference[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
