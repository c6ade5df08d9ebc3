"""What `mastery grade` does once its options are known: load, grade, write, report.

The body of the typer command (mastery_cli/cli/grade.py), kept apart from the option
definitions. The grading modules, pandas and rich are imported inside the functions that need
them, so `mastery grade --help` and the other commands do not pay for them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastery_cli.cli.common import emit

if TYPE_CHECKING:
    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.pipeline import GradeCounts
    from mastery_cli.grading.policy import Policy
    from mastery_cli.grading.summary import RunSummary

#: Inputs larger than this (bytes, all files together) get a progress bar on a terminal.
PROGRESS_BYTES = 20_000_000
INPUT_FORMATS = ("auto", "long", "wide", "canvas-results", "canvas-lmgb", "mapped")
#: --format of grade: csv; json (grades.json too); parquet (the result files as Parquet).
OUTPUT_KINDS = ("csv", "json", "parquet")
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class GradeOptions:
    """The options of ``mastery grade``, already checked (``input_format`` in INPUT_FORMATS,
    ``output_kind`` in OUTPUT_KINDS)."""

    files: Sequence[Path]
    framework: Path
    out: Path
    policy: Path | None = None
    input_format: str = "auto"
    canvas_outcomes: Path | None = None
    keep_duplicates: bool = False
    method: str | None = None
    params: Sequence[str] = ()
    output_kind: str = "csv"
    quiet: bool = False
    strict: bool = False
    #: Files read from another place, by the name to show (see `ingest.IngestConfig`).
    shown_as: Mapping[str, str] = field(default_factory=dict)
    engine: str = "duckdb"
    memory_limit: str | None = None
    threads: int | None = None
    temp_dir: Path | None = None
    spark_remote: str | None = None


def load_inputs(framework_path: Path, policy_path: Path | None, method: str | None,
                params: Sequence[str]) -> tuple[Framework, Policy, list[Diagnostic]]:
    """The framework and the policy (--policy, then --method and --param), with warnings."""
    from mastery_cli.grading.policy import apply_options
    from mastery_cli.grading.policy_check import load_policy
    from mastery_cli.validation import load_framework

    framework, warnings = load_framework(framework_path)
    policy = None
    if policy_path is not None:
        policy, policy_warnings = load_policy(policy_path, framework)
        warnings = [*warnings, *policy_warnings]
    policy = apply_options(policy, method, list(params))
    return framework, policy, list(warnings)


def canvas_map(framework: Framework, outcomes: Path | None) -> dict[str, str] | None:
    """--canvas-outcomes as an outcome map (None without the option)."""
    if outcomes is None:
        return None
    from mastery_cli.interop.canvas_outcomes import canvas_outcome_map

    return canvas_outcome_map(framework, outcomes)


def print_warnings(diagnostics: Sequence[Diagnostic], limit: int = 40) -> None:
    from mastery_cli.diagnostics import render_text, sorted_diagnostics

    shown = sorted_diagnostics(diagnostics)
    for diagnostic in shown[:limit]:
        emit(render_text(diagnostic), err=True)
    if len(shown) > limit:
        emit(f"... and {len(shown) - limit} more warnings", err=True)


def run_grade(options: GradeOptions) -> int:
    """Grade, write the outputs, print warnings and the summary; the exit code (0, or 1 under
    --strict). Raises MasteryError when the files or the policy cannot be used."""
    from mastery_cli.grading.engine.run import grade_run
    from mastery_cli.grading.engine.session import EngineOptions
    from mastery_cli.grading.engine.sink import file_names
    from mastery_cli.grading.pipeline import ingest_config
    from mastery_cli.output import OutputFolder, check_output_folder

    json_too = options.output_kind == "json"
    output_format = "parquet" if options.output_kind == "parquet" else "csv"
    inputs = [*options.files, options.framework, *(p for p in (
        options.policy, options.canvas_outcomes) if p is not None)]
    names = [*file_names(output_format), *(["grades.json"] if json_too else [])]
    check_output_folder(options.out, names, inputs)  # before any work
    framework, policy, warnings = load_inputs(options.framework, options.policy,
                                              options.method, options.params)
    size = sum(f.stat().st_size for f in options.files if f.is_file())
    show_progress = size > PROGRESS_BYTES and not options.quiet and sys.stderr.isatty()
    outcome_map = canvas_map(framework, options.canvas_outcomes)
    input_format = None if options.input_format == "auto" else options.input_format
    config = ingest_config(policy, input_format=input_format,
                           keep_duplicates=options.keep_duplicates, outcome_map=outcome_map,
                           shown_as=options.shown_as)
    engine = EngineOptions(engine=options.engine, memory_limit=options.memory_limit,
                           threads=options.threads, temp_directory=options.temp_dir,
                           spark_remote=options.spark_remote)
    with OutputFolder(options.out, names=names, inputs=inputs) as folder:
        with Steps(enabled=show_progress) as steps:
            outcome = grade_run(options.files, framework, policy, config, folder.staging,
                                options=engine, output_format=output_format,
                                whole_result=json_too, on_step=steps.step)
            if outcome.result is not None:
                from mastery_cli.grading.json_output import JSON_FILE, grades_json_chunks
                from mastery_cli.output import write_chunks_atomic

                write_chunks_atomic(folder.staging / JSON_FILE,
                                    grades_json_chunks(outcome.result))
        summary = None
        if not options.quiet:
            from mastery_cli.grading.summary import RunSummary

            summary = RunSummary.of_run(outcome.counts, outcome.tally)
        # All the files, in place together.
        written = folder.commit()
    diagnostics = [*warnings, *outcome.diagnostics]
    print_warnings(diagnostics)
    if summary is not None:
        print_summary(summary, written, framework)
    return strict_exit_code(outcome.counts, diagnostics) if options.strict else 0


def strict_exit_code(counts: GradeCounts, diagnostics: Sequence[Diagnostic]) -> int:
    """--strict: 1 (saying why) when a row was rejected or a warning (or worse) was raised.

    The reader's note about dropped duplicates is a warning, but a duplicate is set aside, not
    rejected (``READER_SET_ASIDE``), so it does not fail a strict run.
    """
    from mastery_cli.diagnostics import Severity
    from mastery_cli.grading.pipeline import READER_SET_ASIDE

    raised = sum(1 for d in diagnostics
                 if d.severity != Severity.INFO and d.code not in READER_SET_ASIDE)
    rejected = counts.rejected
    if rejected or raised:
        emit(f"--strict: {rejected} row{'s' if rejected != 1 else ''} rejected, {raised} "
             f"warning{'s' if raised != 1 else ''}; outputs written, exit 1", err=True)
        return 1
    return 0


class Steps:
    """A progress bar over the pipeline's steps, only on a terminal and for large inputs."""

    NAMES = ("read", "grade", "roll up", "write")

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None

    def __enter__(self) -> Steps:
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


