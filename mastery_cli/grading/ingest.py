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

Every unit read ends up in exactly one place, so ``rows_read == len(frame) + len(rejects)``:
- ``frame``: accepted evidence (status ``scored``, ``excused`` or ``missing``);
- ``rejects`` with a *set-aside* reason: ``no-score`` (a blank score: no evidence, never a
  zero) and ``duplicate-row`` (a later exact copy of a record, dropped unless
  ``keep_duplicates``); these are expected and are summarised, not listed on the terminal;
- ``rejects`` with any other reason: problems the teacher should fix (``unknown-target``,
  ``score-off-scale``...), reported as warnings, at most 20 per reason and file on the terminal
  (rejects.csv has them all).

Speed: all checks are vectorised. Each column is dictionary-encoded once by pyarrow (columns
in parallel, straight from the parsed chunks); ids, targets, scores and dates are interpreted
once per distinct text and gathered back to the rows with numpy indexing. The frame's text
columns stay encoded: they are pandas categoricals whose categories are the texts used, sorted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mastery_cli.diagnostics import (
    Diagnostic,
    MasteryError,
    Severity,
    error,
    sorted_diagnostics,
    warning,
)
from mastery_cli.framework.model import Framework
from mastery_cli.grading import formats
from mastery_cli.grading.csvsniff import (
    CsvError,
    CsvRecords,
    NotUtf8,
    detect_decimal,
    read_records,
    sniff,
)
from mastery_cli.grading.formats import Candidates, Coded, TargetMatcher, code_all, info
from mastery_cli.grading.scorecells import Outcome, ScoreCells, read_scores, reject_message

