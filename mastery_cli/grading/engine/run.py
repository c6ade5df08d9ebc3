"""One grade run: evidence in, whole students through the kernels, result files out.

    files ──► evidence (whole-student batches)  ──►  kernel per batch  ──►  ResultSink
              ingest: any export, in memory          here, or on Spark's     CSV / Parquet,
              engine reader: large long CSV and      workers (mapInArrow)    rejects sorted
              Parquet, in DuckDB, out of core                                 by the engine

Every grade is about one student, so a batch holding all of a student's evidence is graded
alone by `pipeline.grade_frame` (the kernels, unchanged). The reader's rejects go to the sink
as they are found; every batch's results are appended in student order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mastery_cli.diagnostics import Diagnostic, MasteryError, error
from mastery_cli.grading.engine.session import EngineOptions
from mastery_cli.grading.engine.sink import ResultSink
from mastery_cli.grading.pipeline import READER_SET_ASIDE, GradeCounts, GradeTables

if TYPE_CHECKING:
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.engine.reader import EnginePlan
    from mastery_cli.grading.ingest import IngestConfig
    from mastery_cli.grading.pipeline import GradeResult
    from mastery_cli.grading.policy import Policy
    from mastery_cli.grading.table import Table

StepCallback = Callable[[str], None]


@dataclass
class RunOutcome:
    """What a run did: the counts (read = used + set aside + rejected), the diagnostics, the
    files written into the staging folder, and what the terminal summary counts."""

    counts: GradeCounts
    diagnostics: list[Diagnostic]
    written: list[Path]
    tally: RunTally
    #: The whole result (for grades.json), when asked for.
    result: GradeResult | None = None


@dataclass
class RunTally:
    """Per batch, what `summary.RunSummary` shows, added up."""

    students: int = 0
    target_results: int = 0
    competency_results: int = 0
    course_grades: int = 0
    not_used: dict[str, int] = field(default_factory=dict)
    #: competency -> level -> results; competency -> results that are not "ok".
    levels: dict[str, dict[float, int]] = field(default_factory=dict)
    no_result: dict[str, int] = field(default_factory=dict)

    def add(self, tables: GradeTables) -> None:
        from mastery_cli.grading.summary import distinct_count, level_counts

        self.students += distinct_count(tables.targets, "student_id")
        self.target_results += len(tables.targets)
        self.competency_results += len(tables.competencies)
        self.course_grades += len(tables.courses)
        levels, rows = level_counts(tables.competencies)
        for row in rows:
            reached = self.levels.setdefault(row.competency, {})
            for level, count in zip(levels, row.counts, strict=True):
                if count:
                    reached[level] = reached.get(level, 0) + count
            self.no_result[row.competency] = self.no_result.get(row.competency, 0) + row.no_result


@dataclass
class Batches:
    """Accepted evidence as whole-student `Table`s in student order, with what reading it said
    and counted."""

    tables: Iterator[Table]
    diagnostics: list[Diagnostic]
    #: The reader's own rows not used, by reason (they are in the sink already).
    reader_unused: dict[str, int]
    rows_read: int
    headers: Mapping[str, Mapping[str, str]]


def grade_run(files: Sequence[Path], framework: Framework, policy: Policy,
              config: IngestConfig, staging: Path, *, options: EngineOptions | None = None,
              output_format: str = "csv", whole_result: bool = False,
              on_step: StepCallback | None = None) -> RunOutcome:
    """Grade ``files`` into ``staging`` (the files of `sink.file_names`). Raises MasteryError
    when the files cannot be read at all. ``whole_result``: also keep the whole result in
    memory (grades.json)."""
    from mastery_cli.grading.engine.reader import engine_plan
    from mastery_cli.grading.engine.session import connect

    options = options or EngineOptions()
    step = on_step or (lambda name: None)
    step("read")
    plan = engine_plan(files, framework, config, options)
    connection = connect(options) if plan is not None else None
    sink = ResultSink(staging, policy.places, output_format, connection)
    try:
        with _engine_limits(options):
            return _run(plan, files, framework, policy, config, sink, options, whole_result,
                        step)
    finally:
        sink.close()
        if connection is not None:
            connection.close()


def _run(plan: EnginePlan | None, files: Sequence[Path], framework: Framework, policy: Policy,
         config: IngestConfig, sink: ResultSink, options: EngineOptions, whole_result: bool,
         step: StepCallback) -> RunOutcome:
    from mastery_cli.grading.engine.reader import engine_batches

    if plan is not None:
        batches = engine_batches(plan, framework, policy, config, sink)
    else:
        batches = _ingest_batches(files, framework, policy, config, sink)
    step("grade")
    counts = GradeCounts()
    tally = RunTally()
    diagnostics = list(batches.diagnostics)
    parts: list[GradeTables] = []
    for tables, batch_counts, batch_diagnostics in _graded(batches, framework, policy,
                                                           options, whole_result):
        sink.add(tables)
        tally.add(tables)
        counts.used += batch_counts.used
        counts.set_aside += batch_counts.set_aside
        diagnostics += [d for d in batch_diagnostics if d not in diagnostics]
        if whole_result:
            parts.append(tables)
    step("write")
    aside = sum(n for reason, n in batches.reader_unused.items() if reason in READER_SET_ASIDE)
    counts.set_aside += aside
    counts.rejected = sum(batches.reader_unused.values()) - aside
    counts.duplicates_dropped = batches.reader_unused.get("duplicate-row", 0)
    counts.rows_read = batches.rows_read
    tally.not_used = sink.reasons()
    written = sink.finish()
    result = _whole(parts, framework, policy, counts, diagnostics) if whole_result else None
    return RunOutcome(counts, diagnostics, written, tally, result)


@contextmanager
def _engine_limits(options: EngineOptions) -> Iterator[None]:
    """The engine running out of its memory limit, or of disk to spill to, said as what to
    change (not as an unreadable file or a bug)."""
    try:
        yield
    except Exception as problem:
        kind = type(problem).__name__
        if kind == "OutOfMemoryException":
            raise MasteryError([error(
                "engine-out-of-memory",
                f"the engine needs more memory than --memory-limit "
                f"{options.memory_limit or 'allows'}: {_first_line(problem)}", "--memory-limit",
                hint="raise --memory-limit, or give --temp-dir a folder with free space to "
                "spill to")], usage=True) from None
        if kind == "IOException" and ("spill" in str(problem).lower()
                                      or "No space left" in str(problem)):
            raise MasteryError([error(
                "engine-spill-failed", f"the engine could not spill to disk: "
                f"{_first_line(problem)}", str(options.temp_directory or "--temp-dir"),
                hint="give --temp-dir a folder with more free space (a 100 million row file "
                "needs tens of GB)")], usage=True) from None
        raise


def _first_line(problem: BaseException) -> str:
    lines = str(problem).strip().splitlines()
    return lines[0] if lines else type(problem).__name__


def _graded(batches: Batches, framework: Framework, policy: Policy, options: EngineOptions,
            whole_result: bool
            ) -> Iterator[tuple[GradeTables, GradeCounts, list[Diagnostic]]]:
    """Each batch's results, in student order: here, or on Spark."""
    if options.engine == "spark":
        from mastery_cli.grading.engine.spark_run import graded_on_spark

        yield from graded_on_spark(batches, framework, policy, options,
                                   with_evidence=whole_result)
        return
    kernel = Kernel(framework, policy, batches.headers)
    for table in batches.tables:
        result = kernel(table)
        yield result.tables, result.counts, result.diagnostics


