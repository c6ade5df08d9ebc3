"""Read gradebook exports into one table of evidence, accounting for every row.

`read_evidence` reads each file (any format of `formats.FORMATS`, detected from the header
unless ``IngestConfig.input_format`` names one), checks every evidence cell against the
framework and returns an `EvidenceSet`: the accepted evidence, the rows not used with a reason
each, and the diagnostics. The contract is in docs/CONTRACTS.md ("Evidence").

Unit of accounting
------------------
``rows_read`` counts *evidence records*:
- long, mapped and Canvas Outcome Results files: CSV data records (one record = one row of the
  file, wherever quoted newlines put its lines); records whose every field is blank are
  spreadsheet padding and are not counted;
- wide and Canvas Learning Mastery Gradebook files: the non-blank score cells of target
  columns (a blank cell was never evidence); a malformed record counts once.

Every unit read ends up in exactly one place, so ``rows_read == len(table) + len(reject_table)``:
- ``table``: accepted evidence (status ``scored``, ``excused`` or ``missing``);
- ``reject_table`` with a *set-aside* reason: ``no-score`` (a blank score: no evidence, never a
  zero) and ``duplicate-row`` (a later exact copy of a record, dropped unless
  ``keep_duplicates``); these are expected and are summarised, not listed on the terminal;
- ``reject_table`` with any other reason: problems the teacher should fix (``unknown-target``,
  ``score-off-scale``...), reported as warnings, at most 20 per reason and file on the terminal
  (rejects.csv has them all).

Speed
-----
A million-row gradebook holds a few thousand distinct texts. pyarrow parses the file (memory-
mapped) with every column read as a dictionary (`csvsniff.read_records`); the per-block
dictionaries are joined into one code per row with a Python dict (`csvsniff.ColumnCodes`).
Every check (trimming, target matching, score cells, dates, EX/M) runs once per *distinct* text
in Python and is gathered back to the rows with numpy indexing; duplicate rows and one id with
two names are found with numpy on the codes. No pandas and no ``pyarrow.compute``, in any
format: importing pandas costs 0.23 s and the first compute kernel call 0.19 s, each more than
the rest of the read (0.1 s after pyarrow's parse of a million rows). The result is a `Table`
(text columns as codes, in the smallest integer type that holds them); ``EvidenceSet.frame``
and ``.rejects`` give the pandas DataFrames of the contract, made on first use. Two rare
settings still import more: a policy date format of ``mixed`` (pandas) and type texts with
characters newer than Python's Unicode tables (``pyarrow.compute.utf8_lower``).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mastery_cli.diagnostics import (
    Diagnostic,
    MasteryError,
    Severity,
    error,
    shortened,
    sorted_diagnostics,
    warning,
)
from mastery_cli.framework.model import Framework
from mastery_cli.grading import formats
from mastery_cli.grading.csvsniff import (
    ColumnCodes,
    CsvError,
    CsvRecords,
    NotUtf8,
    decimal_marks,
    not_csv,
    read_input,
    read_records,
    smallest_int,
    sniff,
    without_content,
)
from mastery_cli.grading.dates import parse_dates
from mastery_cli.grading.distinct import sorted_distinct
from mastery_cli.grading.formats import Candidates, Coded, TargetMatcher, code_all, info
from mastery_cli.grading.scorecells import Outcome, read_scores, reject_message, score_table
from mastery_cli.grading.table import Coded as TextCodes
from mastery_cli.grading.table import Table, gather, gather_where
from mastery_cli.inputs import hint_for

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

INPUT_FORMATS = ("auto", *formats.FORMATS)
STRING_FIELDS = ("assessment", "section", "course", "rater", "source", "comment", "artifact",
                 "approved_by", "approved_on", "criterion_weight")
FRAME_COLUMNS = (
    "student_id",
    "student_name",
    "target",
    "score",
    "score_cell",
    "status",
    "date",
    "assessment",
    "type",
    "section",
    "course",
    "rater",
    "source",
    "comment",
    "artifact",
    "approved_by",
    "approved_on",
    "criterion_weight",
    "file",
    "row",
    "seq",
)
REJECT_COLUMNS = ("file", "row", "column", "value", "reason", "message")
#: `EvidenceSet.reject_owners`: whose evidence each reject was (rejects.csv does not have them).
REJECT_OWNER_COLUMNS = ("student_id", "target")
SET_ASIDE_REASONS = frozenset({"no-score", "duplicate-row"})


@dataclass(frozen=True)
class IngestConfig:
    """How to read the gradebook files (from the grading policy and command line)."""

    input_format: str = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    missing: str | float = "ignore"
    keep_duplicates: bool = False
    outcome_map: Mapping[str, str] = field(default_factory=dict)
    decimal: str | None = None
    max_listed_per_reason: int = 20
    #: The name to show for a file read from another place (a rubric-scored file converted
    #: into a temporary folder is shown, row for row, as the file the teacher gave).
    shown_as: Mapping[str, str] = field(default_factory=dict)


@dataclass
class FileSummary:
    """What happened to one file, in the file's unit (``rows`` or ``cells``)."""

    file: str
    format: str
    dialect: str
    unit: str
    read: int = 0
    accepted: int = 0
    set_aside: int = 0
    rejected: int = 0
    #: Whether some score had a decimal comma, a decimal point (what the reader's choice of
    #: decimal mark, unless the policy names one, was made from).
    decimal_marks: tuple[bool, bool] = (False, False)
    #: The file's header for each field read from one column (long and mapped files), so
    #: what is said about a row names the column as the teacher's file spells it.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class EvidenceSet:
    """What `read_evidence` read.

    ``table``: the accepted evidence, columns `FRAME_COLUMNS` (text as `table.Coded`; score
    float64, date datetime64[ns] with NaT, row and seq int64). ``reject_table``: the units not
    used, columns `REJECT_COLUMNS` (row int64, the other columns object arrays of str).
    ``frame`` and ``rejects`` are the same as pandas DataFrames (text of ``frame`` as sorted
    categoricals), made on first use. ``reject_owners`` (`REJECT_OWNER_COLUMNS`, row for row
    with ``reject_table``) says whose evidence each unit not used was, for ``mastery
    explain``; None when not known.
    """

    table: Table
    reject_table: Table
    diagnostics: list[Diagnostic]
    rows_read: int
    files: list[FileSummary] = field(default_factory=list)
    reject_owners: Table | None = None
    _pandas: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def frame(self) -> pd.DataFrame:
        """The accepted evidence as the DataFrame of the contract (imports pandas)."""
        if "frame" not in self._pandas:
            self._pandas["frame"] = self.table.to_pandas()
        return self._pandas["frame"]

    @property
    def rejects(self) -> pd.DataFrame:
        """The units not used as a DataFrame (imports pandas)."""
        if "rejects" not in self._pandas:
            self._pandas["rejects"] = self.reject_table.to_pandas()
        return self._pandas["rejects"]

    def _reasons(self) -> np.ndarray:
        return self.reject_table.array("reason")

    @property
    def duplicates_dropped(self) -> int:
        """Dropped exact copies; they are also in ``rejects`` (reason ``duplicate-row``)."""
        return int(np.count_nonzero(self._reasons() == "duplicate-row"))

    @property
    def set_aside(self) -> int:
        reasons = self._reasons()
        return sum(int(np.count_nonzero(reasons == r)) for r in sorted(SET_ASIDE_REASONS))

    @property
    def rejected(self) -> int:
        return len(self.reject_table) - self.set_aside

    def summary(self) -> str:
        """One line for the terminal, naming the unit counted."""
        units = sorted({f.unit for f in self.files}) or ["rows"]
        unit = (
            "rows"
            if units == ["rows"]
            else ("evidence records (rows of long files, non-blank score cells of wide files)")
        )
        return (
            f"{self.rows_read} {unit} read from {len(self.files)} file(s): "
            f"{len(self.table)} used, {self.set_aside} set aside (no score or duplicate), "
            f"{self.rejected} rejected"
        )


