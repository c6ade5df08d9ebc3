"""The gradebook reader as it was before it dropped pandas and pyarrow.compute: the reference
the fast reading (`mastery_cli.grading.ingest`) must match.

A verbatim copy of ``scorecells.py``, ``csvsniff.py``, ``formats.py`` and ``ingest.py`` as at
commit 7e3e04e, concatenated (``formats.X`` became ``X``), kept self-contained so that later
changes to the reader cannot change the reference. Use ``reference_ingest.read_evidence``.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mastery_cli.diagnostics import (
    Diagnostic,
    MasteryError,
    Severity,
    error,
    sorted_diagnostics,
    warning,
)
from mastery_cli.framework.model import Framework, Scale, Text, level_key


# ---------------------------------------------------------------------- scorecells.py (as at 7e3e04e)
EXCUSED_TOKENS = frozenset({"ex", "excused", "exempt", "exc"})
MISSING_TOKENS = frozenset({"m", "mi", "msg", "missing"})
NO_SCORE_TOKENS = frozenset({"", "n/a", "na", "-", "\u2013", "\u2014"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class CellKind(IntEnum):
    NUMBER = 0
    LABEL = 1
    EXCUSED = 2
    MISSING = 3
    BLANK = 4
    NOT_A_SCORE = 5


class Outcome(IntEnum):
    """What became of one cell, after rescaling and the range check."""

    SCORED = 0
    EXCUSED = 1
    MISSING = 2
    NO_SCORE = 3
    NON_NUMERIC = 4
    OFF_SCALE = 5


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class ScaleReader:
    """The labels of one scale, folded, with the value each stands for."""

    scale: Scale
    labels: dict[str, float]
    shown: list[str]
    primary: list[str]

    @classmethod
    def of(cls, scale: Scale) -> ScaleReader:
        labels: dict[str, float] = {}
        shown: list[str] = []
        primary: list[str] = []
        for level in scale.levels:
            names = [level.label] if isinstance(level.label, str) else list(level.label.values())
            primary.append(names[0])
            if level.short:
                names.append(level.short)
            for name in names:
                labels.setdefault(_fold(name), level.value)
                shown.append(name)
        return cls(scale, labels, list(dict.fromkeys(shown)), primary)

    @property
    def range_text(self) -> str:
        return f"{level_key(self.scale.min_value)}–{level_key(self.scale.max_value)}"

    def suggestion(self, text: str) -> str:
        choices = [*self.shown, "EX", "M"]
        folded = {_fold(c): c for c in choices}
        close = difflib.get_close_matches(_fold(text), list(folded), n=3, cutoff=0.6)
        if close:
            return "did you mean " + " or ".join(repr(folded[c]) for c in close) + "?"
        return (
            f"use a number from {self.range_text} or a level label "
            f"({', '.join(self.primary)}), EX or M"
        )


def parse_number(text: str, decimal: str) -> float | None:
    """A plain decimal number (``3``, ``2.5``, ``2,5`` when the decimal is a comma), else None."""
    candidate = text.replace(",", ".") if decimal == "," else text
    if not _NUMBER.match(candidate):
        return None
    return float(candidate)


def interpret(text: str, reader: ScaleReader, decimal: str) -> tuple[CellKind, float]:
    """The kind of one distinct cell text on one scale, and its value (NaN if none)."""
    folded = _fold(text)
    if folded in NO_SCORE_TOKENS:
        return CellKind.BLANK, math.nan
    if folded in reader.labels:
        return CellKind.LABEL, reader.labels[folded]
    if folded in EXCUSED_TOKENS:
        return CellKind.EXCUSED, math.nan
    if folded in MISSING_TOKENS:
        return CellKind.MISSING, math.nan
    number = parse_number(folded, decimal)
    if number is None:
        return CellKind.NOT_A_SCORE, math.nan
    return CellKind.NUMBER, number


@dataclass
class ScoreCells:
    """Per cell: the score (NaN when none) and its `Outcome`."""

    score: np.ndarray
    outcome: np.ndarray


def _table(
    texts: Sequence[str], readers: Sequence[ScaleReader], decimal: str, missing: str | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kind, value, outcome) for every (scale + 1, text); row 0 is "no known scale"."""
    shape = (len(readers) + 1, len(texts))
    kinds = np.full(shape, CellKind.NOT_A_SCORE, dtype=np.int8)
    values = np.full(shape, math.nan)
    outcomes = np.full(shape, Outcome.NON_NUMERIC, dtype=np.int8)
    for t, text in enumerate(texts):
        if _fold(text) in NO_SCORE_TOKENS:
            kinds[0, t], outcomes[0, t] = CellKind.BLANK, Outcome.NO_SCORE
    for s, reader in enumerate(readers, start=1):
        low, high = reader.scale.min_value - 1e-9, reader.scale.max_value + 1e-9
        for t, text in enumerate(texts):
            kind, value = interpret(text, reader, decimal)
            kinds[s, t], values[s, t] = kind, value
            if kind in (CellKind.NUMBER, CellKind.LABEL):
                outcomes[s, t] = Outcome.SCORED if low <= value <= high else Outcome.OFF_SCALE
            elif kind == CellKind.MISSING and missing != "ignore":
                outcomes[s, t], values[s, t] = Outcome.SCORED, float(missing)
            else:
                outcomes[s, t] = _KIND_OUTCOME[CellKind(kind)]
    values[outcomes != Outcome.SCORED] = math.nan
    return kinds, values, outcomes


