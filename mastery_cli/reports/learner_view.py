"""What the learner document shows: the profile in the student's words, goals with progress and
pace, mastered targets with the portfolio pieces that showed them, learning outside school.

Built from the same grades.json as the other reports plus the student's learner record; the
pace of each academic goal is :mod:`mastery_cli.learner.pace`'s, as ``explain`` prints it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mastery_cli.learner.model import Entry, Learner, Piece
from mastery_cli.learner.pace import GoalPace, student_paces
from mastery_cli.reports.context import Context, ReportData
from mastery_cli.reports.i18n import format_number

_WEB = re.compile(r"^https?://", re.IGNORECASE)


def _piece_view(data: ReportData, piece: Piece) -> Context:
    return {
        "title": piece.title,
        "artifact": piece.artifact,
        # Only web addresses become links: a relative path means nothing in a browser or PDF.
        "link": piece.artifact if _WEB.match(piece.artifact) else "",
        "date": data._date_text(piece.date.isoformat()) if piece.date else "",
        "source": "" if piece.source == "school" else piece.source,
        "description": piece.description,
        "targets": [_target_title(data, t) for t in piece.targets],
    }


def _target_title(data: ReportData, target_id: str) -> str:
    target = data.framework.targets.get(target_id)
    return data.text(target.title) or data.text(target.statement) if target else target_id


def _entries(data: ReportData, entries: list[Entry]) -> list[Context]:
    return [{"text": e.text, "date": data._date_text(e.date.isoformat()) if e.date else ""}
            for e in entries]


def _pace_view(data: ReportData, pace: GoalPace) -> Context:
    total = len(pace.targets)
    return {
        "status": pace.status,
        "mastered": [{"title": _target_title(data, m.target),
                      "date": data._date_text(m.on.isoformat()) if m.on else ""}
                     for m in pace.mastered],
        "left": [_target_title(data, t) for t in pace.left],
        "mastered_count": len(pace.mastered),
        "total": total,
        "percent": round(100 * len(pace.mastered) / total) if total else 0,
        # As explain shows it: rounded half up to one decimal (then in the report's locale).
        "expected": format_number(float(pace.expected_shown), data.options.locale, places=1)
        if pace.expected is not None else "",
        "start": data._date_text(pace.start.isoformat()) if pace.start else "",
    }


def learner_document(data: ReportData, learner: Learner) -> Context:
    student: Mapping[str, Any] = data.students.get(learner.student_id) or {
        "id": learner.student_id, "name": learner.name or learner.student_id}
    as_of = data.options.report_date
    paces = {p.goal.id: p for p in student_paces(learner.goals, student, data.framework, as_of)}
    goals = []
    for goal in learner.goals:
        goals.append({
            "id": goal.id, "arena": goal.arena, "statement": goal.statement,
            "target_date": data._date_text(goal.target_date.isoformat())
            if goal.target_date else "",
            "reviews": [{"date": data._date_text(r.date.isoformat()) if r.date else "",
                         "by": r.by, "note": r.note} for r in goal.reviews],
            "pace": _pace_view(data, paces[goal.id]) if goal.id in paces else None,
        })
    results = {str(t.get("target")): t for t in student.get("targets") or []}
    competency_results = {str(c.get("competency")): c for c in student.get("competencies") or []}
    mastered: list[Context] = []
    for competency in data.framework.competencies.values():
        scale = data.framework.scale_of(competency)
        targets: list[Context] = []
        for target in competency.targets:
            result = results.get(target.id)
            if not result or result.get("mastered") is not True:
                continue
            targets.append({
                "id": target.id,
                "title": data.text(target.title) or data.text(target.statement),
                "i_can": data.text(target.i_can),
                "level": data.level_view(scale, result.get("level")),
                "date": data._date_text(result.get("last_evidence_date")),
                "pieces": [_piece_view(data, p) for p in learner.portfolio
                           if target.id in p.targets],
            })
        if targets:
            comp = competency_results.get(competency.id) or {}
            mastered.append({
                "title": data.text(competency.title),
                "kind": competency.kind,
                "mastered": comp.get("mastered") is True,
                "level": data.level_view(scale, comp.get("level"))
                if comp.get("mastered") is True else None,
                "targets": targets,
            })
    outside = [_piece_view(data, p) for p in learner.portfolio if p.source != "school"]
    shown = {t["id"] for c in mastered for t in c["targets"]}
    # School work not yet linked to a mastered target: still part of the conversation.
    in_progress = [_piece_view(data, p) for p in learner.portfolio
                   if p.source == "school" and not shown & set(p.targets)]
    name = str(student.get("name") or learner.name or learner.student_id)
    return {
        **data.common(name),
        "student": {"id": learner.student_id, "name": name,
                    "preferred_name": learner.preferred_name or name,
                    "sections": [str(s) for s in student.get("sections") or []]},
        "profile": {key: _entries(data, entries) for key, entries in learner.profile.items()},
        "in_my_words": learner.in_my_words,
        "goals": goals,
        "mastered": mastered,
        "mastered_count": sum(len(c["targets"]) for c in mastered),  # a list each
        "outside": outside,
        "in_progress": in_progress,
        "graded": learner.student_id in data.students,
    }
