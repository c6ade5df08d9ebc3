"""The result files of a grade run, written batch by batch.

Whatever grades the evidence (the kernels here, or on Spark's workers) hands each batch of
whole students' results to a `ResultSink`, in student order. The four result files grow by one
piece per batch, so memory holds a batch, not the run. The rows not used (the reader's rejects
and the rows the policy set aside) are gathered in the engine, which sorts them for
rejects.csv at the end: they are ordered by file and row, not by student.

CSV files are written by `outputs.csv_chunks` (the same bytes as ever); ``--format parquet``
writes the same cells as typed Parquet columns (exact decimals with the policy's places).
Nothing is put in place here: the files go into a staging folder that `output.OutputFolder`
moves into --out together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mastery_cli.grading.pipeline import GradeTables
from mastery_cli.grading.table import Coded, Table

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: Result files, in the order a run lists them.
RESULT_TABLES = {"target_grades": "targets", "competency_grades": "competencies",
                 "course_grades": "courses", "progress": "progress"}
REJECTS = "rejects"
OUTPUT_FORMATS = ("csv", "parquet")

#: rejects.csv's columns, and the columns `unused` keeps to sort them.
_UNUSED_SCHEMA = ('file VARCHAR, "row" BIGINT, student_id VARCHAR, "column" VARCHAR, '
                  "value VARCHAR, reason VARCHAR, message VARCHAR, origin TINYINT, "
                  "ordinal BIGINT")

#: Parquet types of the result columns that are not text (the rest stay text, as written).
_INTEGERS = {"row", "evidence_count", "targets_assessed", "targets_mastered", "targets_total",
             "units_assessed", "units_total", "mastered_count"}
_DECIMALS = {"score", "credits"}
_BOOLEANS = {"ready_to_advance"}
_DATES = {"last_evidence_date"}


def columns_of(name: str) -> list[str]:
    """The columns of result file ``name`` (without extension), in file order."""
    from mastery_cli.grading.outputs import REJECTS_CSV_COLUMNS
    from mastery_cli.grading.pipeline import TARGET_COLUMNS
    from mastery_cli.grading.progress import PROGRESS_COLUMNS
    from mastery_cli.grading.rollup import COMPETENCY_COLUMNS, COURSE_COLUMNS

    return {"target_grades": TARGET_COLUMNS, "competency_grades": COMPETENCY_COLUMNS,
            "course_grades": COURSE_COLUMNS, "progress": PROGRESS_COLUMNS,
            REJECTS: REJECTS_CSV_COLUMNS}[name]


def file_names(output_format: str) -> list[str]:
    """The files a run writes in ``output_format`` (csv or parquet)."""
    return [f"{name}.{output_format}" for name in (*RESULT_TABLES, REJECTS)]


#: The order of rejects.csv: by file, row, column, reason and value; where all are equal the
#: reader's rows (origin 0) before the policy's (1), then as they came. One definition, run by
#: the engine (ORDER BY) or by numpy (a stable lexsort), wherever the rows are.
UNUSED_ORDER = ("file", "row", "column", "reason", "value")


@dataclass
class ResultSink:
    """Writes a run's result files into ``folder`` as batches of results arrive.

    The rows not used stay where the evidence is: in the engine (``connection``) when it reads
    the files, else here, in memory (a run of mastery's reader holds its file in memory anyway,
    and it never starts DuckDB, whose scans of Python data import pandas: 0.3 s)."""

    folder: Path
    places: int
    output_format: str = "csv"
    connection: duckdb.DuckDBPyConnection | None = None
    _handles: dict[str, Any] = field(default_factory=dict)
    _unused_rows: int = 0
    _held: list[tuple[Table, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.connection is not None:
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE unused ({_UNUSED_SCHEMA})")

    # ------------------------------------------------------------------------ results

    def add(self, tables: GradeTables) -> None:
        """One batch's results (whole students, in student order after the previous batch's)
        and the rows its policy set aside."""
        for name, attribute in RESULT_TABLES.items():
            self._append(name, getattr(tables, attribute))
        self.add_unused(tables.set_aside, origin=1)

    def add_unused(self, rows: Table, *, origin: int) -> None:
        """Rows not used, in `REJECT_COLUMNS` (+ ``student_id``): origin 0 for the reader's,
        1 for the policy's."""
        if not len(rows):
            return
        if self.connection is None:
            self._held.append((rows, origin))
            return
        import pyarrow as pa

        data: dict[str, pa.Array] = {}
        for name in ("file", "student_id", "column", "value", "reason", "message"):
            data[name] = _text_array(rows, name)
        data["row"] = pa.array(np.asarray(rows["row"], dtype=np.int64))
        data["ordinal"] = pa.array(np.arange(self._unused_rows, self._unused_rows + len(rows),
                                             dtype=np.int64))
        self._unused_rows += len(rows)
        arriving = pa.table(data)
        self.connection.register("arriving_unused", arriving)
        try:
            self.connection.execute(
                'INSERT INTO unused SELECT file, "row", student_id, "column", value, reason, '
                f"message, {int(origin)}, ordinal FROM arriving_unused")
        finally:
            self.connection.unregister("arriving_unused")

    def reasons(self) -> dict[str, int]:
        """How many rows were not used, by reason."""
        if self.connection is not None:
            return dict(self.connection.execute(
                "SELECT reason, count(*) FROM unused GROUP BY reason").fetchall())
        tally: dict[str, int] = {}
        for table, _ in self._held:
            reasons = table.coded("reason")
            codes = np.asarray(reasons.codes, dtype=np.int64)
            counts = np.bincount(codes[codes >= 0], minlength=len(reasons.texts))
            for text, count in zip(reasons.texts, counts.tolist(), strict=True):
                if count:
                    tally[text] = tally.get(text, 0) + count
        return tally

    def finish(self) -> list[Path]:
        """rejects in file-row order, then every file closed; the paths, in listing order."""
        for name in RESULT_TABLES:
            if name not in self._handles:
                self._append(name, None)
        self._write_unused()
        paths = []
        for name in (*RESULT_TABLES, REJECTS):
            self._handles.pop(name).close()
            paths.append(self.folder / f"{name}.{self.output_format}")
        return paths

    def close(self) -> None:
        """Close whatever is open (after a failure: the staging folder is thrown away)."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    # ------------------------------------------------------------------------ writing

    def _append(self, name: str, table: Table | None) -> None:
        from mastery_cli.grading.outputs import csv_chunks

        columns = columns_of(name)
        chunks = csv_chunks(table if table is not None else _empty(columns), columns,
                            self.places)
        header = next(chunks)
        handle = self._handles.get(name)
        if self.output_format == "csv":
            path = self.folder / f"{name}.csv"
            try:
                if handle is None:
                    handle = self._handles[name] = open(path, "wb")  # noqa: SIM115
                    handle.write(header)
                write_chunks(handle, chunks)
            except OSError as problem:
                # Said of the file (OutputFolder names it as it would be in --out).
                raise OSError(problem.errno, problem.strerror, str(path)) from None
            return
        batch = _typed(bytes(header) + b"".join(chunks), columns, self.places)
        if handle is None:
            import pyarrow.parquet as pq

            handle = self._handles[name] = pq.ParquetWriter(
                str(self.folder / f"{name}.parquet"), batch.schema, compression="zstd")
        if batch.num_rows:
            handle.write_table(batch)

    def _write_unused(self) -> None:
        if self.connection is None:
            self._append(REJECTS, self._sorted_held())
            return
        from mastery_cli.grading.engine.evidence import coded

        columns = columns_of(REJECTS)
        order = ", ".join(_quoted(name) for name in UNUSED_ORDER)
        ordered = self.connection.sql(
            f'SELECT {", ".join(_quoted(c) for c in columns)} FROM unused '
            f"ORDER BY {order}, origin, ordinal")
        wrote = False
        for batch in ordered.to_arrow_reader(256_000):
            if not batch.num_rows:
                continue
            table = Table({name: coded(batch.column(name)) if name != "row"
                           else np.asarray(batch.column(name), dtype=np.int64)
                           for name in columns}, batch.num_rows)
            self._append(REJECTS, table)
            wrote = True
        if not wrote:
            self._append(REJECTS, None)

    def _sorted_held(self) -> Table | None:
        """The rows held here in `UNUSED_ORDER` (a stable sort: ties stay reader first, then
        as they came)."""
        from mastery_cli.grading.table import concat, text_codes

        if not self._held:
            return None
        columns = columns_of(REJECTS)
        held = sorted(self._held, key=lambda pair: pair[1])  # stable: reader's rows first
        rows = concat([Table({name: _column_or_blank(table, name) for name in columns},
                             len(table)) for table, _ in held])
        keys = [np.asarray(rows["row"], dtype=np.int64) if name == "row"
                else text_codes(rows.coded(name))[0] for name in UNUSED_ORDER]
        return rows.take(np.lexsort(keys[::-1]))  # lexsort sorts by its last key first


def _column_or_blank(table: Table, name: str) -> Any:
    from mastery_cli.grading.table import Coded

    if name in table:
        column = table[name]
        return column if name == "row" or isinstance(column, Coded) else table.coded(name)
    return Coded(np.full(len(table), -1, dtype=np.int64), [])  # read as ""


def write_chunks(handle: Any, chunks: Iterable[bytes | memoryview]) -> None:
    """Append ``chunks`` to an open result file."""
    handle.writelines(chunks)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_array(rows: Table, name: str) -> pa.Array:
    """A text column as Arrow text ("" for a missing value), without a Python string per row:
    coded text stays codes into its texts."""
    import pyarrow as pa

    if name not in rows:
        return pa.array(np.full(len(rows), ""), pa.string())
    column = rows[name]
    if isinstance(column, Coded):
        codes = np.asarray(column.codes, dtype=np.int64)
        texts = [*column.texts, ""]  # code -1, a missing value, reads as ""
        return pa.DictionaryArray.from_arrays(
            pa.array(np.where(codes < 0, len(texts) - 1, codes), pa.int64()),
            pa.array(texts, pa.string())).cast(pa.string())
    if isinstance(column, np.ndarray) and column.dtype == object:
        return pa.array(["" if v is None else str(v) for v in column.tolist()], pa.string())
    return pa.array(np.asarray(column).astype(str), pa.string())


def _empty(columns: Sequence[str]) -> Table:
    return Table({name: np.zeros(0, dtype=object) for name in columns}, 0)


def _typed(data: bytes, columns: Sequence[str], places: int) -> pa.Table:
    """CSV cells of one batch (header first) as typed columns: the numbers exact, as written."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    types: dict[str, pa.DataType] = {}
    for name in columns:
        if name in _INTEGERS:
            types[name] = pa.int64()
        elif name in _DECIMALS:
            types[name] = pa.decimal128(18, places)
        elif name in _BOOLEANS or (name == "mastered" and "mastered_count" not in columns):
            types[name] = pa.bool_()
        elif name in _DATES:
            types[name] = pa.date32()
        else:
            types[name] = pa.string()
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False,
            true_values=["true"], false_values=["false"]),
    )
    return table.cast(pa.schema([pa.field(n, types[n]) for n in columns]))


__all__ = ["OUTPUT_FORMATS", "ResultSink", "columns_of", "file_names"]
