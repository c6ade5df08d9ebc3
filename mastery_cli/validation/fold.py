"""Fold the errors that only follow from a misspelled key into the error about the key.

``competences:`` instead of ``competencies:`` hides every competency and target written under
it, so each course, progression, rubric and policy that names one of them would get its own
"is not defined" error, pointing away from the one real mistake. Those references are counted
in the unknown-key error instead ("5 references to ELA, ELA.WR.2, … could not be checked").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.documents import DocumentSet
from mastery_cli.suggest import closest

#: What a framework without the misspelled key also gets, by the key it lacks: no scale, no
#: title, and (without 'languages', so English only) a warning at every text in another language.
_MISSING_SECTION = {
    "scales": "missing-scale", "title": "missing-title", "languages": "undeclared-language",
}


def _pointer_parts(pointer: str | None) -> list[str]:
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _value_at(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(data, dict):
            if part not in data:
                return None
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _ids_under(value: Any) -> Iterator[str]:
    """Every id defined in ``value``: the ``id`` of each mapping, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ident = item.get("id")
            if isinstance(ident, str | int | float) and not isinstance(ident, bool):
                yield str(ident)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def fold_misspelled_keys(diagnostics: list[Diagnostic], sets: DocumentSet) -> list[Diagnostic]:
    """The diagnostics with follow-on errors of unknown framework keys folded into them."""
    data_of = {d.path: d.data for d in sets.documents if d.kind == "framework"}
    hidden: dict[int, set[str]] = {}  # unknown-key diagnostic (by index) -> ids it hides
    sections: dict[str, list[int]] = {}  # missing-section code -> unknown-key diagnostics
    for index, problem in enumerate(diagnostics):
        if problem.code != "schema-unknown-key" or problem.path not in data_of:
            continue
        parts = _pointer_parts(problem.pointer)
        if not parts:
            continue
        value = _value_at(data_of[problem.path], parts)
        ids = set(_ids_under(value))
        meant = closest(parts[-1], ["id", *_MISSING_SECTION])
        if meant == ["id"] and isinstance(value, str | int | float):
            ids.add(str(value))  # 'idd: ELA.1': the object is read without its id
        if ids:
            hidden[index] = ids
        if len(parts) == 1 and meant and meant[0] in _MISSING_SECTION:
            sections.setdefault(_MISSING_SECTION[meant[0]], []).append(index)
    misspelled = _misspelled_required(diagnostics)
    if not hidden and not sections and not misspelled:
        return diagnostics
    framework_of = {path: data.get("id") if isinstance(data, dict) else None
                    for path, data in data_of.items()}
    lacking = {code: {framework_of[diagnostics[i].path] for i in indexes}
               for code, indexes in sections.items()}
    folded: dict[int, list[str]] = {}
    dropped: set[int] = set(misspelled)
    for index, problem in enumerate(diagnostics):
        if problem.code == "unresolved-reference":
            reference = _reference(problem, sets)
            owner = next((i for i, ids in hidden.items() if reference in ids), None)
            if owner is not None:
                folded.setdefault(owner, []).append(reference)
                dropped.add(index)
        elif problem.code in lacking and framework_of.get(problem.path) in lacking[problem.code]:
            dropped.add(index)  # 'defines no scale': it does, under the misspelled key
    result = []
    for index, problem in enumerate(diagnostics):
        if index in dropped:
            continue
        refs = folded.get(index)
        if refs:
            shown = sorted(set(refs))
            names = ", ".join(shown[:3]) + (", …" if len(shown) > 3 else "")
            count = len(refs)
            problem = dataclasses.replace(problem, message=(
                f"{problem.message}; what it defines is not read, so {count} "
                f"reference{'s' if count != 1 else ''} to it ({names}) could not be checked"))
        result.append(problem)
    return result


_REQUIRED = re.compile(r"^missing required key '(.+?)'")


def _misspelled_required(diagnostics: list[Diagnostic]) -> set[int]:
    """"Missing required key 'targets'" where the same mapping has 'tagets': the typo says it."""
    unknown: dict[tuple[str, str], list[str]] = {}
    for problem in diagnostics:
        parts = _pointer_parts(problem.pointer)
        if problem.code == "schema-unknown-key" and parts:
            unknown.setdefault((problem.path, "/".join(parts[:-1])), []).append(parts[-1])
    found = set()
    for index, problem in enumerate(diagnostics):
        match = _REQUIRED.match(problem.message)
        if problem.code != "schema-required" or match is None:
            continue
        keys = unknown.get((problem.path, "/".join(_pointer_parts(problem.pointer))), [])
        if any(closest(key, [match.group(1)]) for key in keys):
            found.add(index)
    return found


def _reference(problem: Diagnostic, sets: DocumentSet) -> str:
    """The id an unresolved reference names: the value at its pointer, or the key itself."""
    data = next((d.data for d in sets.documents if d.path == problem.path), None)
    parts = _pointer_parts(problem.pointer)
    value = _value_at(data, parts)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    return parts[-1] if parts else ""