def print_summary(summary: RunSummary, written: Sequence[Path],
                  framework: Framework | None = None) -> None:
    """Counts, level distribution per competency, where the files went (rich, for people).

    With the ``framework``, one table per rating scale, each level headed by its number and
    label ("3 Proficient"); without, one table headed by level numbers."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    console = Console(highlight=False)
    print_row_accounting(summary, console)
    for title, headers, rows in _level_tables(summary, framework):
        # Light rules leave 80 columns room for the level labels ("2 Developing").
        table = RichTable(title=title, title_justify="left", box=box.SIMPLE_HEAD,
                          show_edge=False, pad_edge=False)
        table.add_column("competency", no_wrap=True)
        for header in headers:
            table.add_column(escape(header), justify="right", no_wrap=True)
        table.add_column("no result", justify="right", no_wrap=True)
        for competency, counts, no_result in rows:
            table.add_row(escape(competency), *(str(n) for n in counts), str(no_result))
        console.print(table)
    console.print(f"Wrote {len(written)} files to {escape(str(written[0].parent))}"
                  if written else "Nothing written")


def _level_tables(summary: RunSummary, framework: Framework | None
                  ) -> list[tuple[str, list[str], list[tuple[str, list[int], int]]]]:
    """(title, level headers, rows) of each table of `print_summary`."""
    from mastery_cli.framework.model import level_key

    if not summary.level_rows:
        return []
    scales: dict[str, Any] = {}
    grouped: dict[str, list[Any]] = {}
    for row in summary.level_rows:
        competency = framework.competencies.get(row.competency) if framework else None
        scale = framework.scale_of(competency) if framework and competency else None
        key = scale.id if scale is not None else ""
        scales.setdefault(key, scale)
        grouped.setdefault(key, []).append(row)
    if "" in grouped:  # a competency the framework does not rate: the plain table
        return [("Levels per competency", [level_key(v) for v in summary.levels],
                 [(r.competency, list(r.counts), r.no_result) for r in summary.level_rows])]
    tables = []
    default = framework.default_scale if framework else None
    # The academic (default) scale first, the others in the order their competencies come.
    for key, rows in sorted(grouped.items(), key=lambda item: scales[item[0]] is not default):
        scale = scales[key]
        # The levels this scale's competencies reached, as the plain table shows them.
        values = sorted({v for r in rows for v, n in zip(summary.levels, r.counts, strict=True)
                         if n})
        labels = {lv.value: framework.text(lv.label) if framework else "" for lv in scale.levels}
        at = [summary.levels.index(v) if v in summary.levels else -1 for v in values]
        title = framework.text(scale.title) if framework and scale.title else scale.id
        tables.append((
            f"Levels per competency: {title}",
            [f"{level_key(v)} {labels.get(v, '')}".strip() for v in values],
            [(r.competency, [r.counts[i] if i >= 0 else 0 for i in at], r.no_result)
             for r in rows]))
    return tables


def print_row_accounting(summary: RunSummary, console: Any = None) -> None:
    """Where every row went (read = used + set aside + rejected), the results made and why
    rows were not used: the first lines of `print_summary`, which `mastery report` prints too
    when it grades SCORES.csv itself. ``console``: a rich Console (stdout's when None)."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(highlight=False)
    counts = summary.counts
    duplicates = counts.duplicates_dropped
    console.print(
        f"[bold]{counts.rows_read}[/] {'row' if counts.rows_read == 1 else 'rows'} read = "
        f"[green]{counts.used}[/] used + "
        f"[yellow]{counts.set_aside}[/] set aside + [red]{counts.rejected}[/] rejected"
        + (f" ({duplicates} duplicate{'s' if duplicates != 1 else ''} dropped)"
           if duplicates else ""),
        soft_wrap=True,
    )
    from mastery_cli.plurals import counted

    console.print(", ".join((
        counted(summary.students, "student", "students"),
        counted(summary.target_results, "target result", "target results"),
        counted(summary.competency_results, "competency result", "competency results"),
        counted(summary.course_grades, "course grade", "course grades"))))
    if summary.not_used:
        console.print("Not used: " + ", ".join(f"{escape(reason)} {count}"
                                               for reason, count in summary.not_used),
                      soft_wrap=True)