_KIND_OUTCOME = {
    CellKind.EXCUSED: Outcome.EXCUSED,
    CellKind.MISSING: Outcome.MISSING,
    CellKind.BLANK: Outcome.NO_SCORE,
    CellKind.NOT_A_SCORE: Outcome.NON_NUMERIC,
}


def read_scores(
    texts: Sequence[str],
    codes: np.ndarray,
    scale_index: np.ndarray,
    readers: Sequence[ScaleReader],
    *,
    decimal: str,
    missing: str | float = "ignore",
    points_possible: np.ndarray | None = None,
) -> ScoreCells:
    """Interpret every cell: ``texts[codes[i]]`` on scale ``readers[scale_index[i]]``.

    ``scale_index`` is -1 for cells whose target is unknown (rejected for that reason
    elsewhere; only a blank text matters for them). ``points_possible`` (NaN where unknown)
    rescales numbers linearly from [0, points possible] to [0, scale max] when it is not the
    scale max: Canvas scores outcomes in points of the outcome's own rating scale.
    """
    kinds, values, outcomes = _table(texts, readers, decimal, missing)
    row = scale_index + 1
    if not len(texts):
        empty = np.zeros(len(codes), dtype=np.int8)
        return ScoreCells(score=np.full(len(codes), math.nan), outcome=empty)
    outcome = outcomes[row, codes]
    score = values[row, codes]
    if points_possible is None:
        return ScoreCells(score=score, outcome=outcome)
    # Canvas: rescale numbers, then check the range again.
    parsed = [parse_number(_fold(text), decimal) for text in texts]
    number = np.array([math.nan if p is None else p for p in parsed])[codes]
    scale_max = np.array([math.nan] + [r.scale.max_value for r in readers])[row]
    scale_min = np.array([math.nan] + [r.scale.min_value for r in readers])[row]
    rescale = (kinds[row, codes] == CellKind.NUMBER) & (points_possible > 0)
    rescale &= points_possible != scale_max
    if rescale.any():
        scaled = number * scale_max / np.where(rescale, points_possible, 1.0)
        on_scale = (scaled >= scale_min - 1e-9) & (scaled <= scale_max + 1e-9)
        outcome = np.where(
            rescale, np.where(on_scale, Outcome.SCORED, Outcome.OFF_SCALE), outcome
        ).astype(np.int8)
        score = np.where(rescale, np.where(on_scale, scaled, math.nan), score)
    return ScoreCells(score=score, outcome=outcome)


def reject_message(
    outcome: Outcome, text: str, reader: ScaleReader | None, others: Sequence[ScaleReader] = ()
) -> str:
    """The message for a cell that is not used (for rejects.csv and the terminal); a hint
    follows the first "; " when there is one."""
    if outcome == Outcome.NO_SCORE:
        return "no score in this cell: no evidence (not counted as zero)"
    if reader is None:
        return f"score {text!r} could not be read"
    scale_id = reader.scale.id
    if outcome == Outcome.OFF_SCALE:
        return f"score {text} is outside scale '{scale_id}' ({reader.range_text})"
    elsewhere = [o.scale.id for o in others if o is not reader and _fold(text) in o.labels]
    if elsewhere:
        return (
            f"score {text!r} is a level of scale '{elsewhere[0]}', but this target uses scale "
            f"'{scale_id}'; " + reader.suggestion(text)
        )
    return f"score {text!r} is not a number or a level of scale '{scale_id}'; " + (
        reader.suggestion(text)
    )


# ---------------------------------------------------------------------- csvsniff.py (as at 7e3e04e)
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")


class CsvError(Exception):
    """The bytes cannot be read as CSV at all; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    line_ending: str
    has_quotes: bool

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        endings = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}
        return (
            f"{self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}-separated, "
            f"{endings.get(self.line_ending, 'LF')} line ends"
        )


@dataclass
class DecodedCsv:
    """UTF-8 bytes without a BOM (what pyarrow reads), the dialect and the header."""

    data: bytes
    dialect: Dialect
    header: list[str]
    header_lines: int
    diagnostics: list[Diagnostic] = field(default_factory=list)


class NotUtf8(Exception):
    """pyarrow found bytes that are not UTF-8 past the sample `sniff` checked."""


@dataclass
class CsvRecords:
    """Every data record of a file as string columns, and where each record starts.

    ``lines[i]`` is the physical line (1-based, the header is line 1) on which record ``i``
    starts. ``bad_lines`` are records pyarrow could not use (wrong number of fields), with a
    message each; they are not among the records.
    """

    header: list[str]
    chunked: list[pa.ChunkedArray]
    lines: np.ndarray
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    _combined: dict[int, pa.Array] = field(default_factory=dict, repr=False)

    @property
    def count(self) -> int:
        return len(self.lines)

    def column(self, index: int) -> pa.Array:
        """Column ``index`` as one contiguous array, made on first use: vectorised kernels are
        several times faster on one array than on pyarrow's parse chunks."""
        if index not in self._combined:
            self._combined[index] = self.chunked[index].combine_chunks()
        return self._combined[index]


