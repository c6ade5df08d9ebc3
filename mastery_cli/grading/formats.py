"""Which gradebook export a file is, and how each one becomes candidate evidence cells.

Formats (see ``IngestConfig.input_format``):
- ``long``: one row per piece of evidence; columns found by name with common aliases.
- ``mapped``: a long file whose columns are named by ``IngestConfig.columns`` (PowerSchool,
  Schoology, Google Classroom and other exports with no stable header).
- ``wide``: one row per student × assessment, one column per target id.
- ``canvas-results``: Canvas's "Outcome Results" report (32 columns, or the older first 17).
- ``canvas-lmgb``: Canvas's Learning Mastery Gradebook export (``outcome_rollups.csv``).

A normaliser turns the file's records into `Candidates`: one entry per evidence cell (a record
of a long file; a non-blank target cell of a wide or LMGB file) with the raw texts still
undecided. Checking them against the framework is the same for every format (`ingest`).

Targets are matched (`TargetMatcher`) by: ``IngestConfig.outcome_map``, then the target or
competency id (exact, then any case), then a CASE identifier / Canvas ``vendor_guid`` equal to
the target's, then the target's title, statement or "I can" text in any language (folded case
and spaces; only when one target has it), then an alignment code, then an id written before
the title ("MATH.ALG.1: Solve linear equations").
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Union

import numpy as np
import pyarrow as pa

from mastery_cli.diagnostics import Diagnostic, Severity, error, shortened, warning
from mastery_cli.framework.model import Framework, Text, level_key
from mastery_cli.grading.csvsniff import CsvRecords, encode
from mastery_cli.grading.scorecells import ScaleReader

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
    # Learning outside school: the portfolio piece, and who approved the row and when.
    "artifact": ("artifact", "artifact_url", "portfolio_piece", "evidence_link"),
    "approved_by": ("approved_by", "approver"),
    "approved_on": ("approved_on", "approval_date", "date_approved"),
    # A rubric criterion's weight, on rows `mastery grade --rubric` makes from rubric scores.
    "criterion_weight": ("criterion_weight",),
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
    "artifact",
    "approved_by",
    "approved_on",
    "criterion_weight",
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
                        f"the outcome map sends {shortened(str(key))!r} to "
                        f"{shortened(str(value))!r}, which is not a target or competency of "
                        "the framework",
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

    def where(self, mask: np.ndarray) -> np.ndarray:
        """The codes where ``mask`` is true."""
        return self.codes[mask]


#: A per-record field of `Candidates`: a column as parsed, or texts already worked out.
Field = Union[pa.Array, pa.ChunkedArray, Coded]  # noqa: UP007 (a runtime alias)


def code(array: pa.Array | pa.ChunkedArray) -> Coded:
    """Distinct texts (in order of first appearance) and an int32 code per row.

    A dictionary column (as `read_records` gives it with ``dictionary=True``) is joined in
    Python without pyarrow.compute; a string column is hashed by pyarrow's encoder, chunk by
    chunk without first copying it into one array.
    """
    codes, values = encode(array)
    return Coded(codes, values)


def code_all(arrays: Sequence[pa.Array | pa.ChunkedArray]) -> list[Coded]:
    """`code` of each array, string arrays in parallel: pyarrow hashes without holding the GIL,
    so each core encodes a column (joining dictionaries is mostly Python: no gain there)."""
    workers = min(len(arrays), os.cpu_count() or 1)
    if workers < 2 or all(pa.types.is_dictionary(array.type) for array in arrays):
        return [code(array) for array in arrays]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(code, arrays))


@dataclass
class Candidates:
    """Evidence cells of one file before checking, in the file's order.

    ``record[i]`` is the CSV record candidate ``i`` came from (a ``range`` when candidate
    ``i`` is record ``i``: `one_per_record`, no million-row array); per-record fields are in
    ``fields`` (text arrays indexed by record: strings, or dictionaries as parsed);
    ``target`` and ``score`` are per candidate.
    ``columns`` gives the header index each field was read from (for rejects);
    ``score_column`` the header index of each candidate's score cell.
    """

    format: str
    record: np.ndarray | range
    fields: dict[str, Field]
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
    # At most 12 cells of at most 40 characters: a file that is no CSV at all (binary, or one
    # endless line) must not fill the terminal.
    cells = [repr(h if len(h) <= 40 else h[:40] + "...") for h in header[:12]]
    shown = ", ".join(cells) + (" ..." if len(header) > 12 else "")
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


def _row_fields(records: CsvRecords, columns: Mapping[str, int]) -> dict[str, Field]:
    # As parsed (chunked): the checks code them (`CsvRecords.coded`), each once.
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


def same_for_all(n: int, column: int) -> np.ndarray:
    """``column`` for each of ``n`` candidates, as a read-only view of one number: 8 MB of
    fresh memory less per million rows than a filled array."""
    return np.broadcast_to(np.int64(column), (n,))


def long_candidates(
    records: CsvRecords, path: str, fmt: str, mapping: Mapping[str, str] | None = None
) -> Candidates:
    columns = find_columns(records.header, mapping if fmt == "mapped" else None)
    n = records.count
    target_col, score_col = columns["target"], columns["score"]
    target, score = (Coded(*records.codes(i)) for i in (target_col, score_col))
    return Candidates(
        format=fmt,
        record=range(n),
        fields=_row_fields(records, columns),
        columns=columns,
        target=target,
        score=score,
        score_column=same_for_all(n, score_col),
        target_column=same_for_all(n, target_col),
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
        coded = Coded(*records.codes(column))
        blank = np.array([not v.strip() for v in coded.values], dtype=bool)
        rows = np.flatnonzero(~blank[coded.codes]) if len(coded.values) else np.array([], int)
        record_parts.append(rows)
        # (int64 first: the column's codes are as small as its texts allow, int8 for a few.)
        score_codes.append(coded.codes[rows].astype(np.int64) + len(score_values))
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


_CANVAS_QUOTED = re.compile(r'="(.*)"')


def _unquoted_name(text: str) -> str:
    """Canvas writes names starting with '=' as ="name"; undo that (on trimmed text, as
    pyarrow's ``replace_substring_regex(^="(.*)"$)`` did: no line break inside)."""
    quoted = _CANVAS_QUOTED.fullmatch(text)
    return quoted.group(1) if quoted else text


def _lowered_index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(" ".join(h.replace("\ufeff", "").casefold().split()), i)
    return index


def _trimmed(records: CsvRecords, index: int) -> tuple[np.ndarray, list[str]]:
    """Column ``index``: its codes and its distinct texts trimmed (maybe repeated)."""
    coded = records.coded(index)
    return coded.codes, [v.strip() for v in coded.values]


def _distinct(codes: np.ndarray, texts: Sequence[str]) -> Coded:
    """``texts[codes]`` with each distinct text once, in order of first appearance."""
    position: dict[str, int] = {}
    remap = [position.setdefault(t, len(position)) for t in texts]
    if len(position) == len(texts):
        return Coded(codes, list(texts))
    return Coded(np.array(remap or [0], dtype=np.int32)[codes], list(position))


def _student_id(records: CsvRecords, sis: int | None, canvas_id: int | None) -> Coded:
    """The SIS id where Canvas has one (not blank, not ``N/A``), else Canvas's own id; trimmed.

    Decided once per distinct SIS id; the two columns' texts share one list."""
    if sis is None:
        assert canvas_id is not None
        return Coded(*_trimmed(records, canvas_id))
    sis_codes, sis_texts = _trimmed(records, sis)
    if canvas_id is None:
        return Coded(sis_codes, sis_texts)
    canvas_codes, canvas_texts = _trimmed(records, canvas_id)
    position: dict[str, int] = {}
    from_sis = np.array([position.setdefault(t, len(position)) for t in sis_texts] or [0])
    from_canvas = np.array([position.setdefault(t, len(position)) for t in canvas_texts] or [0])
    usable = np.array([t not in ("", "N/A") for t in sis_texts] or [False])
    codes = np.where(usable[sis_codes], from_sis[sis_codes], from_canvas[canvas_codes])
    return Coded(codes, list(position))


def _student_name(records: CsvRecords, index: int) -> Coded:
    codes, texts = _trimmed(records, index)
    return Coded(codes, [_unquoted_name(t) for t in texts])


def _numbers(records: CsvRecords, index: int) -> np.ndarray:
    """Column ``index`` read as numbers (decimal point or comma; NaN where not a number)."""
    coded = records.coded(index)
    values = np.full(len(coded.values) or 1, np.nan)
    for i, text in enumerate(coded.values):
        with contextlib.suppress(ValueError):
            values[i] = float(text.strip().replace(",", "."))
    return values[coded.codes]


def canvas_results_candidates(records: CsvRecords, path: str, matcher: TargetMatcher) -> Candidates:
    where = _lowered_index(records.header)
    sis, canvas_id = where.get("student sis id"), where.get("student id")
    fields: dict[str, Field] = {"student_id": _student_id(records, sis, canvas_id)}
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
            fields[name] = (
                _student_name(records, where[canvas])
                if name == "student_name"
                else records.chunked[where[canvas]]
            )
            columns[name] = where[canvas]

    # Match each distinct (outcome id, name, friendly name) once.
    keys = [
        where.get(k)
        for k in ("learning outcome id", "learning outcome name", "learning outcome friendly name")
    ]
    parts = [_distinct(*_trimmed(records, k)) if k is not None else None for k in keys]
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
        record=range(n),
        fields=fields,
        columns=columns,
        target=Coded(inverse.reshape(-1).astype(np.int64), texts),
        score=Coded(*records.codes(score_col)),
        score_column=same_for_all(n, score_col),
        target_column=same_for_all(n, target_col),
        points_possible=_numbers(records, points_col) if points_col is not None else None,
    )


def lmgb_candidates(records: CsvRecords, path: str, matcher: TargetMatcher) -> Candidates:
    header = records.header
    where = _lowered_index(header)
    sis, canvas_id = where.get("student sis id"), where.get("student id")
    fields: dict[str, Field] = {"student_id": _student_id(records, sis, canvas_id)}
    columns = {"student_id": sis if sis is not None else canvas_id or 0}
    if "student name" in where:
        fields["student_name"] = _student_name(records, where["student name"])
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
    values = {v for v in _numbers(records, column).tolist() if v == v}
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