@dataclass(frozen=True)
class Kernel:
    """mastery's grading of whole students' evidence (`pipeline.grade_frame`): methods,
    roll-ups, course rules, progressions, exact rounding. The same object runs here and, pickled,
    on Spark's workers."""

    framework: Framework
    policy: Policy
    headers: Mapping[str, Mapping[str, str]]

    def __call__(self, evidence: Table) -> GradeResult:
        from mastery_cli.grading.pipeline import grade_frame

        return grade_frame(evidence, self.framework, self.policy, rows_read=len(evidence),
                           headers=self.headers)


def _ingest_batches(files: Sequence[Path], framework: Framework, policy: Policy,
                    config: IngestConfig, sink: ResultSink) -> Batches:
    """mastery's reader (every export format, in memory), its evidence graded in
    whole-student batches."""
    from mastery_cli.grading.engine.evidence import BATCH_ROWS
    from mastery_cli.grading.engine.student_batches import student_batches
    from mastery_cli.grading.ingest import read_evidence
    from mastery_cli.grading.pipeline import unused_type_warnings

    evidence = read_evidence(list(files), framework, config)
    rejects = evidence.reject_table
    if evidence.reject_owners is not None:
        rejects = rejects.with_columns(student_id=evidence.reject_owners["student_id"])
    sink.add_unused(rejects, origin=0)
    reader_unused = sink.reasons()  # only the reader's rows are in the sink yet
    diagnostics = [*evidence.diagnostics, *unused_type_warnings(policy.evidence, evidence.table)]
    # Batches twice the engine's: the table is in memory already (10 M rows: peak memory
    # 1.29 GB, against 1.42 GB with batches twice as large).
    return Batches(student_batches(evidence.table, 2 * BATCH_ROWS), diagnostics, reader_unused,
                   evidence.rows_read,
                   {f.file: f.headers for f in evidence.files if f.headers})


def _whole(parts: list[GradeTables], framework: Framework, policy: Policy, counts: GradeCounts,
           diagnostics: list[Diagnostic]) -> GradeResult:
    """The batches' results as one (for grades.json)."""
    from mastery_cli.grading.pipeline import GradeResult
    from mastery_cli.grading.table import concat

    names = ("targets", "competencies", "courses", "progress", "evidence", "rejects",
             "set_aside")
    if len(parts) == 1:
        tables = parts[0]
    else:
        tables = GradeTables(**{name: concat([getattr(p, name) for p in parts])
                                for name in names})
    return GradeResult(framework=framework, policy=policy, tables=tables, counts=counts,
                       diagnostics=diagnostics)
