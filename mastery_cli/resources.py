"""Where the bundled schemas and templates are, installed or in a source checkout.

In the repository they live at the top level (``schemas/``, ``templates/``); the wheel ships them
inside the package as ``mastery_cli/_data/`` (see ``pyproject.toml``). Editable installs and
``python -m mastery_cli`` from a checkout use the top-level folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The folder ``name`` (``schemas`` or ``templates``), installed copy first."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled '{name}' folder is missing from this installation")


def schema_path(kind: str) -> Path:
    return data_dir("schemas") / f"{kind}.schema.json"


def templates_dir() -> Path:
    return data_dir("templates")
