"""The engine's own reader: large long CSV files and Parquet go straight into DuckDB.

mastery's reader (`ingest`) recognises every export and holds it in memory. Files of the
canonical long shape (one row per score; or mapped to it by the policy) that are large, and
Parquet files, are read by DuckDB's parallel reader instead (`load`), checked there against the
framework (`checks`: joins with lookups made once per distinct text by the same domain code),
their rejects put in the sink with the reader's messages (`rejects`), and the accepted rows
streamed in student order as whole-student batches. DuckDB spills to disk under its memory
limit, so memory holds a batch, not the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning
from mastery_cli.grading.engine.lookups import NONE
from mastery_cli.grading.engine.session import EngineOptions
from mastery_cli.grading.ingest import is_parquet, not_parquet

if TYPE_CHECKING:
    import duckdb

    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.engine.load import LoadedFile
    from mastery_cli.grading.engine.lookups import Dictionaries
    from mastery_cli.grading.engine.run import Batches
    from mastery_cli.grading.engine.sink import ResultSink
    from mastery_cli.grading.ingest import IngestConfig
    from mastery_cli.grading.policy import Policy
    from mastery_cli.grading.table import Table

#: Encodings DuckDB's reader reads as mastery's does.
_ENGINE_ENCODINGS = ("UTF-8", "UTF-8 with BOM")


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    shown: str
    kind: str  # csv or parquet
    header: list[str]
    fmt: str = "long"  # or mapped (the policy's column names)
    delimiter: str = ","
    header_lines: int = 1


@dataclass(frozen=True)
class EnginePlan:
    files: list[PlannedFile]
    options: EngineOptions


def engine_plan(files: Sequence[Path], framework: Framework, config: IngestConfig,
                options: EngineOptions) -> EnginePlan | None:
    """How the engine reads ``files``, or None when mastery's reader should: files that fit
    in memory (`EngineOptions.reader_bytes`), exports of another shape, other encodings."""
    from mastery_cli.grading.csvsniff import CsvError, read_input, sniff
    from mastery_cli.grading.formats import TargetMatcher, detect
    from mastery_cli.grading.formats import unknown_format as formats_unknown

    parquet = [p for p in files if is_parquet(Path(p))]
    long_only = config.input_format in ("auto", "long", "mapped")
    if parquet and not long_only:  # whatever its size: one answer for one question
        raise MasteryError([error(
            "parquet-not-long", f"--input-format {config.input_format} cannot be read "
            "from Parquet", str(parquet[0]),
            hint="Parquet evidence is long: one row per score, with student_id, target, "
            "score (and date) columns")], usage=True)
    try:
        size = sum(csv_bytes(Path(p)) for p in files)
    except OSError:
        return None  # mastery's reader says what is wrong with the file
    if size < options.reader_bytes:
        return None
    if not long_only:
        return None
    matcher = TargetMatcher(framework, config.outcome_map)
    planned = []
    for path in files:
        path = Path(path)
        shown = config.shown_as.get(str(path), str(path))
        if is_parquet(path):
            header = _parquet_header(path, shown)
            fmt = detect(header, matcher, config.columns)
            if fmt not in ("long", "mapped"):
                raise MasteryError([formats_unknown(shown, header)])
            planned.append(PlannedFile(path, shown, "parquet", header, fmt))
            continue
        try:
            decoded = sniff(read_input(path), shown)
        except (OSError, CsvError):
            if parquet:
                raise _mixed(path) from None
            return None
        fmt = detect(decoded.header, matcher, config.columns)
        if (fmt not in ("long", "mapped") or decoded.dialect.encoding not in _ENGINE_ENCODINGS
                or decoded.dialect.line_ending == "\r"):
            if parquet:
                raise _mixed(path)
            return None
        planned.append(PlannedFile(path, shown, "csv", list(decoded.header), fmt,
                                   decoded.dialect.delimiter, decoded.header_lines))
    return EnginePlan(planned, options)


#: What a row of a long CSV export takes, about (the generated gradebooks: 73 bytes).
_CSV_ROW_BYTES = 80


def csv_bytes(path: Path) -> int:
    """The size of ``path`` as CSV: a CSV file's own; a Parquet file's rows at the size of a
    long CSV's (its columns are compressed: 10 M rows fit in 15 MB). Raises OSError."""
    if not is_parquet(path):
        return path.stat().st_size
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows * _CSV_ROW_BYTES
    except ValueError:  # not Parquet after all: mastery's reader says so
        return 0


def _mixed(path: Path) -> MasteryError:
    return MasteryError([error(
        "parquet-with-export", "Parquet files are graded by the engine's reader, which reads "
        "long CSV files too, but not this one", str(path),
        hint="grade the exports apart, or save this one as long CSV (student_id, target, "
        "score, date)")], usage=True)


def _parquet_header(path: Path, shown: str) -> list[str]:
    import pyarrow.parquet as pq

    from mastery_cli.grading.ingest import parquet_column_problems

    try:
        schema = pq.read_schema(path)
        problems = parquet_column_problems(schema, shown)
        if problems:
            raise MasteryError(problems)
        return list(schema.names)
    except FileNotFoundError:
        raise MasteryError([error("file-not-found", f"no such file: {shown}", shown)]) from None
    except (OSError, ValueError) as problem:
        raise MasteryError([not_parquet(shown, problem)]) from None


