"""What each distinct text means, decided by mastery's domain code, as small tables to join.

Everything a cell can mean is decided once per distinct text, by the code the reader has
always used (`TargetMatcher.resolve`, `scorecells.score_table`, `ingest.parse_dates`, the
type's lower case, `ingest._clean_name`), so a cell means the same thing here as anywhere else
in mastery. The engine then joins every record with these tables (`checks`).

Fields are looked up in groups (`GROUPS`), each keyed on its fields' texts as written, with one
row per distinct tuple in a file: the target and the score together (what a score means depends
on the target's scale, and a file holds few pairs: one join instead of three), the others
alone. (A join costs 0.1-0.2 s CPU per million records; one on the four texts of assessment,
type, section and course cost more than four joins, 0.56 s against 0.37 s, measured.)

What the lookups give is integers wherever the kernels can take them: a student's rank among
the sorted ids (so the engine sorts on an integer and batches are cut on one), a code for the
name and for every other text (the kernels get codes and the dictionaries, no string per row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading.ingest import IngestConfig, Reason, _clean_name, _lower, parse_dates
from mastery_cli.grading.scorecells import Outcome, score_table

if TYPE_CHECKING:
    import pyarrow as pa

    from mastery_cli.grading import formats

#: The reader's reason for a row that is accepted so far (reasons combine with least()).
NONE = 127
#: The reader's reason of a cell's outcome (None: no reason).
_OUTCOME_REASON = {Outcome.NO_SCORE: Reason.NO_SCORE, Outcome.NON_NUMERIC: Reason.NON_NUMERIC_SCORE,
                   Outcome.OFF_SCALE: Reason.SCORE_OFF_SCALE}
#: Lookup -> the fields it is keyed on (every field of a record is in exactly one).
GROUPS: dict[str, tuple[str, ...]] = {
    "student_id": ("student_id",),
    "student_name": ("student_name",),
    "marks": ("target", "score"),
    "date": ("date",),
    **{field: (field,) for field in ("assessment", "type", "section", "course", "rater",
                                     "source", "comment")},
}
#: Fields handed to the kernels as a code into `Dictionaries.texts`.
CODED_FIELDS = ("target", "score", "date", "assessment", "type", "section", "course", "rater",
                "source", "comment")
#: Lookup columns the checks use but `checked` does not keep.
CHECK_ONLY = ("target_reason", "outcome_reason", "bad", "blank")

#: Per lookup, the distinct tuples of texts as written, with their file ("" for a field the
#: file has no column for).
Written = Mapping[str, Sequence[tuple[int, tuple[str, ...]]]]


@dataclass
class Dictionaries:
    """The texts the integers of ``checked`` stand for."""

    #: Per coded field, the cleaned texts (sorted, "" among them).
    texts: dict[str, list[str]]
    #: The cleaned student ids, sorted, "" first: a row's ``student_rank`` (0: no id).
    student_ids: list[str]
    #: The cleaned names: a row's ``name_code``.
    student_names: list[str]


def raw_column(field: str) -> str:
    """The lookup column holding ``field``'s text as written."""
    return f"raw_{field}"


def lookup_tables(written: Written, present: Mapping[int, set[str]],
                  matcher: formats.TargetMatcher, config: IngestConfig
                  ) -> tuple[Dictionaries, dict[str, pa.Table]]:
    """The dictionaries, and per group the table: ``file_index``, ``raw_<field>`` per field,
    then what they mean. ``present``: per file, the fields it has a column for."""
    import pyarrow as pa

    cleaned = {field: _cleaned(field, [texts[at] for _, texts in written[group]])
               for group, fields in GROUPS.items() for at, field in enumerate(fields)}
    dictionaries = Dictionaries(
        {field: sorted({*cleaned[field], ""}) for field in CODED_FIELDS},
        sorted({*cleaned["student_id"], ""}), sorted({*cleaned["student_name"], ""}))
    tables = {}
    for group, fields in GROUPS.items():
        rows = written[group]
        columns: dict[str, pa.Array] = {
            "file_index": pa.array([f for f, _ in rows], pa.int32()),
            **{raw_column(field): pa.array([texts[at] for _, texts in rows], pa.string())
               for at, field in enumerate(fields)}}
        absent = {field: [field not in present[f] for f, _ in rows] for field in fields}
        for field in fields:
            columns.update(_meaning(field, cleaned[field], absent[field], dictionaries,
                                    matcher, config))
        if group == "marks":
            columns.update(_cells(rows, cleaned, columns["scale_row"], matcher, config))
            columns["blank"] = pa.array([not t and not s for t, s in zip(
                cleaned["target"], cleaned["score"], strict=True)], pa.bool_())
        tables[group] = pa.table(columns)
    return dictionaries, tables


