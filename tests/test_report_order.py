"""Documents follow the curriculum's order, not the order of file names on disk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mastery_cli.reports import ReportData, ReportOptions
from mastery_cli.reports.i18n import parse_language
from mastery_cli.validation import load_framework

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "framework"


def test_i_can_sheet_lists_academic_competencies_in_course_order_then_habits() -> None:
    framework, _ = load_framework(EXAMPLES)
    # habits.yaml sorts before mathematics.yaml, so framework order starts with the habits.
    assert next(iter(framework.competencies.values())).is_efficacy
    language, locale = parse_language("en")
    grades = {"version": 1, "framework": framework.id, "students": []}
    data = ReportData(grades, framework, ReportOptions(language, locale, date(2027, 1, 29)))
    context = data.i_can("ALG1")
    listed = [c["id"] for c in context["competencies"]]
    course = framework.courses["ALG1"]
    academic = [c for c in course.competencies if not framework.competencies[c].is_efficacy]
    habits = [c for c in course.competencies if framework.competencies[c].is_efficacy]
    assert listed == academic + habits
