"""The assessment plan as typed objects, built from a schema-checked document."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, MasteryError, Severity, error
from mastery_cli.documents import MasteryDocument, load_documents
from mastery_cli.framework.model import Framework, Origin, Text

TIERS = ("classroom", "team", "school")


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass
class PlannedAssessment:
    id: str
    title: str
    tier: str
    targets: list[str]
    type: str = "summative"
    course: str | None = None
    sections: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    origin: Origin | None = None

    @property
    def when(self) -> str:
        if self.start is None:
            return ""
        if self.start == self.end or self.end is None:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def given_in(self, section: str, course: str) -> bool:
        if self.sections:
            return section in self.sections
        return self.course is None or self.course == course


@dataclass
class AssessmentPlan:
    id: str
    assessments: list[PlannedAssessment]
    framework_id: str | None = None
    title: Text | None = None
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    origin: Origin | None = None


def build_plan(document: MasteryDocument) -> AssessmentPlan | None:
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    assessments = []
    for index, raw in enumerate(data.get("assessments") or []):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        window: dict[str, Any] = raw["window"] if isinstance(raw.get("window"), dict) else {}
        start = _date(raw["date"]) if "date" in raw else _date(window.get("start"))
        end = _date(raw["date"]) if "date" in raw else _date(window.get("end"))
        targets: list[Any] = raw["targets"] if isinstance(raw.get("targets"), list) else []
        sections: list[Any] = raw["sections"] if isinstance(raw.get("sections"), list) else []
        assessments.append(PlannedAssessment(
            id=raw["id"], title=str(raw.get("title", raw["id"])), tier=str(raw.get("tier", "")),
            targets=[str(t) for t in targets], type=str(raw.get("type") or "summative"),
            course=str(raw["course"]) if raw.get("course") is not None else None,
            sections=[str(s) for s in sections], start=start, end=end,
            origin=Origin(document.path, ("assessments", index)),
        ))
    term: dict[str, Any] = data["term"] if isinstance(data.get("term"), dict) else {}
    return AssessmentPlan(
        id=data["id"], assessments=assessments,
        framework_id=str(data["framework"]) if isinstance(data.get("framework"), str) else None,
        title=data.get("title"), term_start=_date(term.get("start")),
        term_end=_date(term.get("end")), origin=Origin(document.path, ()),
    )


def load_plan(path: Path, framework: Framework) -> tuple[AssessmentPlan, list[Diagnostic]]:
    """The plan in ``path``, checked (schema and `check.check_plan`) against ``framework``."""
    from mastery_cli.planning.check import check_plan

    sets = load_documents([path], kinds=("assessment-plan",))
    problems = list(sets.diagnostics)
    plans = [p for p in (build_plan(d) for d in sets.of_kind("assessment-plan")) if p]
    for plan in plans:
        problems += check_plan(plan, {framework.id: framework}, sets)
    errors = [d for d in problems if d.severity is Severity.ERROR]
    if errors:
        raise MasteryError(errors)
    if len(plans) != 1:
        raise MasteryError(error(
            "no-plan", f"{path} holds {len(plans)} assessment plans; one is needed", str(path),
            hint="point --plan at a YAML file with 'kind: assessment-plan'"))
    return plans[0], problems
