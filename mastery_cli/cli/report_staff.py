"""`mastery report exemplars` and `mastery report coverage`: the staff documents of `report`.

`report` hands these two kinds over here before it reads any grades: they need no grades
(the exemplar bank reads rubrics; coverage reads the gradebook's evidence as it is).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mastery_cli.cli.common import emit
from mastery_cli.cli.grade_run import print_warnings

STAFF_KINDS = ("exemplars", "coverage")


def report_exemplars(framework_path: Path, rubrics: list[Path], out: Path, *, pdf: bool,
                     lang: str) -> None:
    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.output import check_output_folder
    from mastery_cli.rubrics import load_rubrics
    from mastery_cli.rubrics.bank_report import write_exemplar_bank
    from mastery_cli.validation import load_framework

    if not rubrics:
        raise MasteryError(error(
            "no-rubric", "the exemplar bank needs the rubrics: give --rubric", "--rubric",
            hint="e.g. mastery report exemplars --framework examples/framework "
                 "--rubric examples/rubrics --out out/exemplars"), usage=True)
    check_output_folder(out, ["exemplars.html"], [framework_path, *rubrics])
    _check_pdf(pdf)
    framework, warnings = load_framework(framework_path)
    loaded, rubric_warnings = load_rubrics(rubrics, framework)
    if not loaded:
        raise MasteryError(error("no-rubric", "no rubric (kind: rubric) found in "
                                 + ", ".join(str(r) for r in rubrics), str(rubrics[0])))
    written = write_exemplar_bank(framework, loaded, out, pdf=pdf, lang=lang,
                                  inputs=[framework_path, *rubrics])
    print_warnings([*warnings, *rubric_warnings])
    for path in written:
        emit(f"wrote {path}", err=True)


def report_coverage(scores: list[Path], framework_path: Path, plan_path: Path | None,
                    out: Path, *, pdf: bool, as_of: date | None) -> None:
    from mastery_cli.diagnostics import MasteryError, error
    from mastery_cli.grading.ingest import IngestConfig, read_evidence
    from mastery_cli.output import check_output_folder
    from mastery_cli.planning import load_plan
    from mastery_cli.planning.coverage import coverage
    from mastery_cli.planning.report import write_coverage
    from mastery_cli.validation import load_framework

    if not scores:
        raise MasteryError(error(
            "no-input", "coverage needs the gradebook: pass SCORES.csv files", "SCORES.csv",
            hint="e.g. mastery report coverage examples/gradebook/*.csv --framework "
                 "examples/framework --plan examples/plans/fall-2026.yaml"), usage=True)
    inputs = [*scores, framework_path, *([plan_path] if plan_path else [])]
    check_output_folder(out, ["coverage.csv"], inputs)
    _check_pdf(pdf)
    framework, warnings = load_framework(framework_path)
    plan, plan_warnings = load_plan(plan_path, framework) if plan_path else (None, [])
    evidence = read_evidence(scores, framework, IngestConfig())
    result = coverage(evidence.frame, framework, plan, as_of)
    written = write_coverage(result, framework, plan, out, pdf=pdf, inputs=inputs, as_of=as_of)
    print_warnings([*warnings, *plan_warnings, *evidence.diagnostics])
    emit(evidence.summary(), err=True)
    unscored = [p for p in result.planned if p.status == "no scores yet"]
    emit(f"{len(result.unassessed)} target(s) without summative evidence; "
         f"{len(unscored)} planned assessment(s) without scores yet", err=True)
    for path in written:
        emit(f"wrote {path}", err=True)


def _check_pdf(pdf: bool) -> None:
    if pdf:
        from mastery_cli.reports.pdf import weasyprint_module

        weasyprint_module()  # before any work: exit 2 with the install command
