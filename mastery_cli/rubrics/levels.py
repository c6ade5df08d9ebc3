"""What a rubric says about one level of one target, and the benchmarked work pegged to it.

Indicator rubrics take their level language from the target's performance indicators (the
framework's), rated rubrics from their own criterion levels; either way the words a teacher
sees next to a rating are those the rubric scores with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mastery_cli.framework.model import Criterion, Exemplar, Framework, Rubric, Text


@dataclass(frozen=True)
class LevelText:
    """The label and the language of one level of one criterion."""

    value: float
    label: Text | None
    description: Text | None


def criteria_of(rubrics: Sequence[Rubric], target: str) -> list[tuple[Rubric, Criterion]]:
    """The criteria that score ``target``, in rubric and criterion order."""
    return [(r, c) for r in rubrics for c in r.criteria if c.target == target]


def level_language(framework: Framework, rubrics: Sequence[Rubric], target: str,
                   value: float) -> LevelText:
    """The words for level ``value`` of ``target``: the first rated criterion's own level,
    else the target's indicator, with the scale's label."""
    label: Text | None = None
    framework_target = framework.targets.get(target)
    if framework_target is not None:
        scale = framework.target_scale(framework_target)
        level = scale.level(value) if scale is not None else None
        label = level.label if level is not None else None
    for rubric, criterion in criteria_of(rubrics, target):
        if rubric.design == "rated":
            for rated in criterion.levels:
                if rated.value == value:
                    return LevelText(value, rated.label or label, rated.description)
    indicator = framework_target.indicators.get(value) if framework_target else None
    return LevelText(value, label, indicator)


def exemplars_by_level(rubrics: Sequence[Rubric], target: str) -> dict[float, list[
        tuple[Rubric, Exemplar]]]:
    """The exemplars for ``target`` by level (each once, even when criteria share a file)."""
    found: dict[float, list[tuple[Rubric, Exemplar]]] = {}
    seen: set[tuple[str, float, str | None, str | None]] = set()
    for rubric, criterion in criteria_of(rubrics, target):
        for exemplar in criterion.exemplars:
            key = (rubric.id, exemplar.level, exemplar.path, exemplar.url)
            if key not in seen:
                seen.add(key)
                found.setdefault(exemplar.level, []).append((rubric, exemplar))
    return found


def exemplar_location(rubric: Rubric, exemplar: Exemplar, relative_to: Path | None = None
                      ) -> str:
    """Where the exemplar is: its URL, or its file (relative to the rubric in the YAML) as a
    path relative to ``relative_to`` (a report's folder) when given, else as resolved."""
    if exemplar.url:
        return exemplar.url
    if not exemplar.path:
        return ""
    base = Path(rubric.origin.path).parent if rubric.origin else Path(".")
    file = base / exemplar.path
    if relative_to is None:
        return file.as_posix()
    return Path(os.path.relpath(os.path.abspath(file), os.path.abspath(relative_to))).as_posix()