def _cleaned(field: str, texts: list[str]) -> list[str]:
    if field == "student_name":
        return [_clean_name(t) for t in texts]
    stripped = [t.strip() for t in texts]
    return _lower(stripped) if field == "type" else stripped


def _meaning(field: str, cleaned: list[str], absent: list[bool], dictionaries: Dictionaries,
             matcher: formats.TargetMatcher, config: IngestConfig) -> dict[str, pa.Array]:
    """The columns a field's cleaned texts give (besides the score's cell, `_cells`)."""
    import pyarrow as pa

    if field == "student_id":
        rank = {text: i for i, text in enumerate(dictionaries.student_ids)}
        return {"student_rank": pa.array([rank[t] for t in cleaned], pa.int32())}
    if field == "student_name":
        code = {text: i for i, text in enumerate(dictionaries.student_names)}
        return {"name_code": pa.array([code[t] for t in cleaned], pa.int32())}
    code = {text: i for i, text in enumerate(dictionaries.texts[field])}
    columns = {f"{field}_code": pa.array([code[t] for t in cleaned], pa.int32())}
    if field == "target":
        columns.update(_targets(cleaned, absent, matcher))
    if field == "date":
        values, bad = parse_dates(cleaned, config.date_format)
        nanoseconds = np.asarray(values, dtype="datetime64[ns]").view(np.int64)
        # A file without dates has none (NULL, last in a student's order); a blank date is NaT.
        columns["date_ns"] = pa.array(nanoseconds, pa.int64(), mask=np.asarray(absent, bool))
        columns["bad"] = pa.array(bad, pa.bool_())
    return columns


def _targets(cleaned: list[str], absent: list[bool], matcher: formats.TargetMatcher
             ) -> dict[str, pa.Array]:
    """The target's rank among the framework's sorted ids, its scale (row of `score_table`)
    and the reader's reason (a file without targets is missing them)."""
    import pyarrow as pa

    rank = {target_id: i for i, target_id in enumerate(sorted(matcher.ids))}
    resolved = [-1 if gone else matcher.resolve(t) for t, gone in zip(cleaned, absent,
                                                                        strict=True)]
    return {
        "target_rank": pa.array([rank[matcher.ids[r]] if r >= 0 else -1 for r in resolved],
                                pa.int32()),
        "scale_row": pa.array([int(matcher.scale_index[r]) + 1 if r >= 0 else 0
                               for r in resolved], pa.int32()),
        "target_reason": pa.array(
            [NONE if r >= 0 else int(Reason.MISSING_TARGET if not t else Reason.UNKNOWN_TARGET)
             for t, r in zip(cleaned, resolved, strict=True)], pa.int8()),
    }


def _cells(rows: Sequence[tuple[int, tuple[str, ...]]], cleaned: Mapping[str, list[str]],
           scale_rows: pa.Array, matcher: formats.TargetMatcher, config: IngestConfig
           ) -> dict[str, pa.Array]:
    """Each (target, score) pair's cell: outcome, value and the reader's reason, the score read
    on the target's scale with its file's decimal mark."""
    import pyarrow as pa

    from mastery_cli.grading.csvsniff import decimal_marks
    from mastery_cli.grading.ingest import _decimal_setting

    scores = cleaned["score"]
    by_file: dict[int, list[int]] = {}
    for at, (file_index, _) in enumerate(rows):
        by_file.setdefault(file_index, []).append(at)
    outcome = np.zeros(len(rows), dtype=np.int8)
    value = np.full(len(rows), np.nan)
    scale = np.asarray(scale_rows, dtype=np.int64)
    for ats in by_file.values():
        texts = sorted({scores[at] for at in ats})
        marks = decimal_marks(texts)
        decimal = _decimal_setting(config.decimal) or ("," if marks == (True, False) else ".")
        _, values, outcomes = score_table(texts, matcher.readers, decimal, config.missing)
        column = {text: i for i, text in enumerate(texts)}
        for at in ats:
            outcome[at] = outcomes[scale[at], column[scores[at]]]
            value[at] = values[scale[at], column[scores[at]]]
    reason = [int(_OUTCOME_REASON.get(Outcome(o), NONE)) for o in outcome.tolist()]
    return {"outcome": pa.array(outcome, pa.int8()), "score_value": pa.array(value, pa.float64()),
            "outcome_reason": pa.array(reason, pa.int8())}