class Reason(IntEnum):
    """Why a candidate is not used; a smaller value wins when several apply."""

    OK = 0
    NO_SCORE = 1
    MISSING_STUDENT_ID = 2
    MISSING_TARGET = 3
    UNKNOWN_TARGET = 4
    NON_NUMERIC_SCORE = 5
    SCORE_OFF_SCALE = 6
    BAD_DATE = 7
    DUPLICATE_ROW = 8


REASON_CODES = {
    Reason.NO_SCORE: "no-score",
    Reason.MISSING_STUDENT_ID: "missing-student-id",
    Reason.MISSING_TARGET: "missing-target",
    Reason.UNKNOWN_TARGET: "unknown-target",
    Reason.NON_NUMERIC_SCORE: "non-numeric-score",
    Reason.SCORE_OFF_SCALE: "score-off-scale",
    Reason.BAD_DATE: "bad-date",
    Reason.DUPLICATE_ROW: "duplicate-row",
}

#: "No reason (yet)" while reasons are combined with np.minimum: the smallest reason wins.
_NONE = 127
#: The reason a cell's `Outcome` gives (index: Outcome value).
_OUTCOME_REASON = np.array(
    [_NONE, _NONE, _NONE, Reason.NO_SCORE, Reason.NON_NUMERIC_SCORE, Reason.SCORE_OFF_SCALE],
    dtype=np.int8,
)
_STATUS_TEXT = ("scored", "excused", "missing")  # by Outcome value


# --------------------------------------------------------------------------- entry point


def read_evidence(files: Sequence[Path], framework: Framework, config: IngestConfig) -> EvidenceSet:
    """All evidence in ``files``; raises MasteryError when a file cannot be read at all."""
    if config.input_format not in INPUT_FORMATS:
        raise MasteryError(
            error(
                "bad-input-format",
                f"unknown input format {config.input_format!r}",
                "config",
                hint="use one of: " + ", ".join(INPUT_FORMATS),
            ),
            usage=True,
        )
    matcher = TargetMatcher(framework, config.outcome_map)
    diagnostics: list[Diagnostic] = list(matcher.problems)
    accepted: list[_Accepted] = []
    rejects: list[_Rejects] = []
    summaries: list[FileSummary] = []
    names: list[_NamePairs] = []
    for path in files:
        result = _read_file(Path(path), matcher, config)
        diagnostics += result.diagnostics
        if result.summary is not None:
            summaries.append(result.summary)
        if result.accepted is not None and result.names is not None:
            accepted.append(result.accepted)
            names.append(result.names)
        if result.rejects is not None:
            rejects.append(result.rejects)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise MasteryError(sorted_diagnostics(diagnostics))
    diagnostics += _conflicting_names(names, config.max_listed_per_reason)
    diagnostics += leading_zero_ids(names, config.max_listed_per_reason)
    table = _evidence_table(accepted)
    del accepted
    return EvidenceSet(
        table=table,
        reject_table=_reject_table(rejects),
        diagnostics=diagnostics,
        rows_read=sum(s.read for s in summaries),
        files=summaries,
        reject_owners=_reject_owner_table(rejects),
    )


@dataclass
class _FileResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: FileSummary | None = None
    accepted: _Accepted | None = None
    rejects: _Rejects | None = None
    names: _NamePairs | None = None


def _read_file(path: Path, matcher: TargetMatcher, config: IngestConfig) -> _FileResult:
    shown = config.shown_as.get(str(path), str(path))
    try:
        raw = read_input(path)
    except FileNotFoundError:
        return _FileResult([error("file-not-found", f"no such file: {shown}", shown)])
    except OSError as problem:
        return _FileResult(
            [error("unreadable-file", f"cannot read {shown}: {problem.strerror or problem}", shown,
                   hint=hint_for(problem))]
        )
    if without_content(raw):
        return _FileResult(
            [
                error(
                    "empty-file",
                    "the file is empty",
                    shown,
                    hint="export the gradebook again; a CSV needs a header row",
                )
            ]
        )
    if bytes(raw[:4]) == PARQUET_MAGIC:
        return _read_parquet(path, shown, matcher, config)
    if is_parquet(path):
        return _FileResult([not_parquet(shown, "its first bytes are not Parquet's")])
    kind = not_csv(bytes(raw[:8]))
    if kind is not None:
        return _FileResult(
            [
                error(
                    "not-csv",
                    f"the file is {kind}, not a CSV export",
                    shown,
                    hint="open it in its program and save or export it as CSV (in a "
                    "spreadsheet: File > Save As > 'CSV UTF-8')",
                )
            ]
        )
    try:
        decoded = sniff(raw, shown, file=path)
    except CsvError as problem:
        return _FileResult([_as_error(problem.diagnostic)])
    result = _FileResult(list(decoded.diagnostics))
    header = decoded.header
    if [formats.fold(h) for h in header] == [formats.CANVAS_EMPTY_REPORT]:
        result.diagnostics.append(
            warning(
                "no-outcomes",
                "the Canvas report says 'No outcomes found': no evidence in it",
                shown,
                1,
            )
        )
        result.summary = FileSummary(shown, "canvas-results", decoded.dialect.describe(), "rows")
        return result
    fmt = _format_of(header, matcher, config, shown, result.diagnostics, formats.FORMATS)
    if fmt is None:
        return result
    try:
        try:
            records = read_records(decoded, shown, dictionary=True)
        except NotUtf8:
            decoded = sniff(raw, shown, legacy=True)
            result.diagnostics += decoded.diagnostics
            records = read_records(decoded, shown, dictionary=True)
    except CsvError as failure:
        result.diagnostics.append(_as_error(failure.diagnostic))
        return result
    unit = "cells" if fmt in ("wide", "canvas-lmgb") else "rows"
    summary = FileSummary(shown, fmt, decoded.dialect.describe(), unit)
    if fmt in ("long", "mapped"):
        columns = formats.find_columns(records.header,
                                       config.columns if fmt == "mapped" else None)
        summary.headers = {name: records.header[index].strip()
                           for name, index in columns.items()}
    # The bytes are parsed: let them go before the checks make their arrays (10M rows: ~1 GB).
    del raw, decoded
    return _checked_file(fmt, records, shown, matcher, config, result, summary)


def _checked_file(fmt: str, records: CsvRecords, shown: str, matcher: TargetMatcher,
                  config: IngestConfig, result: _FileResult, summary: FileSummary
                  ) -> _FileResult:
    """A file's records checked (any format, CSV or Parquet): ``result`` with the accepted
    evidence, the rejects and the diagnostics, ``summary`` with the counts."""
    result.summary = summary
    if records.count == 0 and not records.bad_lines:
        result.diagnostics.append(
            warning(
                "no-data-rows",
                "the file has a header but no data rows: no evidence in it",
                shown,
                1,
            )
        )
        return result
    checked, found = _candidates_checked(fmt, records, shown, matcher, config)
    result.diagnostics += found + checked.diagnostics
    result.accepted, result.rejects, result.names = checked.accepted, checked.rejects, checked.names
    summary.read = checked.read
    summary.accepted = len(checked.accepted.row)
    summary.set_aside = checked.rejects.set_aside
    summary.rejected = len(checked.rejects.row) - summary.set_aside
    summary.decimal_marks = checked.decimal_marks
    return result


