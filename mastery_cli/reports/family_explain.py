"""`mastery explain --for family`: one result in plain sentences in the family's language.

Built from the same grades.json document and :class:`ReportData` views as the report card, so
every number, level and course-grade reason is the one the card prints; no file names, rows
or reason codes (a teacher's ``mastery explain`` shows those). The wording is the template
``explain-family.txt.j2``, translated through the report catalogs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from babel.numbers import format_percent

from mastery_cli.diagnostics import printable
from mastery_cli.reports.context import Context, ReportData
from mastery_cli.reports.environment import make_environment
from mastery_cli.reports.render import render_template

TEMPLATE = "explain-family.txt.j2"
#: Lines are wrapped to fit a terminal or an e-mail.
WIDTH = 88

#: Set-aside reasons a family is not told about: the same work counted once anyway.
_UNTOLD = frozenset({"another-rater", "duplicate-row"})


def family_explanation(data: ReportData, student_id: str, subject: str) -> str:
    """The explanation of ``subject`` (a target, competency or course id) for the family of
    ``student_id``, in ``data.options.language``."""
    env = make_environment(data.options.language, data.options.locale)
    return tidy(render_template(env, TEMPLATE, explanation_context(data, student_id, subject)))


def tidy(text: str) -> str:
    """Paragraphs apart by one blank line, list items together: the template's whitespace
    control is easier to read than to make exact."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for number, line in enumerate(lines):
        following = next((x for x in lines[number + 1:] if x), "")
        if not line and (not kept or not kept[-1] or (
                kept[-1].startswith("  - ") and following.startswith("  - "))):
            continue
        kept.append(line)
    wrapped = [textwrap.fill(line, WIDTH, subsequent_indent="    " if line.startswith("  - ")
                             else "", break_long_words=False, break_on_hyphens=False) or line
               for line in kept]
    return "\n".join(wrapped) + "\n"


def display_name(name: str) -> str:
    """"Patel, Mateo" as a family writes it: "Mateo Patel"."""
    last, comma, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if comma and first.strip() and last.strip() \
        else name.strip()


def explanation_context(data: ReportData, student_id: str, subject: str) -> Context:
    student = data.student(student_id)
    framework = data.framework
    context: Context = {
        "student": printable(display_name(str(student.get("name") or student_id))),
        "min_evidence": 0, "set_aside": [], "goal": None, "method": data.policy_view(),
    }
    if subject in framework.targets:
        target = framework.targets[subject]
        result = next((t for t in student.get("targets") or []
                       if t.get("target") == subject), None)
        competency = framework.competency_of(target)
        scale = framework.scale_of(competency)
        return {
            **context, "kind": "target",
            "item": data.target_view(target, result, student_id),
            "goal": data.scale_view(scale)["goal"] if scale else None,
            "set_aside": _set_aside(data, result),
            "method": _method_view(data, subject, competency.id),
            "min_evidence": _min_evidence(data, subject, competency.id),
        }
    if subject in framework.competencies:
        competency = framework.competencies[subject]
        view = data.competency_view(competency, student)
        return {**context, "kind": "competency", "item": view, "goal": view["goal"]}
    course = framework.courses[subject]
    competencies = [framework.competencies[c] for c in course.competencies
                    if c in framework.competencies]
    course_targets = set(framework.course_targets(course))
    return {**context, "kind": "course", "item": {
        **data.course_head(course),
        "grade": data.course_grade_view(data.course_results(student).get(subject)),
        "competencies": [data.competency_view(c, student, course_targets)
                         for c in competencies if not c.is_efficacy],
        "habits": any(c.is_efficacy for c in competencies),
    }}


def _set_aside(data: ReportData, result: Mapping[str, Any] | None) -> list[Context]:
    pieces = [e for e in (result or {}).get("evidence") or []
              if not e.get("used", True) and str(e.get("reason") or "") not in _UNTOLD]
    pieces.sort(key=lambda e: str(e.get("date") or ""))
    return [{"date": data.date_text(e.get("date")),
             "assessment": printable(str(e.get("assessment") or "")),
             "reason": str(e.get("reason") or e.get("status") or "")} for e in pieces]


def _override(data: ReportData, target_id: str, competency_id: str, key: str) -> Any:
    overrides = (data.grades.get("policy") or {}).get("overrides") or {}
    for item in (target_id, competency_id):
        value = (overrides.get(item) or {}).get(key)
        if value is not None:
            return value
    return None


def _method_view(data: ReportData, target_id: str, competency_id: str) -> Context:
    """The policy's method sentence data, with the target's own method when it has one."""
    view = data.policy_view()
    method = _override(data, target_id, competency_id, "method")
    if method is None:
        return view
    params = dict(_override(data, target_id, competency_id, "params") or {})
    weight = params.get("weight")
    share = float(weight) if isinstance(weight, int | float) else None
    return {**view, "method": str(method), "params": params, "description": "",
            "weight_pct": _percent(data, share) if share is not None else "",
            "rest_pct": _percent(data, 1 - share) if share is not None else "",
            "n": int(params["n"]) if isinstance(params.get("n"), int | float) else 0}


def _min_evidence(data: ReportData, target_id: str, competency_id: str) -> int:
    own = _override(data, target_id, competency_id, "min_evidence")
    return int(own) if isinstance(own, int) else data.policy_view()["min_evidence"]


def _percent(data: ReportData, share: float) -> str:
    return format_percent(share, format="#,##0.#%", locale=data.options.locale)
