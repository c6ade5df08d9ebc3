"""`mastery grade` and `mastery explain`: options and help texts.

What grade does once its options are parsed is `grade_run.run_grade`.
"""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mastery_cli.cli.common import emit, guarded
from mastery_cli.cli.grade_run import (
    ENGINES,
    INPUT_FORMATS,
    OUTPUT_KINDS,
    GradeOptions,
    canvas_map,
    load_inputs,
    print_warnings,
    run_grade,
)

FilesArg = Annotated[
    list[Path], typer.Argument(help="Gradebook files: CSV exports (long, wide, Canvas) or Parquet.",
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
                                   "repeatable: weight=0.75, n=3, min_evidence=2, places=1, "
                                   "undated=first.",
                                   show_default=False)
]
CanvasOutcomesOpt = Annotated[
    Path | None, typer.Option(
        "--canvas-outcomes", help="Canvas's outcomes CSV (exported from Canvas, or written by "
        "'mastery export canvas-outcomes'): maps Canvas outcome ids, names and 'group > title' "
        "paths to targets, on top of the policy's input.outcome_map (the policy wins).",
        show_default=False)
]
RubricOpt = Annotated[
    list[Path] | None, typer.Option(
        "--rubric", help="Rubric file (kind: rubric, repeatable) for rubric-scored files: a "
        "file with a criterion column (and no target column) becomes evidence on each "
        "criterion's target.", show_default=False)
]
InputFormatOpt = Annotated[
    str, typer.Option("--input-format", help="auto, long, wide, canvas-results, canvas-lmgb "
                      "or mapped.")
]


