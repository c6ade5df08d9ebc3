"""`mastery report coverage`: coverage.csv, planned.csv and coverage.html (and .pdf)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from mastery_cli.csvout import csv_text
from mastery_cli.framework.model import Framework
from mastery_cli.output import OutputFolder
from mastery_cli.planning.coverage import Coverage, section_gaps, targets_by_section
from mastery_cli.planning.model import AssessmentPlan
from mastery_cli.staffdocs import render_staff_document

COVERAGE_COLUMNS = ("target", "section", "course", "planned", "pieces", "students",
                    "assessments", "status")
PLANNED_COLUMNS = ("assessment", "title", "tier", "type", "course", "when", "targets",
                   "sections", "scored_sections", "pieces", "missing_targets", "status")


def coverage_csv(result: Coverage) -> str:
    return csv_text(COVERAGE_COLUMNS, (
        (r.target, r.section, r.course, r.planned, r.pieces, r.students,
         "; ".join(r.assessments), r.status) for r in result.rows))


def planned_csv(result: Coverage) -> str:
    return csv_text(PLANNED_COLUMNS, (
        (p.assessment.id, p.assessment.title, p.assessment.tier, p.assessment.type,
         p.assessment.course or "", p.assessment.when, "; ".join(p.assessment.targets),
         "; ".join(p.sections), "; ".join(p.scored_sections), p.pieces,
         "; ".join(p.missing_targets), p.status) for p in result.planned))


def write_coverage(result: Coverage, framework: Framework, plan: AssessmentPlan | None,
                   out: Path, *, pdf: bool = False, inputs: Sequence[Path] = (),
                   as_of: dt.date | None = None, title: str = "Assessment coverage"
                   ) -> list[Path]:
    names = ["coverage.csv", *(["planned.csv"] if plan else []), "coverage.html",
             *(["coverage.pdf"] if pdf else [])]
    with OutputFolder(out, names=names, inputs=inputs) as folder:
        folder.path("coverage.csv").write_text(coverage_csv(result), encoding="utf-8")
        if plan is not None:
            folder.path("planned.csv").write_text(planned_csv(result), encoding="utf-8")
        titles = {t.id: framework.text(t.title or t.statement) for t in
                  framework.targets.values()}
        html = render_staff_document("coverage.html.j2", {
            "lang": "en", "title": title, "plan": framework.text(plan.title) or plan.id
            if plan else "", "as_of": as_of.isoformat() if as_of else "",
            "sections": targets_by_section(result), "planned": result.planned,
            "unassessed": [(t, titles.get(t, "")) for t in result.unassessed],
            "titles": titles, "gaps": section_gaps(result),
        })
        folder.path("coverage.html").write_text(html, encoding="utf-8")
        if pdf:
            from mastery_cli.staffdocs import write_pdf

            write_pdf(html, folder.path("coverage.pdf"), out)
        return folder.commit()