INPUT_FORMATS = ("auto", *formats.FORMATS)
STRING_FIELDS = ("assessment", "section", "course", "rater", "source", "comment")
FRAME_COLUMNS = (
    "student_id",
    "student_name",
    "target",
    "score",
    "status",
    "date",
    "assessment",
    "type",
    "section",
    "course",
    "rater",
    "source",
    "comment",
    "file",
    "row",
    "seq",
)
REJECT_COLUMNS = ("file", "row", "column", "value", "reason", "message")
SET_ASIDE_REASONS = frozenset({"no-score", "duplicate-row"})
_STATUS = pa.array(["scored", "excused", "missing"])
_SOMETHING = re.compile(rb"[^\s\xef\xbb\xbf]")
_TIMEZONE = re.compile(r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$")
_US_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%y")


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


@dataclass
class EvidenceSet:
    frame: pd.DataFrame
    rejects: pd.DataFrame
    diagnostics: list[Diagnostic]
    rows_read: int
    files: list[FileSummary] = field(default_factory=list)

    @property
    def duplicates_dropped(self) -> int:
        """Dropped exact copies; they are also in ``rejects`` (reason ``duplicate-row``)."""
        return int((self.rejects["reason"] == "duplicate-row").sum())

    @property
    def set_aside(self) -> int:
        return int(self.rejects["reason"].isin(SET_ASIDE_REASONS).sum())

    @property
    def rejected(self) -> int:
        return len(self.rejects) - self.set_aside

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
            f"{len(self.frame)} used, {self.set_aside} set aside (no score or duplicate), "
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
    frames: list[_Accepted] = []
    rejects: list[pa.Table] = []
    summaries: list[FileSummary] = []
    names: list[pa.Table] = []
    for path in files:
        result = _read_file(Path(path), matcher, config)
        diagnostics += result.diagnostics
        if result.summary is not None:
            summaries.append(result.summary)
        if result.frame is not None:
            frames.append(result.frame)
            names.append(result.names)
        if result.rejects is not None:
            rejects.append(result.rejects)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise MasteryError(sorted_diagnostics(diagnostics))
    diagnostics += _conflicting_names(names, config.max_listed_per_reason)
    frame = _evidence_frame(frames)
    del frames
    reject_frame = _reject_frame(rejects)
    return EvidenceSet(
        frame=frame,
        rejects=reject_frame,
        diagnostics=diagnostics,
        rows_read=sum(s.read for s in summaries),
        files=summaries,
    )


@dataclass
class _FileResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: FileSummary | None = None
    frame: _Accepted | None = None
    rejects: pa.Table | None = None
    names: pa.Table | None = None


def _read_file(path: Path, matcher: TargetMatcher, config: IngestConfig) -> _FileResult:
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _FileResult([error("file-not-found", f"no such file: {shown}", shown)])
    except OSError as problem:
        return _FileResult(
            [error("unreadable-file", f"cannot read {shown}: {problem.strerror or problem}", shown)]
        )
    if not _SOMETHING.search(raw):
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
    try:
        decoded = sniff(raw, shown)
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
    fmt = config.input_format
    if fmt == "auto":
        detected = formats.detect(header, matcher, config.columns)
        if detected is None:
            result.diagnostics.append(formats.unknown_format(shown, header))
            return result
        fmt = detected
    absent = _missing_columns(fmt, header, config, shown)
    if absent is not None:
        result.diagnostics.append(absent)
        return result
    try:
        try:
            records = read_records(decoded, shown)
        except NotUtf8:
            decoded = sniff(raw, shown, legacy=True)
            result.diagnostics += decoded.diagnostics
            records = read_records(decoded, shown)
    except CsvError as failure:
        result.diagnostics.append(_as_error(failure.diagnostic))
        return result
    unit = "cells" if fmt in ("wide", "canvas-lmgb") else "rows"
    summary = FileSummary(shown, fmt, decoded.dialect.describe(), unit)
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
    # The bytes are parsed: let them go before the checks make their arrays (10M rows: ~1 GB).
    del raw, decoded
    candidates = _candidates(fmt, records, shown, matcher, config)
    result.diagnostics += candidates.diagnostics
    checked = _check(candidates, records, shown, matcher, config)
    del candidates, records
    result.diagnostics += checked.diagnostics
    result.frame, result.rejects, result.names = checked.frame, checked.rejects, checked.names
    summary.read = checked.read
    summary.accepted = len(checked.frame.row)
    reasons = checked.rejects.column("reason").to_pylist()
    summary.set_aside = sum(1 for r in reasons if r in SET_ASIDE_REASONS)
    summary.rejected = len(reasons) - summary.set_aside
    return result


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
    frame: _Accepted
    rejects: pa.Table
    names: pa.Table
    read: int
    diagnostics: list[Diagnostic]


def _trimmed_coded(
    coded: Coded, cands: Candidates, clean: Callable[[str], str] = str.strip
) -> Coded:
    """Per-candidate codes of a per-record column, with the distinct texts cleaned."""
    codes = coded.codes if cands.one_per_record else coded.codes[cands.record]
    return Coded(codes, [clean(v) for v in coded.values])


def _clean_name(text: str) -> str:
    return _canvas_name(text.strip())


def _lookup(values: Sequence[bool], codes: np.ndarray) -> np.ndarray:
    """Per-candidate flags from per-distinct-text flags."""
    table = np.array(list(values), dtype=bool)
    return table[codes] if len(table) else np.zeros(len(codes), dtype=bool)


def _check(
    cands: Candidates, records: CsvRecords, shown: str, matcher: TargetMatcher, config: IngestConfig
) -> _Checked:
    rec = cands.record
    diagnostics: list[Diagnostic] = []
    present = [name for name in formats.ROW_FIELDS if name in cands.fields]
    field_codes = dict(zip(present, code_all([cands.fields[n] for n in present]), strict=True))
    student = (
        _trimmed_coded(field_codes["student_id"], cands)
        if "student_id" in field_codes
        else Coded(np.zeros(len(rec), dtype=np.int64), [""])
    )
    names = (
        _trimmed_coded(field_codes["student_name"], cands, _clean_name)
        if "student_name" in field_codes
        else Coded(np.zeros(len(rec), dtype=np.int64), [""])
    )
    target_text = [v.strip() for v in cands.target.values]
    target_lut = np.array([matcher.resolve(t) for t in target_text] or [-1], dtype=np.int64)
    target = (
        target_lut[cands.target.codes] if len(cands.target.codes) else np.zeros(0, dtype=np.int64)
    )
    scale = matcher.scale_index[target]  # index -1 reads the trailing "unknown" slot
    score_text = [v.strip() for v in cands.score.values]
    decimal = _decimal_setting(config.decimal) or detect_decimal(score_text)
    points = cands.points_possible[rec] if cands.points_possible is not None else None
    cells = read_scores(
        score_text,
        cands.score.codes,
        scale,
        matcher.readers,
        decimal=decimal,
        missing=config.missing,
        points_possible=points,
    )
    dates: np.ndarray
    date_bad = np.zeros(len(rec), dtype=bool)
    date_coded: Coded | None = None
    if "date" in cands.fields:
        date_coded = _trimmed_coded(field_codes["date"], cands)
        parsed, bad = parse_dates(date_coded.values, config.date_format)
        dates = (
            parsed[date_coded.codes]
            if len(parsed)
            else np.full(len(rec), np.datetime64("NaT", "ns"))
        )
        date_bad = bad[date_coded.codes] if len(bad) else date_bad
    else:
        dates = np.full(len(rec), np.datetime64("NaT", "ns"))

    # Padding rows (every field blank) of long files are not records at all.
    keep = _not_padding(cands, records, student, target_text)
    padding = len(rec) - int(keep.sum())
    if padding:
        diagnostics.append(info("blank-rows", f"{padding} blank row(s) skipped", shown))

    reason = np.zeros(len(rec), dtype=np.int8)
    # Lowest reason value wins: assign from the least to the most important.
    reason[date_bad] = Reason.BAD_DATE
    reason[cells.outcome == Outcome.OFF_SCALE] = Reason.SCORE_OFF_SCALE
    reason[cells.outcome == Outcome.NON_NUMERIC] = Reason.NON_NUMERIC_SCORE
    blank_target = (
        np.array([not t for t in target_text] or [True])[cands.target.codes]
        if len(cands.target.codes)
        else np.zeros(0, dtype=bool)
    )
    reason[(target < 0) & ~blank_target] = Reason.UNKNOWN_TARGET
    reason[(target < 0) & blank_target] = Reason.MISSING_TARGET
    reason[_lookup([not v for v in student.values], student.codes)] = Reason.MISSING_STUDENT_ID
    reason[cells.outcome == Outcome.NO_SCORE] = Reason.NO_SCORE
    if not config.keep_duplicates:
        duplicate, first_line = _duplicates(
            cands, records, reason == Reason.OK, student, date_coded
        )
        reason[duplicate] = Reason.DUPLICATE_ROW
    else:
        first_line = np.zeros(len(rec), dtype=np.int64)

    lines = records.lines if cands.one_per_record else records.lines[rec]
    accepted = np.flatnonzero((reason == Reason.OK) & keep)
    frame = _accepted_part(
        cands, accepted, student, names, target, matcher, cells, dates, lines, field_codes, shown
    )
    name_pairs = _name_pairs(accepted, student, names, lines, shown)
    rejected = np.flatnonzero((reason != Reason.OK) & keep)
    context = _RejectContext(
        cands,
        records,
        shown,
        student,
        target_text,
        score_text,
        scale,
        matcher,
        date_coded,
        first_line,
    )
    reject_table, reject_diagnostics = _rejects(context, rejected, reason, lines, config)
    diagnostics += reject_diagnostics
    read = int(keep.sum()) + len(records.bad_lines)
    return _Checked(frame, reject_table, name_pairs, read, diagnostics)


def _decimal_setting(value: str | None) -> str | None:
    """``","`` or ``"."`` from the policy's ``decimal`` (a symbol or its name); None: detect."""
    names = {",": ",", "comma": ",", ".": ".", "point": ".", "dot": ".", "period": "."}
    return names.get((value or "").strip().casefold())


def _not_padding(
    cands: Candidates, records: CsvRecords, student: Coded, target_text: Sequence[str]
) -> np.ndarray:
    """False for candidates of long-shaped files whose record is blank in every field."""
    n = len(cands.record)
    keep = np.ones(n, dtype=bool)
    if cands.format in ("wide", "canvas-lmgb"):
        return keep
    blank_student = _lookup([not v for v in student.values], student.codes)
    blank_target = _lookup([not t for t in target_text], cands.target.codes)
    blank_score = _lookup([not v.strip() for v in cands.score.values], cands.score.codes)
    suspects = np.flatnonzero(blank_student & blank_target & blank_score)
    if len(suspects) == 0:
        return keep
    rows = pa.array(cands.record[suspects])
    all_blank = np.ones(len(suspects), dtype=bool)
    for column in records.chunked:
        texts = pc.utf8_trim_whitespace(column.take(rows))
        all_blank &= np.asarray(pc.equal(texts, "").to_numpy(zero_copy_only=False), dtype=bool)
    keep[suspects[all_blank]] = False
    return keep


def parse_dates(texts: Sequence[str], date_format: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct date texts -> (datetime64[ns] values, bad mask). Blank is NaT and not bad.

    Accepted: ``date_format`` when given, ISO 8601 dates and date-times, US ``MM/DD/YYYY``
    (with or without a time). A time-zone suffix is dropped so the date stays the local one
    the teacher saw (a 9 pm submission in Denver is not moved to the next day).
    """
    series = pd.Series([_TIMEZONE.sub("", t) for t in texts], dtype=object)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    todo = series != ""
    formats_to_try: list[str] = [date_format] if date_format else []
    formats_to_try += ["ISO8601", *_US_FORMATS]
    for fmt in formats_to_try:
        if not todo.any():
            break
        parsed = pd.to_datetime(series[todo], format=fmt, errors="coerce")
        parsed = parsed.astype("datetime64[ns]")
        ok = parsed.notna()
        result[ok[ok].index] = parsed[ok]
        todo[ok[ok].index] = False
    return result.to_numpy(dtype="datetime64[ns]"), todo.to_numpy(dtype=bool)


def _combine(parts: Sequence[np.ndarray]) -> np.ndarray:
    """One int64 key per row equal exactly when every part is equal (parts are codes >= 0)."""
    key = np.zeros(len(parts[0]) if parts else 0, dtype=np.int64)
    if not len(key):
        return key
    span = 1  # keys are below span
    for part in parts:
        width = int(part.max()) + 1
        if span * width >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max()) + 1
        key = key * width + part
        span *= width
    return key


def _duplicates(
    cands: Candidates,
    records: CsvRecords,
    valid: np.ndarray,
    student: Coded,
    date_coded: Coded | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Valid candidates whose record is an exact copy of an earlier record of the file.

    A cheap key (student, date and, one cell per record, the target and score texts) finds
    the possible copies; only those are compared on every column.
    """
    n = len(cands.record)
    duplicate = np.zeros(n, dtype=bool)
    first_line = np.zeros(n, dtype=np.int64)
    if cands.format in ("wide", "canvas-lmgb"):
        parts = [student.codes, cands.score_column, cands.score.codes]
    else:
        parts = [student.codes, cands.target.codes, cands.score.codes]
    if date_coded is not None:
        parts.append(date_coded.codes)
    if n == 0:
        return duplicate, first_line
    suspects = np.flatnonzero(pd.Series(_combine(parts)).duplicated(keep=False).to_numpy() & valid)
    if len(suspects) == 0:
        return duplicate, first_line
    # Compare whole records (every column of the file, as written) among the suspects.
    suspect_records = np.unique(cands.record[suspects])
    taken = pa.array(suspect_records)
    codes = [c.codes for c in code_all([column.take(taken) for column in records.chunked])]
    record_key = _combine(codes)
    _, first_index, group = np.unique(record_key, return_index=True, return_inverse=True)
    first_record = suspect_records[first_index[group.reshape(-1)]]
    is_copy = first_record != suspect_records
    position = np.searchsorted(suspect_records, cands.record[suspects])
    copies = suspects[is_copy[position]]
    duplicate[copies] = True
    first_line[copies] = records.lines[first_record[position[is_copy[position]]]]
    return duplicate, first_line


@dataclass
class _Accepted:
    """The accepted evidence of one file, text columns kept as codes into distinct texts."""

    texts: dict[str, Coded]
    score: np.ndarray
    status: np.ndarray  # Outcome.SCORED, EXCUSED or MISSING
    date: np.ndarray
    row: np.ndarray


#: Text columns of the evidence frame, cleaned like the reader always did: ids, names and
#: targets in Python (`str.strip`, Canvas names); the others with pyarrow's whitespace trim.
_ARROW_TRIMMED = ("assessment", "type", "section", "course", "rater", "source", "comment")


def _distinct(coded: Coded) -> Coded:
    """The same texts with every distinct text once (cleaning can make two texts equal)."""
    position: dict[str, int] = {}
    remap = np.fromiter(
        (position.setdefault(v, len(position)) for v in coded.values),
        dtype=np.int32,
        count=len(coded.values),
    )
    if len(position) == len(coded.values):
        return coded
    return Coded(remap[coded.codes], list(position))


def _field_texts(
    cands: Candidates, name: str, accepted: np.ndarray, field_codes: Mapping[str, Coded]
) -> Coded:
    """Codes of the accepted candidates into the distinct cleaned texts of field ``name``."""
    coded = field_codes.get(name)
    if coded is None:
        return Coded(np.zeros(len(accepted), dtype=np.int8), [cands.defaults.get(name, "")])
    cleaned = pc.utf8_trim_whitespace(pa.array(coded.values, type=pa.string()))
    if name == "type":
        cleaned = pc.utf8_lower(cleaned)
    rows = accepted if cands.one_per_record else cands.record[accepted]
    return _distinct(Coded(coded.codes[rows], cleaned.to_pylist()))


def _accepted_part(
    cands: Candidates,
    accepted: np.ndarray,
    student: Coded,
    names: Coded,
    target: np.ndarray,
    matcher: TargetMatcher,
    cells: ScoreCells,
    dates: np.ndarray,
    lines: np.ndarray,
    field_codes: Mapping[str, Coded],
    shown: str,
) -> _Accepted:
    texts = {
        "student_id": _distinct(Coded(student.codes[accepted], student.values)),
        "student_name": _distinct(Coded(names.codes[accepted], names.values)),
        "target": Coded(target[accepted].astype(np.int32), list(matcher.ids)),
        **{name: _field_texts(cands, name, accepted, field_codes) for name in _ARROW_TRIMMED},
        "file": Coded(np.zeros(len(accepted), dtype=np.int8), [shown]),
    }
    return _Accepted(
        texts=texts,
        score=cells.score[accepted],
        status=np.minimum(cells.outcome[accepted], Outcome.MISSING).astype(np.int8),
        date=dates[accepted],
        row=lines[accepted].astype(np.int64, copy=False),
    )


def _canvas_name(text: str) -> str:
    # Canvas writes a name that starts with '=' as ="name" so spreadsheets do not run it.
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        return text[2:-1]
    return text


def _name_pairs(
    accepted: np.ndarray, student: Coded, names: Coded, lines: np.ndarray, shown: str
) -> pa.Table:
    """Each distinct (student id, name) of the accepted rows, with the first line it is on."""
    student_codes, name_codes = student.codes[accepted], names.codes[accepted]
    name_of = np.zeros(len(student.values), dtype=np.int64)
    name_of[student_codes] = name_codes
    if bool(np.all(name_of[student_codes] == name_codes)):
        # One name per id (the usual case): the pairs are the first row of each id.
        first = np.flatnonzero(~pd.Series(student_codes).duplicated().to_numpy())
    else:
        # factorize numbers keys in order of first appearance: a key is new where its code
        # exceeds every code before it.
        key_codes = pd.factorize(_combine([student_codes, name_codes]))[0]
        seen = np.maximum.accumulate(key_codes)
        first = np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]])
    chosen = accepted[first]
    return pa.table(
        {
            "student_id": pa.array([student.values[c] for c in student.codes[chosen]], pa.string()),
            "student_name": pa.array([names.values[c] for c in names.codes[chosen]], pa.string()),
            "file": pa.array([shown] * len(chosen), pa.string()),
            "row": pa.array(lines[chosen], type=pa.int64()),
        }
    )


