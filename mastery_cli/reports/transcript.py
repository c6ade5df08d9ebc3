"""A transcript's terms: each term's courses with grade, credits and the competencies
mastered in them, term and cumulative credits, and the GPA when the policy defines one.

One term (a single ``--grades``) is a transcript with one section; with several
(:mod:`mastery_cli.reports.terms`) each term is read from its own grades.json, so its course
grades are worded by its own policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mastery_cli.reports.gpa import GpaTable, average
from mastery_cli.reports.i18n import format_fixed

if TYPE_CHECKING:
    from mastery_cli.reports.context import Context, ReportData


def transcript_terms(data: ReportData, student_id: str) -> list[Context]:
    """The terms the student has grades in, oldest first, with running totals."""
    cumulative = Decimal(0)
    counted: list[tuple[Decimal, Decimal]] = []
    every_term_has_gpa = True
    sections: list[Context] = []
    for term, term_data in data.term_views():
        record = term_data.students.get(student_id)
        if record is None:
            continue
        table = GpaTable.of(term.grades.get("policy"))
        every_term_has_gpa &= table is not None
        rows, earned, entries = _course_rows(term_data, record, table)
        cumulative += earned
        counted += entries
        term_gpa = average(entries) if table is not None else None
        sections.append({
            "label": term.label,
            "courses": [{**row, "term": term.label} for row in rows],
            "credits_earned": data.number(float(earned)),
            "cumulative_credits": data.number(float(cumulative)),
            "has_gpa": table is not None,
            "gpa": _gpa_text(data, term_gpa),
            "cumulative_gpa": _gpa_text(data, average(counted)) if every_term_has_gpa else "",
        })
    return sections


def _course_rows(data: ReportData, student: Mapping[str, Any], table: GpaTable | None
                 ) -> tuple[list[Context], Decimal, list[tuple[Decimal, Decimal]]]:
    results = data.course_results(student)
    mastered = {str(c.get("competency")) for c in student.get("competencies") or []
                if isinstance(c, Mapping) and c.get("mastered")}
    rows = []
    earned = Decimal(0)
    entries = []
    for course_id in data.student_courses(student):
        course = data.framework.courses[course_id]
        result = results.get(course_id)
        grade = data.course_grade_view(result)
        credits = result.get("credits") if result else None
        if credits is None and grade["status"] == "ok":
            credits = course.credits
        if isinstance(credits, int | float):
            earned += Decimal(str(credits))
        entry = (table.entry(course_id, result.get("grade"), course.credits)
                 if table is not None and result and grade["status"] == "ok" else None)
        if entry is not None:
            entries.append(entry)
        rows.append({
            **data.course_head(course),
            "grade": grade,
            "credits": data.number(credits) if isinstance(credits, int | float) else "",
            "credits_possible": data.number(course.credits) if course.credits is not None
            else "",
            "grade_points": _gpa_text(data, entry[0]) if entry is not None else "",
            "competencies_mastered": [
                data.text(data.framework.competencies[c].title)
                for c in course.competencies
                if c in mastered and c in data.framework.competencies
                and not data.framework.competencies[c].is_efficacy
            ],
        })
    return rows, earned, entries


def _gpa_text(data: ReportData, value: Decimal | None) -> str:
    return "" if value is None else format_fixed(value, data.options.locale)
