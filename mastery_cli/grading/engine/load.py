"""Gradebook files into the engine: each file's records streamed, as written, into one table.

The table ``raw`` holds every record of every file: ``file_index``, ``line`` (the line the
record starts on, as editors count), ``seq`` (input order across files) and the file's columns
as text, ``c0`` … ``cN`` (the widest file sets N; narrower files leave the rest NULL). Which
column is which field is the mapping's business (`columns`), not the table's: the checks and
the duplicate test read the record as written.

Records are read in blocks by pyarrow's streaming CSV reader and appended, so memory holds a
block, not the file; DuckDB spills the table to disk under its memory limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: Bytes per block of the streaming reader.
BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class LoadedFile:
    """One file in ``raw``: its name as shown, header, delimiter and how many records."""

    index: int
    shown: str
    header: list[str]
    records: int


def create_raw(connection: duckdb.DuckDBPyConnection, width: int) -> None:
    columns = ", ".join(f"c{i} VARCHAR" for i in range(width))
    connection.execute(
        f"CREATE TABLE raw (file_index INTEGER, line BIGINT, seq BIGINT, {columns})")


def load_csv(connection: duckdb.DuckDBPyConnection, path: Path, index: int, header: list[str],
             delimiter: str, header_lines: int, width: int, first_seq: int) -> LoadedFile:
    """Append the records of the CSV file ``path`` to ``raw`` (``width`` columns there)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines,
                                       block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    counter = _Counter(first_line=header_lines + 1, first_seq=first_seq)
    schema = pa.schema([pa.field("file_index", pa.int32()), pa.field("line", pa.int64()),
                        pa.field("seq", pa.int64()),
                        *(pa.field(f"c{i}", pa.string()) for i in range(width))])
    stream = pa.RecordBatchReader.from_batches(
        schema, _numbered(reader, counter, index, len(header), width, schema))
    connection.register("incoming", stream)
    try:
        connection.execute("INSERT INTO raw SELECT * FROM incoming")
    finally:
        connection.unregister("incoming")
    return LoadedFile(index, str(path), header, counter.records)


@dataclass
class _Counter:
    first_line: int
    first_seq: int
    records: int = 0


def _numbered(reader: Iterator[pa.RecordBatch], counter: _Counter, index: int, columns: int,
              width: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Each block with its file, start lines and input order. A record starts one line after
    the previous one's start plus the line breaks inside its quoted values."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    line = counter.first_line
    for block in reader:
        n = block.num_rows
        inner = np.zeros(n, dtype=np.int64)
        for column in block.columns:
            inner += np.asarray(pc.count_substring(column, "\n"), dtype=np.int64)
        before = np.concatenate(([0], np.cumsum(inner)[:-1])) if n else inner
        lines = line + np.arange(n, dtype=np.int64) + before
        if n:
            line = int(lines[-1] + inner[-1] + 1)
        seq = counter.first_seq + counter.records + np.arange(n, dtype=np.int64)
        counter.records += n
        padding = [pa.nulls(n, pa.string())] * (width - columns)
        yield pa.RecordBatch.from_arrays(
            [pa.array(np.full(n, index, dtype=np.int32)), pa.array(lines), pa.array(seq),
             *block.columns, *padding], schema=schema)


def load_csv_native(connection: duckdb.DuckDBPyConnection, path: Path, index: int,
                    header: list[str], delimiter: str, header_lines: int, width: int,
                    first_seq: int) -> LoadedFile:
    """`load_csv` by DuckDB's own (parallel) CSV reader, which returns records in file order:
    ``row_number() OVER ()`` numbers them. Lines are exact when every record is one line
    (checked: the file's line count); else the line breaks inside quoted values are added
    up (a running sum in file order)."""
    from mastery_cli.grading.engine.checks import _sql_text

    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    padding = "".join(f", NULL::VARCHAR AS c{i}" for i in range(len(header), width))
    source = (f"read_csv({_sql_text(str(path))}, header = false, skip = {header_lines}, "
              f"delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', "
              f"columns = {{{names}}}, auto_detect = false, null_padding = false, "
              f"strict_mode = false)")
    connection.execute(f"""
        INSERT INTO raw
        SELECT {index}, {header_lines} + ordinal, {first_seq} + ordinal - 1, * EXCLUDE (ordinal)
               {padding}
        FROM (SELECT row_number() OVER () AS ordinal, * FROM {source})""")
    records = connection.execute(
        f"SELECT count(*) FROM raw WHERE file_index = {index}").fetchone()[0]  # type: ignore[index]
    inner = connection.execute(
        f"SELECT count(*) FROM raw WHERE file_index = {index} AND ("
        + " OR ".join(f"contains(c{i}, chr(10))" for i in range(len(header))) + ")"
    ).fetchone()[0]  # type: ignore[index]
    if inner:
        breaks = " + ".join(f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)"
                            for i in range(len(header)))
        connection.execute(f"""
            UPDATE raw SET line = raw.line + moved.before FROM (
                SELECT seq, coalesce(sum({breaks}) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED
                       PRECEDING AND 1 PRECEDING), 0) AS before
                FROM raw WHERE file_index = {index}) moved
            WHERE raw.file_index = {index} AND raw.seq = moved.seq""")
    return LoadedFile(index, str(path), header, records)


def widest(headers: Sequence[Sequence[str]]) -> int:
    return max((len(h) for h in headers), default=0)
