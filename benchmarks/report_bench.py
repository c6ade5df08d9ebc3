"""Benchmark `mastery report`: HTML report cards at scale, and PDF in parallel vs one by one.

    .venv/bin/python benchmarks/report_bench.py                # 1,000 HTML, 200 PDF, 2 jobs
    .venv/bin/python benchmarks/report_bench.py --students 5000 --pdf-students 0

The grades are synthetic but shaped like the example school's grades.json (every target of
Algebra I and Biology, 2-5 scores each, habits of work, progressions), made with a fixed seed.
Goals (issue 4): 1,000 HTML report cards in under 5 s on 2 cores; 200 PDF report cards in at
most 0.6x the time WeasyPrint takes to turn the same HTML into PDF one by one in one process.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mastery_cli.framework.model import Framework
from mastery_cli.reports import RenderSettings, ReportData, ReportOptions, plan_documents
from mastery_cli.reports.environment import make_environment
from mastery_cli.reports.i18n import parse_language
from mastery_cli.reports.render import render_documents, render_html
from mastery_cli.validation import load_framework

ROOT = Path(__file__).resolve().parents[1]
START = date(2025, 9, 8)


def synthetic_grades(framework: Framework, students: int, seed: int = 4) -> dict[str, Any]:
    """A grades.json document for ``students`` students taking the framework's first two
    courses (or all, when there are fewer)."""
    rng = random.Random(seed)
    courses = list(framework.courses)[:2] if len(framework.courses) > 1 else list(
        framework.courses)
    records = []
    for number in range(students):
        targets, competencies = [], []
        studied = [t for c in courses for t in framework.course_targets(framework.courses[c])]
        for target_id in dict.fromkeys(studied):
            target = framework.targets[target_id]
            scale = framework.target_scale(target)
            assert scale is not None
            skill = rng.uniform(scale.min_value, scale.max_value)
            count = rng.randint(0, 5)
            scores = [max(scale.min_value, min(scale.max_value, round(skill + rng.uniform(
                -1, 1)))) for _ in range(count)]
            evidence = [{
                "date": (START + timedelta(days=14 * i + rng.randint(0, 6))).isoformat(),
                "assessment": f"Task {i + 1}", "type": "summative", "score": s,
                "status": "scored", "used": True, "reason": "",
            } for i, s in enumerate(scores)]
            ok = count >= 2
            score = round(sum(scores) / count, 2) if ok else None
            level = scale.level_for_score(score).value if score is not None else None
            targets.append({
                "target": target_id, "competency": target.competency_id,
                "method": "decaying_average", "score": score, "level": level, "label": None,
                "mastered": bool(level is not None and level >= scale.mastery_value),
                "evidence_count": count,
                "status": "ok" if ok else ("not-assessed" if count == 0 else
                                           "insufficient-evidence"),
                "last_evidence_date": evidence[-1]["date"] if evidence else None,
                "evidence": evidence,
            })
        for competency in framework.competencies.values():
            mine = [t for t in targets if t["competency"] == competency.id and t["level"]]
            if not mine:
                continue
            scale = framework.scale_of(competency)
            assert scale is not None
            level = scale.level_for_score(sum(t["level"] for t in mine) / len(mine)).value
            competencies.append({
                "competency": competency.id, "kind": competency.kind, "score": level,
                "level": level, "label": None, "mastered": level >= scale.mastery_value,
                "status": "ok", "targets_assessed": len(mine),
                "targets_mastered": sum(t["mastered"] for t in mine), "rule": "average",
            })
        progress = []
        for progression in framework.progressions.values():
            mastered = [t["target"] for t in targets if t["mastered"]
                        and t["target"] in progression.targets]
            following = [t for t in progression.targets if t not in mastered]
            progress.append({"progression": progression.id, "mastered": mastered,
                             "ready_to_advance": bool(following),
                             "next_target": following[0] if following else None})
        records.append({
            "id": f"{number:07d}", "name": f"Student {number:04d}",
            "sections": [f"{c}-P{number % 6 + 1}" for c in courses],
            "targets": targets, "competencies": competencies,
            "courses": [{"course": c, "grade": str(rng.randint(1, 4)), "score": None,
                         "status": "ok", "rule": "the median of the competency levels",
                         "credits": 1.0} for c in courses],
            "progress": progress,
        })
    return {"version": 1, "framework": framework.id,
            "policy": {"method": "decaying_average", "params": {"weight": 0.65},
                       "min_evidence": 2, "description": ""},
            "students": records}


def report_data(framework: Framework, students: int) -> ReportData:
    language, locale = parse_language("en")
    return ReportData(synthetic_grades(framework, students), framework,
                      ReportOptions(language, locale, date(2026, 1, 30), term="Fall 2025"))


def bench_html(framework: Framework, students: int, jobs: int) -> float:
    data = report_data(framework, students)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        documents = plan_documents(data, "report-card")
        render_documents(data, documents, RenderSettings(out=Path(folder)), jobs=jobs)
        return time.perf_counter() - started


def bench_pdf(framework: Framework, students: int, jobs: int) -> tuple[float, float, int]:
    import weasyprint

    from mastery_cli.reports.pdf import PDF_OPTIONS

    data = report_data(framework, students)
    documents = plan_documents(data, "report-card")
    env = make_environment("en", data.options.locale)
    htmls = [render_html(env, data, d) for d in documents]
    weasyprint.HTML(string=htmls[0]).write_pdf(**PDF_OPTIONS)  # warm up fonts, once
    started = time.perf_counter()
    pages = 0
    for html in htmls:
        document = weasyprint.HTML(string=html, base_url=str(ROOT)).render(**PDF_OPTIONS)
        pages += len(document.pages)
        document.write_pdf(**PDF_OPTIONS)
    one_by_one = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        render_documents(data, documents, RenderSettings(out=Path(folder), pdf=True), jobs=jobs)
        parallel = time.perf_counter() - started
    return one_by_one, parallel, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", type=Path, default=ROOT / "examples" / "framework")
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--pdf-students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    framework, _ = load_framework(args.framework)
    print(f"framework {framework.id}: {len(framework.targets)} targets, "
          f"{len(framework.courses)} courses; jobs={args.jobs}")
    if args.students:
        for jobs in sorted({1, args.jobs}):
            seconds = bench_html(framework, args.students, jobs)
            print(f"HTML report cards: {args.students} in {seconds:.2f} s with {jobs} job(s) "
                  f"({seconds / args.students * 1000:.2f} ms each)")
    if args.pdf_students:
        one_by_one, parallel, pages = bench_pdf(framework, args.pdf_students, args.jobs)
        print(f"PDF report cards: {args.pdf_students} ({pages} pages); WeasyPrint one by one "
              f"in one process {one_by_one:.1f} s; mastery report with {args.jobs} jobs "
              f"{parallel:.1f} s; ratio {parallel / one_by_one:.2f}")


if __name__ == "__main__":
    main()
