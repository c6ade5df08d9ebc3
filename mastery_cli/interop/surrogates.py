"""Lone UTF-16 surrogates in JSON text: found, located and replaced before anything is written.

JSON may spell a character as ``\\ud83d\\ude00`` (a surrogate pair); a half of such a pair on
its own (``"\\ud800"``) is valid JSON but no character, and ``json.loads`` hands it over as a
string that no UTF-8 file can hold: writing the imported YAML would fail. Each such half is
replaced by U+FFFD (the replacement character) with a warning at its line and column, so the
rest of the package still imports and the author can see what to fix at the source.
"""

from __future__ import annotations

import re
from typing import Any

from mastery_cli.diagnostics import Diagnostic, warning

_LONE = re.compile("[\ud800-\udfff]")
# An escaped surrogate half, with the backslashes before it (an even run escapes itself).
_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
REPLACEMENT = "\ufffd"


def _lone_escapes(text: str) -> list[tuple[int, str]]:
    """(offset, escape) of each surrogate half in ``text`` that is not part of a pair."""
    found: list[tuple[int, str]] = []
    pending: tuple[int, str, int] | None = None  # a high half waiting for its low half
    for match in _ESCAPE.finditer(text):
        if len(match.group(1)) % 2 == 0:
            continue  # "\\ud800" is a backslash and the text "ud800"
        start = match.start() + len(match.group(1)) - 1
        value = int(match.group(2), 16)
        if pending is not None:
            if value >= 0xDC00 and start == pending[2]:
                pending = None  # a proper pair
                continue
            found.append(pending[:2])
            pending = None
        if value < 0xDC00:
            pending = (start, text[start : match.end()], match.end())
        else:
            found.append((start, text[start : match.end()]))
    if pending is not None:
        found.append(pending[:2])
    return found


def _replaced(value: str) -> str:
    return _LONE.sub(REPLACEMENT, value)


def _clean(data: Any) -> Any:
    """``data`` with every lone surrogate in keys and strings replaced (no recursion: JSON may
    nest deeply)."""
    if isinstance(data, str):
        return _replaced(data)
    root: list[Any] = [data]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        value = parent[key]
        if isinstance(value, dict):
            cleaned = {(_replaced(k) if isinstance(k, str) else k): v for k, v in value.items()}
            parent[key] = cleaned
            stack.extend((cleaned, k) for k in cleaned)
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
        elif isinstance(value, str) and _LONE.search(value):
            parent[key] = _replaced(value)
    return root[0]


def without_lone_surrogates(data: Any, text: str, path: str) -> tuple[Any, list[Diagnostic]]:
    """``data`` (loaded from the JSON ``text``) with lone surrogates replaced by U+FFFD (lists
    are changed in place), and a warning at each one's place in ``text``."""
    escapes = _lone_escapes(text)
    if not escapes:
        return data, []
    diagnostics = []
    for offset, escape in escapes:
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        diagnostics.append(warning(
            "invalid-character",
            f"'{escape}' is half of a UTF-16 surrogate pair, not a character; imported as "
            "U+FFFD (\ufffd)", path, line, column,
            hint="fix the text at the source: a character outside the Basic Multilingual Plane "
            "is written as a pair such as \\ud83d\\ude00",
        ))
    return _clean(data), diagnostics