def _decode(raw: bytes, path: str, legacy: bool) -> tuple[str, bytes, list[Diagnostic]]:
    """(encoding name, UTF-8 bytes without BOM, diagnostics).

    Only the first 64 KB are checked to be UTF-8 here (checking 100 MB costs a tenth of the
    whole read); pyarrow checks the rest, `read_records` raises NotUtf8 and the caller sniffs
    again with ``legacy=True``, which checks everything.
    """
    if raw.startswith(codecs.BOM_UTF8):
        body = raw[len(codecs.BOM_UTF8) :]
        encoding = "UTF-8 with BOM"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16, usually tab-separated.
        return "UTF-16", raw.decode("utf-16").encode("utf-8"), []
    else:
        body = raw
        encoding = "UTF-8"
    try:
        (body if legacy else _sample_bytes(body)).decode("utf-8")
        return encoding, body, []
    except UnicodeDecodeError as problem:
        line = body.count(b"\n", 0, problem.start) + 1
        bad = body[problem.start : problem.start + 1].hex().upper()
    try:
        text = body.decode("cp1252")
        used = "Windows-1252"
    except UnicodeDecodeError:
        # Bytes undefined in Windows-1252 (0x81, 0x8D...): Latin-1 maps every byte.
        text = body.decode("latin-1")
        used = "Latin-1"
    diagnostic = warning(
        "encoding-fallback",
        f"the file is not UTF-8 (byte 0x{bad} on line {line}); read it as {used}",
        path,
        line,
        hint="check accented names in the results; save the export as 'CSV UTF-8' to be sure",
    )
    return used, text.encode("utf-8"), [diagnostic]


def _sample_bytes(data: bytes) -> bytes:
    """The first 64 KB, cut at a line end so no record or character is split."""
    if len(data) <= SAMPLE_BYTES:
        return data
    cut = data.rfind(b"\n", 0, SAMPLE_BYTES)
    return data[: cut + 1 if cut > 0 else SAMPLE_BYTES]


def _sample_text(data: bytes) -> str:
    return _sample_bytes(data).decode("utf-8", errors="replace")


def _delimiter(sample: str) -> str:
    """The delimiter that splits the header into most fields, consistently in the rows below."""
    best = (",", (False, 0.0, 0))
    for delimiter in DELIMITERS:
        records = [r for r in _first_records(sample, delimiter, 50) if r]
        if not records:
            continue
        width = len(records[0])
        rows = records[1:]
        consistency = (sum(1 for r in rows if len(r) == width) / len(rows)) if rows else 1.0
        score = (width > 1, consistency, width)
        if score > best[1]:
            best = (delimiter, score)
    return best[0]


def _first_records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) >= limit:
                break
    except csv.Error:
        pass
    return records


def _line_ending(sample: str) -> str:
    first = sample.find("\n")
    if first > 0 and sample[first - 1] == "\r":
        return "\r\n"
    if first < 0 and "\r" in sample:
        return "\r"
    return "\n"


def sniff(raw: bytes, path: str, *, legacy: bool = False) -> DecodedCsv:
    """Decode ``raw`` and find its dialect and header. Raises CsvError on an unreadable file.

    ``legacy``: check that the whole file is UTF-8, and read it as Windows-1252 when not.
    """
    encoding, data, diagnostics = _decode(raw, path, legacy)
    sample = _sample_text(data)
    line_ending = _line_ending(sample)
    if line_ending == "\r":
        # Classic Mac line ends: pyarrow and csv both read "\n" reliably.
        data = data.replace(b"\r", b"\n")
        sample = sample.replace("\r", "\n")
    delimiter = _delimiter(sample)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error as problem:
        raise CsvError(warning("bad-csv", f"cannot read the header: {problem}", path, 1)) from None
    header_lines = max(1, reader.line_num)
    dialect = Dialect(
        encoding=encoding, delimiter=delimiter, line_ending=line_ending, has_quotes=b'"' in data
    )
    return DecodedCsv(
        data=data,
        dialect=dialect,
        header=header,
        header_lines=header_lines,
        diagnostics=diagnostics,
    )


def detect_decimal(values: Iterable[str]) -> str:
    """``","`` when the numbers use a decimal comma (and none a decimal point), else ``"."``.

    Decided from the distinct values of the score column(s), not from a sample, so a decimal
    comma first seen on row 90,000 is still understood. A quoted ``"3,5"`` in a
    comma-separated file is a decimal comma too.
    """
    commas = dots = 0
    for value in values:
        if _COMMA_DECIMAL.match(value):
            commas += 1
        elif _DOT_DECIMAL.match(value):
            dots += 1
    return "," if commas and not dots else "."


def read_records(decoded: DecodedCsv, path: str) -> CsvRecords:
    """Parse every data record into string columns, with the line each record starts on.

    pyarrow splits the file into blocks at line ends and parses them on every core; a quoted
    value with a line break in it needs ``newlines_in_values``, which makes the splitting serial
    and the parse ~1.5x slower. So it is used only when the sample shows such a value, or when
    the quick parse does not come out as one record per line (the only way to be sure that no
    block boundary fell inside a quoted value); otherwise the quick parse is exact.
    """
    quoted_newlines = decoded.dialect.has_quotes and _sample_has_quoted_newline(decoded)
    if not quoted_newlines:
        table, bad = _parse(decoded, path, newlines_in_values=False, strict=False)
        if table is not None and not bad and _one_line_per_record(decoded, table.num_rows - 1):
            return _records(decoded, table, bad, one_line_per_record=True)
        if not decoded.dialect.has_quotes and table is not None:
            return _records(decoded, table, bad, one_line_per_record=False)
        del table
    table, bad = _parse(decoded, path, newlines_in_values=decoded.dialect.has_quotes, strict=True)
    assert table is not None
    one_line = not bad and _one_line_per_record(decoded, table.num_rows - 1)
    return _records(decoded, table, bad, one_line_per_record=one_line)


def _sample_has_quoted_newline(decoded: DecodedCsv) -> bool:
    sample = _sample_text(decoded.data)
    records = _first_records(sample, decoded.dialect.delimiter, 1000)
    return any("\n" in value or "\r" in value for record in records for value in record)


