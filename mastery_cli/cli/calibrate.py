"""`mastery calibrate`: agreement between teachers who scored the same work."""


from pathlib import Path
from typing import Annotated

import typer

from mastery_cli.cli.common import emit, guarded
from mastery_cli.cli.grade_run import print_warnings


@guarded
def calibrate(
    files: Annotated[list[Path], typer.Argument(
        help="Gradebook CSV files with a rater column (long format).", show_default=False)],
    framework_path: Annotated[Path, typer.Option(
        "--framework", help="The framework: a YAML file or a folder of them.",
        show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the result files.",
                                      show_default=False)],
    rubric_paths: Annotated[list[Path] | None, typer.Option(
        "--rubric", help="Rubric file(s) (kind: rubric) whose level language and exemplars "
        "the report shows next to disputed pieces (repeatable).", show_default=False)] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write calibration.pdf (needs "
                                      "WeasyPrint).")] = False,
    title: Annotated[str, typer.Option("--title", help="Heading of calibration.html.")
                     ] = "Calibration",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Measure how far teachers agree when they score the same student work.

    A piece of work is one student x target x assessment x date (or the row's work_id);
    each piece should have ratings from two raters or more (a rater column is required).
    Writes into --out: agreement.csv (per target and ALL: exact and adjacent agreement,
    quadratic-weighted kappa, Krippendorff's alpha nominal/ordinal/interval), raters.csv
    (each rater's bias and agreement), disagreements.csv (pieces rated two levels apart or
    more, with the rubric's exemplars for those levels) and calibration.html for the meeting
    (--pdf: also calibration.pdf). Exit 0 when written, 1 for problems in your files (no
    rater column, a broken rubric), 2 on misuse.

    Examples:

        mastery calibrate examples/calibration/lab-report-session.csv \\
            --framework examples/framework --rubric examples/rubrics/lab-report.yaml \\
            --out out/calibration

        mastery calibrate scores.csv --framework framework/ --out calibration/ --pdf
    """
    from mastery_cli.calibration import calibrate as run_calibration
    from mastery_cli.output import check_output_folder
    from mastery_cli.rubrics import load_rubrics
    from mastery_cli.validation import load_framework

    names = ["agreement.csv", "calibration.html"]
    check_output_folder(out, names, [*files, framework_path, *(rubric_paths or ())])
    if pdf:
        from mastery_cli.reports.pdf import weasyprint_module

        weasyprint_module()  # before any work: exit 2 with the install command
    framework, warnings = load_framework(framework_path)
    rubrics, rubric_warnings = (load_rubrics(rubric_paths, framework) if rubric_paths
                                else ([], []))
    run = run_calibration(files, framework, out, rubrics=rubrics, pdf=pdf,
                          inputs=[framework_path, *(rubric_paths or ())], title=title)
    print_warnings([*warnings, *rubric_warnings, *run.diagnostics])
    if not quiet:
        overall = next((a for a in run.calibration.agreement if a.target == "ALL"), None)
        emit(run.evidence.summary())
        if overall is not None:
            kappa = ("n/a" if overall.kappa_quadratic is None
                     else f"{overall.kappa_quadratic:.3f}")
            alpha = ("n/a" if overall.alpha_ordinal is None
                     else f"{overall.alpha_ordinal:.3f}")
            exact = "n/a" if overall.exact is None else f"{overall.exact:.0%}"
            emit(f"{overall.pieces} pieces ({run.calibration.single_rated} with one rating), "
                 f"{overall.raters} raters, {overall.ratings} ratings: exact agreement {exact}, "
                 f"kappa {kappa}, alpha (ordinal) {alpha}; "
                 f"{len(run.calibration.disputed)} pieces to discuss")
        for path in run.written:
            emit(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
