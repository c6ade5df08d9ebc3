"""Rules for learner records that a JSON Schema cannot check, for ``mastery validate``.

Every target and competency a goal or portfolio piece names must be in the framework; dates
must be real days; an academic goal should name what it is about; a goal past its date with no
review on or after that date is a warning (someone should sit down with the student). Messages
name goal ids and target ids only, never what the student wrote: these files are personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.framework.model import Framework
from mastery_cli.learner.model import build_learner, parse_date
from mastery_cli.suggest import closest
from mastery_cli.yamlfile import Pointer

#: Makes a diagnostic at a place of the record: (code, message, pointer, hint, severity).
Locate = Callable[[str, str, Pointer, str | None, Severity], Diagnostic]


def _dates(data: Any, here: Pointer = ()) -> Iterable[tuple[Pointer, Any]]:
    """Every value under a key named date, set_on or target_date, with its pointer."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("date", "set_on", "target_date") and not isinstance(value, dict | list):
                yield (*here, key), value
            else:
                yield from _dates(value, (*here, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _dates(value, (*here, index))


def _unknown(kind: str, ident: str, known: Iterable[str]) -> tuple[str, str]:
    near = closest(ident, list(known))
    hint = f"did you mean '{near[0]}'?" if near else f"use a {kind} id from the framework"
    return f"unknown {kind} '{ident}'", hint


def check_record(data: Any, path: str, locate: Locate, framework: Framework | None,
                 today: date | None = None) -> list[Diagnostic]:
    """The problems of one learner record (a file's loaded value) beyond its schema."""
    today = today or date.today()
    found: list[Diagnostic] = []
    for pointer, value in _dates(data):
        if parse_date(value) is None and isinstance(value, str):
            found.append(locate("learner-bad-date", f"'{pointer[-1]}' is not a real day",
                                pointer, "write the day as YYYY-MM-DD, e.g. 2026-12-18",
                                Severity.ERROR))
    learner = build_learner(data, path)
    seen: set[str] = set()
    for goal in learner.goals:
        here: Pointer = ("plan", "goals", goal.index)
        if goal.id in seen:
            found.append(locate("duplicate-goal", f"goal id '{goal.id}' is used twice",
                                (*here, "id"), "give each goal its own id", Severity.ERROR))
        seen.add(goal.id)
        if goal.academic and not goal.targets and not goal.competencies:
            found.append(locate(
                "goal-without-targets", f"academic goal '{goal.id}' names no targets or "
                "competencies", here, "add 'targets:' (or 'competencies:') so its progress "
                "and pace can be shown", Severity.WARNING))
        if goal.target_date is not None and goal.target_date < today and not any(
                r.date is not None and r.date >= goal.target_date for r in goal.reviews):
            found.append(locate(
                "goal-past-date-unreviewed",
                f"goal '{goal.id}' was due {goal.target_date.isoformat()} and has no review "
                "since", (*here, "target_date"),
                "review it with the student and add the review (date, by, note), or set a "
                "new target date", Severity.WARNING))
        if goal.set_on and goal.target_date and goal.target_date < goal.set_on:
            found.append(locate("goal-dates-reversed", f"goal '{goal.id}' is due before it "
                                "was set", (*here, "target_date"),
                                "the target date comes after 'set_on'", Severity.ERROR))
        if framework is not None:
            found.extend(_references(framework, locate, here, goal.targets, goal.competencies))
    if framework is not None:
        for index, piece in enumerate(learner.portfolio):
            found.extend(_references(framework, locate, ("portfolio", index),
                                     list(piece.targets), []))
    return found


def _references(framework: Framework, locate: Locate, here: Pointer, targets: list[str],
                competencies: list[str]) -> list[Diagnostic]:
    found = []
    for index, target in enumerate(targets):
        if target not in framework.targets:
            message, hint = _unknown("target", target, framework.targets)
            if target in framework.competencies:
                hint = f"'{target}' is a competency: list it under 'competencies:'"
            found.append(locate("learner-unknown-target", message, (*here, "targets", index),
                                hint, Severity.ERROR))
    for index, competency in enumerate(competencies):
        if competency not in framework.competencies:
            message, hint = _unknown("competency", competency, framework.competencies)
            found.append(locate("learner-unknown-competency", message,
                                (*here, "competencies", index), hint, Severity.ERROR))
    return found


def framework_for(framework_id: str | None, frameworks: Mapping[str, Framework]
                  ) -> Framework | None:
    """The framework a record's ids resolve in: the one it names, else the only one checked."""
    if framework_id is not None:
        return frameworks.get(framework_id)
    return next(iter(frameworks.values())) if len(frameworks) == 1 else None