#: How a Parquet file starts, and how one is named.
PARQUET_MAGIC = b"PAR1"
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    """Whether ``path`` is named as a Parquet file."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def not_parquet(shown: str, problem: object) -> Diagnostic:
    return error("not-parquet", f"cannot read {shown} as Parquet: {problem}", shown,
                 hint="check the file is complete (or rename a CSV file to .csv)")


def parquet_column_problems(schema: pa.Schema, shown: str) -> list[Diagnostic]:
    """An error for each column of a Parquet file that holds lists, structs or maps: a
    gradebook cell is one text, number or date."""
    import pyarrow as pa

    problems = []
    for column in schema:
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_nested(kind):
            problems.append(error(
                "parquet-column-type", f"column {column.name!r} of {shown} holds {kind} values, "
                "not one value a cell", shown,
                hint="write the column as text, numbers or dates (one value a row)"))
    return problems


def parquet_text(chunk: pa.Array) -> pa.DictionaryArray:
    """A chunk of a Parquet column as the text a CSV would hold (``2026-09-01``, ``3.5``; null
    is blank), dictionary-encoded: each distinct value is made text once, and 10 M rows take
    their codes' memory, not their texts'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(chunk.type):
        chunk = pc.dictionary_encode(chunk)
    dictionary = chunk.dictionary.cast(pa.string()).fill_null("")
    indices = chunk.indices.cast(pa.int32())
    if indices.null_count:  # null rows: a blank entry of their own
        indices = indices.fill_null(len(dictionary))
        dictionary = pa.concat_arrays([dictionary, pa.array([""], pa.string())])
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def read_parquet_texts(path: Path) -> pa.Table:
    """The Parquet file at ``path`` with text columns read as dictionaries (as stored) and
    typed columns as they are. Raises OSError, ValueError or pa.ArrowException."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    texts = [column.name for column in schema if str(column.type) in ("string", "large_string")]
    return pq.read_table(path, read_dictionary=texts)


def _read_parquet(path: Path, shown: str, matcher: TargetMatcher,
                  config: IngestConfig) -> _FileResult:
    """A Parquet file of long evidence (columns named as in a long CSV): every column read as
    the text a CSV would hold (``2026-09-01``, ``3.5``; null is blank); a record's "line" is
    its position in the file, from 1. Checked as a long file is."""
    import pyarrow as pa

    try:
        table = read_parquet_texts(path)
    except (OSError, ValueError, pa.ArrowException) as problem:
        return _FileResult([not_parquet(shown, problem)])
    header = list(table.schema.names)
    result = _FileResult(parquet_column_problems(table.schema, shown))
    if result.diagnostics:
        return result
    fmt = _format_of(header, matcher, config, shown, result.diagnostics, ("long", "mapped"))
    if fmt is None:
        return result
    texts = [pa.chunked_array([parquet_text(c) for c in column.chunks],
                              pa.dictionary(pa.int32(), pa.string()))
             for column in table.columns]
    records = CsvRecords(header, texts, range(1, table.num_rows + 1))
    summary = FileSummary(shown, fmt, "Parquet", "rows")
    columns = formats.find_columns(header, config.columns if fmt == "mapped" else None)
    summary.headers = {name: header[index].strip() for name, index in columns.items()}
    del table
    return _checked_file(fmt, records, shown, matcher, config, result, summary)


def _format_of(header: Sequence[str], matcher: TargetMatcher, config: IngestConfig, shown: str,
               diagnostics: list[Diagnostic], detectable: Sequence[str]) -> str | None:
    """A file's format: the one asked for, or the one its header shows among ``detectable``;
    None (with the diagnostic added) when it has none or lacks a column the format needs."""
    fmt = config.input_format
    if fmt == "auto":
        detected = formats.detect(header, matcher, config.columns)
        if detected is None or detected not in detectable:
            diagnostics.append(formats.unknown_format(shown, header))
            return None
        fmt = detected
    absent = _missing_columns(fmt, header, config, shown)
    if absent is not None:
        diagnostics.append(absent)
        return None
    return fmt


def _candidates_checked(
    fmt: str, records: CsvRecords, shown: str, matcher: TargetMatcher, config: IngestConfig
) -> tuple[_Checked, list[Diagnostic]]:
    """The checked evidence of a file and the diagnostics of reading its format."""
    candidates = _candidates(fmt, records, shown, matcher, config)
    return _check(candidates, records, shown, matcher, config), list(candidates.diagnostics)


def _as_error(diagnostic: Diagnostic) -> Diagnostic:
    return Diagnostic(
        diagnostic.path,
        diagnostic.line,
        diagnostic.column,
        diagnostic.code,
        diagnostic.message,
        Severity.ERROR,
        diagnostic.hint,
        diagnostic.pointer,
    )


def _missing_columns(
    fmt: str, header: Sequence[str], config: IngestConfig, shown: str
) -> Diagnostic | None:
    if fmt == "mapped":
        if not config.columns:
            return error(
                "no-column-mapping",
                "input format 'mapped' needs a column mapping",
                shown,
                hint="give columns: {student_id: ..., target: ..., score: ...}",
            )
        absent = formats.missing_mapped(header, config.columns)
        if absent:
            listed = ", ".join(f"{c} -> {config.columns[c]!r}" for c in absent)
            return error(
                "mapped-column-missing",
                f"the column mapping names columns the file does not have: {listed}",
                shown,
                1,
                hint="columns in the file: " + ", ".join(repr(h) for h in header),
            )
    if fmt in ("long", "mapped"):
        found = formats.find_columns(header, config.columns if fmt == "mapped" else None)
        absent = [c for c in formats.REQUIRED_LONG if c not in found]
        if absent:
            return error(
                "missing-columns",
                "a long gradebook needs the columns " + ", ".join(absent),
                shown,
                1,
                hint="columns in the file: " + ", ".join(repr(h) for h in header),
            )
    return None


def _candidates(
    fmt: str, records: CsvRecords, shown: str, matcher: TargetMatcher, config: IngestConfig
) -> Candidates:
    if fmt == "wide":
        return formats.wide_candidates(records, shown, matcher)
    if fmt == "canvas-results":
        return formats.canvas_results_candidates(records, shown, matcher)
    if fmt == "canvas-lmgb":
        return formats.lmgb_candidates(records, shown, matcher)
    return formats.long_candidates(records, shown, fmt, config.columns)


# --------------------------------------------------------------------------- checking


@dataclass
class _Checked:
    accepted: _Accepted
    rejects: _Rejects
    names: _NamePairs
    read: int
    diagnostics: list[Diagnostic]
    decimal_marks: tuple[bool, bool] = (False, False)


@dataclass
class _Cells:
    """What the score cells mean, per *key*: a candidate's key is (target text, score text)
    when each target text has one scale (a few hundred keys for a million cells), or the
    candidate itself when scores depend on more (Canvas rescales by points possible)."""

    key: np.ndarray  # per candidate
    outcome: np.ndarray  # per key: Outcome
    score: np.ndarray  # per key: float64, NaN unless scored
    reason: np.ndarray  # per key: the target's and the cell's reason (_NONE: none)


#: A text column as distinct texts (``values``) and codes (``codes``, ``where(mask)``).
_Codes = Coded | ColumnCodes


def _field_codes(cands: Candidates, records: CsvRecords) -> dict[str, _Codes]:
    """Per-record codes of the row fields present: columns of the file as `ColumnCodes` (codes
    made only when asked for, once), computed fields (Canvas) coded by pyarrow."""
    result: dict[str, _Codes] = {}
    pending: list[str] = []
    for name in formats.ROW_FIELDS:
        if name not in cands.fields:
            continue
        value = cands.fields[name]
        index = cands.columns.get(name)
        if isinstance(value, Coded):
            result[name] = value
        elif index is not None and index < len(records.chunked) and value is records.chunked[index]:
            result[name] = records.coded(index)
        else:
            pending.append(name)
    arrays = [cands.fields[n] for n in pending]
    for name, coded in zip(pending, code_all(arrays), strict=True):
        result[name] = coded
    return {name: result[name] for name in formats.ROW_FIELDS if name in result}


def _per_candidate(
    coded: _Codes | None, cands: Candidates, clean: Callable[[str], str] = str.strip
) -> Coded:
    """Per-candidate codes of a per-record field, with the distinct texts cleaned (a missing
    field reads as "")."""
    if coded is None:
        return Coded(np.zeros(cands.count, dtype=np.int32), [""])
    codes = coded.codes if cands.one_per_record else coded.codes[_records_of(cands)]
    return Coded(codes, [clean(v) for v in coded.values])


def _records_of(cands: Candidates) -> np.ndarray:
    """The record of each candidate as an array (made when candidates are records)."""
    if isinstance(cands.record, range):
        return np.arange(len(cands.record), dtype=np.int64)
    return cands.record


def _clean_name(text: str) -> str:
    return _canvas_name(text.strip())


def _flags(values: Sequence[bool]) -> np.ndarray:
    return np.array(list(values) or [False], dtype=bool)


def _check(
    cands: Candidates, records: CsvRecords, shown: str, matcher: TargetMatcher, config: IngestConfig
) -> _Checked:
    n = cands.count
    diagnostics: list[Diagnostic] = []
    fields = _field_codes(cands, records)
    student = _per_candidate(fields.get("student_id"), cands)
    target_text = [v.strip() for v in cands.target.values]
    target_lut = np.array([matcher.resolve(t) for t in target_text] or [-1], dtype=np.int64)
    target_blank = _flags([not t for t in target_text])
    score_text = [v.strip() for v in cands.score.values]
    marks = decimal_marks(score_text)
    decimal = _decimal_setting(config.decimal) or ("," if marks == (True, False) else ".")
    points = None
    if cands.points_possible is not None:
        points = (
            cands.points_possible
            if cands.one_per_record
            else cands.points_possible[_records_of(cands)]
        )
    cells = _score_cells(
        cands, target_lut, target_blank, score_text, matcher, decimal, config, points
    )

    # Lowest reason wins: np.minimum of every reason that applies (_NONE: no reason).
    reason = gather(cells.reason, cells.key)
    student_blank = _flags([not v for v in student.values])
    if student_blank.any():
        by_student = np.where(student_blank, Reason.MISSING_STUDENT_ID, _NONE).astype(np.int8)
        np.minimum(reason, gather(by_student, student.codes), out=reason)
    date_coded: Coded | None = None
    date_values = np.zeros(0, dtype="datetime64[ns]")
    if "date" in fields:
        date_coded = _per_candidate(fields["date"], cands)
        date_values, bad = parse_dates(date_coded.values, config.date_format)
        if bad.any():
            by_date = np.where(bad, Reason.BAD_DATE, _NONE).astype(np.int8)
            np.minimum(reason, gather(by_date, date_coded.codes), out=reason)

    # Padding rows (every field blank) of long files are not records at all.
    keep = _not_padding(cands, records, student, student_blank, target_blank, score_text)
    padding = 0 if keep is None else n - int(np.count_nonzero(keep))
    if padding:
        diagnostics.append(info("blank-rows", f"{padding} blank row(s) skipped", shown))

    ok = reason == _NONE
    if keep is not None:
        ok &= keep
    duplicate = first_line = np.zeros(0, dtype=np.int64)
    if not config.keep_duplicates:
        duplicate, first_line = _duplicates(cands, records, ok, student, date_coded)
        reason[duplicate] = Reason.DUPLICATE_ROW
        ok[duplicate] = False
    accepted = _accepted_part(
        cands, records, ok, student, target_lut, matcher, cells, date_coded, date_values, fields,
        shown,
    )
    not_ok = ~ok
    if keep is not None:
        not_ok &= keep
    rejected = np.flatnonzero(not_ok)  # every one has a reason (not _NONE)
    context = _RejectContext(
        cands=cands,
        records=records,
        shown=shown,
        target_lut=target_lut,
        target_text=target_text,
        score_text=score_text,
        matcher=matcher,
        date_coded=date_coded,
        duplicate=duplicate,
        first_line=first_line,
        student=student,
    )
    lines = (
        records.lines_at(rejected)
        if cands.one_per_record
        else records.lines_at(_records_of(cands)[rejected])
    )
    rejects, reject_diagnostics = _rejects(context, rejected, reason, lines, config)
    diagnostics += reject_diagnostics
    pairs = _name_pairs(accepted, shown)
    read = (n - padding) + len(records.bad_lines)
    return _Checked(accepted, rejects, pairs, read, diagnostics, marks)


def _score_cells(
    cands: Candidates,
    target_lut: np.ndarray,
    target_blank: np.ndarray,
    score_text: Sequence[str],
    matcher: TargetMatcher,
    decimal: str,
    config: IngestConfig,
    points: np.ndarray | None,
) -> _Cells:
    """Every score cell interpreted once per (target text, score text), or per cell when
    Canvas points possible rescale the numbers."""
    n_targets, n_scores = len(cands.target.values), len(score_text)
    target_reason = np.where(
        target_lut >= 0,
        _NONE,
        np.where(target_blank, Reason.MISSING_TARGET, Reason.UNKNOWN_TARGET),
    ).astype(np.int8)
    if points is None and n_targets * n_scores <= max(cands.count, 1 << 16):
        _, values, outcomes = score_table(score_text, matcher.readers, decimal, config.missing)
        rows = matcher.scale_index[target_lut] + 1  # unknown target: row 0 ("no scale")
        outcome = outcomes[rows] if n_scores else np.zeros((len(rows), 0), dtype=np.int8)
        reason = np.minimum(target_reason[:, None], _OUTCOME_REASON[outcome])
        width = max(n_scores, 1)
        key = np.multiply(cands.target.codes, width, dtype=smallest_int(len(rows) * width))
        np.add(key, cands.score.codes, out=key, casting="unsafe")  # below len(rows) * width
        return _Cells(
            key=key,
            outcome=outcome.reshape(-1),
            score=(values[rows] if n_scores else np.zeros((len(rows), 0))).reshape(-1),
            reason=reason.reshape(-1),
        )
    scale = matcher.scale_index[target_lut[cands.target.codes]]
    scored = read_scores(
        score_text,
        cands.score.codes,
        scale,
        matcher.readers,
        decimal=decimal,
        missing=config.missing,
        points_possible=points,
    )
    return _Cells(
        key=np.arange(cands.count, dtype=np.int64),
        outcome=scored.outcome,
        score=scored.score,
        reason=np.minimum(target_reason[cands.target.codes], _OUTCOME_REASON[scored.outcome]),
    )


def _decimal_setting(value: str | None) -> str | None:
    """``","`` or ``"."`` from the policy's ``decimal`` (a symbol or its name); None: detect."""
    names = {",": ",", "comma": ",", ".": ".", "point": ".", "dot": ".", "period": "."}
    return names.get((value or "").strip().casefold())