def _memory_limit(value: str) -> str:
    """--memory-limit as DuckDB reads it: a number and a unit (4GB, 500MB, 1.5GiB)."""
    import re

    text = value.strip().replace(" ", "")
    if not re.fullmatch(r"\d+(\.\d+)?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text, re.IGNORECASE):
        raise typer.BadParameter(f"{value!r} is not an amount of memory; write it like 4GB or "
                                 "500MB", param_hint="--memory-limit")
    return text


def _check_input_format(value: str) -> str:
    if value not in INPUT_FORMATS:
        raise typer.BadParameter(f"choose one of: {', '.join(INPUT_FORMATS)}",
                                 param_hint="--input-format")
    return value


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
        "--format", help="csv; json to also write grades.json; parquet to write the result "
        "files as Parquet (large runs).")] = "csv",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 (after writing the outputs) when any row was rejected or any "
        "warning was raised.")] = False,
    rubric: RubricOpt = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="duckdb (in this process, out of core past --memory-limit) or spark "
        "(the grading on a Spark cluster; pip install 'mastery-cli[spark]').",
        rich_help_panel="Large data")] = "duckdb",
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit", help="Memory the engine may use before it spills to disk, e.g. 4GB "
        "(default: a quarter of RAM).", show_default=False, rich_help_panel="Large data")] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="Engine threads (default: every core).", show_default=False,
        rich_help_panel="Large data")] = None,
    temp_dir: Annotated[Path | None, typer.Option(
        "--temp-dir", help="Folder the engine spills to past --memory-limit (default: a "
        "temporary folder).", show_default=False, rich_help_panel="Large data")] = None,
    spark_remote: Annotated[str | None, typer.Option(
        "--spark-remote", help="With --engine spark: a Spark Connect address "
        "(sc://host:15002) or a master URL (spark://host:7077, local[4]); default "
        "SPARK_REMOTE, else local mode.", show_default=False,
        rich_help_panel="Large data")] = None,
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

        mastery grade scores.csv --framework framework/ --method n_mastery \\
            --param n=3 --param min_evidence=2 --out out/ --format json

        mastery grade scores.csv --framework framework/ --policy policy.yaml \\
            --out out/ --strict

        mastery grade outcome_results.csv --framework framework/ --canvas-outcomes \\
            canvas_outcomes.csv --out out/

        mastery grade examples/gradebook/*.csv examples/tasks/*.csv \\
            --rubric examples/rubrics/modelling-task.yaml \\
            --framework examples/framework --policy examples/policy.yaml \\
            --out out/grades

        mastery grade state-evidence.parquet --framework framework/ \\
            --policy policy.yaml --memory-limit 4GB --format parquet --out out/

        mastery grade evidence.csv --framework framework/ --engine spark \\
            --spark-remote sc://spark.district.org:15002 --out out/
    """
    _check_input_format(input_format)
    if output_kind not in OUTPUT_KINDS:
        raise typer.BadParameter("choose csv, json or parquet", param_hint="--format")
    if engine not in ENGINES:
        raise typer.BadParameter("choose duckdb or spark", param_hint="--engine")
    if memory_limit is not None:
        memory_limit = _memory_limit(memory_limit)
    with _rubric_scored(files, framework, rubric) as graded_files:
        code = run_grade(GradeOptions(
            files=tuple(graded_files), framework=framework, out=out, policy=policy,
            input_format=input_format, canvas_outcomes=canvas_outcomes,
            keep_duplicates=keep_duplicates, method=method, params=tuple(param or ()),
            output_kind=output_kind, quiet=quiet, strict=strict,
            shown_as=_shown_as(graded_files, files), engine=engine,
            memory_limit=memory_limit, threads=threads, temp_dir=temp_dir,
            spark_remote=spark_remote,
        ))
    if code:
        raise typer.Exit(code)


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
    rubric: RubricOpt = None,
    learners: Annotated[list[Path] | None, typer.Option(
        "--learners", help="Learner records (files or folders): then TARGET may be one of the "
        "student's goal ids, and its pace against the plan is explained.",
        show_default=False)] = None,
    as_of: Annotated[str | None, typer.Option(
        "--date", help="With a goal: the day pace is measured on, YYYY-MM-DD (default: today).",
        show_default=False)] = None,
    audience: Annotated[
        str, typer.Option("--for", help="teacher (every row, code and step) or family (plain "
                          "sentences, the report card's numbers, in --lang).")
    ] = "teacher",
    lang: Annotated[
        str, typer.Option("--lang", help="With --for family: en or es (a region such as es-MX "
                          "sets number and date formats; default: the framework's region).")
    ] = "en",
) -> None:
    """Explain one result: how a level, a course grade or a goal's pace came about.

    For a teacher: the evidence used in order, what was set aside and why, the method, the
    arithmetic and the resulting level (or, for a course, the rule that decided it; for a goal
    of the student's learning plan, its pace). With --for family: the same result in plain
    sentences in the family's language, with the report card's numbers and no codes.

    Examples:

        mastery explain 0041066 MATH.ALG.2 examples/gradebook/*.csv \\
            --framework examples/framework --policy examples/policy.yaml

        mastery explain 0041066 ALG1 examples/gradebook/*.csv \\
            --framework examples/framework --policy examples/policy.yaml \\
            --for family --lang es

        mastery explain 0041066 ALG1 scores.csv --framework framework/ \\
            --method highest

        mastery explain 0041066 catch-up examples/gradebook/*.csv \\
            --framework examples/framework --policy examples/policy.yaml \\
            --learners examples/learners --date 2027-01-29
    """
    from mastery_cli.grading.explain import explain_result
    from mastery_cli.grading.ingest import REASON_CODES
    from mastery_cli.grading.pipeline import grade as grade_files

    _check_input_format(input_format)
    if audience not in ("teacher", "family"):
        raise typer.BadParameter("choose teacher or family", param_hint="--for")
    if audience == "teacher" and lang != "en":
        raise typer.BadParameter("the teacher's explanation is in English; add --for family "
                                 "for a family's language", param_hint="--lang")
    if audience == "family":
        from mastery_cli.reports.i18n import parse_language

        parse_language(lang)  # an unknown language is a usage error before any work
    loaded_framework, loaded_policy, warnings = load_inputs(framework, policy, method,
                                                            param or ())
    with _rubric_scored(files, framework, rubric) as graded_files:
        result = grade_files(graded_files, loaded_framework, loaded_policy,
                             input_format=None if input_format == "auto" else input_format,
                             only_student=student,
                             outcome_map=canvas_map(loaded_framework, canvas_outcomes),
                             shown_as=_shown_as(graded_files, files))
    # The explanation lists this student's rejected rows itself; the reader's warnings about
    # single rows (any student's) would repeat them or be about someone else. The rest (the
    # policy, the files, ids with lost zeros) bear on every result, this one too.
    row_codes = set(REASON_CODES.values())
    print_warnings([*warnings, *(d for d in result.diagnostics if d.code not in row_codes)])
    if learners:
        goal_text = _goal_explanation(result, loaded_framework, learners, student, subject, as_of)
        if goal_text is not None:
            emit(goal_text)
            return
    text = explain_result(result, student, subject)  # also: an unknown student or subject
    emit(text if audience == "teacher" else _family_text(result, student, subject, lang))


def _family_text(result: Any, student: str, subject: str, lang: str) -> str:
    """The family's explanation, from the grades.json document `mastery report` reads."""
    from datetime import date

    from mastery_cli.grading.outputs import grades_document
    from mastery_cli.reports import ReportData, ReportOptions
    from mastery_cli.reports.family_explain import family_explanation
    from mastery_cli.reports.i18n import parse_language, with_region

    language, locale = parse_language(lang)
    locale = with_region(language, locale, result.framework.region)
    data = ReportData(grades_document(result), result.framework,
                      ReportOptions(language, locale, date.today()))
    return family_explanation(data, student, subject)


def _shown_as(graded: list[Path], given: list[Path]) -> dict[str, str]:
    """The files given, by the converted file each was read from (one for one, in order)."""
    return {str(read): str(name) for read, name in zip(graded, given, strict=True)
            if read != name}


@contextmanager
def _rubric_scored(files: list[Path], framework: Path, rubrics: list[Path] | None
                   ) -> Iterator[list[Path]]:
    """The files to grade: with --rubric, rubric-scored files converted to evidence rows (see
    mastery_cli/rubrics/evidence.py), their problems printed; else ``files`` as given."""
    if not rubrics:
        yield files
        return
    from mastery_cli.rubrics import load_rubrics
    from mastery_cli.rubrics.evidence import rubric_evidence
    from mastery_cli.validation import load_framework

    loaded_framework, _ = load_framework(framework)
    loaded, rubric_warnings = load_rubrics(rubrics, loaded_framework)
    with rubric_evidence(files, loaded, loaded_framework) as (converted, problems):
        print_warnings([*rubric_warnings, *problems])
        yield converted


def _goal_explanation(result: object, framework: object, learners: list[Path], student: str,
                      goal_id: str, as_of: str | None) -> str | None:
    """The pace of the student's goal ``goal_id``; None when it is not one of their goals."""
    from datetime import date

    from mastery_cli.grading.outputs import grades_document
    from mastery_cli.learner.load import load_learners
    from mastery_cli.learner.pace import explain_pace, student_paces

    records, _ = load_learners(learners, framework)  # type: ignore[arg-type]
    record = next((r for r in records if r.student_id == student), None)
    goals = [g for g in (record.goals if record else []) if g.id == goal_id]
    if not goals:
        return None
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise typer.BadParameter(f"{as_of!r} is not a date like 2027-01-29",
                                 param_hint="--date") from None
    document = grades_document(result)  # type: ignore[arg-type]
    entry = next((s for s in document.get("students", []) if str(s.get("id")) == student), None)
    paces = student_paces(goals, entry, framework, day)
    if not paces:
        return f"Goal '{goal_id}' ({goals[0].arena}) is not an academic goal: it has no pace."
    return explain_pace(paces[0])


def register(app: typer.Typer) -> None:
    app.command("grade")(grade)
    app.command("explain")(explain)
