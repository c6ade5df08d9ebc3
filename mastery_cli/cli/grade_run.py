"""What `mastery grade` does once its options are known: load, grade, write, report.

Both ways into ``mastery grade`` call `run_grade`: the typer command (mastery_cli/cli/grade.py)
and the start-up fast path (mastery_cli/cli/fast_grade.py), so what they print and how they exit
is the same by construction.

No typer, click or rich at import time, and no pandas anywhere: this module runs before (or
instead of) the CLI framework, and ``mastery grade -q`` at a million rows has about half a second
in all, which ``import pandas`` alone would take half of. rich is imported only for the summary
(without ``-q``) and for the progress bar (on a terminal, for big inputs).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.pipeline import GradeResult
    from mastery_cli.grading.policy import Policy
    from mastery_cli.grading.table import Table

#: Inputs larger than this (bytes, all files together) get a progress bar on a terminal.
PROGRESS_BYTES = 20_000_000
INPUT_FORMATS = ("auto", "long", "wide", "canvas-results", "canvas-lmgb", "mapped")
#: --format of grade: what is written besides the CSV files.
OUTPUT_KINDS = ("csv", "json")


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


def emit(text: str, *, err: bool = False) -> None:
    # The same as cli.common.emit, which cannot be imported here (it imports typer).
    stream = sys.stderr if err else sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


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
    from mastery_cli.grading.outputs import OutputWriter
    from mastery_cli.grading.pipeline import grade

    framework, policy, warnings = load_inputs(options.framework, options.policy,
                                              options.method, options.params)
    size = sum(f.stat().st_size for f in options.files if f.is_file())
    show_progress = size > PROGRESS_BYTES and not options.quiet and sys.stderr.isatty()
    with (Steps(enabled=show_progress) as steps,
          OutputWriter(options.out, json_too=options.output_kind == "json") as writer):
        result = grade(
            options.files, framework, policy,
            input_format=None if options.input_format == "auto" else options.input_format,
            keep_duplicates=options.keep_duplicates, on_step=steps.step,
            outcome_map=canvas_map(framework, options.canvas_outcomes),
            on_unused_rows=lambda unused: writer.unused_rows_ready(unused, policy.places),
            on_first_results=lambda first: writer.first_results_ready(first, policy.places),
        )
        steps.step("write")
        written = writer.finish(result)
    diagnostics = [*warnings, *result.diagnostics]
    print_warnings(diagnostics)
    if not options.quiet:
        print_summary(result, written)
    return strict_exit_code(result, diagnostics) if options.strict else 0


def strict_exit_code(result: GradeResult, diagnostics: Sequence[Diagnostic]) -> int:
    """--strict: 1 (saying why) when a row was rejected or a warning (or worse) was raised.

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


# ------------------------------------------------------------------------------------ summary
# Counted on the result's tables with numpy: the DataFrames (``result.targets``...) would import
# pandas and convert every table, which costs more than grading does.


def _distinct_count(table: Table, name: str) -> int:
    """How many different texts ``name`` holds (a missing value counts as "")."""
    import numpy as np

    from mastery_cli.grading.table import text_codes

    if not len(table):
        return 0
    codes, _ = text_codes(table.coded(name))
    return int(np.unique(codes).size)


def _text_tally(tables: Sequence[Table], name: str) -> list[tuple[str, int]]:
    """(text, rows) of column ``name`` over ``tables``, in text order, texts present only."""
    import numpy as np

    from mastery_cli.grading.table import text_codes

    tally: dict[str, int] = {}
    for table in tables:
        if not len(table):
            continue
        codes, texts = text_codes(table.coded(name))
        counts = np.bincount(codes, minlength=len(texts)).tolist()
        for text, count in zip(texts, counts, strict=True):
            if count:
                tally[text] = tally.get(text, 0) + count
    return sorted(tally.items())


def level_counts(competencies: Table) -> tuple[list[float], list[tuple[str, list[int], int]]]:
    """The levels reached, and per competency (in id order) the count of each level and of
    results that are not "ok"."""
    import numpy as np

    from mastery_cli.grading.table import text_codes

    if not len(competencies):
        return [], []
    level = np.asarray(competencies.array("level"), dtype=np.float64)
    known = ~np.isnan(level)
    levels = np.unique(level[known])
    ids, texts = text_codes(competencies.coded("competency"))
    present = np.unique(ids)
    row_of = np.searchsorted(present, ids)
    width = len(levels) + 1  # the last cell counts the results that are not "ok"
    cells = np.zeros((len(present), width), dtype=np.int64)
    np.add.at(cells, (row_of[known], np.searchsorted(levels, level[known])), 1)
    not_ok = ~competencies.coded("status").equals_text("ok")
    cells[:, -1] = np.bincount(row_of[not_ok], minlength=len(present))
    rows = [(texts[code], counts[:-1], counts[-1])
            for code, counts in zip(present.tolist(), cells.tolist(), strict=True)]
    return levels.tolist(), rows


def print_summary(result: GradeResult, written: Sequence[Path]) -> None:
    """Counts, level distribution per competency, where the files went (rich, for people)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    from mastery_cli.framework.model import level_key

    tables = result.tables
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
    students = _distinct_count(tables.targets, "student_id")
    console.print(f"{students} students, {len(tables.targets)} target results, "
                  f"{len(tables.competencies)} competency results, "
                  f"{len(tables.courses)} course grades")
    tally = _text_tally([tables.set_aside, tables.rejects], "reason")
    if tally:
        console.print("Not used: " + ", ".join(f"{escape(reason)} {count}"
                                               for reason, count in tally), soft_wrap=True)
    levels, rows = level_counts(tables.competencies)
    if rows:
        table = RichTable(title="Levels per competency", title_justify="left")
        table.add_column("competency")
        for level in levels:
            table.add_column(level_key(level), justify="right")
        table.add_column("no result", justify="right")
        for competency, level_cells, no_result in rows:
            table.add_row(escape(competency), *(str(n) for n in level_cells), str(no_result))
        console.print(table)
    console.print(f"Wrote {len(written)} files to {escape(str(written[0].parent))}"
                  if written else "Nothing written")
