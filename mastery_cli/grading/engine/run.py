"""One grade run on the engine: load, check, stream whole students through the kernels, write.

Prototype of issue 16's shape (branch engine-core): long and mapped CSV files in UTF-8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.framework.model import Framework
from mastery_cli.grading.engine import checks, evidence, load
from mastery_cli.grading.engine.batches import whole_student_batches
from mastery_cli.grading.engine.session import EngineOptions, connect
from mastery_cli.grading.ingest import IngestConfig
from mastery_cli.grading.pipeline import GradeCounts, grade_frame
from mastery_cli.grading.policy import Policy

RESULT_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv", "progress.csv")
MAX_LISTED = 20


@dataclass
class EngineRun:
    counts: GradeCounts = field(default_factory=GradeCounts)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    batches: int = 0


def grade_files(paths: Sequence[Path], framework: Framework, policy: Policy,
                config: IngestConfig, out: Path, options: EngineOptions | None = None) -> EngineRun:
    from mastery_cli.grading.csvsniff import read_input, sniff
    from mastery_cli.grading.formats import TargetMatcher
    from mastery_cli.grading.outputs import _csv_chunks
    from mastery_cli.grading.pipeline import TARGET_COLUMNS
    from mastery_cli.grading.progress import PROGRESS_COLUMNS
    from mastery_cli.grading.rollup import COMPETENCY_COLUMNS, COURSE_COLUMNS

    connection = connect(options or EngineOptions())
    matcher = TargetMatcher(framework, config.outcome_map)
    sniffed = []
    for path in paths:
        decoded = sniff(read_input(path), str(path))
        sniffed.append((path, decoded.header, decoded.dialect.delimiter, decoded.header_lines))
    width = load.widest([h for _, h, _, _ in sniffed])
    load.create_raw(connection, width)
    loaded = []
    seq = 0
    for index, (path, header, delimiter, header_lines) in enumerate(sniffed):
        file = load.load_csv_native(connection, path, index, header, delimiter, header_lines, width, seq)
        seq += file.records
        loaded.append(file)
    mapping = config.columns if config.input_format == "mapped" else None
    specs = [checks.file_columns(f, mapping) for f in loaded]
    dictionaries = checks.create_checked(connection, specs, matcher, config)
    from mastery_cli.grading.engine import rejects

    rejects.create_unused(connection)
    reader_diagnostics = rejects.add_reader_rejects(connection, specs, matcher,
                                                    config.max_listed_per_reason)

    run = EngineRun()
    reader_counts = dict(connection.execute(
        "SELECT reason, count(*) FROM rejected GROUP BY reason").fetchall())
    ids = sorted(matcher.ids)
    shown = [f.shown for f in loaded]
    # Each file's header for the fields it has: set-aside rows name columns as it spells them.
    headers = {spec.file.shown: {name: spec.file.header[int(column[1:])].strip()
                                 for name, column in spec.fields.items()} for spec in specs}
    ordered = connection.sql(f"""
        SELECT student_id, student_name, target_rank, score_value, outcome, date_ns, score_code,
               assessment_code, type_code, section_code, course_code, rater_code, source_code,
               comment_code, file_index, line, seq
        FROM checked WHERE reason = {checks.NONE}
        ORDER BY student_id, target_rank, date_ns NULLS LAST, seq""")
    columns = {"target_grades.csv": TARGET_COLUMNS, "competency_grades.csv": COMPETENCY_COLUMNS,
               "course_grades.csv": COURSE_COLUMNS, "progress.csv": PROGRESS_COLUMNS}
    handles: dict[str, IO[bytes]] = {name: open(out / name, "wb") for name in RESULT_FILES}
    writer = connection.cursor()  # the stream keeps the connection's result open
    try:
        first = True
        for rows in whole_student_batches(ordered.to_arrow_reader(evidence.BATCH_ROWS)):
            table = evidence.evidence_table(rows, ids, shown, dictionaries.texts)
            result = grade_frame(table, framework, policy, rows_read=len(table), headers=headers)
            run.batches += 1
            run.counts.rows_read += len(table)
            run.counts.used += result.counts.used
            run.counts.set_aside += result.counts.set_aside
            _add_set_aside(writer, result.tables.set_aside)
            tables = {"target_grades.csv": result.tables.targets,
                      "competency_grades.csv": result.tables.competencies,
                      "course_grades.csv": result.tables.courses,
                      "progress.csv": result.tables.progress}
            for name, handle in handles.items():
                chunks = _csv_chunks(tables[name], columns[name], policy.places)
                header = next(chunks)
                if first:
                    handle.write(header)
                handle.writelines(chunks)
            first = False
    finally:
        for handle in handles.values():
            handle.close()
    _write_unused(connection, out / "rejects.csv", policy.places)
    run.diagnostics = reader_diagnostics
    from mastery_cli.grading.ingest import Reason

    aside = sum(n for r, n in reader_counts.items()
                if r in (int(Reason.NO_SCORE), int(Reason.DUPLICATE_ROW)))
    run.counts.set_aside += aside
    run.counts.rows_read += sum(reader_counts.values())
    run.counts.rejected = sum(n for r, n in reader_counts.items()
                              if r != checks.NONE) - aside
    run.counts.duplicates_dropped = reader_counts.get(int(Reason.DUPLICATE_ROW), 0)
    connection.close()
    return run


def _add_set_aside(connection: object, set_aside: object) -> None:
    """The policy's set-aside rows of a batch into ``unused`` (origin 1)."""
    import pyarrow as pa

    from mastery_cli.grading.table import Table

    assert isinstance(set_aside, Table)
    if not len(set_aside):
        return
    columns = {}
    for name in ("file", "student_id", "column", "value", "reason", "message"):
        column = set_aside[name]
        values = column.values() if hasattr(column, "values") and callable(column.values) else column
        columns[name] = pa.array(list(values), pa.string())
    columns["row"] = pa.array(set_aside["row"], pa.int64())
    aside = pa.table(columns)  # noqa: F841 (read by the engine below)
    connection.execute(  # type: ignore[attr-defined]
        'INSERT INTO unused SELECT file, "row", "column", value, reason, message, student_id, \'\', 1 '
        "FROM aside")


def _write_unused(connection: object, path: Path, places: int) -> None:
    """rejects.csv: every row not used, by file, row, column, reason and value (the reader's
    rows first on ties)."""
    from mastery_cli.grading.engine.evidence import coded
    from mastery_cli.grading.outputs import _csv_chunks
    from mastery_cli.grading.outputs import REJECTS_CSV_COLUMNS as REJECT_COLUMNS
    from mastery_cli.grading.table import Table

    ordered = connection.sql(  # type: ignore[attr-defined]
        'SELECT file, "row", student_id, "column", value, reason, message FROM unused '
        'ORDER BY file, "row", "column", reason, value, origin')
    with open(path, "wb") as handle:
        first = True
        for batch in ordered.to_arrow_reader(256_000):
            table = Table({name: (coded(batch.column(name)) if name != "row"
                                  else batch.column(name).to_numpy())
                           for name in REJECT_COLUMNS}, batch.num_rows)
            chunks = _csv_chunks(table, REJECT_COLUMNS, places)
            header = next(chunks)
            if first:
                handle.write(header)
                first = False
            handle.writelines(chunks)
        if first:
            handle.writelines(_csv_chunks(Table({n: [] for n in REJECT_COLUMNS}, 0),  # type: ignore[misc]
                                          REJECT_COLUMNS, places))
