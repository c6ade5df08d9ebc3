"""Checks of a rubric's exemplars: the files exist, and (under --strict) which levels have none.

Exemplar paths are relative to the rubric file. A level without any exemplar is no error (the
bank grows session by session), but ``validate --strict`` warns about it so a team can make
it a rule that every level is benchmarked.
"""

from __future__ import annotations

from pathlib import Path

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.documents import DocumentSet
from mastery_cli.framework.model import Framework, Rubric, level_key


def check_exemplar_files(rubric: Rubric, sets: DocumentSet) -> list[Diagnostic]:
    """An error for every exemplar whose file is not there."""
    base = Path(rubric.origin.path).parent if rubric.origin else Path(".")
    problems = []
    for criterion in rubric.criteria:
        for index, exemplar in enumerate(criterion.exemplars):
            if exemplar.path is None or (base / exemplar.path).is_file():
                continue
            problems.append(sets.at(
                criterion.origin, "exemplar-not-found",
                f"exemplar file '{exemplar.path}' not found (looked for "
                f"{(base / exemplar.path).as_posix()})", ("exemplars", index, "path"),
                hint="exemplar paths are relative to the rubric file; check the name, or "
                     "give a url instead",
            ))
    return problems


def exemplar_gaps(rubric: Rubric, framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    """A warning per criterion naming the scale levels that have no exemplar."""
    problems = []
    for criterion in rubric.criteria:
        target = framework.targets.get(criterion.target)
        if target is None:
            continue  # reported as an unknown target
        scale = (framework.scales.get(rubric.scale_id) if rubric.scale_id
                 else framework.target_scale(target))
        if scale is None:
            continue
        pegged = {exemplar.level for exemplar in criterion.exemplars}
        missing = [v for v in scale.values if v not in pegged]
        if missing:
            problems.append(sets.at(
                criterion.origin, "levels-without-exemplar",
                f"criterion '{criterion.id}' has no exemplar for level"
                f"{'s' if len(missing) > 1 else ''} "
                + ", ".join(level_key(v) for v in missing),
                ("exemplars",) if criterion.exemplars else ("id",),
                hint="collect benchmarked work at these levels in a calibration session "
                     "('mastery report exemplars' lists the whole bank)",
                severity=Severity.WARNING, key=True,
            ))
    return problems
