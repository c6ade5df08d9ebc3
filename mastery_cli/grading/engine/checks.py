"""Typing and checking the records in the engine.

Each file's distinct texts are read out of the engine in one pass, given their meaning by
mastery's domain code (`lookups`), and the engine joins every record with those small tables.
So a million rows cost six joins, and a cell means the same thing here as anywhere else in
mastery.

The result is the table ``checked``: one row per record that is not padding, holding integers
the kernels take as they are (``student_rank``, the position of the cleaned id among the sorted
ids; ``name_code``; ``target_rank``, the target's position among the framework's sorted ids;
``<field>_code`` into `Dictionaries`), the score's outcome and value, ``date_ns``, the record's
``file_index``, ``line`` and ``seq``, and the reader's ``reason`` (``NONE`` when the row is
accepted; else `ingest.Reason`), the texts in `Dictionaries`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mastery_cli.grading import formats
from mastery_cli.grading.engine.lookups import (
    CHECK_ONLY,
    GROUPS,
    NONE,
    Dictionaries,
    lookup_tables,
    raw_column,
)
from mastery_cli.grading.ingest import IngestConfig, Reason

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from mastery_cli.grading.engine.load import LoadedFile

#: What Python's str.strip() strips (every character whose isspace() is true), for DuckDB's
#: trim(text, characters); tests/test_engine.py checks it against Python's own tables.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_TRIM = _sql_text(WHITESPACE)


def stripped(column: str | None) -> str:
    """SQL for a column's text as str.strip() gives it ("" when the file has no such column).

    DuckDB's trim with a set of characters is slow (40x a plain copy, measured), so it runs
    only on the few texts that start or end with one of them."""
    if column is None:
        return "''"
    text = f"coalesce({column}, '')"
    return (f"CASE WHEN {text} = '' THEN '' WHEN contains({_TRIM}, {text}[1]) "
            f"OR contains({_TRIM}, {text}[-1]) THEN trim({text}, {_TRIM}) ELSE {text} END")


@dataclass(frozen=True)
class FileColumns:
    """Which column of ``raw`` holds each field of one file."""

    file: LoadedFile
    fields: Mapping[str, str]  # field -> "cK"


def file_columns(file: LoadedFile, mapping: Mapping[str, str] | None) -> FileColumns:
    found = formats.find_columns(file.header, mapping)
    return FileColumns(file, {name: f"c{index}" for name, index in found.items()})


def create_checked(connection: duckdb.DuckDBPyConnection, files: Sequence[FileColumns],
                   matcher: formats.TargetMatcher, config: IngestConfig) -> Dictionaries:
    """The table of copies (usually empty), the lookups, then the table ``checked`` (``raw``
    is dropped: ``checked`` is read twice, for the rows not used, then the accepted rows in
    order)."""
    if config.keep_duplicates:  # copies are rows like any other: none to find
        connection.execute("CREATE TABLE copies (seq BIGINT, first_line BIGINT)")
    else:
        _create_copies(connection, files)
    present = {spec.file.index: set(spec.fields) for spec in files}
    dictionaries, tables = lookup_tables(_distinct_written(connection, files), present,
                                         matcher, config)
    for group, table in tables.items():
        connection.register(f"lookup_{group}", table)
    for name, table in _texts(dictionaries).items():
        connection.register(name, table)
    outputs = {group: [name for name in table.schema.names
                       if name != "file_index" and not name.startswith("raw_")]
               for group, table in tables.items()}
    selects = [_checked_select(spec, outputs) for spec in files]
    keep = "true" if config.keep_duplicates else "false"
    # One pass of joins, materialised narrow: integers only (a text column costs 16 bytes a
    # row even when NULL; the rejects find their texts through the codes).
    connection.execute(f"""
        CREATE TABLE checked AS
        SELECT c.* EXCLUDE (r, padding, {", ".join(CHECK_ONLY)}), k.first_line,
               CASE WHEN k.seq IS NOT NULL AND NOT {keep} AND c.r = {NONE}
                    THEN {int(Reason.DUPLICATE_ROW)} ELSE c.r END AS reason
        FROM ({" UNION ALL ".join(selects)}) c
        LEFT JOIN copies k ON k.seq = c.seq
        WHERE NOT c.padding""")
    connection.execute("DROP TABLE raw")
    return dictionaries


def _texts(dictionaries: Dictionaries) -> dict[str, pa.Table]:
    """Tables of what the codes of ``checked`` stand for, for the rejects: ``student_ids``
    (rank -> cleaned id) and ``<field>_texts`` (code -> cleaned text) of the target, score and
    date."""
    import pyarrow as pa

    def table(code: str, text: str, texts: list[str]) -> pa.Table:
        return pa.table({code: pa.array(range(len(texts)), pa.int32()),
                         text: pa.array(texts, pa.string())})

    return {"student_ids": table("student_rank", "student_id", dictionaries.student_ids),
            **{f"{field}_texts": table(f"{field}_code", field, dictionaries.texts[field])
               for field in ("target", "score", "date")}}


def _distinct_written(connection: duckdb.DuckDBPyConnection, files: Sequence[FileColumns]
                      ) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
    """Per lookup group, each file's distinct tuples of texts as written (NULL read as ""),
    sorted: one pass over each file (GROUPING SETS, a set per group), fetched as Arrow. A
    group the file has no column for has one tuple of blanks."""
    written: dict[str, list[tuple[int, tuple[str, ...]]]] = {group: [] for group in GROUPS}
    for spec in files:
        index = spec.file.index
        sets = []
        for group, fields in GROUPS.items():
            keys = [f"k{spec.fields[f][1:]}" for f in fields if f in spec.fields]
            if keys:
                sets.append((group, keys))
            else:
                written[group].append((index, ("",) * len(fields)))
        if not sets:
            continue
        keys = sorted({key for _, group_keys in sets for key in group_keys})
        found = connection.sql(f"""
            SELECT {", ".join(f"GROUPING({group_keys[0]}) = 0 AS in_{group}"
                              for group, group_keys in sets)}, {", ".join(keys)}
            FROM (SELECT {", ".join(f"coalesce(c{key[1:]}, '') AS {key}" for key in keys)}
                  FROM raw WHERE file_index = {index})
            GROUP BY GROUPING SETS ({", ".join(f"({', '.join(k)})" for _, k in sets)})
            """).to_arrow_table()
        for group, group_keys in sets:
            rows = found.filter(found.column(f"in_{group}"))
            texts = {key: rows.column(key).to_pylist() for key in group_keys}
            blank = [""] * rows.num_rows
            columns = [texts.get(f"k{spec.fields[f][1:]}", blank) if f in spec.fields else blank
                       for f in GROUPS[group]]
            written[group] += [(index, t) for t in sorted(zip(*columns, strict=True))]
    return written


def _create_copies(connection: duckdb.DuckDBPyConnection, files: Sequence[FileColumns]) -> None:
    """``copies``: each record written again later in its file (every column as written),
    with the line of the first. The records' hashes (made at load) find the few that may
    repeat (usually none); only those are compared column by column. (A copy of an accepted
    record is accepted too: the same texts.)"""
    selects = []
    for spec in files:
        index, width = spec.file.index, len(spec.file.header)
        record = ", ".join(f"c{i}" for i in range(width))
        same = " AND ".join(f"s.c{i} IS NOT DISTINCT FROM f.c{i}" for i in range(width))
        selects.append(f"""
            SELECT s.seq, f.first_line FROM suspects s
            JOIN (
                SELECT {record}, min(seq) AS first_seq, arg_min(line, seq) AS first_line
                FROM suspects WHERE file_index = {index}
                GROUP BY ALL HAVING count(*) > 1) f
            ON {same} WHERE s.file_index = {index} AND s.seq <> f.first_seq""")
    connection.execute("""CREATE TEMP TABLE suspects AS
        SELECT * FROM raw WHERE (file_index, record_hash) IN (
            SELECT (file_index, record_hash) FROM raw GROUP BY ALL HAVING count(*) > 1)""")
    connection.execute("CREATE TABLE copies AS " + " UNION ALL ".join(selects))
    connection.execute("DROP TABLE suspects")


def _checked_select(spec: FileColumns, outputs: Mapping[str, Sequence[str]]) -> str:
    """One file's records joined with every lookup; the reader's reason (least of the
    checks') and whether the record is padding."""
    index = spec.file.index
    parts = ["r.file_index", "r.line", "r.seq"]
    joins = []
    for group, fields in GROUPS.items():
        keys = [f"l_{group}.{raw_column(f)} = coalesce(r.{spec.fields[f]}, '')"
                for f in fields if f in spec.fields]
        lookup = f"{_lookup(group, index)} l_{group}"
        joins.append(f"JOIN {lookup} ON {' AND '.join(keys)}" if keys else f"CROSS JOIN {lookup}")
        parts += [f"l_{group}.{name}" for name in outputs[group]]
    no_student = "l_student_id.student_rank = 0"
    reasons = ["l_marks.target_reason", "l_marks.outcome_reason",
               f"CASE WHEN {no_student} THEN {int(Reason.MISSING_STUDENT_ID)} ELSE {NONE} END",
               f"CASE WHEN l_date.bad THEN {int(Reason.BAD_DATE)} ELSE {NONE} END"]
    parts.append(f"least({', '.join(reasons)}) AS r")
    # Padding: a record blank in every field is no record (tested only where the id, the
    # target and the score are blank).
    others = " AND ".join(f"{stripped(f'r.c{i}')} = ''"
                          for i in range(len(spec.file.header))) or "true"
    parts.append(f"CASE WHEN {no_student} AND l_marks.blank THEN {others} ELSE false END "
                 "AS padding")
    return (f"SELECT {', '.join(parts)} FROM raw r {' '.join(joins)} "
            f"WHERE r.file_index = {index}")


def _lookup(name: str, file_index: int) -> str:
    """One file's part of a lookup. Joined on the text alone: a join on ``file_index`` too
    lets the optimizer infer the lookups' file indexes equal to each other and join the
    lookups first, a product of them all (2.2 s at 1M rows, measured)."""
    return f"(SELECT * EXCLUDE (file_index) FROM lookup_{name} WHERE file_index = {file_index})"


__all__ = ["NONE", "WHITESPACE", "Dictionaries", "create_checked", "file_columns", "stripped"]