def _conflicting_names(tables: Sequence[pa.Table | None], limit: int) -> list[Diagnostic]:
    seen: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for table in tables:
        if table is None:
            continue
        for sid, name, file, row in zip(
            *(table.column(c).to_pylist() for c in ("student_id", "student_name", "file", "row")),
            strict=True,
        ):
            if name and all(name != other for other, _, _ in seen[sid]):
                seen[sid].append((name, file, row))
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
    student: Coded
    target_text: Sequence[str]
    score_text: Sequence[str]
    scale: np.ndarray
    matcher: TargetMatcher
    date_coded: Coded | None
    first_line: np.ndarray


def _rejects(
    ctx: _RejectContext,
    rejected: np.ndarray,
    reason: np.ndarray,
    lines: np.ndarray,
    config: IngestConfig,
) -> tuple[pa.Table, list[Diagnostic]]:
    parts: list[pa.Table] = []
    diagnostics: list[Diagnostic] = []
    header = ctx.records.header
    for bad_line, message in ctx.records.bad_lines:
        parts.append(
            _reject_part(
                ctx.shown,
                header,
                np.array([bad_line]),
                np.array([-1]),
                [""],
                np.array([0]),
                "bad-row",
                [message],
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
    for value in np.unique(reason[rejected]):
        which = rejected[reason[rejected] == value]
        code_name = REASON_CODES[Reason(int(value))]
        column, texts, text_codes, messages = _explain(ctx, Reason(int(value)), which)
        part = _reject_part(
            ctx.shown, header, lines[which], column, texts, text_codes, code_name, messages
        )
        parts.append(part)
        diagnostics += _reject_diagnostics(
            Reason(int(value)), part, column, header, ctx.shown, config.max_listed_per_reason
        )
    if not parts:
        return _reject_part(
            ctx.shown,
            header,
            np.array([], dtype=np.int64),
            np.array([], dtype=np.int64),
            [],
            np.array([], dtype=np.int64),
            "",
            [],
        ).drop_columns(["position"]), diagnostics
    # In file order, as a teacher reads the file (stable: cells of one row keep column order).
    table = pa.concat_tables(parts).sort_by([("row", "ascending"), ("position", "ascending")])
    return table.drop_columns(["position"]), diagnostics


def _explain(
    ctx: _RejectContext, reason: Reason, which: np.ndarray
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """For rejected candidates: header index, the distinct offending texts, the code of each
    candidate's text, and one message per distinct (text, scale) pair as a per-row list."""
    cands = ctx.cands
    n = len(which)
    student_column = cands.columns.get("student_id", 0)
    if reason == Reason.MISSING_STUDENT_ID:
        return (
            np.full(n, student_column),
            [""],
            np.zeros(n, dtype=np.int64),
            ["no student id in this row"] * n,
        )
    if reason in (Reason.MISSING_TARGET, Reason.UNKNOWN_TARGET):
        codes = cands.target.codes[which]
        texts = list(ctx.target_text)
        message_of = {
            c: (
                "no target in this row"
                if not texts[c]
                else f"unknown target {texts[c]!r}; {ctx.matcher.suggestion(texts[c])}"
            )
            for c in np.unique(codes).tolist()
        }
        return cands.target_column[which], texts, codes, [message_of[c] for c in codes.tolist()]
    if reason == Reason.BAD_DATE:
        assert ctx.date_coded is not None
        codes = ctx.date_coded.codes[which]
        texts = list(ctx.date_coded.values)
        message_of = {
            c: f"date {texts[c]!r} is not a date (use YYYY-MM-DD)"
            for c in np.unique(codes).tolist()
        }
        return (
            np.full(n, cands.columns.get("date", 0)),
            texts,
            codes,
            [message_of[c] for c in codes.tolist()],
        )
    if reason == Reason.DUPLICATE_ROW:
        first = ctx.first_line[which]
        return (
            np.full(n, -1),
            [""],
            np.zeros(n, dtype=np.int64),
            [f"exact copy of line {line}: dropped" for line in first.tolist()],
        )
    # Score problems: the message depends on the text and the target's scale.
    codes = cands.score.codes[which]
    scales = ctx.scale[which]
    outcome = {
        Reason.NO_SCORE: Outcome.NO_SCORE,
        Reason.NON_NUMERIC_SCORE: Outcome.NON_NUMERIC,
        Reason.SCORE_OFF_SCALE: Outcome.OFF_SCALE,
    }[reason]
    key = codes * (len(ctx.matcher.readers) + 1) + (scales + 1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    messages = []
    for i in first.tolist():
        s = int(scales[i])
        reader = ctx.matcher.readers[s] if s >= 0 else None
        messages.append(
            reject_message(outcome, ctx.score_text[int(codes[i])], reader, ctx.matcher.readers)
        )
    per_row = [messages[i] for i in inverse.reshape(-1).tolist()]
    return cands.score_column[which], list(ctx.score_text), codes, per_row


def _reject_part(
    shown: str,
    header: Sequence[str],
    lines: np.ndarray,
    column: np.ndarray,
    texts: Sequence[str],
    text_codes: np.ndarray,
    reason: str,
    messages: Sequence[str],
) -> pa.Table:
    """Rejects of one reason; ``column`` holds header indexes (-1: the whole row)."""
    n = len(lines)
    names = pa.array([*header, ""], type=pa.string())
    return pa.table(
        {
            "file": pa.array([shown] * n, type=pa.string()),
            "row": pa.array(lines, type=pa.int64()),
            "column": names.take(
                pa.array(np.where(column < 0, len(header), column), type=pa.int64())
            ),
            "value": pa.array(list(texts) or [""], type=pa.string()).take(
                pa.array(text_codes, type=pa.int64())
            ),
            "reason": pa.array([reason] * n, type=pa.string()),
            "message": pa.array(messages, type=pa.string()),
            "position": pa.array(column, type=pa.int64()),  # sort key, dropped later
        }
    )


def _reject_diagnostics(
    reason: Reason,
    part: pa.Table,
    column: np.ndarray,
    header: Sequence[str],
    shown: str,
    limit: int,
) -> list[Diagnostic]:
    n = part.num_rows
    code_name = REASON_CODES[reason]
    if reason == Reason.NO_SCORE:
        return [info("no-score", f"{n} blank score(s): no evidence, set aside (not zeros)", shown)]
    if reason == Reason.DUPLICATE_ROW:
        return [
            warning(
                "duplicate-row",
                f"{n} exact duplicate row(s) dropped (kept once)",
                shown,
                int(part.column("row")[0].as_py()),
                hint="set keep_duplicates to count each copy as evidence",
            )
        ]
    rows = part.column("row").to_pylist()[: limit + 1]
    messages = part.column("message").to_pylist()[: limit + 1]
    listed = []
    for i, (line, message) in enumerate(zip(rows, messages, strict=True)):
        col = int(column[i])
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
        listed.append(
            Diagnostic(
                shown,
                None,
                None,
                code_name,
                f"and {n - limit} more row(s) rejected as {code_name} "
                "(all listed in the rejects file)",
                Severity.WARNING,
            )
        )
    return listed


def _reject_frame(parts: Sequence[pa.Table]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series([], dtype="str" if c not in ("row",) else "int64")
                for c in REJECT_COLUMNS
            }
        )
    table = pa.concat_tables(parts)
    frame = table.to_pandas()
    frame["row"] = frame["row"].astype("int64")
    return frame


_STATUS_TEXT = ("scored", "excused", "missing")  # by Outcome value


def _categorical(parts: Sequence[Coded]) -> pd.Categorical:
    """One categorical column from per-file codes: categories are the texts used, sorted (so
    sorting by the column sorts by text, byte order), codes as small as they can be."""
    used_per_part = []
    for part in parts:
        counts = np.bincount(part.codes, minlength=len(part.values)).tolist() if len(
            part.codes) else []
        used_per_part.append([v for v, c in zip(part.values, counts, strict=False) if c])
    categories = sorted(set().union(*used_per_part)) if used_per_part else []
    position = {text: i for i, text in enumerate(categories)}
    codes = [
        np.array([position.get(v, -1) for v in part.values] or [-1], dtype=np.int32)[part.codes]
        for part in parts
    ]
    joined = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
    # The codes are in range by construction: skip pandas' check of a million of them.
    return pd.Categorical.from_codes(
        joined, categories=pd.Index(categories, dtype="str"), validate=False
    )


def _evidence_frame(parts: Sequence[_Accepted]) -> pd.DataFrame:
    """The EvidenceSet.frame of all files: text columns are categorical (a million rows hold a
    few thousand distinct texts; the pipeline groups on the integer codes)."""
    columns: dict[str, object] = {}
    for name in FRAME_COLUMNS:
        if name in ("score", "date", "row", "seq"):
            continue
        if name == "status":
            columns[name] = _categorical(
                [Coded(p.status, list(_STATUS_TEXT)) for p in parts]
            )
        else:
            columns[name] = _categorical([p.texts[name] for p in parts])

    def joined(name: str, dtype: str) -> np.ndarray:
        arrays = [getattr(p, name) for p in parts]
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)

    columns["score"] = joined("score", "float64")
    columns["date"] = joined("date", "datetime64[ns]")
    columns["row"] = joined("row", "int64")
    columns["seq"] = np.arange(len(columns["row"]), dtype=np.int64)  # type: ignore[arg-type]
    return pd.DataFrame({name: columns[name] for name in FRAME_COLUMNS})
