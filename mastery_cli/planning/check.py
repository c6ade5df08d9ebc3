"""`validate` rules for assessment plans: targets, courses, dates, ids.

Registered in `mastery_cli.validation.EXTRA_CHECKS` for the kind ``assessment-plan``.
"""

from __future__ import annotations

from collections.abc import Mapping

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.documents import DocumentSet, MasteryDocument
from mastery_cli.framework.model import Framework
from mastery_cli.planning.model import AssessmentPlan, build_plan
from mastery_cli.suggest import closest
from mastery_cli.validation import EXTRA_CHECKS


def _framework(plan: AssessmentPlan, frameworks: Mapping[str, Framework]) -> Framework | None:
    if plan.framework_id is not None:
        return frameworks.get(plan.framework_id)
    return next(iter(frameworks.values())) if len(frameworks) == 1 else None


def check_plan(plan: AssessmentPlan, frameworks: Mapping[str, Framework], sets: DocumentSet
               ) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    framework = _framework(plan, frameworks)
    if framework is None and not sets.may_define(plan.framework_id):
        problems.append(sets.at(
            plan.origin, "framework-not-loaded",
            "no framework was among the files checked, so the plan's targets cannot be "
            "checked", ("framework",) if plan.framework_id else (),
            hint="validate the plan together with its framework files "
                 "(e.g. 'mastery validate .')", severity=Severity.WARNING,
            key=plan.framework_id is None))
    seen: set[str] = set()
    for assessment in plan.assessments:
        where = assessment.origin
        if assessment.id in seen:
            problems.append(sets.at(where, "duplicate-id",
                                    f"assessment id '{assessment.id}' is used twice", ("id",)))
        seen.add(assessment.id)
        if assessment.start is None:
            problems.append(sets.at(
                where, "bad-date", f"assessment '{assessment.id}' has no valid date",
                ("date",), hint="write dates as YYYY-MM-DD", key=True))
        elif assessment.end is not None and assessment.end < assessment.start:
            problems.append(sets.at(
                where, "bad-window", f"assessment '{assessment.id}' ends "
                f"({assessment.end}) before it starts ({assessment.start})", ("window",),
                hint="swap the window's start and end"))
        if (assessment.start is not None and plan.term_start and plan.term_end
                and not (plan.term_start <= assessment.start
                         and (assessment.end or assessment.start) <= plan.term_end)):
            problems.append(sets.at(
                where, "outside-term", f"assessment '{assessment.id}' ({assessment.when}) is "
                f"outside the plan's term ({plan.term_start} to {plan.term_end})",
                ("date",), severity=Severity.WARNING, key=True,
                hint="correct the date, or the term"))
        if framework is None:
            continue
        for index, target in enumerate(assessment.targets):
            if target not in framework.targets:
                suggestion = next(iter(closest(target, list(framework.targets))), None)
                problems.append(sets.at(
                    where, "unknown-target", f"unknown target '{target}'",
                    ("targets", index),
                    hint=f"did you mean '{suggestion}'?" if suggestion else
                    "use a target id of the framework"))
        if assessment.course is not None and assessment.course not in framework.courses:
            problems.append(sets.at(
                where, "unknown-course", f"unknown course '{assessment.course}'", ("course",),
                hint="courses: " + ", ".join(sorted(framework.courses))))
    return problems


def _check_document(document: MasteryDocument, frameworks: Mapping[str, Framework],
                    sets: DocumentSet) -> list[Diagnostic]:
    if not document.schema_ok:
        return []
    plan = build_plan(document)
    return check_plan(plan, frameworks, sets) if plan is not None else []


EXTRA_CHECKS["assessment-plan"] = _check_document