def _not_padding(
    cands: Candidates,
    records: CsvRecords,
    student: Coded,
    student_blank: np.ndarray,
    target_blank: np.ndarray,
    score_text: Sequence[str],
) -> np.ndarray | None:
    """False for candidates of long-shaped files whose record is blank in every field; None
    when there are none (the usual case, decided from the distinct texts)."""
    if cands.format in ("wide", "canvas-lmgb"):
        return None
    score_blank = _flags([not v for v in score_text])
    if not (student_blank.any() and target_blank.any() and score_blank.any()):
        return None
    suspects = np.flatnonzero(
        student_blank[student.codes]
        & target_blank[cands.target.codes]
        & score_blank[cands.score.codes]
    )
    if len(suspects) == 0:
        return None
    all_blank = np.ones(len(suspects), dtype=bool)
    for index in range(len(records.chunked)):
        column = records.coded(index)
        all_blank &= _flags([not t.strip() for t in column.values])[column.at(suspects)]
    if not all_blank.any():
        return None
    keep = np.ones(cands.count, dtype=bool)
    keep[suspects[all_blank]] = False
    return keep


# --------------------------------------------------------------------------- duplicates


def _combine(parts: Sequence[np.ndarray], widths: Sequence[int]) -> np.ndarray:
    """One key per row, equal exactly when every part is equal (part ``k`` holds codes
    below ``widths[k]``); int32 when the key fits, else int64 (renumbered when even that
    would overflow)."""
    n = len(parts[0]) if parts else 0
    span = 1
    for width in widths:
        span *= max(width, 1)
    dtype = np.int32 if span < 2**31 else np.int64
    if not parts:
        return np.zeros(0, dtype=dtype)
    key = parts[0].astype(dtype)
    span = max(widths[0], 1)
    for part, width in zip(parts[1:], widths[1:], strict=True):
        width = max(width, 1)
        if span * width >= 2**62:
            key = _renumber(key)
            span = int(key.max()) + 1 if n else 1
        np.multiply(key, width, out=key)
        np.add(key, part, out=key, casting="unsafe")  # parts fit: span says so
        span *= width
    return key


