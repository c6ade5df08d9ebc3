"""Gradebook files into the engine: each file's records streamed, as written, into one table.

The table ``raw`` holds every record of every file: ``file_index``, ``line`` (the line the
record starts on, as editors count), ``seq`` (input order across files), ``record_hash`` (a
hash of the record's own columns: exact copies are found among the rows sharing one) and the
file's columns as text, ``c0`` … ``cN`` (the widest file sets N; narrower files leave the rest
NULL). Which column is which field is the mapping's business (`columns`), not the table's: the
checks and the duplicate test read the record as written.

DuckDB's own readers (CSV in parallel, Parquet) append the records; DuckDB spills the table to
disk under its memory limit.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


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
        f"CREATE TABLE raw (file_index INTEGER, line BIGINT, seq BIGINT, record_hash UBIGINT, "
        f"{columns})")


def _record_hash(header: Sequence[str]) -> str:
    """SQL for the hash of a record of a file with this header (its own columns only)."""
    return f"hash({', '.join(f'c{i}' for i in range(len(header)))})" if header else "0"


def _inserted(result: duckdb.DuckDBPyConnection) -> int:
    """The row count an INSERT returns."""
    return int(result.fetchall()[0][0])


def physical_lines(path: Path) -> int:
    """Lines in the file as editors count them (a last line without a line break counts).
    bytes.count runs at memory speed: ~0.05 s for 70 MB, against ~0.25 s CPU for DuckDB to
    look for line breaks in every cell."""
    count = 0
    last = b""
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (1 if last and last != b"\n" else 0)


def load_csv_native(connection: duckdb.DuckDBPyConnection, path: Path, shown: str, index: int,
                    header: list[str], delimiter: str, header_lines: int, width: int,
                    first_seq: int) -> LoadedFile:
    """Append the records of the CSV file ``path`` to ``raw`` (``width`` columns there), read
    by DuckDB's own (parallel) CSV reader, which returns records in file order:
    ``row_number() OVER ()`` numbers them. Lines are exact when every record is one line
    (the file's line count is the header's plus one per record); else the line breaks inside
    quoted values are added up (a running sum in file order), or, when there are none, the
    empty lines DuckDB skipped are put back (with both, only the line breaks are: an empty
    line inside a quoted value cannot be told from one between records without parsing)."""
    from mastery_cli.grading.engine.checks import _sql_text

    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    padding = "".join(f", NULL::VARCHAR AS c{i}" for i in range(len(header), width))
    source = (f"read_csv({_sql_text(str(path))}, header = false, skip = {header_lines}, "
              f"delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', "
              f"columns = {{{names}}}, auto_detect = false, null_padding = false, "
              f"strict_mode = false)")
    records = _inserted(connection.execute(f"""
        INSERT INTO raw
        SELECT {index}, {header_lines} + ordinal, {first_seq} + ordinal - 1,
               {_record_hash(header)}, * EXCLUDE (ordinal) {padding}
        FROM (SELECT row_number() OVER () AS ordinal, * FROM {source})"""))
    if physical_lines(path) == header_lines + records:
        return LoadedFile(index, shown, header, records)
    inner = connection.execute(
        f"SELECT count(*) FROM raw WHERE file_index = {index} AND ("
        + " OR ".join(f"contains(c{i}, chr(10))" for i in range(len(header))) + ")"
    ).fetchall()[0][0]
    if inner:
        breaks = " + ".join(f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)"
                            for i in range(len(header)))
        connection.execute(f"""
            UPDATE raw SET line = raw.line + moved.before FROM (
                SELECT seq, coalesce(sum({breaks}) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED
                       PRECEDING AND 1 PRECEDING), 0) AS before
                FROM raw WHERE file_index = {index}) moved
            WHERE raw.file_index = {index} AND raw.seq = moved.seq""")
    else:  # DuckDB's reader skips empty lines: the records after one are a line further
        _add_empty_lines(connection, index, header_lines, empty_lines(path))
    return LoadedFile(index, shown, header, records)


#: An empty line: a line break (or the file's start), perhaps a carriage return, a line break.
_EMPTY_LINE = re.compile(rb"(?:\A|(\n))\r?(?=\n)")


def empty_lines(path: Path) -> list[int]:
    """The numbers (1-based) of the file's empty lines. Read only when the file's line count
    says its records are not one a line (regex over a memory map: the file is not copied)."""
    found: list[int] = []
    with path.open("rb") as stream:
        if not path.stat().st_size:
            return found
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
            breaks = 0  # line breaks before `counted`
            counted = 0
            for match in _EMPTY_LINE.finditer(data):
                if match.group(1) is None:  # the file starts with an empty line
                    found.append(1)
                    continue
                at = match.start()
                breaks += data[counted:at].count(b"\n")
                counted = at
                found.append(breaks + 2)  # the break at `at` ends line breaks + 1
    return found


def _add_empty_lines(connection: duckdb.DuckDBPyConnection, index: int, header_lines: int,
                     empty: list[int]) -> None:
    """Move each record down by the empty lines before it. The i-th empty line (1-based, at
    line e) comes before the records on lines >= e - i + 1 as counted without them."""
    import pyarrow as pa

    after_header = [line for line in empty if line > header_lines]
    if not after_header:
        return
    moves: dict[int, int] = {}  # from this line on (without empty lines), records move so far
    for i, line in enumerate(after_header, start=1):
        moves[line - i + 1] = i
    starts = sorted(moves)
    connection.register("empty_line_moves", pa.table({
        "from_line": pa.array(starts, pa.int64()),
        "to_line": pa.array([*starts[1:], None], pa.int64()),
        "moved": pa.array([moves[s] for s in starts], pa.int64())}))
    connection.execute(f"""
        UPDATE raw SET line = raw.line + m.moved FROM empty_line_moves m
        WHERE raw.file_index = {index} AND raw.line >= m.from_line
              AND (m.to_line IS NULL OR raw.line < m.to_line)""")
    connection.unregister("empty_line_moves")


#: Rows of a Parquet file made text and appended to ``raw`` at a time.
_PARQUET_BATCH_ROWS = 1 << 20


def load_parquet(connection: duckdb.DuckDBPyConnection, path: Path, shown: str, index: int,
                 header: list[str], width: int, first_seq: int) -> LoadedFile:
    """Append the rows of the Parquet file ``path`` to ``raw``, every column as the text a CSV
    file would hold (``2025-09-06``, ``3.5``), made by mastery's reader's own function
    (`ingest.parquet_text`), so that both readers see the same text; a row's "line" is its
    position (1-based). Read in batches: memory holds one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mastery_cli.grading.ingest import parquet_text

    parquet = pq.ParquetFile(path, read_dictionary=[
        field.name for field in pq.read_schema(path)
        if str(field.type) in ("string", "large_string")])
    names = [f"c{i}" for i in range(len(header))]
    padding = "".join(f", NULL::VARCHAR AS c{i}" for i in range(len(header), width))
    records = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
        rows = pa.table({
            "ordinal": np.arange(records + 1, records + 1 + batch.num_rows, dtype=np.int64),
            **{name: parquet_text(batch.column(i)) for i, name in enumerate(names)}})
        connection.register("parquet_rows", rows)
        records += _inserted(connection.execute(f"""
            INSERT INTO raw
            SELECT {index}, ordinal, {first_seq} + ordinal - 1, {_record_hash(header)},
                   {", ".join(f"CAST({name} AS VARCHAR)" for name in names)} {padding}
            FROM parquet_rows"""))
        connection.unregister("parquet_rows")
    return LoadedFile(index, shown, header, records)


def widest(headers: Sequence[Sequence[str]]) -> int:
    return max((len(h) for h in headers), default=0)