def _parse(
    decoded: DecodedCsv, path: str, *, newlines_in_values: bool, strict: bool
) -> tuple[pa.Table | None, list[tuple[int | None, str]]]:
    """(every record as string columns, header first; malformed records). Not ``strict``: a
    parse error gives no table (the caller parses again the careful way)."""
    width = len(decoded.header)
    bad: list[tuple[int | None, str]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        bad.append(
            (row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}")
        )
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        # A BufferReader hands pyarrow the bytes without a copy (BytesIO would copy them).
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(decoded.data)),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=0),
            parse_options=pacsv.ParseOptions(
                delimiter=decoded.dialect.delimiter,
                newlines_in_values=newlines_in_values,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as problem:
        if "UTF8" in str(problem) or "UTF-8" in str(problem):
            raise NotUtf8(str(problem)) from None
        if not strict:
            return None, bad
        raise CsvError(
            warning("bad-csv", f"cannot read the file as CSV: {problem}", path)
        ) from None
    return table, bad


def _records(
    decoded: DecodedCsv,
    table: pa.Table,
    bad: list[tuple[int | None, str]],
    *,
    one_line_per_record: bool,
) -> CsvRecords:
    header = decoded.header
    width = len(header)
    # The header came back as the first record (we named the columns ourselves, so that
    # duplicate or empty header cells cannot confuse pyarrow).
    table = table.slice(1)
    columns = [table.column(i) for i in range(width)]
    count = table.num_rows
    if one_line_per_record:
        lines = np.arange(
            decoded.header_lines + 1, decoded.header_lines + 1 + count, dtype=np.int64
        )
        return CsvRecords(header, columns, lines)
    lines, bad_lines = _record_lines(decoded, width)
    if len(lines) != count:
        # pyarrow and the csv module disagree on where records start (should not happen);
        # fall back to record numbers rather than point at wrong lines silently.
        lines = np.arange(
            decoded.header_lines + 1, decoded.header_lines + 1 + count, dtype=np.int64
        )
        bad_lines = [(line or 0, message) for line, message in bad]
    return CsvRecords(header, columns, lines, bad_lines)


def _one_line_per_record(decoded: DecodedCsv, count: int) -> bool:
    data = decoded.data
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return physical == decoded.header_lines + count


def _record_lines(decoded: DecodedCsv, width: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Start lines of the good records, and the bad ones, by reading the file with `csv`.

    The slow path, only for files with quoted newlines, blank lines or malformed records.
    """
    text = decoded.data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=decoded.dialect.delimiter)
    starts: list[int] = []
    bad: list[tuple[int, str]] = []
    next_line = 1
    for index, record in enumerate(reader):
        start = next_line
        next_line = reader.line_num + 1
        if index == 0 or not record:
            continue
        if len(record) != width:
            bad.append((start, f"expected {width} fields, found {len(record)}"))
            continue
        starts.append(start)
    return np.asarray(starts, dtype=np.int64), bad


# ---------------------------------------------------------------------- py (as at 7e3e04e)
FORMATS = ("long", "mapped", "wide", "canvas-results", "canvas-lmgb")

#: Canonical column -> header spellings accepted for it (after `normalize_header`), in order.
ALIASES: dict[str, tuple[str, ...]] = {
    "student_id": (
        "student_id",
        "studentid",
        "student_number",
        "student_no",
        "sis_id",
        "student_sis_id",
        "id_number",
        "learner_id",
        "pupil_id",
        "user_id",
        "student",
        "learner",
        "id",
    ),
    "student_name": ("student_name", "name", "full_name", "learner_name", "pupil_name"),
    "target": (
        "target",
        "target_id",
        "learning_target",
        "standard",
        "standard_id",
        "standard_code",
        "outcome",
        "outcome_id",
        "learning_outcome",
        "competency",
        "competency_id",
        "skill",
        "target_code",
    ),
    "score": (
        "score",
        "level",
        "rating",
        "points",
        "result",
        "mark",
        "proficiency",
        "performance_level",
    ),
    "date": (
        "date",
        "assessed",
        "assessed_on",
        "assessment_date",
        "date_assessed",
        "submitted",
        "submitted_at",
        "submission_date",
        "date_submitted",
        "evidence_date",
    ),
    "assessment": (
        "assessment",
        "assessment_title",
        "assessment_name",
        "assignment",
        "assignment_name",
        "assignment_title",
        "task",
        "activity",
    ),
    "type": ("type", "evidence_type", "assessment_type", "category"),
    "section": ("section", "section_name", "period", "class"),
    "course": ("course", "course_id", "course_name", "course_code"),
    "rater": ("rater", "teacher", "scorer", "assessor", "teacher_name"),
    "source": ("source", "origin", "school"),
    "comment": ("comment", "comments", "note", "notes", "feedback"),
}
CANONICAL = tuple(ALIASES)
REQUIRED_LONG = ("student_id", "target", "score")
ROW_FIELDS = (
    "student_id",
    "student_name",
    "date",
    "assessment",
    "type",
    "section",
    "course",
    "rater",
    "source",
    "comment",
)

CANVAS_RESULTS_COLUMNS = (
    "student name",
    "student id",
    "student sis id",
    "assessment title",
    "assessment id",
    "assessment type",
    "submission date",
    "submission score",
    "learning outcome name",
    "learning outcome id",
    "attempt",
    "outcome score",
    "assessment question",
    "assessment question id",
    "course name",
    "course id",
    "course sis id",
    "section name",
    "section id",
    "section sis id",
    "assignment url",
    "learning outcome friendly name",
    "learning outcome points possible",
    "learning outcome mastery score",
    "learning outcome mastered",
    "learning outcome rating",
    "learning outcome rating points",
    "learning outcome group title",
    "learning outcome group id",
    "account id",
    "account name",
    "enrollment state",
)
CANVAS_EMPTY_REPORT = "no outcomes found"
LMGB_RESULT = " result"
LMGB_MASTERY = " mastery points"


def normalize_header(name: str) -> str:
    """``Student ID``, ``student-id`` and ``student_id`` all become ``student_id``."""
    folded = name.replace("\ufeff", "").strip().casefold()
    return re.sub(r"[\s_\-]+", "_", folded).strip("_")


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _texts(value: Text | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value.values())


class TargetMatcher:
    """Framework target (or competency) ids from what an export calls them."""

    def __init__(self, framework: Framework, outcome_map: Mapping[str, str] | None = None):
        self.framework = framework
        self.ids: list[str] = list(framework.targets)
        self.ids += [c for c in framework.competencies if c not in framework.targets]
        self.index = {target_id: i for i, target_id in enumerate(self.ids)}
        scales = list(framework.scales.values())
        self.readers = [ScaleReader.of(scale) for scale in scales]
        position = {scale.id: i for i, scale in enumerate(scales)}
        self.scale_index = np.full(len(self.ids) + 1, -1, dtype=np.int64)  # last: unknown
        for i, target_id in enumerate(self.ids):
            if target_id in framework.targets:
                scale = framework.target_scale(framework.targets[target_id])
            else:
                scale = framework.scale_of(framework.competencies[target_id])
            self.scale_index[i] = position[scale.id] if scale is not None else -1
        self.problems: list[Diagnostic] = []
        self._map: dict[str, int] = {}
        for key, value in (outcome_map or {}).items():
            if value in self.index:
                self._map.setdefault(str(key), self.index[value])
                self._map.setdefault(fold(str(key)), self.index[value])
            else:
                self.problems.append(
                    warning(
                        "bad-outcome-map",
                        f"the outcome map sends {key!r} to {value!r}, which is not a target or "
                        "competency of the framework",
                        "outcome_map",
                        hint=self._hint(value),
                    )
                )
        self._folded_ids = {fold(t): i for i, t in enumerate(self.ids)}
        self._guids: dict[str, int] = {}
        self._titles: dict[str, int] = {}
        self._codes: dict[str, int] = {}
        ambiguous: set[str] = set()
        for i, target_id in enumerate(self.ids):
            target = framework.targets.get(target_id)
            competency = framework.competencies.get(target_id)
            item = target if target is not None else competency
            case = item.case if item is not None else None
            if case and isinstance(case.get("identifier"), str):
                self._guids[fold(case["identifier"])] = i
            texts: list[str] = []
            if target is not None:
                for text_value in (target.title, target.statement, target.i_can):
                    texts += _texts(text_value)
                alignments = target.alignments
            else:
                assert competency is not None
                for text_value in (competency.title, competency.statement, competency.i_can):
                    texts += _texts(text_value)
                alignments = competency.alignments
            for text in {fold(t) for t in texts if t.strip()}:
                if text in self._titles and self._titles[text] != i:
                    ambiguous.add(text)
                self._titles[text] = i
            for alignment in alignments:
                if alignment.code:
                    self._codes.setdefault(fold(alignment.code), i)
        for text in ambiguous:
            del self._titles[text]

    def resolve(self, text: str) -> int:
        """The index in ``ids`` of the target ``text`` names, or -1."""
        text = text.strip()
        if not text:
            return -1
        if text in self._map:
            return self._map[text]
        if text in self.index:
            return self.index[text]
        folded = fold(text)
        for table in (self._map, self._folded_ids, self._guids, self._titles, self._codes):
            if folded in table:
                return table[folded]
        head = re.split(r"[\s:]+", text, maxsplit=1)[0].rstrip(".-–")
        if head != text and fold(head) in self._folded_ids:
            return self._folded_ids[fold(head)]
        return -1

    def _hint(self, text: str) -> str:
        close = difflib.get_close_matches(text, self.ids, n=3, cutoff=0.6)
        if not close:
            folded = {fold(t): t for t in self.ids}
            close = [
                folded[c]
                for c in difflib.get_close_matches(fold(text), list(folded), n=3, cutoff=0.6)
            ]
        if close:
            return "did you mean " + " or ".join(repr(c) for c in close) + "?"
        return (
            "use a target or competency id of the framework (e.g. "
            + ", ".join(self.ids[:3])
            + "), or map this name in the outcome map"
        )

    def suggestion(self, text: str) -> str:
        return self._hint(text.strip())

    def looks_like_id(self, text: str) -> bool:
        """Whether an unmatched wide-format header is probably a mistyped target id."""
        return bool(difflib.get_close_matches(text.strip(), self.ids, n=1, cutoff=0.8))


@dataclass
class Coded:
    """Per candidate, an index into ``values`` (distinct texts)."""

    codes: np.ndarray
    values: list[str]


def code(array: pa.Array | pa.ChunkedArray) -> Coded:
    """Distinct texts and an int32 code per row (one hash pass in pyarrow).

    A chunked column (as the CSV parse gives it) is encoded chunk by chunk without first
    copying it into one array; pyarrow's encoder keeps one dictionary across the chunks.
    """
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        if encoded.num_chunks == 0:
            return Coded(np.zeros(0, dtype=np.int32), [])
        last = encoded.chunk(encoded.num_chunks - 1).dictionary
        if any(not chunk.dictionary.equals(last) for chunk in encoded.chunks[:-1]):
            encoded = encoded.unify_dictionaries()
            last = encoded.chunk(0).dictionary
        indices = np.concatenate(
            [np.asarray(chunk.indices.to_numpy(zero_copy_only=False)) for chunk in encoded.chunks]
        )
        return Coded(indices.astype(np.int32, copy=False), last.to_pylist())
    return Coded(
        np.asarray(encoded.indices.to_numpy(zero_copy_only=False)).astype(np.int32, copy=False),
        encoded.dictionary.to_pylist(),
    )


def code_all(arrays: Sequence[pa.Array | pa.ChunkedArray]) -> list[Coded]:
    """`code` of each array, the arrays in parallel: pyarrow hashes without holding the GIL,
    so each core encodes a column."""
    workers = min(len(arrays), os.cpu_count() or 1)
    if workers < 2:
        return [code(array) for array in arrays]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(code, arrays))


@dataclass
class Candidates:
    """Evidence cells of one file before checking, in the file's order.

    ``record[i]`` is the CSV record candidate ``i`` came from; per-record fields are in
    ``fields`` (string arrays indexed by record); ``target`` and ``score`` are per candidate.
    ``columns`` gives the header index each field was read from (for rejects);
    ``score_column`` the header index of each candidate's score cell.
    """

    format: str
    record: np.ndarray
    fields: dict[str, pa.Array | pa.ChunkedArray]
    columns: dict[str, int]
    target: Coded
    score: Coded
    score_column: np.ndarray
    target_column: np.ndarray
    points_possible: np.ndarray | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.record)

    @property
    def one_per_record(self) -> bool:
        """Whether candidate ``i`` is record ``i`` (long-shaped files)."""
        return self.format not in ("wide", "canvas-lmgb")


def info(
    code: str, message: str, path: str, line: int | None = None, **kw: str | None
) -> Diagnostic:
    return Diagnostic(path, line, None, code, message, Severity.INFO, kw.get("hint"))


def find_columns(header: Sequence[str], mapping: Mapping[str, str] | None = None) -> dict[str, int]:
    """Canonical field -> header index, from ``mapping`` (exact or normalised) then aliases."""
    normalized = [normalize_header(h) for h in header]
    found: dict[str, int] = {}
    used: set[int] = set()
    for canonical, name in (mapping or {}).items():
        for i, h in enumerate(header):
            if i not in used and (
                h.strip() == name.strip() or normalized[i] == normalize_header(name)
            ):
                found[canonical] = i
                used.add(i)
                break
    for canonical, aliases in ALIASES.items():
        if canonical in found:
            continue
        for alias in aliases:
            index = next(
                (i for i, h in enumerate(normalized) if h == alias and i not in used), None
            )
            if index is not None:
                found[canonical] = index
                used.add(index)
                break
    return found


def missing_mapped(header: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """Canonical names whose mapped header is not in the file."""
    found = find_columns(header, mapping)
    return [
        c
        for c, name in mapping.items()
        if c not in found or normalize_header(header[found[c]]) != normalize_header(name)
    ]


def detect(
    header: Sequence[str], matcher: TargetMatcher, mapping: Mapping[str, str] | None
) -> str | None:
    """The format of a file from its header, or None when nothing fits."""
    lowered = [" ".join(h.replace("\ufeff", "").casefold().split()) for h in header]
    if {"student name", "learning outcome name", "outcome score"} <= set(lowered):
        return "canvas-results"
    if (
        "student name" in lowered
        and "student id" in lowered
        and any(h.endswith(LMGB_RESULT) for h in lowered)
    ):
        return "canvas-lmgb"
    if mapping and not missing_mapped(header, mapping):
        columns = find_columns(header, mapping)
        if all(c in columns for c in REQUIRED_LONG):
            return "mapped"
    columns = find_columns(header)
    if all(c in columns for c in REQUIRED_LONG):
        return "long"
    if "student_id" in columns and any(
        matcher.resolve(h) >= 0 for i, h in enumerate(header) if i not in columns.values()
    ):
        return "wide"
    return None


def unknown_format(path: str, header: Sequence[str]) -> Diagnostic:
    shown = ", ".join(repr(h) for h in header[:12]) + (" ..." if len(header) > 12 else "")
    return error(
        "unknown-format",
        f"cannot tell what kind of gradebook this is from its header ({shown})",
        path,
        1,
        hint="a long gradebook needs the columns student_id, target and score (optional: "
        "student_name, date, assessment, type, section, course, rater, source, comment); "
        "also recognized: a wide sheet (student_id plus one column per target id), "
        "Canvas 'Outcome Results' reports and Canvas Learning Mastery Gradebook exports; "
        "for any other export give a column mapping (--columns / input_format: mapped)",
    )


def _trimmed(array: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(array)


def _row_fields(
    records: CsvRecords, columns: Mapping[str, int]
) -> dict[str, pa.Array | pa.ChunkedArray]:
    # As parsed (chunked): the checks only dictionary-encode these columns.
    return {name: records.chunked[index] for name, index in columns.items() if name in ROW_FIELDS}


def ignored_columns(path: str, header: Sequence[str], used: set[int]) -> list[Diagnostic]:
    extra = [h for i, h in enumerate(header) if i not in used and h.strip()]
    if not extra:
        return []
    return [
        info(
            "ignored-columns",
            "columns not used: " + ", ".join(repr(h) for h in extra),
            path,
            1,
            hint="rename a column to a recognized name (or map it) to use it",
        )
    ]


def long_candidates(
    records: CsvRecords, path: str, fmt: str, mapping: Mapping[str, str] | None = None
) -> Candidates:
    columns = find_columns(records.header, mapping if fmt == "mapped" else None)
    n = records.count
    record = np.arange(n, dtype=np.int64)
    target_col, score_col = columns["target"], columns["score"]
    target, score = code_all([records.chunked[target_col], records.chunked[score_col]])
    return Candidates(
        format=fmt,
        record=record,
        fields=_row_fields(records, columns),
        columns=columns,
        target=target,
        score=score,
        score_column=np.full(n, score_col, dtype=np.int64),
        target_column=np.full(n, target_col, dtype=np.int64),
        diagnostics=ignored_columns(path, records.header, set(columns.values())),
    )


def _cells(
    records: CsvRecords, targets: Sequence[tuple[int, str]]
) -> tuple[np.ndarray, Coded, Coded, np.ndarray]:
    """Non-blank cells of target columns: (record, target, score, column), row order."""
    record_parts, score_codes, target_codes, column_parts = [], [], [], []
    score_values: list[str] = []
    target_values: list[str] = []
    for column, target_text in targets:
        coded = code(records.column(column))
        blank = np.array([not v.strip() for v in coded.values], dtype=bool)
        rows = np.flatnonzero(~blank[coded.codes]) if len(coded.values) else np.array([], int)
        record_parts.append(rows)
        score_codes.append(coded.codes[rows] + len(score_values))
        score_values += coded.values
        target_codes.append(np.full(len(rows), len(target_values), dtype=np.int64))
        target_values.append(target_text)
        column_parts.append(np.full(len(rows), column, dtype=np.int64))
    if not record_parts:
        empty = np.array([], dtype=np.int64)
        return empty, Coded(empty, []), Coded(empty, []), empty
    record = np.concatenate(record_parts)
    columns = np.concatenate(column_parts)
    order = np.lexsort((columns, record))
    return (
        record[order],
        Coded(np.concatenate(target_codes)[order], target_values),
        Coded(np.concatenate(score_codes)[order], score_values),
        columns[order],
    )


def wide_candidates(records: CsvRecords, path: str, matcher: TargetMatcher) -> Candidates:
    header = records.header
    columns = {k: v for k, v in find_columns(header).items() if k in ROW_FIELDS}
    targets: list[tuple[int, str]] = []
    ignored: set[int] = set()
    diagnostics: list[Diagnostic] = []
    for i, name in enumerate(header):
        if i in columns.values():
            continue
        resolved = matcher.resolve(name)
        if resolved >= 0:
            targets.append((i, matcher.ids[resolved]))
        elif name.strip() and matcher.looks_like_id(name):
            # Probably a mistyped target: its cells are rejected, not silently ignored.
            targets.append((i, name.strip()))
            diagnostics.append(
                warning(
                    "unknown-target-column",
                    f"column {name!r} is not a target of the framework; its scores are rejected",
                    path,
                    1,
                    i + 1,
                    hint=matcher.suggestion(name),
                    pointer=name,
                )
            )
        else:
            ignored.add(i)
    used = set(range(len(header))) - ignored
    diagnostics += ignored_columns(path, header, used)
    record, target, score, score_column = _cells(records, targets)
    return Candidates(
        format="wide",
        record=record,
        fields=_row_fields(records, columns),
        columns=columns,
        target=target,
        score=score,
        score_column=score_column,
        target_column=score_column,
        diagnostics=diagnostics,
    )


def _strip_canvas_name(array: pa.Array) -> pa.Array:
    """Canvas writes names starting with '=' as ="name"; undo that."""
    return pc.replace_substring_regex(array, r'^="(.*)"$', r"\1")


def _lowered_index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(" ".join(h.replace("\ufeff", "").casefold().split()), i)
    return index


def _student_id(records: CsvRecords, sis: int | None, canvas_id: int | None) -> pa.Array:
    """The SIS id where Canvas has one (not blank, not ``N/A``), else Canvas's own id."""
    fallback = _trimmed(records.column(canvas_id)) if canvas_id is not None else None
    if sis is None:
        assert fallback is not None
        return fallback
    sis_values = _trimmed(records.column(sis))
    if fallback is None:
        return sis_values
    usable = pc.and_(pc.not_equal(sis_values, ""), pc.not_equal(sis_values, "N/A"))
    return pc.if_else(usable, sis_values, fallback)


def _numbers(array: pa.Array) -> np.ndarray:
    coded = code(_trimmed(array))
    values = np.full(len(coded.values), np.nan)
    for i, text in enumerate(coded.values):
        with contextlib.suppress(ValueError):
            values[i] = float(text.replace(",", "."))
    return values[coded.codes] if len(coded.values) else np.full(len(coded.codes), np.nan)


def canvas_results_candidates(records: CsvRecords, path: str, matcher: TargetMatcher) -> Candidates:
    where = _lowered_index(records.header)
    sis, canvas_id = where.get("student sis id"), where.get("student id")
    fields: dict[str, pa.Array] = {
        "student_id": _student_id(records, sis, canvas_id),
    }
    columns = {"student_id": sis if sis is not None else canvas_id or 0}
    for name, canvas in (
        ("student_name", "student name"),
        ("assessment", "assessment title"),
        ("type", "assessment type"),
        ("date", "submission date"),
        ("section", "section name"),
        ("course", "course name"),
    ):
        if canvas in where:
            fields[name] = records.column(where[canvas])
            columns[name] = where[canvas]
    if "student_name" in fields:
        fields["student_name"] = _strip_canvas_name(_trimmed(fields["student_name"]))

    # Match each distinct (outcome id, name, friendly name) once.
    keys = [
        where.get(k)
        for k in ("learning outcome id", "learning outcome name", "learning outcome friendly name")
    ]
    parts = [code(_trimmed(records.column(k))) if k is not None else None for k in keys]
    n = records.count
    combined = np.zeros(n, dtype=np.int64)
    for part in parts:
        if part is not None:
            combined = combined * (len(part.values) + 1) + part.codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    texts: list[str] = []
    for row in first:
        names = [p.values[p.codes[row]] if p is not None else "" for p in parts]
        outcome_id, name, friendly = names
        chosen = ""
        for candidate in (outcome_id, name, friendly):
            resolved = matcher.resolve(candidate)
            if resolved >= 0:
                chosen = matcher.ids[resolved]
                break
        texts.append(chosen or name or friendly or outcome_id)
    target_col = where.get("learning outcome name", 0)
    score_col = where.get("outcome score", 0)
    points_col = where.get("learning outcome points possible")
    return Candidates(
        format="canvas-results",
        record=np.arange(n, dtype=np.int64),
        fields=fields,
        columns=columns,
        target=Coded(inverse.reshape(-1).astype(np.int64), texts),
        score=code(records.column(score_col)),
        score_column=np.full(n, score_col, dtype=np.int64),
        target_column=np.full(n, target_col, dtype=np.int64),
        points_possible=_numbers(records.column(points_col)) if points_col is not None else None,
    )


def lmgb_candidates(records: CsvRecords, path: str, matcher: TargetMatcher) -> Candidates:
    header = records.header
    where = _lowered_index(header)
    sis, canvas_id = where.get("student sis id"), where.get("student id")
    fields = {"student_id": _student_id(records, sis, canvas_id)}
    columns = {"student_id": sis if sis is not None else canvas_id or 0}
    if "student name" in where:
        fields["student_name"] = _strip_canvas_name(_trimmed(records.column(where["student name"])))
        columns["student_name"] = where["student name"]
    targets: list[tuple[int, str]] = []
    diagnostics: list[Diagnostic] = []
    mastery_columns = {
        h.casefold()[: -len(LMGB_MASTERY)].strip(): i
        for i, h in enumerate(header)
        if h.casefold().endswith(LMGB_MASTERY)
    }
    for i, name in enumerate(header):
        if not name.casefold().endswith(LMGB_RESULT):
            continue
        path_text = name[: -len(LMGB_RESULT)].strip()
        title = path_text.split(" > ")[-1].strip()
        resolved = matcher.resolve(path_text)
        if resolved < 0:
            resolved = matcher.resolve(title)
        targets.append((i, matcher.ids[resolved] if resolved >= 0 else title))
        mastery = mastery_columns.get(path_text.casefold())
        if resolved >= 0 and mastery is not None:
            diagnostics += _check_mastery_points(records, mastery, matcher, resolved, path, name)
    record, target, score, score_column = _cells(records, targets)
    return Candidates(
        format="canvas-lmgb",
        record=record,
        fields=fields,
        columns=columns,
        target=target,
        score=score,
        score_column=score_column,
        target_column=score_column,
        defaults={"type": "canvas-rollup", "assessment": "Canvas rollup"},
        diagnostics=diagnostics,
    )


def _check_mastery_points(
    records: CsvRecords,
    column: int,
    matcher: TargetMatcher,
    target: int,
    path: str,
    result_header: str,
) -> list[Diagnostic]:
    """Warn when Canvas's mastery points differ from the framework's mastery level."""
    scale_at = matcher.scale_index[target]
    if scale_at < 0:
        return []
    scale = matcher.readers[scale_at].scale
    values = {v for v in _numbers(records.column(column)).tolist() if v == v}
    odd = sorted(v for v in values if abs(v - scale.mastery_value) > 1e-9)
    if not odd:
        return []
    shown = ", ".join(level_key(v) for v in odd)
    return [
        warning(
            "scale-mismatch",
            f"Canvas sets mastery for {result_header!r} at {shown} points, but scale "
            f"'{scale.id}' of the framework has mastery at {level_key(scale.mastery_value)}",
            path,
            1,
            column + 1,
            hint="check that the Canvas outcome uses the same rating scale as the framework; "
            "rolled-up results are imported as they are",
            pointer=records.header[column],
        )
    ]


# ---------------------------------------------------------------------- ingest.py (as at 7e3e04e)
INPUT_FORMATS = ("auto", *FORMATS)
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
    if [fold(h) for h in header] == [CANVAS_EMPTY_REPORT]:
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
        detected = detect(header, matcher, config.columns)
        if detected is None:
            result.diagnostics.append(unknown_format(shown, header))
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
        absent = missing_mapped(header, config.columns)
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
        found = find_columns(header, config.columns if fmt == "mapped" else None)
        absent = [c for c in REQUIRED_LONG if c not in found]
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
        return wide_candidates(records, shown, matcher)
    if fmt == "canvas-results":
        return canvas_results_candidates(records, shown, matcher)
    if fmt == "canvas-lmgb":
        return lmgb_candidates(records, shown, matcher)
    return long_candidates(records, shown, fmt, config.columns)


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
    present = [name for name in ROW_FIELDS if name in cands.fields]
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
            c: f"date {texts[c]!r} is not a date (write it as YYYY-MM-DD or MM/DD/YYYY)"
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