def _renumber(key: np.ndarray) -> np.ndarray:
    """Dense numbers for the distinct values of ``key`` (same equalities)."""
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _repeated(key: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Rows of ``among`` (a mask) whose key another row of ``among`` has too, in row order.

    Rows not ``among`` take part in the search too: they are invalid, and the callers' keys
    hold everything validity depends on, so an invalid row never has a valid row's key. One
    sort of the keys says whether any repeats: usually none, and that is all it costs. Else a
    bit table of the repeated keys' low bits picks the rows that may have one (1 in 16 of the
    others, at most), and only those are looked up exactly."""
    ordered = np.sort(key)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(0, dtype=np.int64)
    repeated = sorted_distinct(ordered[1:][same])
    del ordered, same
    bits = max(16, int(len(repeated) * 16).bit_length())
    if bits > _MOST_BITS:
        # Most keys repeat (a file of copies): one stable sort finds them all.
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        same = np.zeros(len(key), dtype=bool)
        same[1:] = ordered[1:] == ordered[:-1]
        same[:-1] |= same[1:]
        rows = np.sort(order[same])
        return rows[among[rows]]
    table = np.zeros(1 << bits, dtype=bool)
    table[repeated & ((1 << bits) - 1)] = True
    if bits == 16 and _LITTLE:
        low = key.view(np.uint16)[:: key.itemsize // 2]  # the low 16 bits, without a copy
    else:
        low = np.bitwise_and(key, (1 << bits) - 1)
    maybe = gather(table, low)
    maybe &= among
    rows = np.flatnonzero(maybe)
    keys = key[rows]
    at = np.minimum(np.searchsorted(repeated, keys), len(repeated) - 1)
    return rows[repeated[at] == keys]


_LITTLE = np.little_endian
_MOST_BITS = 24  # a bit table of 16 MB at most


def _duplicates(
    cands: Candidates,
    records: CsvRecords,
    valid: np.ndarray,
    student: Coded,
    date_coded: Coded | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Valid candidates whose record is an exact copy of an earlier record of the file, and the
    line of that earlier record (two arrays in row order).

    A cheap key (student, date and, one cell per record, the target and score texts) finds
    the possible copies; only those are compared on every column.
    """
    empty = np.zeros(0, dtype=np.int64)
    if cands.count == 0:
        return empty, empty
    if cands.format in ("wide", "canvas-lmgb"):
        parts = [student.codes, cands.score_column, cands.score.codes]
        widths = [len(student.values), len(records.header), len(cands.score.values)]
    else:
        parts = [student.codes, cands.target.codes, cands.score.codes]
        widths = [len(student.values), len(cands.target.values), len(cands.score.values)]
    if date_coded is not None:
        parts.append(date_coded.codes)
        widths.append(len(date_coded.values))
    suspects = _repeated(_combine(parts, widths), valid)
    if len(suspects) == 0:
        return empty, empty
    # Compare whole records (every column of the file, as written) among the suspects.
    of_suspects = suspects if cands.one_per_record else _records_of(cands)[suspects]
    suspect_records = sorted_distinct(of_suspects)
    columns = [records.coded(i) for i in range(len(records.chunked))]
    record_key = _combine(
        [column.at(suspect_records) for column in columns], [len(c.values) for c in columns]
    )
    _, first_index, group = np.unique(record_key, return_index=True, return_inverse=True)
    first_record = suspect_records[first_index[group.reshape(-1)]]
    is_copy = first_record != suspect_records
    position = np.searchsorted(suspect_records, of_suspects)
    copies = is_copy[position]
    return suspects[copies], records.lines_at(first_record[position[copies]])


# --------------------------------------------------------------------------- accepted rows


@dataclass
class _Accepted:
    """The accepted evidence of one file, text columns as codes into texts."""

    texts: dict[str, TextCodes]
    score: np.ndarray
    status: np.ndarray  # Outcome.SCORED, EXCUSED or MISSING
    date: np.ndarray
    row: np.ndarray


#: Text columns of the evidence table besides ids, names and targets: trimmed (as pyarrow's
#: utf8_trim_whitespace, which str.strip equals on every code point) and, for ``type``,
#: lower-cased (as pyarrow's utf8_lower: see `_lower`).
_TRIMMED = ("assessment", "type", "section", "course", "rater", "source", "comment", "artifact",
            "approved_by", "approved_on", "criterion_weight")


def _deduplicated(codes: np.ndarray, texts: Sequence[str]) -> TextCodes:
    """``texts[codes]`` with every distinct text once (cleaning can make two texts equal)."""
    remap, distinct = _distinct_texts(texts)
    return TextCodes(codes if remap is None else gather(remap, codes), distinct)


def _distinct_texts(texts: Sequence[str]) -> tuple[np.ndarray | None, list[str]]:
    """(code of each text among the distinct ones, or None when they all are; the distinct
    texts in order)."""
    position: dict[str, int] = {}
    remap = [position.setdefault(t, len(position)) for t in texts]
    if len(position) == len(texts):
        return None, list(texts)
    return np.array(remap, dtype=smallest_int(len(position))), list(position)


def _lower(texts: Sequence[str]) -> list[str]:
    """pyarrow's ``utf8_lower`` of each text without pyarrow.compute where Python agrees:
    everywhere but U+0130 (Python gives "i̇", pyarrow "i"), final sigma (Python's context rule)
    and characters newer than Python's Unicode tables, which go to pyarrow."""
    lowered: list[str] = []
    unsure: list[int] = []
    for i, text in enumerate(texts):
        if text.isascii():
            lowered.append(text.lower())
        elif any(unicodedata.category(ch) == "Cn" for ch in text):
            lowered.append(text)
            unsure.append(i)
        else:
            lowered.append("".join("i" if ch == "\u0130" else ch.lower() for ch in text))
    if unsure:
        import pyarrow as pa
        import pyarrow.compute as pc  # rare: text with characters Python does not know

        redone = pc.utf8_lower(pa.array([texts[i] for i in unsure], pa.string())).to_pylist()
        for i, text in zip(unsure, redone, strict=True):
            lowered[i] = text
    return lowered


