"""The rows the reader does not use, as the engine finds them: rejects.csv rows and the
terminal's diagnostics, with the reader's own messages (`ingest._explain`), each made once per
distinct text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mastery_cli.diagnostics import Diagnostic, shortened
from mastery_cli.grading.engine.checks import NONE, FileColumns, _sql_text
from mastery_cli.grading.ingest import (
    REASON_CODES,
    Reason,
    _Part,
    _reject_diagnostics,
    bad_date_message,
)
from mastery_cli.grading.scorecells import Outcome, reject_message

if TYPE_CHECKING:
    import duckdb

    from mastery_cli.grading.formats import TargetMatcher

#: Which field's column a reason is about (None: the whole row).
_FIELD = {Reason.NO_SCORE: "score", Reason.MISSING_STUDENT_ID: "student_id",
          Reason.MISSING_TARGET: "target", Reason.UNKNOWN_TARGET: "target",
          Reason.NON_NUMERIC_SCORE: "score", Reason.SCORE_OFF_SCALE: "score",
          Reason.BAD_DATE: "date", Reason.DUPLICATE_ROW: None}
_SCORE_OUTCOME = {Reason.NO_SCORE: Outcome.NO_SCORE, Reason.NON_NUMERIC_SCORE: Outcome.NON_NUMERIC,
                  Reason.SCORE_OFF_SCALE: Outcome.OFF_SCALE}

def add_reader_rejects(connection: duckdb.DuckDBPyConnection, files: Sequence[FileColumns],
                       matcher: TargetMatcher, limit: int) -> list[Diagnostic]:
    """Insert the reader's rejects into the sink's ``unused`` (origin 0: before the policy's
    rows on ties); the diagnostics the reader gives for them, file by file."""
    import pyarrow as pa

    connection.execute(f"""CREATE TABLE rejected AS
        SELECT c.file_index, c.line, c.reason, s.student_id, target, score, date,
               c.scale_row, c.target_rank, c.first_line
        FROM checked c JOIN student_ids s USING (student_rank)
        JOIN target_texts USING (target_code) JOIN score_texts USING (score_code)
        JOIN date_texts USING (date_code)
        WHERE c.reason <> {NONE}""")
    keys: dict[str, list[object]] = {"reason": [], "text": [], "scale_row": [], "message": []}

    def add(reason: Reason, text: str, scale_row: int, message: str) -> None:
        keys["reason"].append(int(reason))
        keys["text"].append(text)
        keys["scale_row"].append(scale_row)
        keys["message"].append(message)

    targeted = f"{int(Reason.MISSING_TARGET)}, {int(Reason.UNKNOWN_TARGET)}"
    for (text, reason) in connection.execute(f"""SELECT DISTINCT target, reason FROM rejected
            WHERE reason IN ({targeted})""").fetchall():
        add(Reason(reason), text, 0, "no target in this row" if not text else
            f"unknown target {shortened(text)!r}; {matcher.suggestion(text)}")
    for (text,) in connection.execute(
            f"SELECT DISTINCT date FROM rejected WHERE reason = {int(Reason.BAD_DATE)}").fetchall():
        add(Reason.BAD_DATE, text, 0, bad_date_message(text))
    scored = ", ".join(str(int(r)) for r in _SCORE_OUTCOME)
    for (text, scale_row, reason) in connection.execute(
            f"SELECT DISTINCT score, scale_row, reason FROM rejected WHERE reason IN ({scored})"
            ).fetchall():
        reader = matcher.readers[scale_row - 1] if scale_row > 0 else None
        add(Reason(reason), text, scale_row,
            reject_message(_SCORE_OUTCOME[Reason(reason)], text, reader, matcher.readers))
    connection.register("reject_messages", pa.table({
        "reason": pa.array(keys["reason"], pa.int8()), "text": pa.array(keys["text"], pa.string()),
        "scale_row": pa.array(keys["scale_row"], pa.int32()),
        "message": pa.array(keys["message"], pa.string())}))
    diagnostics: list[Diagnostic] = []
    names = " ".join(f"WHEN {int(r)} THEN {_sql_text(n)}" for r, n in REASON_CODES.items())
    for spec in files:
        header = spec.file.header
        column_of = {}
        for reason, field in _FIELD.items():
            column = spec.fields.get(field) if field else None
            column_of[reason] = header[int(column[1:])] if column else ""
        columns = " ".join(f"WHEN {int(r)} THEN {_sql_text(c)}" for r, c in column_of.items())
        connection.execute(f"""
            INSERT INTO unused (file, "row", "column", value, reason, message, student_id,
                                origin, ordinal)
            SELECT {_sql_text(spec.file.shown)}, c.line, CASE c.reason {columns} END,
                   CASE WHEN c.reason IN ({targeted}) THEN c.target
                        WHEN c.reason = {int(Reason.BAD_DATE)} THEN c.date
                        WHEN c.reason IN ({scored}) THEN c.score ELSE '' END,
                   CASE c.reason {names} END,
                   CASE WHEN c.reason = {int(Reason.MISSING_STUDENT_ID)}
                        THEN 'no student id in this row'
                        WHEN c.reason = {int(Reason.DUPLICATE_ROW)}
                        THEN 'exact copy of line ' || c.first_line || ': dropped'
                        ELSE m.message END,
                   c.student_id, 0, c.line
            FROM rejected c
            LEFT JOIN reject_messages m ON m.reason = c.reason AND m.scale_row =
                 CASE WHEN c.reason IN ({scored}) THEN c.scale_row ELSE 0 END
                 AND m.text = CASE WHEN c.reason = {int(Reason.BAD_DATE)} THEN c.date
                                   WHEN c.reason IN ({scored}) THEN c.score ELSE c.target END
            WHERE c.file_index = {spec.file.index}""")
        diagnostics += _file_diagnostics(connection, spec, limit)
    return diagnostics


def _file_diagnostics(connection: duckdb.DuckDBPyConnection, spec: FileColumns,
                      limit: int) -> list[Diagnostic]:
    """The reader's diagnostics for one file's rejects: per reason, the first ``limit`` rows
    and a count (`ingest._reject_diagnostics`)."""
    import numpy as np

    found: list[Diagnostic] = []
    header = spec.file.header
    index_of = {name: i for i, name in enumerate(header)}
    names = {n for (n,) in connection.execute(
        "SELECT DISTINCT reason FROM unused WHERE file = ? AND origin = 0",
        [spec.file.shown]).fetchall()}
    for reason, code_name in sorted(REASON_CODES.items()):
        if code_name not in names:
            continue
        total = connection.execute("SELECT count(*) FROM unused WHERE file = ? AND reason = ?",
                                   [spec.file.shown, code_name]).fetchall()[0][0]
        rows = connection.execute(
            'SELECT "row", "column", message FROM unused WHERE file = ? AND reason = ? '
            'ORDER BY "row" LIMIT ?', [spec.file.shown, code_name, limit + 1]).fetchall()
        # A part of `total` rows whose first `limit + 1` are known: what the reader lists.
        lines = np.array([r[0] for r in rows] + [0] * (total - len(rows)), dtype=np.int64)
        columns = np.array([index_of.get(r[1], -1) for r in rows] + [-1] * (total - len(rows)),
                           dtype=np.int64)
        messages = [r[2] for r in rows]
        part = _Part(lines, columns, [""], np.zeros(total, dtype=np.int64), code_name,
                     messages or [""], np.array(list(range(len(rows))) + [0] * (total - len(rows)),
                                                dtype=np.int64))
        found += _reject_diagnostics(reason, part, header, spec.file.shown, limit)
    return found
