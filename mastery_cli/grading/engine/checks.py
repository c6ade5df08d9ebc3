"""Typing and checking the records in the engine.

Everything a cell can mean is decided once per distinct text, by the same domain code the
reader has always used (`TargetMatcher.resolve`, `scorecells.score_table`, `ingest.parse_dates`,
the type's lower case), and handed to the engine as a small lookup table; the engine joins every
record with them. So a million rows cost a few joins, and a cell means the same thing here as
anywhere else in mastery.

The result is the table ``checked``: one row per record that is not padding, with the fields
cleaned, ``target_rank`` (the target's position among the framework's sorted ids), the score,
status, date and the reader's ``reason`` (0 when the row is accepted; `ingest.Reason`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading import formats
from mastery_cli.grading.ingest import IngestConfig, Reason, _clean_name, _lower, parse_dates
from mastery_cli.grading.scorecells import Outcome, score_table

if TYPE_CHECKING:
    import duckdb

    from mastery_cli.grading.engine.load import LoadedFile

#: What Python's str.strip() strips (every character whose isspace() is true), for DuckDB's
#: trim(text, characters); tests/test_engine.py checks it against Python's own tables.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: The reader's reason of a cell's outcome (None: no reason).
_OUTCOME_REASON = {Outcome.NO_SCORE: Reason.NO_SCORE, Outcome.NON_NUMERIC: Reason.NON_NUMERIC_SCORE,
                   Outcome.OFF_SCALE: Reason.SCORE_OFF_SCALE}
NONE = 127
TEXT_FIELDS = ("student_id", "student_name", "target", "score", "date", "assessment", "type",
               "section", "course", "rater", "source", "comment")


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


#: Fields with many distinct texts, cleaned in Python once per distinct text and joined back as
#: text (DuckDB's per-row string functions cost more than a join).
CLEANED_FIELDS = ("student_id", "student_name")
#: Fields with few distinct texts: each distinct text as written gets a code (and its meaning)
#: from a lookup made in Python; no per-row string work in the engine.
CODED_FIELDS = ("target", "score", "date", "assessment", "type", "section", "course", "rater",
                "source", "comment")


@dataclass
class Dictionaries:
    """Per coded field, the cleaned texts a code stands for."""

    texts: dict[str, list[str]]


def create_checked(connection: duckdb.DuckDBPyConnection, files: Sequence[FileColumns],
                   matcher: formats.TargetMatcher, config: IngestConfig) -> Dictionaries:
    """The lookups, the (usually empty) table of copies, then the view ``checked``.

    Nothing the size of the input is stored besides ``raw``: ``checked`` is a view, read twice
    (the rows not used, then the accepted rows in order)."""
    import pyarrow as pa

    connection.execute("""CREATE OR REPLACE TEMP MACRO canvas_name(n) AS
        CASE WHEN starts_with(n, '="') AND ends_with(n, '"') AND length(n) >= 3
             THEN n[3:length(n) - 1] ELSE n END""")
    _create_copies(connection, files)
    # Every looked-up field's distinct texts, as written, per file: one pass over each file.
    looked_up = (*CODED_FIELDS, *CLEANED_FIELDS)
    written: dict[str, list[tuple[int, str]]] = {name: [] for name in looked_up}
    for spec in files:
        present = [(name, spec.fields[name]) for name in looked_up if name in spec.fields]
        if not present:
            continue
        sets = ", ".join(f"({column})" for _, column in present)
        flags = ", ".join(f"GROUPING({column}) = 0" for _, column in present)
        values = ", ".join(f"coalesce({column}, '')" for _, column in present)
        for row in connection.execute(
                f"SELECT {flags}, {values} FROM raw WHERE file_index = {spec.file.index} "
                f"GROUP BY GROUPING SETS ({sets})").fetchall():
            k = len(present)
            at = next(i for i in range(k) if row[i])
            written[present[at][0]].append((spec.file.index, row[k + at]))
    for name in CLEANED_FIELDS:
        clean = _clean_name if name == "student_name" else str.strip
        connection.register(f"lookup_{name}", pa.table({
            "file_index": pa.array([f for f, _ in written[name]], pa.int32()),
            "raw": pa.array([t for _, t in written[name]], pa.string()),
            "clean": pa.array([clean(t) for _, t in written[name]], pa.string())}))
    dictionaries = Dictionaries({})
    for name in CODED_FIELDS:
        cleaned = [text.strip() for _, text in written[name]]
        if name == "type":
            cleaned = _lower(cleaned)
        texts = sorted({*cleaned, ""})
        code = {text: i for i, text in enumerate(texts)}
        dictionaries.texts[name] = texts
        columns: dict[str, pa.Array] = {
            "file_index": pa.array([f for f, _ in written[name]], pa.int32()),
            "raw": pa.array([t for _, t in written[name]], pa.string()),
            "code": pa.array([code[c] for c in cleaned], pa.int32()),
            "clean": pa.array(cleaned, pa.string()),
        }
        if name == "target":
            ids = sorted(matcher.ids)
            rank = {target_id: i for i, target_id in enumerate(ids)}
            resolved = [matcher.resolve(t) for t in cleaned]
            columns["target_rank"] = pa.array(
                [rank[matcher.ids[r]] if r >= 0 else -1 for r in resolved], pa.int32())
            columns["scale_row"] = pa.array(
                [int(matcher.scale_index[r]) + 1 if r >= 0 else 0 for r in resolved], pa.int32())
            columns["target_reason"] = pa.array(
                [NONE if r >= 0 else int(Reason.MISSING_TARGET if not t else Reason.UNKNOWN_TARGET)
                 for t, r in zip(cleaned, resolved, strict=True)], pa.int8())
        if name == "date":
            values, bad = parse_dates(cleaned, config.date_format)
            columns["date_ns"] = pa.array(
                np.asarray(values, dtype="datetime64[ns]").view(np.int64), pa.int64())
            columns["bad"] = pa.array(bad, pa.bool_())
        connection.register(f"lookup_{name}", pa.table(columns))
    _register_cells(connection, written["score"], matcher, config)

    selects = []
    for spec in files:
        selects.append(_checked_select(spec, dictionaries))
    keep = "true" if config.keep_duplicates else "false"
    # One pass of joins (each costs ~0.85 us a row): materialised narrow, the texts of the
    # target, score and date kept only on rejected rows (their messages need them).
    connection.execute(f"""
        CREATE TABLE checked AS
        SELECT * REPLACE (CASE WHEN reason <> {NONE} THEN target END AS target,
                          CASE WHEN reason <> {NONE} THEN score END AS score,
                          CASE WHEN reason <> {NONE} THEN date END AS date)
        FROM (SELECT c.* EXCLUDE (r, padding), k.first_line,
                     CASE WHEN k.seq IS NOT NULL AND NOT {keep} AND c.r = {NONE}
                          THEN {int(Reason.DUPLICATE_ROW)} ELSE c.r END AS reason
              FROM ({" UNION ALL ".join(selects)}) c
              LEFT JOIN copies k ON k.seq = c.seq
              WHERE NOT c.padding)""")
    connection.execute("DROP TABLE raw")
    return dictionaries


def _register_cells(connection: duckdb.DuckDBPyConnection, written: list[tuple[int, str]],
                    matcher: formats.TargetMatcher, config: IngestConfig) -> None:
    """``lookup_cells``: per file, score text as written and scale, the cell's outcome and
    value (each file's decimal mark)."""
    import pyarrow as pa

    from mastery_cli.grading.csvsniff import decimal_marks
    from mastery_cli.grading.ingest import _decimal_setting

    per_file: dict[int, list[str]] = {}
    for file_index, text in written:
        per_file.setdefault(file_index, []).append(text)
    cells: dict[str, list[object]] = {"file_index": [], "raw": [], "scale_row": [],
                                       "outcome": [], "value": []}
    for file_index, raw_texts in per_file.items():
        texts = [t.strip() for t in raw_texts]
        marks = decimal_marks(texts)
        decimal = _decimal_setting(config.decimal) or ("," if marks == (True, False) else ".")
        _, values, outcomes = score_table(texts, matcher.readers, decimal, config.missing)
        for row in range(outcomes.shape[0]):
            cells["file_index"] += [file_index] * len(texts)
            cells["raw"] += raw_texts
            cells["scale_row"] += [row] * len(texts)
            cells["outcome"] += outcomes[row].tolist()
            cells["value"] += values[row].tolist()
    outcome_reason = [int(_OUTCOME_REASON.get(Outcome(o), NONE))  # type: ignore[call-overload]
                      for o in cells["outcome"]]
    connection.register("lookup_cells", pa.table({
        "file_index": pa.array(cells["file_index"], pa.int32()),
        "raw": pa.array(cells["raw"], pa.string()),
        "scale_row": pa.array(cells["scale_row"], pa.int32()),
        "outcome": pa.array(cells["outcome"], pa.int8()),
        "value": pa.array(cells["value"], pa.float64()),
        "outcome_reason": pa.array(outcome_reason, pa.int8()),
    }))


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


def _checked_select(spec: FileColumns, dictionaries: Dictionaries) -> str:
    fields = spec.fields
    index = spec.file.index
    width = len(spec.file.header)
    joins = []
    parts = ["r.file_index", "r.line", "r.seq"]
    for name in CLEANED_FIELDS:
        column = fields.get(name)
        if column is None:
            parts.append(f"'' AS {name}")
            continue
        joins.append(f"JOIN {_lookup(name, index)} l_{name} "
                     f"ON l_{name}.raw = coalesce(r.{column}, '')")
        parts.append(f"l_{name}.clean AS {name}")
    student = "l_student_id.clean" if "student_id" in fields else "''"
    for name in CODED_FIELDS:
        column = fields.get(name)
        if column is None:
            parts.append(f"{dictionaries.texts[name].index('')} AS {name}_code")
            if name in ("target", "score", "date"):
                parts.append(f"'' AS {name}")
            continue
        alias = f"l_{name}"
        joins.append(f"JOIN {_lookup(name, index)} {alias} "
                     f"ON {alias}.raw = coalesce(r.{column}, '')")
        parts.append(f"{alias}.code AS {name}_code")
        if name in ("target", "score", "date"):
            parts.append(f"{alias}.clean AS {name}")
    target = "l_target" if "target" in fields else None
    parts += [f"{target}.target_rank" if target else "-1 AS target_rank",
              f"{target}.scale_row" if target else "0 AS scale_row"]
    if "score" in fields:
        joins.append(f"JOIN {_lookup('cells', index)} l_cell ON "
                     f"l_cell.raw = coalesce(r.{fields['score']}, '') AND l_cell.scale_row = "
                     + (f"{target}.scale_row" if target else "0"))
    parts += ["l_cell.outcome", "l_cell.value AS score_value"]
    parts.append("l_date.date_ns" if "date" in fields else "NULL::BIGINT AS date_ns")
    reasons = [f"{target}.target_reason" if target else str(int(Reason.MISSING_TARGET)),
               "l_cell.outcome_reason",
               f"CASE WHEN {student} = '' THEN "
               f"{int(Reason.MISSING_STUDENT_ID)} ELSE {NONE} END"]
    if "date" in fields:
        reasons.append(f"CASE WHEN l_date.bad THEN {int(Reason.BAD_DATE)} ELSE {NONE} END")
    parts.append(f"least({', '.join(reasons)}) AS r")
    # Padding: a record blank in every field is no record (tested only where the id, the
    # target and the score are blank).
    others = " AND ".join(f"{stripped(f'r.c{i}')} = ''" for i in range(width)) or "true"
    blank_key = " AND ".join([f"{student} = ''",
                              f"{target}.clean = ''" if target else "true",
                              "l_score.clean = ''" if "score" in fields else "true"])
    parts.append(f"CASE WHEN {blank_key} THEN {others} ELSE false END AS padding")
    return (f"SELECT {', '.join(parts)} FROM raw r {' '.join(joins)} "
            f"WHERE r.file_index = {index}")


def _lookup(name: str, file_index: int) -> str:
    """One file's part of a lookup. Joined on the text alone: a join on ``file_index`` too
    lets the optimizer infer the lookups' file indexes equal to each other and join the
    lookups first, a product of them all (2.2 s at 1M rows, measured)."""
    return f"(SELECT * EXCLUDE (file_index) FROM lookup_{name} WHERE file_index = {file_index})"


def _at(fields: Mapping[str, str], name: str) -> str | None:
    column = fields.get(name)
    return None if column is None else f"r.{column}"


__all__ = ["WHITESPACE", "_clean_name", "create_checked", "file_columns", "stripped"]