def _accepted_part(
    cands: Candidates,
    records: CsvRecords,
    ok: np.ndarray,
    student: Coded,
    target_lut: np.ndarray,
    matcher: TargetMatcher,
    cells: _Cells,
    date_coded: Coded | None,
    date_values: np.ndarray,
    fields: Mapping[str, _Codes],
    shown: str,
) -> _Accepted:
    """The accepted rows (``ok``) of a file."""
    every = bool(ok.all())
    count = len(ok) if every else int(np.count_nonzero(ok))

    def rows(values: np.ndarray) -> np.ndarray:
        return values if every else values[ok]

    def picked(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
        return gather(table, codes) if every else gather_where(table, codes, ok)

    def field_rows(coded: _Codes) -> np.ndarray:
        if not cands.one_per_record:
            return coded.codes[rows(_records_of(cands))]
        return coded.codes if every else coded.where(ok)

    def texts() -> dict[str, TextCodes]:
        ids = sorted(matcher.ids)
        position = {target_id: i for i, target_id in enumerate(ids)}
        # -1 (an unknown target) picks the last entry.
        rank = [position[target_id] for target_id in matcher.ids] + [-1]
        sorted_lut = np.array(rank, dtype=smallest_int(len(ids)))[target_lut]
        names = fields.get("student_name")
        result = {
            "student_id": _deduplicated(rows(student.codes), student.values),
            "student_name": (
                _deduplicated(field_rows(names), [_clean_name(v) for v in names.values])
                if names is not None
                else TextCodes(np.zeros(count, dtype=np.int8), [""])
            ),
            # Ids in sorted order, as the engine groups by them (no renumbering there).
            "target": TextCodes(
                picked(sorted_lut, cands.target.codes), ids
            ),
            # The score cell as written (trimmed): what rejects.csv shows for work set aside
            # as excused or missing ("EX", "M").
            "score_cell": _deduplicated(rows(cands.score.codes),
                                        [v.strip() for v in cands.score.values]),
        }
        for name in _TRIMMED:
            coded = fields.get(name)
            if coded is None:
                result[name] = TextCodes(np.zeros(count, dtype=np.int8),
                                         [cands.defaults.get(name, "")])
                continue
            cleaned = [v.strip() for v in coded.values]
            if name == "type":
                cleaned = _lower(cleaned)
            result[name] = _deduplicated(field_rows(coded), cleaned)
        result["file"] = TextCodes(np.zeros(count, dtype=np.int8), [shown])
        return result

    def values() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        key = rows(cells.key)
        status = np.minimum(cells.outcome, Outcome.MISSING).astype(np.int8)
        if date_coded is not None and len(date_values):
            date = picked(date_values, date_coded.codes)
        else:
            date = np.full(count, np.datetime64("NaT", "ns"))
        if not cands.one_per_record:
            line = records.lines_at(rows(_records_of(cands)))
        elif every:
            line = records.lines_at(np.arange(count))
        else:
            line = records.lines_where(ok)
        return gather(cells.score, key), gather(status, key), date, line

    score, status, date, line = values()
    return _Accepted(texts=texts(), score=score, status=status, date=date, row=line)


def _canvas_name(text: str) -> str:
    # Canvas writes a name that starts with '=' as ="name" so spreadsheets do not run it.
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        return text[2:-1]
    return text


def _evidence_table(parts: Sequence[_Accepted]) -> Table:
    """The EvidenceSet.table of all files (text columns of several files are merged into one
    list of texts each)."""
    columns: dict[str, Any] = {}
    for name in FRAME_COLUMNS:
        if name in ("score", "date", "row", "seq"):
            continue
        if name == "status":
            columns[name] = TextCodes(_joined([p.status for p in parts], np.int8),
                                      list(_STATUS_TEXT))
        else:
            columns[name] = _merged_texts([p.texts[name] for p in parts])
    columns["score"] = _joined([p.score for p in parts], np.float64)
    columns["date"] = _joined([p.date for p in parts], "datetime64[ns]")
    columns["row"] = _joined([p.row for p in parts], np.int64)
    columns["seq"] = np.arange(len(columns["row"]), dtype=np.int64)
    return Table({name: columns[name] for name in FRAME_COLUMNS}, len(columns["row"]))


def _joined(arrays: Sequence[np.ndarray], dtype: Any) -> np.ndarray:
    if len(arrays) == 1:
        return arrays[0].astype(dtype, copy=False)
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _merged_texts(parts: Sequence[TextCodes]) -> TextCodes:
    if len(parts) == 1:
        return parts[0]
    position: dict[str, int] = {}
    codes = []
    for part in parts:
        remap = np.array([position.setdefault(t, len(position)) for t in part.texts] or [0],
                         dtype=np.int32)
        codes.append(gather(remap, part.codes))
    return TextCodes(
        np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32), list(position)
    )


# --------------------------------------------------------------------------- names


@dataclass
class _NamePairs:
    """Each distinct (student id, name) of a file's accepted rows, with the first line it is
    on, in order of first appearance (as codes into the file's texts)."""

    file: str
    student: np.ndarray
    name: np.ndarray
    row: np.ndarray
    student_texts: Sequence[str]
    name_texts: Sequence[str]


