"""Golden files of JSON for the tests: one table row, diagnostic or count per line, so that a
diff shows what changed. ``UPDATE_GOLDEN=1`` rewrites them (review the diff)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def as_json(value: Any, indent: str = "") -> str:
    """JSON with lists of plain values on one line and everything else one item per line."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {as_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + as_json(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def assert_golden_json(folder: Path, name: str, value: Any) -> None:
    """``value`` is what ``folder/name.json`` holds."""
    path = folder / f"{name}.json"
    text = as_json(value) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")