def engine_batches(plan: EnginePlan, framework: Framework, policy: Policy,
                   config: IngestConfig, sink: ResultSink) -> Batches:
    """Load, check, put the rejects in ``sink``; the accepted rows as whole-student batches
    (the connection is ``sink``'s)."""
    from mastery_cli.grading.engine import checks, evidence, load, rejects
    from mastery_cli.grading.engine.batches import whole_student_batches
    from mastery_cli.grading.engine.run import Batches
    from mastery_cli.grading.formats import TargetMatcher, ignored_columns, info

    connection = sink.connection
    assert connection is not None
    matcher = TargetMatcher(framework, config.outcome_map)
    width = load.widest([f.header for f in plan.files])
    load.create_raw(connection, width)
    loaded: list[LoadedFile] = []
    seq = 0
    for index, file in enumerate(plan.files):
        try:
            if file.kind == "parquet":
                done = load.load_parquet(connection, file.path, file.shown, index,
                                         file.header, width, seq)
            else:
                done = load.load_csv_native(connection, file.path, file.shown, index,
                                            file.header, file.delimiter, file.header_lines,
                                            width, seq)
        except Exception as problem:  # duckdb's errors: a file it cannot read
            if type(problem).__name__ in ("OutOfMemoryException", "IOException"):
                raise  # the engine's limits, not the file (said by run._engine_limits)
            raise MasteryError([error(
                "unreadable-file", f"cannot read {file.shown}: {_first_line(problem)}",
                file.shown, hint="check the file is complete; an export cut short or "
                "edited by hand can be re-exported")]) from None
        seq += done.records
        loaded.append(done)
    specs = [checks.file_columns(done, config.columns if file.fmt == "mapped" else None)
             for done, file in zip(loaded, plan.files, strict=True)]
    dictionaries = checks.create_checked(connection, specs, matcher, config)
    diagnostics: list[Diagnostic] = list(matcher.problems)
    diagnostics += rejects.add_reader_rejects(connection, specs, matcher,
                                              config.max_listed_per_reason)
    kept = dict(connection.execute(
        "SELECT file_index, count(*) FROM checked GROUP BY file_index").fetchall())
    for spec in specs:
        used = {int(column[1:]) for column in spec.fields.values()}
        diagnostics += ignored_columns(spec.file.shown, spec.file.header, used)
        if not spec.file.records:  # as mastery's reader says it
            diagnostics.append(warning(
                "no-data-rows", "the file has a header but no data rows: no evidence in it",
                spec.file.shown, 1))
        padding = spec.file.records - kept.get(spec.file.index, 0)
        if padding:  # as mastery's reader says it
            diagnostics.append(info("blank-rows", f"{padding} blank row(s) skipped",
                                    spec.file.shown))
    reader_unused = dict(connection.execute("""
        SELECT reason, count(*) FROM unused WHERE origin = 0 GROUP BY reason""").fetchall())
    rows_read = connection.execute(
        "SELECT count(*) FROM checked").fetchall()[0][0]
    diagnostics += _unused_types(policy, dictionaries.texts["type"])
    shown = [f.shown for f in loaded]
    diagnostics += _name_diagnostics(connection, shown, dictionaries,
                                     config.max_listed_per_reason)
    ids = sorted(matcher.ids)
    headers = {spec.file.shown: {name: spec.file.header[int(column[1:])].strip()
                                 for name, column in spec.fields.items()} for spec in specs}
    # Only integers go through the sort (the texts are in `dictionaries`). On a cursor of its
    # own: the sink writes into the engine while this result streams.
    ordered = connection.cursor().sql(f"""
        SELECT {", ".join(evidence.COLUMNS)}
        FROM checked WHERE reason = {NONE}
        ORDER BY student_rank, target_rank, date_ns NULLS LAST, seq""")

    def tables() -> Iterator[Table]:
        made = 0
        for rows in whole_student_batches(ordered.to_arrow_reader(evidence.BATCH_ROWS),
                                          "student_rank"):
            made += 1
            yield evidence.evidence_table(rows, ids, shown, dictionaries)
        if not made:  # no evidence at all: the results are empty files with their headers
            yield evidence.empty_table(ids, shown, dictionaries)

    return Batches(tables(), diagnostics, reader_unused, int(rows_read), headers)


def _name_diagnostics(connection: duckdb.DuckDBPyConnection, shown: list[str],
                      dictionaries: Dictionaries, limit: int) -> list[Diagnostic]:
    """What mastery's reader says about the accepted rows' ids and names (an id with two
    names, ids that differ only by leading zeros), from each file's distinct (id, name) pairs
    in order of first appearance, as the reader gathers them (`ingest._NamePairs`)."""
    import numpy as np

    from mastery_cli.grading.ingest import _conflicting_names, _NamePairs, leading_zero_ids

    pairs = connection.execute(f"""
        SELECT file_index, student_rank, name_code, arg_min(line, seq) AS line
        FROM checked WHERE reason = {NONE} GROUP BY ALL
        ORDER BY file_index, min(seq)""").fetchnumpy()
    files = []
    for index, file in enumerate(shown):
        at = pairs["file_index"] == index
        if at.any():
            files.append(_NamePairs(
                file, np.asarray(pairs["student_rank"][at], dtype=np.int64),
                np.asarray(pairs["name_code"][at], dtype=np.int64),
                np.asarray(pairs["line"][at], dtype=np.int64), dictionaries.student_ids,
                dictionaries.student_names))
    return [*_conflicting_names(files, limit), *leading_zero_ids(files, limit)]


def _unused_types(policy: Policy, types: list[str]) -> list[Diagnostic]:
    import numpy as np

    from mastery_cli.grading.pipeline import unused_type_warnings
    from mastery_cli.grading.table import Coded, Table

    present = Table({"type": Coded(np.arange(len(types), dtype=np.int64), types)})
    return unused_type_warnings(policy.evidence, present)


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip().splitlines()
    return text[0] if text else type(problem).__name__