def _first_rows(key: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, ascending.

    Only rows where the key changes from the row before can be first occurrences: an export
    grouped by student has a few thousand such rows in a million."""
    if not len(key):
        return np.zeros(0, dtype=np.int64)
    changes = np.flatnonzero(key[1:] != key[:-1]) + 1
    candidates = np.concatenate([np.zeros(1, dtype=np.int64), changes])
    values = key[candidates]
    if values.min() >= 0 and values.max() < 4 * len(values) + 1024:
        first = np.full(int(values.max()) + 1, len(key), dtype=np.int64)
        np.minimum.at(first, values, candidates)
        return np.sort(first[first < len(key)])
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return np.sort(candidates[order[starts]])


def _name_pairs(accepted: _Accepted, shown: str) -> _NamePairs:
    student = accepted.texts["student_id"]
    name = accepted.texts["student_name"]
    s_codes, n_codes = student.codes, name.codes
    if len(name.texts) > 1:
        first = _first_rows(_combine([s_codes, n_codes], [len(student.texts), len(name.texts)]))
    else:
        first = _first_rows(s_codes)
    return _NamePairs(
        file=shown,
        student=s_codes[first],
        name=n_codes[first],
        row=accepted.row[first],
        student_texts=student.texts,
        name_texts=name.texts,
    )


def _conflicting_names(files: Sequence[_NamePairs], limit: int) -> list[Diagnostic]:
    if not files:
        return []
    if len(files) == 1:
        # One file: an id with two names has two pairs with a name (numpy on the codes).
        pairs = files[0]
        named = np.array([bool(t) for t in pairs.name_texts] or [False])[pairs.name]
        counts = np.bincount(pairs.student[named], minlength=len(pairs.student_texts))
        if not len(counts) or counts.max() < 2:
            return []
    seen: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for pairs in files:
        sids = [pairs.student_texts[c] for c in pairs.student.tolist()]
        names = [pairs.name_texts[c] for c in pairs.name.tolist()]
        for sid, name, row in zip(sids, names, pairs.row.tolist(), strict=True):
            if name and all(name != other for other, _, _ in seen[sid]):
                seen[sid].append((name, pairs.file, row))
    problems = []
    for sid, entries in seen.items():
        if len(entries) < 2:
            continue
        (name1, file1, row1), (name2, file2, row2) = entries[0], entries[1]
        more = f" (and {len(entries) - 2} more)" if len(entries) > 2 else ""
        problems.append(
            warning(
                "conflicting-student-name",
                f"student id {sid!r} has two names: {name1!r} ({file1} line {row1}) and "
                f"{name2!r} ({file2} line {row2}){more}",
                file2,
                row2,
                hint="check for a mistyped id: all evidence with this id is graded as one student",
            )
        )
    return _limited(problems, limit, "conflicting-student-name", "students with two names")


LEADING_ZEROS = "student-id-leading-zeros"


def leading_zero_ids(files: Sequence[_NamePairs], limit: int) -> list[Diagnostic]:
    """A warning for each pair of student ids that differ only by leading zeros (``70107``,
    ``0070107``) and have the same name: a spreadsheet that read the ids as numbers dropped
    the zeros, and the student would be graded as two students.

    Works on the distinct ids, not on the rows, and looks at names only for the few ids that
    pair up."""
    distinct = []  # per file: (codes, texts) of its distinct ids
    ids: set[str] = set()
    for pairs in files:
        codes = sorted_distinct(pairs.student)
        texts = [pairs.student_texts[c] for c in codes.tolist()]
        distinct.append((codes, texts))
        ids.update(texts)
    # Only an id with a leading zero can be another id with zeros added.
    same_digits: dict[str, list[str]] = defaultdict(list)
    for sid in ids:
        if sid[:1] == "0":
            same_digits[sid.lstrip("0")].append(sid)
    groups = [sorted([*g, bare] if bare in ids else g, key=lambda sid: (len(sid), sid))
              for bare, g in same_digits.items() if len(g) > 1 or bare in ids]
    if not groups:
        return []
    suspects = {sid for group in groups for sid in group}
    # Where each suspect id first appears under each name: (file, line), in reading order.
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    shown_name: dict[str, str] = {}
    for pairs, (codes, texts) in zip(files, distinct, strict=True):
        suspect_codes = codes[[t in suspects for t in texts]]
        at = np.flatnonzero(np.isin(pairs.student, suspect_codes))
        for s_code, n_code, row in zip(pairs.student[at].tolist(), pairs.name[at].tolist(),
                                       pairs.row[at].tolist(), strict=True):
            sid, name = pairs.student_texts[s_code], pairs.name_texts[n_code]
            key = " ".join(name.casefold().split())
            if key:
                seen.setdefault((sid, key), (pairs.file, row))
                shown_name.setdefault(key, name)
    problems = []
    for group in sorted(groups):
        for index, short in enumerate(group):
            for long in group[index + 1:]:
                names = sorted(name for sid, name in seen if sid == short
                               and (long, name) in seen)
                if not names:
                    continue
                file1, row1 = seen[(short, names[0])]
                file2, row2 = seen[(long, names[0])]
                problems.append(warning(
                    LEADING_ZEROS,
                    f"student ids '{short}' ({file1} line {row1}) and '{long}' ({file2} line "
                    f"{row2}) differ only by leading zeros and both belong to "
                    f"'{shown_name[names[0]]}': they are graded as two students",
                    file1, row1,
                    hint="a spreadsheet drops the leading zeros of ids it reads as numbers: "
                         "format the student id column as text before exporting, and correct "
                         f"'{short}' to '{long}' where it was saved without them",
                ))
    return _limited(problems, limit, LEADING_ZEROS, "ids that differ only by leading zeros")


def _limited(problems: list[Diagnostic], limit: int, code: str, what: str) -> list[Diagnostic]:
    if len(problems) <= limit:
        return problems
    rest = len(problems) - limit
    last = problems[limit]
    return [
        *problems[:limit],
        Diagnostic(
            last.path, None, None, code, f"and {rest} more {what} (not listed)", last.severity
        ),
    ]


# --------------------------------------------------------------------------- rejects


@dataclass
class _RejectContext:
    cands: Candidates
    records: CsvRecords
    shown: str
    target_lut: np.ndarray
    target_text: Sequence[str]
    score_text: Sequence[str]
    matcher: TargetMatcher
    date_coded: Coded | None
    duplicate: np.ndarray  # candidates dropped as copies, ascending
    first_line: np.ndarray  # the line each of them copies
    student: Coded  # per candidate

    def owners(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(student id, framework target id) of candidates ``which``; "" where the row has
        none, or names no target of the framework."""
        students = np.array([*self.student.values, ""], dtype=object)
        targets = np.array([*self.matcher.ids, ""], dtype=object)  # -1: unknown, picks ""
        return (students[self.student.codes[which]],
                targets[self.target_lut[self.cands.target.codes[which]]])


@dataclass
class _Rejects:
    """The units of one file not used, in file order; text columns as object arrays.
    ``student_id`` and ``target`` say whose evidence each was ("" when not known)."""

    file: str
    row: np.ndarray
    column: np.ndarray
    value: np.ndarray
    reason: np.ndarray
    message: np.ndarray
    set_aside: int
    student_id: np.ndarray
    target: np.ndarray


@dataclass
class _Part:
    """Rejects of one reason; ``column`` holds header indexes (-1: the whole row)."""

    row: np.ndarray
    column: np.ndarray
    values: Sequence[str]
    value_codes: np.ndarray
    reason: str
    messages: Sequence[str]
    message_codes: np.ndarray
    #: Whose evidence each row was (see `_RejectContext.owners`); "" for a malformed record.
    student_id: np.ndarray | None = None
    target: np.ndarray | None = None


def _rejects(
    ctx: _RejectContext,
    rejected: np.ndarray,
    reason: np.ndarray,
    lines: np.ndarray,
    config: IngestConfig,
) -> tuple[_Rejects, list[Diagnostic]]:
    """The rejects of candidates ``rejected`` (ascending; ``lines``: the line of each)."""
    parts: list[_Part] = []
    diagnostics: list[Diagnostic] = []
    header = ctx.records.header
    for bad_line, message in ctx.records.bad_lines:
        parts.append(
            _Part(
                np.array([bad_line], dtype=np.int64),
                np.array([-1], dtype=np.int64),
                [""],
                np.zeros(1, dtype=np.int64),
                "bad-row",
                [message],
                np.zeros(1, dtype=np.int64),
            )
        )
    if ctx.records.bad_lines:
        diagnostics += _limited(
            [
                warning(
                    "bad-row",
                    f"record not read: {message}",
                    ctx.shown,
                    line,
                    hint="a field with a delimiter or a line break must be in double quotes",
                )
                for line, message in ctx.records.bad_lines
            ],
            config.max_listed_per_reason,
            "bad-row",
            "malformed rows",
        )
    reasons = reason[rejected]
    for value in sorted_distinct(reasons).tolist():
        chosen = reasons == value
        part = _explain(ctx, Reason(value), rejected[chosen], lines[chosen])
        part.student_id, part.target = ctx.owners(rejected[chosen])
        parts.append(part)
        diagnostics += _reject_diagnostics(
            Reason(value), part, header, ctx.shown, config.max_listed_per_reason
        )
    return _joined_rejects(ctx.shown, header, parts), diagnostics


def _joined_rejects(shown: str, header: Sequence[str], parts: Sequence[_Part]) -> _Rejects:
    """One file's rejects in file order, as a teacher reads the file (cells of one row in
    column order)."""
    if not parts:
        nothing = np.zeros(0, dtype=object)
        return _Rejects(shown, np.zeros(0, dtype=np.int64), nothing, nothing, nothing, nothing, 0,
                        nothing, nothing)
    row = np.concatenate([p.row for p in parts]).astype(np.int64, copy=False)
    position = np.concatenate([p.column for p in parts]).astype(np.int64, copy=False)
    # One reason (the usual case) is in file order already: its rows ascend, one cell each.
    order = np.lexsort((position, row)) if len(parts) > 1 else slice(None)
    column_names = np.array([*header, ""], dtype=object)
    column = column_names[np.where(position < 0, len(header), position)]

    def texts(pieces: Sequence[tuple[Sequence[str], np.ndarray]]) -> np.ndarray:
        joined = [np.array(list(t) or [""], dtype=object)[c] for t, c in pieces]
        return np.concatenate(joined) if joined else np.zeros(0, dtype=object)

    value = texts([(p.values, p.value_codes) for p in parts])
    message = texts([(p.messages, p.message_codes) for p in parts])

    def owners(name: str) -> np.ndarray:
        given = [getattr(p, name) for p in parts]
        return np.concatenate([np.full(len(p.row), "", dtype=object) if g is None else g
                               for p, g in zip(parts, given, strict=True)])

    reason = np.concatenate([np.full(len(p.row), p.reason, dtype=object) for p in parts])
    set_aside = sum(len(p.row) for p in parts if p.reason in SET_ASIDE_REASONS)
    return _Rejects(
        file=shown,
        row=row[order],
        column=column[order],
        value=value[order],
        reason=reason[order],
        message=message[order],
        set_aside=set_aside,
        student_id=owners("student_id")[order],
        target=owners("target")[order],
    )


def _explain(ctx: _RejectContext, reason: Reason, which: np.ndarray, rows: np.ndarray) -> _Part:
    """The rejects of one reason: header index, offending text and message of each."""
    cands = ctx.cands
    n = len(which)
    code_name = REASON_CODES[reason]
    zeros = np.zeros(n, dtype=np.int64)
    if reason == Reason.MISSING_STUDENT_ID:
        column = np.full(n, cands.columns.get("student_id", 0), dtype=np.int64)
        return _Part(rows, column, [""], zeros, code_name, ["no student id in this row"], zeros)
    if reason in (Reason.MISSING_TARGET, Reason.UNKNOWN_TARGET):
        codes = cands.target.codes[which]
        texts = list(ctx.target_text)
        used, inverse = np.unique(codes, return_inverse=True)
        messages = [
            "no target in this row"
            if not texts[c]
            else f"unknown target {shortened(texts[c])!r}; {ctx.matcher.suggestion(texts[c])}"
            for c in used.tolist()
        ]
        return _Part(rows, cands.target_column[which], texts, codes, code_name, messages,
                     inverse.reshape(-1))
    if reason == Reason.BAD_DATE:
        assert ctx.date_coded is not None
        codes = ctx.date_coded.codes[which]
        texts = list(ctx.date_coded.values)
        used, inverse = np.unique(codes, return_inverse=True)
        messages = [bad_date_message(texts[c]) for c in used.tolist()]
        column = np.full(n, cands.columns.get("date", 0), dtype=np.int64)
        return _Part(rows, column, texts, codes, code_name, messages, inverse.reshape(-1))
    if reason == Reason.DUPLICATE_ROW:
        first = ctx.first_line[np.searchsorted(ctx.duplicate, which)]
        used, inverse = np.unique(first, return_inverse=True)
        messages = [f"exact copy of line {line}: dropped" for line in used.tolist()]
        return _Part(rows, np.full(n, -1, dtype=np.int64), [""], zeros, code_name, messages,
                     inverse.reshape(-1))
    # Score problems: the message depends on the text and the target's scale.
    codes = cands.score.codes[which]
    scales = ctx.matcher.scale_index[ctx.target_lut[cands.target.codes[which]]]
    outcome = {
        Reason.NO_SCORE: Outcome.NO_SCORE,
        Reason.NON_NUMERIC_SCORE: Outcome.NON_NUMERIC,
        Reason.SCORE_OFF_SCALE: Outcome.OFF_SCALE,
    }[reason]
    key = codes.astype(np.int64) * (len(ctx.matcher.readers) + 1) + (scales + 1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    messages = []
    for i in first.tolist():
        s = int(scales[i])
        reader = ctx.matcher.readers[s] if s >= 0 else None
        messages.append(
            reject_message(outcome, ctx.score_text[int(codes[i])], reader, ctx.matcher.readers)
        )
    return _Part(rows, cands.score_column[which], list(ctx.score_text), codes, code_name,
                 messages, inverse.reshape(-1))


def bad_date_message(text: str) -> str:
    """What rejects.csv and the terminal say of a date cell that is not a date."""
    return f"date {shortened(text)!r} is not a date (write it as YYYY-MM-DD or MM/DD/YYYY)"


def _reject_diagnostics(
    reason: Reason,
    part: _Part,
    header: Sequence[str],
    shown: str,
    limit: int,
) -> list[Diagnostic]:
    n = len(part.row)
    code_name = REASON_CODES[reason]
    if reason == Reason.NO_SCORE:
        return [no_score_note(n, shown)]
    if reason == Reason.DUPLICATE_ROW:
        return [duplicates_note(n, int(part.row[0]), shown)]
    rows = part.row[: limit + 1].tolist()
    messages = [part.messages[c] for c in part.message_codes[: limit + 1].tolist()]
    listed = []
    for i, (line, message) in enumerate(zip(rows, messages, strict=True)):
        col = int(part.column[i])
        hint = None
        text = message
        if "; did you mean" in message or "; use " in message:
            text, hint = message.split("; ", 1)
        listed.append(
            warning(
                code_name,
                text,
                shown,
                line,
                col + 1 if col >= 0 else None,
                hint=hint,
                pointer=header[col] if 0 <= col < len(header) else None,
            )
        )
    if n > limit:
        listed = listed[:limit]
        listed.append(more_rejected(code_name, n - limit, shown))
    return listed


# The summaries of a reason's rows.


def no_score_note(count: int, shown: str) -> Diagnostic:
    return info("no-score", f"{count} blank score(s): no evidence, set aside (not zeros)", shown)


def duplicates_note(count: int, first_line: int, shown: str) -> Diagnostic:
    return warning(
        "duplicate-row",
        f"{count} exact duplicate row(s) dropped (kept once)",
        shown,
        first_line,
        hint="set keep_duplicates to count each copy as evidence",
    )


def more_rejected(code_name: str, count: int, shown: str) -> Diagnostic:
    """The line after the listed rows of a reason: how many more there are."""
    return Diagnostic(
        shown,
        None,
        None,
        code_name,
        f"and {count} more row(s) rejected as {code_name} (all listed in the rejects file)",
        Severity.WARNING,
    )


def _reject_owner_table(parts: Sequence[_Rejects]) -> Table:
    """Whose evidence each row of `_reject_table` was: ``student_id`` and ``target`` (the
    framework's id), "" where the row does not say (no student id, an unknown target, a
    malformed record)."""
    if not parts:
        return Table({c: np.zeros(0, dtype=object) for c in REJECT_OWNER_COLUMNS}, 0)
    return Table({c: np.concatenate([getattr(p, c) for p in parts])
                  for c in REJECT_OWNER_COLUMNS})


def _reject_table(parts: Sequence[_Rejects]) -> Table:
    if not parts:
        nothing = np.zeros(0, dtype=object)
        return Table({c: np.zeros(0, dtype=np.int64) if c == "row" else nothing
                      for c in REJECT_COLUMNS}, 0)
    if len(parts) == 1:
        part = parts[0]
        return Table(
            {
                "file": np.full(len(part.row), part.file, dtype=object),
                "row": part.row,
                "column": part.column,
                "value": part.value,
                "reason": part.reason,
                "message": part.message,
            }
        )
    files = [np.full(len(p.row), p.file, dtype=object) for p in parts]
    columns = {
        "file": np.concatenate(files),
        "row": np.concatenate([p.row for p in parts]).astype(np.int64, copy=False),
        "column": np.concatenate([p.column for p in parts]),
        "value": np.concatenate([p.value for p in parts]),
        "reason": np.concatenate([p.reason for p in parts]),
        "message": np.concatenate([p.message for p in parts]),
    }
    return Table(columns)


# --------------------------------------------------------------------------- extra columns


@dataclass
class TextColumns:
    """Every record of a CSV file as trimmed text, read with the gradebook reader: for files
    whose columns are not evidence columns yet (rubric scores by criterion) and for columns
    the evidence table does not keep (a work id)."""

    header: list[str]
    #: The line each record starts on (the ``row`` of `EvidenceSet.frame`).
    lines: list[int]
    records: CsvRecords

    def index(self, names: Sequence[str]) -> int | None:
        """The first header that is one of ``names`` (normalised spellings, in order)."""
        normalized = [formats.normalize_header(h) for h in self.header]
        return next((normalized.index(n) for n in names if n in normalized), None)

    def column(self, names: Sequence[str]) -> list[str] | None:
        """The trimmed texts of the column named one of ``names``; None when there is none."""
        index = self.index(names)
        return None if index is None else self.column_at(index)

    def column_at(self, index: int) -> list[str]:
        """The trimmed texts of column ``index``."""
        codes, values = self.records.codes(index)
        texts = [value.strip() for value in values]
        return [texts[code] for code in codes]


def read_text_columns(path: Path) -> TextColumns | None:
    """``path`` read as text columns; None when it cannot be read as a CSV file (the reasons
    are `read_evidence`'s to report)."""
    try:
        raw = read_input(path)
        if without_content(raw) or not_csv(bytes(raw[:8])) is not None:
            return None
        decoded = sniff(raw, str(path))
        records = read_records(decoded, str(path), dictionary=True)
    except (OSError, CsvError, NotUtf8):
        return None
    return TextColumns(list(decoded.header), [int(n) for n in records.lines], records)


def extra_column(path: Path, names: Sequence[str]) -> tuple[list[str], dict[int, str] | None]:
    """The file's header and, when one of ``names`` is a header of ``path``, that column's
    text by line (see `TextColumns`); ``([], None)`` when the file cannot be read.
    `mastery calibrate` reads ``work_id`` this way and checks that a file has a rater."""
    table = read_text_columns(path)
    if table is None:
        return [], None
    texts = table.column(names)
    if texts is None:
        return table.header, None
    return table.header, dict(zip(table.lines, texts, strict=True))
