"""`mastery grade` and `mastery explain`: options, the terminal summary and the progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastery_cli.cli.common import emit, guarded

if TYPE_CHECKING:
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.pipeline import GradeResult
    from mastery_cli.grading.policy import Policy

#: Inputs larger than this (bytes, all files together) get a progress bar on a terminal.
PROGRESS_BYTES = 20_000_000
INPUT_FORMATS = ("auto", "long", "wide", "canvas-results", "canvas-lmgb", "mapped")

FilesArg = Annotated[
    list[Path], typer.Argument(help="Gradebook CSV files (long, wide or Canvas exports).",
                               show_default=False)
]
FrameworkOpt = Annotated[
    Path, typer.Option("--framework", help="The framework: a YAML file or a folder of them.",
                       show_default=False)
]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="A grading policy file (kind: policy).",
                              show_default=False)
]
MethodOpt = Annotated[
    str | None, typer.Option("--method", help="Calculation method, e.g. highest, "
                             "decaying_average, n_mastery, power_law (overrides the policy's).",
                             show_default=False)
]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="KEY=VALUE for the method or the policy, "
                                   "repeatable: weight=0.75, n=3, min_evidence=2, places=1.",
                                   show_default=False)
]
CanvasOutcomesOpt = Annotated[
    Path | None, typer.Option(
        "--canvas-outcomes", help="Canvas's outcomes CSV (exported from Canvas, or written by "
        "'mastery export canvas-outcomes'): maps Canvas outcome ids, names and 'group > title' "
        "paths to targets, on top of the policy's input.outcome_map (the policy wins).",
        show_default=False)
]
InputFormatOpt = Annotated[
    str, typer.Option("--input-format", help="auto, long, wide, canvas-results, canvas-lmgb "
                      "or mapped.")
]


def _check_input_format(value: str) -> str:
    if value not in INPUT_FORMATS:
        raise typer.BadParameter(f"choose one of: {', '.join(INPUT_FORMATS)}",
                                 param_hint="--input-format")
    return value


def _load(framework_path: Path, policy_path: Path | None, method: str | None,
          params: list[str] | None) -> tuple[Framework, Policy, list[Any]]:
    from mastery_cli.grading.policy import apply_options
    from mastery_cli.grading.policy_check import load_policy
    from mastery_cli.validation import load_framework

    framework, warnings = load_framework(framework_path)
    policy = None
    if policy_path is not None:
        policy, policy_warnings = load_policy(policy_path, framework)
        warnings = [*warnings, *policy_warnings]
    policy = apply_options(policy, method, params or [])
    return framework, policy, warnings


def canvas_map(framework: Framework, outcomes: Path | None) -> dict[str, str] | None:
    """--canvas-outcomes as an outcome map (None without the option)."""
    if outcomes is None:
        return None
    from mastery_cli.interop.canvas_outcomes import canvas_outcome_map

    return canvas_outcome_map(framework, outcomes)


def _print_warnings(diagnostics: list[Any], limit: int = 40) -> None:
    from mastery_cli.diagnostics import render_text, sorted_diagnostics

    shown = sorted_diagnostics(diagnostics)
    for diagnostic in shown[:limit]:
        emit(render_text(diagnostic), err=True)
    if len(shown) > limit:
        emit(f"... and {len(shown) - limit} more warnings", err=True)


@guarded
def grade(
    files: FilesArg,
    framework: FrameworkOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the result files.",
                                      show_default=False)],
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = "auto",
    canvas_outcomes: CanvasOutcomesOpt = None,
    keep_duplicates: Annotated[bool, typer.Option(
        "--keep-duplicates", help="Keep exact duplicate rows (dropped by default).")] = False,
    method: MethodOpt = None,
    param: ParamOpt = None,
    output_kind: Annotated[str, typer.Option(
        "--format", help="csv, or json to also write grades.json.")] = "csv",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 (after writing the outputs) when any row was rejected or any "
        "warning was raised.")] = False,
) -> None:
    """Compute mastery grades from gradebook exports: targets, competencies, courses, progress.

    Writes target_grades.csv, competency_grades.csv, course_grades.csv, progress.csv and
    rejects.csv (every row not used, with the reason) into --out; with --format json also
    grades.json. Without --policy the method is a decaying average (weight 0.65); --method and
    --param change it. Exit 0 when graded, 1 when the files or the policy have errors.
    Rejected rows (unknown target, off-scale or non-numeric score, bad date) are warnings and
    the run still exits 0; with --strict it exits 1 after writing the outputs when any row was
    rejected or any warning was raised (blank scores, excused work, duplicates and rows the
    policy filters out are set aside, not rejected).

    Examples:

        mastery grade examples/gradebook/*.csv --framework examples/framework \\
            --policy examples/policy.yaml --out out/grades

        mastery grade scores.csv --framework framework/ --method n_mastery --param n=3 \\
            --param min_evidence=2 --out out/ --format json

        mastery grade scores.csv --framework framework/ --policy policy.yaml --out out/ \\
            --strict

        mastery grade outcome_results.csv --framework framework/ --canvas-outcomes \\
            canvas_outcomes.csv --out out/
    """
    from mastery_cli.grading.outputs import write_outputs
    from mastery_cli.grading.pipeline import grade as run_grade

    _check_input_format(input_format)
    if output_kind not in ("csv", "json"):
        raise typer.BadParameter("choose csv or json", param_hint="--format")
    loaded_framework, loaded_policy, warnings = _load(framework, policy, method, param)
    size = sum(f.stat().st_size for f in files if f.is_file())
    with _Steps(enabled=size > PROGRESS_BYTES and sys.stderr.isatty() and not quiet) as steps:
        result = run_grade(
            files, loaded_framework, loaded_policy,
            input_format=None if input_format == "auto" else input_format,
            keep_duplicates=keep_duplicates, on_step=steps.step,
            outcome_map=canvas_map(loaded_framework, canvas_outcomes),
        )
        steps.step("write")
        written = write_outputs(result, out, json_too=output_kind == "json")
    _print_warnings([*warnings, *result.diagnostics])
    if not quiet:
        _summary(result, written)
    if strict:
        _exit_if_not_clean(result, [*warnings, *result.diagnostics])


def _exit_if_not_clean(result: GradeResult, diagnostics: list[Any]) -> None:
    """--strict: exit 1 when a row was rejected or a warning (or worse) was raised.

    The reader's note about dropped duplicates is a warning, but a duplicate is set aside, not
    rejected (``READER_SET_ASIDE``), so it does not fail a strict run.
    """
    from mastery_cli.diagnostics import Severity
    from mastery_cli.grading.pipeline import READER_SET_ASIDE

    raised = sum(1 for d in diagnostics
                 if d.severity != Severity.INFO and d.code not in READER_SET_ASIDE)
    rejected = result.counts.rejected
    if rejected or raised:
        emit(f"--strict: {rejected} row{'s' if rejected != 1 else ''} rejected, {raised} "
             f"warning{'s' if raised != 1 else ''}; outputs written, exit 1", err=True)
        raise typer.Exit(1)


class _Steps:
    """A progress bar over the pipeline's steps, only on a terminal and for large inputs."""

    NAMES = ("read", "grade", "roll up", "write")

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     TimeElapsedColumn(), transient=True)
            self.progress.start()
            self.task = self.progress.add_task("grading", total=len(self.NAMES))
        return self

    def step(self, name: str) -> None:
        if self.progress is not None:
            done = self.NAMES.index(name) if name in self.NAMES else 0
            self.progress.update(self.task, completed=done, description=name)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _summary(result: GradeResult, written: list[Path]) -> None:
    """Counts, level distribution per competency, where the files went (rich, for people)."""
    import pandas as pd
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from mastery_cli.framework.model import level_key

    console = Console(highlight=False)
    counts = result.counts
    duplicates = counts.duplicates_dropped
    console.print(
        f"[bold]{counts.rows_read}[/] rows read = [green]{counts.used}[/] used + "
        f"[yellow]{counts.set_aside}[/] set aside + [red]{counts.rejected}[/] rejected"
        + (f" ({duplicates} duplicate{'s' if duplicates != 1 else ''} dropped)"
           if duplicates else ""),
        soft_wrap=True,
    )
    students = result.targets["student_id"].nunique()
    console.print(f"{students} students, {len(result.targets)} target results, "
                  f"{len(result.competencies)} competency results, "
                  f"{len(result.courses)} course grades")
    if len(result.set_aside) or len(result.rejects):
        reasons = pd.concat([result.set_aside["reason"], result.rejects["reason"]])
        tally = reasons.value_counts().sort_index()
        console.print("Not used: " + ", ".join(f"{escape(str(k))} {v}"
                                               for k, v in tally.items()), soft_wrap=True)
    competencies = result.competencies
    if len(competencies):
        levels = sorted(competencies["level"].dropna().unique().tolist())
        table = Table(title="Levels per competency", title_justify="left")
        table.add_column("competency")
        for level in levels:
            table.add_column(level_key(level), justify="right")
        table.add_column("no result", justify="right")
        for competency_id, rows in competencies.groupby("competency", sort=True):
            tally = rows["level"].value_counts()
            cells = [str(int(tally.get(level, 0))) for level in levels]
            table.add_row(escape(str(competency_id)), *cells,
                          str(int((rows["status"] != "ok").sum())))
        console.print(table)
    console.print(f"Wrote {len(written)} files to {escape(str(written[0].parent))}"
                  if written else "Nothing written")


@guarded
def explain(
    student: Annotated[str, typer.Argument(help="Student id (as in the files).",
                                           show_default=False)],
    subject: Annotated[str, typer.Argument(
        metavar="TARGET", help="A target, competency or course id.", show_default=False)],
    files: FilesArg,
    framework: FrameworkOpt,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = "auto",
    canvas_outcomes: CanvasOutcomesOpt = None,
    method: MethodOpt = None,
    param: ParamOpt = None,
) -> None:
    """Explain one result: the evidence used in order, what was set aside and why, the method,
    the arithmetic and the resulting level (or, for a course, the rule that decided it).

    Examples:

        mastery explain 0041066 MATH.ALG.2 examples/gradebook/*.csv \\
            --framework examples/framework --policy examples/policy.yaml

        mastery explain 0041066 ALG1 scores.csv --framework framework/ --method highest
    """
    from mastery_cli.grading.explain import explain_result
    from mastery_cli.grading.pipeline import grade as run_grade

    _check_input_format(input_format)
    loaded_framework, loaded_policy, _ = _load(framework, policy, method, param)
    result = run_grade(files, loaded_framework, loaded_policy,
                       input_format=None if input_format == "auto" else input_format,
                       only_student=student,
                       outcome_map=canvas_map(loaded_framework, canvas_outcomes))
    emit(explain_result(result, student, subject))


def register(app: typer.Typer) -> None:
    app.command("grade")(grade)
    app.command("explain")(explain)
