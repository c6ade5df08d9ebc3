"""Is every target assessed? Summative evidence per target and section, against the plan.

A piece of summative evidence is one student × target × assessment × date, scored (excused
and missing rows are not evidence), whose type is ``summative`` or whose assessment is a
planned summative assessment. Assessment names match the plan's titles ignoring case and
spaces. Without a plan, the targets expected of a section are its course's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mastery_cli.framework.model import Framework
from mastery_cli.planning.model import AssessmentPlan, PlannedAssessment

if TYPE_CHECKING:
    import pandas as pd

NO_SECTION = "(no section)"


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class TargetCoverage:
    target: str
    section: str
    course: str
    planned: int
    pieces: int
    students: int
    assessments: list[str]
    plan_given: bool = True

    @property
    def status(self) -> str:
        if self.pieces == 0:
            return "no evidence"
        if not self.plan_given:
            return "assessed"
        if len(self.assessments) < self.planned:
            return "fewer than planned"
        return "as planned" if self.planned else "not in the plan"


@dataclass
class PlannedStatus:
    assessment: PlannedAssessment
    sections: list[str]
    scored_sections: list[str]
    pieces: int
    missing_targets: list[str]
    due: bool

    @property
    def status(self) -> str:
        if not self.pieces:
            return "no scores yet" if self.due else "not due yet"
        if len(self.scored_sections) < len(self.sections):
            return "partly scored"
        return "scored"


@dataclass
class Coverage:
    rows: list[TargetCoverage]
    planned: list[PlannedStatus]
    sections: list[tuple[str, str]]
    unassessed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Evidence:
    student: str
    target: str
    assessment: str
    date: str
    section: str
    course: str


def _summative(frame: pd.DataFrame, plan: AssessmentPlan | None) -> list[_Evidence]:
    planned = {fold(a.title) for a in (plan.assessments if plan else [])
               if fold(a.type) == "summative"}
    found = set()
    records: list[dict[Any, Any]] = frame.to_dict("records")
    for row in records:
        if str(row["status"]) != "scored":
            continue
        kind = fold(str(row["type"] if row["type"] == row["type"] else ""))
        name = str(row["assessment"] if row["assessment"] == row["assessment"] else "")
        if kind != "summative" and fold(name) not in planned:
            continue
        date = row["date"].strftime("%Y-%m-%d") if row["date"] == row["date"] else ""
        section = str(row["section"] or "") if row["section"] == row["section"] else ""
        course = str(row["course"] or "") if row["course"] == row["course"] else ""
        found.add(_Evidence(str(row["student_id"]), str(row["target"]), name, date,
                            section or NO_SECTION, course))
    return sorted(found, key=lambda e: (e.section, e.target, e.student, e.assessment, e.date))


def coverage(frame: pd.DataFrame, framework: Framework, plan: AssessmentPlan | None = None,
             as_of: dt.date | None = None) -> Coverage:
    """Coverage of the evidence in ``frame`` (`EvidenceSet.frame`); ``as_of``: planned
    assessments starting later are not due yet (default: all are due)."""
    evidence = _summative(frame, plan)
    all_rows: list[dict[Any, Any]] = frame.to_dict("records")
    courses: dict[str, str] = {}
    for row in all_rows:
        section = row["section"] if row["section"] == row["section"] and row["section"] else ""
        course = row["course"] if row["course"] == row["course"] and row["course"] else ""
        courses.setdefault(str(section) or NO_SECTION, str(course))
        if course and not courses[str(section) or NO_SECTION]:
            courses[str(section) or NO_SECTION] = str(course)
    sections = sorted(courses.items(), key=lambda item: (item[0] == NO_SECTION, item[0]))
    assessments = plan.assessments if plan else []
    order = {t: i for i, t in enumerate(framework.targets)}
    rows: list[TargetCoverage] = []
    for section, course in sections:
        framework_course = framework.courses.get(course)
        expected = set(framework.course_targets(framework_course)) if framework_course else set()
        given = [a for a in assessments if a.given_in(section, course)]
        expected |= {t for a in given for t in a.targets}
        mine = [e for e in evidence if e.section == section]
        expected |= {e.target for e in mine}
        for target in sorted(expected, key=lambda t: (order.get(t, len(order)), t)):
            pieces = [e for e in mine if e.target == target]
            rows.append(TargetCoverage(
                target, section, course,
                planned=sum(1 for a in given if target in a.targets),
                pieces=len(pieces), students=len({e.student for e in pieces}),
                assessments=sorted({e.assessment for e in pieces}), plan_given=plan is not None,
            ))
    statuses = []
    for assessment in assessments:
        in_sections = [s for s, c in sections if assessment.given_in(s, c)]
        ours = [e for e in evidence if fold(e.assessment) == fold(assessment.title)
                and e.section in in_sections]
        statuses.append(PlannedStatus(
            assessment, in_sections, sorted({e.section for e in ours}), len(ours),
            [t for t in assessment.targets if t not in {e.target for e in ours}],
            due=as_of is None or assessment.start is None or assessment.start <= as_of,
        ))
    by_target: dict[str, int] = {}
    for found in rows:
        by_target[found.target] = by_target.get(found.target, 0) + found.pieces
    unassessed = [t for t, n in by_target.items() if n == 0]
    unassessed.sort(key=lambda t: (order.get(t, len(order)), t))
    return Coverage(rows, statuses, sections, unassessed)


def targets_by_section(result: Coverage) -> dict[str, list[TargetCoverage]]:
    grouped: dict[str, list[TargetCoverage]] = {}
    for row in result.rows:
        grouped.setdefault(row.section, []).append(row)
    return grouped


def section_gaps(result: Coverage) -> list[tuple[str, list[str]]]:
    """Per section, the targets expected there (course or plan) with no evidence."""
    return [(section, [r.target for r in rows if r.pieces == 0])
            for section, rows in targets_by_section(result).items()
            if any(r.pieces == 0 for r in rows)]
