"""``grades.json``: the document as plain data, and the same text built without it.

`grades_document` is the reference: the contract's document (docs/CONTRACTS.md, "Grades") as
Python dicts and lists, which `mastery report` renders in-process. `grades_json_bytes` writes
exactly ``json.dumps(grades_document(result), indent=2, ensure_ascii=False) + "\\n"`` without
creating one dict per row: each column's distinct values go through the very same conversion
and ``json.dumps`` once, the per-row objects are concatenated column-wise in pyarrow, and each
list (a target's evidence, a student's targets, ...) is a contiguous slice of its items,
because the items are ordered by owner and carry their own ``",\\n"`` separators.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mastery_cli.grading.pipeline import GradeResult
from mastery_cli.grading.rounding import round_half_up

JSON_FILE = "grades.json"
GRADES_VERSION = 1

#: json.dumps(..., indent=2): where each nesting level's objects start.
_STUDENT_INDENT = 4
_ITEM_INDENT = 8  # a student's targets, competencies, courses, progress
_EVIDENCE_INDENT = 12


# --------------------------------------------------------------------------------------------
# Value conversions: shared by the document and the fast writer, so both say the same thing
# --------------------------------------------------------------------------------------------


def _number(value: Any, places: int) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    return _rounded_number(float(round_half_up(float(value), places)), places)


def _rounded_number(rounded: float, places: int) -> float | int | None:
    """A number already rounded to ``places`` as the document holds it."""
    if math.isnan(rounded):
        return None
    rounded += 0.0  # no -0.0
    return int(rounded) if rounded.is_integer() and places == 0 else rounded


def _level(value: Any) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _optional_bool(value: Any) -> bool | None:
    return None if value is None or pd.isna(value) else bool(value)


def _date(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _text_or_empty(value: Any) -> str:
    return str(value or "")


def _or_none(value: Any) -> Any:
    return value or None


def _credits(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def _mastered_list(value: Any) -> list[str]:
    return [t for t in str(value).split(";") if t]


def _same(value: Any) -> Any:
    return value


# --------------------------------------------------------------------------------------------
# The reference document
# --------------------------------------------------------------------------------------------


def _by_student(records: list[dict[Any, Any]]) -> dict[str, list[dict[Any, Any]]]:
    grouped: dict[str, list[dict[Any, Any]]] = defaultdict(list)
    for record in records:
        grouped[str(record["student_id"])].append(record)
    return grouped


def _evidence_order(result: GradeResult) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """The evidence reports show (unknown targets left out) and the order to list it in:
    student, target, then date (undated first or last, as the policy says) and input order."""
    ev = result.evidence
    ev = ev.loc[ev["reason"] != "unknown-target"]
    undated_last = result.policy.undated == "last"
    dates = ev["date"].to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    dates[np.isnat(ev["date"].to_numpy(dtype="datetime64[ns]"))] = (
        np.iinfo(np.int64).max if undated_last else np.iinfo(np.int64).min)
    if result.policy.order_by == "input":
        dates[:] = 0
    order = np.lexsort((ev["seq"].to_numpy(dtype=np.int64), dates,
                        ev["target"].to_numpy(dtype=object).astype(str),
                        ev["student_id"].to_numpy(dtype=object).astype(str)))
    return ev, order


def _evidence_lists(result: GradeResult) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(student, target) -> evidence in evidence order, set-aside rows in their date place."""
    places = result.policy.places
    ev, order = _evidence_order(result)
    ev = ev.iloc[order]
    lists: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    blank = [""] * len(ev)
    columns = zip(ev["student_id"], ev["target"], ev["date"], ev["assessment"], ev["type"],
                  ev["score"], ev["status"], ev["used"], ev["reason"],
                  *(ev.get(name, blank) for name in PROVENANCE), strict=True)
    for (student, target, when, assessment, kind, score, status, used, reason,
         *provenance) in columns:
        entry: dict[str, Any] = {
            "date": _date(when), "assessment": _text_or_empty(assessment),
            "type": _text_or_empty(kind), "score": _number(score, places),
            "status": str(status), "used": bool(used), "reason": _text_or_empty(reason),
        }
        entry.update((name, text) for name, value in zip(PROVENANCE, provenance, strict=True)
                     if (text := _text_or_empty(value)))
        lists[(str(student), str(target))].append(entry)
    return lists


#: Where a piece of evidence came from, written on its entry only when the row says:
#: ``source`` (an internship, a prior school) and ``artifact`` (the portfolio piece).
PROVENANCE = ("source", "artifact")


def _provenance_column(ev: pd.DataFrame, indent: int) -> _Column:
    """Per row, the `PROVENANCE` fields the row has, as the JSON text that follows its last
    field ("" for most rows: school evidence says nothing more). Made once per distinct
    combination of values."""
    pad = " " * indent
    key = np.zeros(len(ev), dtype=np.int64)
    parts: list[tuple[str, list[str]]] = []
    for name in PROVENANCE:
        if name not in ev:
            continue
        codes, distinct = _distinct(ev[name])
        texts = [_text_or_empty(value).strip() for value in distinct]
        key = key * max(len(texts), 1) + codes
        parts.append((name, texts))
    combinations, inverse = np.unique(key, return_inverse=True)
    rendered = []
    for combination in combinations.tolist():
        fields = []
        for name, texts in reversed(parts):
            combination, code = divmod(combination, max(len(texts), 1))
            if texts and texts[code]:
                fields.append(f",\n{pad}  {_dumps(name)}: {_dumps(texts[code])}")
        rendered.append("".join(reversed(fields)))
    return _Column(np.asarray(inverse, dtype=np.intp).reshape(-1), rendered or [""])

def _sections(result: GradeResult) -> dict[str, list[str]]:
    """student id -> the sections of their evidence, sorted."""
    sections: dict[str, set[str]] = defaultdict(set)
    for student, section in result.evidence[["student_id", "section"]].drop_duplicates(
    ).itertuples(index=False):
        if isinstance(section, str) and section:
            sections[str(student)].add(section)
    return {student: sorted(found) for student, found in sections.items()}


def _head(result: GradeResult) -> dict[str, Any]:
    counts = result.counts
    return {
        "version": GRADES_VERSION,
        "framework": result.framework.id,
        "policy": result.policy.to_dict(),
        "counts": {"rows_read": counts.rows_read, "used": counts.used,
                   "set_aside": counts.set_aside, "rejected": counts.rejected,
                   "duplicates_dropped": counts.duplicates_dropped},
    }


def grades_document(result: GradeResult) -> dict[str, Any]:
    """The grades.json document (docs/CONTRACTS.md, "Grades") as plain data."""
    places = result.policy.places
    evidence = _evidence_lists(result)
    targets = _by_student(result.targets.to_dict("records"))
    competencies = _by_student(result.competencies.to_dict("records"))
    courses = _by_student(result.courses.to_dict("records"))
    progress = _by_student(result.progress.to_dict("records"))
    sections = _sections(result)
    names = dict(zip(result.targets["student_id"], result.targets["student_name"], strict=True))
    students = []
    for student_id in sorted(set(targets) | set(courses)):
        students.append({
            "id": student_id,
            "name": names.get(student_id, ""),
            "sections": sections.get(student_id, []),
            "targets": [{
                "target": t["target"], "competency": t["competency"], "method": t["method"],
                "score": _number(t["score"], places), "level": _level(t["level"]),
                "label": t["label"], "mastered": _optional_bool(t["mastered"]),
                "evidence_count": int(t["evidence_count"]), "status": t["status"],
                "last_evidence_date": _date(t["last_evidence_date"]),
                "evidence": evidence.get((student_id, t["target"]), []),
            } for t in targets.get(student_id, [])],
            "competencies": [{
                "competency": c["competency"], "kind": c["kind"],
                "score": _number(c["score"], places), "level": _level(c["level"]),
                "label": c["label"], "mastered": _optional_bool(c["mastered"]),
                "status": c["status"], "targets_assessed": int(c["targets_assessed"]),
                "targets_mastered": int(c["targets_mastered"]),
                "targets_total": int(c["targets_total"]), "rule": c["rule"],
            } for c in competencies.get(student_id, [])],
            "courses": [{
                "course": c["course"], "grade": _or_none(c["grade"]),
                "score": _number(c["score"], places), "status": c["status"], "rule": c["rule"],
                "credits": _credits(c["credits"]),
            } for c in courses.get(student_id, [])],
            "progress": [{
                "progression": p["progression"],
                "mastered": _mastered_list(p["mastered"]),
                "ready_to_advance": bool(p["ready_to_advance"]),
                "next_target": _or_none(p["next_target"]),
            } for p in progress.get(student_id, [])],
        })
    return {**_head(result), "students": students}


def _dumps(value: Any, indent: int = 0) -> str:
    """``value`` as json.dumps writes it at nesting depth ``indent`` (in spaces) of an
    ``indent=2`` document: deeper lines simply start ``indent`` spaces further in (strings
    never hold a raw line break, so every line break is json.dumps's own)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * indent) if indent else text


def grades_json(result: GradeResult) -> str:
    """The grades.json text (see `grades_json_bytes`)."""
    return grades_json_bytes(result).decode("utf-8")


# --------------------------------------------------------------------------------------------
# The fast writer
#
# The file is a sequence of pieces: per student a head (id, name, sections, "targets": [),
# per target its fields up to "evidence": [, its evidence objects, its closing, and per student
# a tail (competencies, courses, progress). Pieces are made once per distinct combination of
# field values (most evidence rows repeat another's date, assessment, score, ...), placed by
# index arithmetic, and joined once into the file's bytes.
# --------------------------------------------------------------------------------------------

Convert = Callable[[Any], Any]
Codes = npt.NDArray[np.intp]


class _Column:
    """A field's JSON text per row: ``texts[codes[row]]`` (one text per distinct value)."""

    def __init__(self, codes: Codes, texts: list[str]) -> None:
        self.codes = codes
        self.texts = texts

    def take(self, rows: Codes) -> _Column:
        return _Column(self.codes[rows], self.texts)


def _distinct(values: pd.Series) -> tuple[Codes, list[Any]]:
    """Codes of ``values`` and the distinct values; each missing row gets a value of its own
    kind (None, nan, NaT, pd.NA may convert differently) appended after the present ones."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.intp)
        distinct: list[Any] = values.cat.categories.tolist()
    else:
        factorized, uniques = pd.factorize(values, use_na_sentinel=True)
        codes = factorized.astype(np.intp)
        distinct = list(uniques.tolist())
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        slot: dict[type, int] = {}
        for position, value in zip(missing.tolist(), values.iloc[missing].tolist(), strict=True):
            kind = type(value)
            if kind not in slot:
                slot[kind] = len(distinct)
                distinct.append(value)
            codes[position] = slot[kind]
    return codes, distinct


def _column(values: pd.Series, convert: Convert, indent: int = 0) -> _Column:
    """JSON text of ``convert(value)`` for each value, made once per distinct value."""
    codes, distinct = _distinct(values)
    return _Column(codes, [_dumps(convert(v), indent) for v in distinct])


def _number_column(values: pd.Series, places: int) -> _Column:
    """Rounded numbers: rounded as a whole column, then written once per distinct result."""
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    rounded = pd.Series(round_half_up(array, places) + 0.0)
    return _column(rounded, lambda v: _rounded_number(v, places))


def _flags(values: npt.NDArray[np.bool_], when_false: str, when_true: str) -> _Column:
    return _Column(values.astype(np.intp), [when_false, when_true])


def _combinations(columns: Sequence[_Column]) -> tuple[Codes, Codes]:
    """One code per distinct combination of the columns' codes (in order of first appearance),
    and the first row of each combination."""
    rows = len(columns[0].codes)
    key = np.zeros(rows, dtype=np.int64)
    for column in columns:
        key, _ = pd.factorize(key * len(column.texts) + column.codes, sort=False)
        key = key.astype(np.int64)
    if not rows:
        return key.astype(np.intp), np.zeros(0, dtype=np.intp)
    seen_before = np.maximum.accumulate(np.concatenate(([-1], key[:-1])))
    return key.astype(np.intp), np.flatnonzero(key > seen_before)


def _pieces(parts: Sequence[str | _Column]) -> tuple[Codes, list[bytes]]:
    """The UTF-8 text of ``parts`` (constants and columns, concatenated) per row, as a code per
    row and one text per distinct combination."""
    # Each constant is glued to the next column's texts (once per distinct value), so a
    # combination is one join of a few strings.
    columns: list[_Column] = []
    prefix = ""
    for part in parts:
        if isinstance(part, str):
            prefix += part
        else:
            columns.append(_Column(part.codes, [prefix + text for text in part.texts]))
            prefix = ""
    codes, first = _combinations(columns)
    picked = [np.asarray(column.texts, dtype=object)[column.codes[first]].tolist()
              for column in columns]
    return codes, [("".join(texts) + prefix).encode("utf-8") for texts in zip(*picked, strict=True)]


def _object_parts(fields: Sequence[tuple[str, _Column]], indent: int) -> list[str | _Column]:
    """An indented JSON object's opening and fields (without its closing brace)."""
    pad = " " * indent
    parts: list[str | _Column] = []
    for position, (key, column) in enumerate(fields):
        parts += [f"{pad}{{\n" if position == 0 else ",\n", f"{pad}  {_dumps(key)}: ", column]
    return parts


class _Groups:
    """Rows ``starts[i]:starts[i + 1]`` belong to owner ``i`` (rows sorted by owner)."""

    def __init__(self, owner_of_row: Codes, owners: int) -> None:
        self.starts = np.searchsorted(owner_of_row, np.arange(owners + 1), side="left")
        self.sizes = np.diff(self.starts)
        self.last = np.zeros(len(owner_of_row), dtype=bool)
        self.last[self.starts[1:][self.sizes > 0] - 1] = True


def _sorted_by(owner: Codes) -> Codes:
    """Rows in owner order, stable (the identity when they already are)."""
    if len(owner) < 2 or bool(np.all(owner[1:] >= owner[:-1])):
        return np.arange(len(owner), dtype=np.intp)
    return np.argsort(owner, kind="stable").astype(np.intp)


def _text_codes(values: pd.Series) -> tuple[Codes, list[str]]:
    """Codes of ``str(value)`` per row and the distinct texts."""
    codes, distinct = _distinct(values)
    return codes, [str(v) for v in distinct]


def _present_texts(values: pd.Series) -> list[str]:
    """The distinct ``str(value)`` of the rows (unused categories left out)."""
    codes, texts = _text_codes(values)
    return [texts[code] for code in np.unique(codes).tolist()]


def _student_of(values: pd.Series, position: dict[str, int]) -> Codes:
    codes, texts = _text_codes(values)
    lookup = np.asarray([position.get(t, -1) for t in texts], dtype=np.intp)
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.intp)


def grades_json_bytes(result: GradeResult) -> bytes:
    """``json.dumps(grades_document(result), indent=2, ensure_ascii=False) + "\\n"`` as UTF-8,
    built without the document (see "The fast writer")."""
    return b"".join(grades_json_chunks(result))


def grades_json_chunks(result: GradeResult) -> list[bytes]:
    """The bytes of `grades_json_bytes` as pieces in order, so a large file can be written
    without first joining hundreds of megabytes into one object."""
    targets = result.targets
    target_texts = _text_codes(targets["target"])
    if not all(isinstance(v, str) for v in _distinct(targets["target"])[1]):
        # Evidence is keyed by target text; a missing target id would not find it. Never
        # happens for a pipeline result; the reference path keeps the bytes right anyway.
        return [_reference_bytes(result)]
    student_ids = sorted({*_present_texts(targets["student_id"]),
                          *_present_texts(result.courses["student_id"])})
    position = {student: i for i, student in enumerate(student_ids)}
    head = _dumps({**_head(result), "students": []})
    if not student_ids:
        return [(head + "\n").encode("utf-8")]
    target_student = _student_of(targets["student_id"], position)
    target_code = target_texts[0]
    key = target_student.astype(np.int64) * len(target_texts[1]) + target_code
    if len(np.unique(key)) != len(key):  # one evidence list per (student, target) text
        return [_reference_bytes(result)]
    target_rows = _sorted_by(target_student)
    target_groups = _Groups(target_student[target_rows], len(student_ids))
    evidence_groups, evidence_codes, evidence_texts = _evidence_pieces(
        result, key[target_rows], target_texts[1], position)
    target_codes, target_pieces = _target_pieces(result, target_rows, evidence_groups)
    closing_codes = (2 * (evidence_groups.sizes == 0) + target_groups.last).astype(np.intp)
    closing = [f"{end}\n{' ' * _ITEM_INDENT}}}{sep}".encode()
               for end in (f"\n{' ' * (_ITEM_INDENT + 2)}]", "") for sep in (",\n", "")]
    heads, tails = _student_ends(result, student_ids, position, target_groups.sizes)
    heads[0] = head[:-3].encode("utf-8") + b"\n" + heads[0]  # '"students": [' then the first
    tails[-1] += b"\n  ]\n}\n"

    # Where each piece goes: student head, then per target its opening, evidence, closing,
    # then the student tail.
    target_sizes = 2 + evidence_groups.sizes
    before_target = np.concatenate(([0], np.cumsum(target_sizes)))  # pieces of earlier targets
    starts = target_groups.starts
    student_sizes = 2 + before_target[starts[1:]] - before_target[starts[:-1]]
    student_start = np.concatenate(([0], np.cumsum(student_sizes)[:-1]))
    owner = _owners(target_groups)
    target_start = (student_start[owner] + 1 + before_target[:-1]
                    - before_target[starts[:-1]][owner])
    evidence_owner = _owners(evidence_groups)
    evidence_start = (target_start[evidence_owner] + 1
                      + np.arange(len(evidence_owner)) - evidence_groups.starts[evidence_owner])

    table = [*heads, *tails, *closing, *target_pieces, *evidence_texts]
    base_tails = len(heads)
    base_closing = base_tails + len(tails)
    base_targets = base_closing + len(closing)
    base_evidence = base_targets + len(target_pieces)
    order = np.empty(int(student_sizes.sum()), dtype=np.intp)
    order[student_start] = np.arange(len(heads))
    order[student_start + student_sizes - 1] = base_tails + np.arange(len(tails))
    order[target_start] = base_targets + target_codes
    order[target_start + target_sizes - 1] = base_closing + closing_codes
    order[evidence_start] = base_evidence + evidence_codes
    return list(np.asarray(table, dtype=object)[order].tolist())


def _owners(groups: _Groups) -> Codes:
    """The owner of each row of ``groups``."""
    return np.repeat(np.arange(len(groups.sizes), dtype=np.intp), groups.sizes)


def _reference_bytes(result: GradeResult) -> bytes:
    return (json.dumps(grades_document(result), indent=2, ensure_ascii=False)
            + "\n").encode("utf-8")


def _target_pieces(result: GradeResult, rows: Codes, evidence: _Groups
                   ) -> tuple[Codes, list[bytes]]:
    """Each target object up to and including ``"evidence": [`` (or ``[]``)."""
    targets = result.targets
    places = result.policy.places
    fields = [
        ("target", _column(targets["target"], _same)),
        ("competency", _column(targets["competency"], _same)),
        ("method", _column(targets["method"], _same)),
        ("score", _number_column(targets["score"], places)),
        ("level", _column(targets["level"], _level)),
        ("label", _column(targets["label"], _same)),
        ("mastered", _column(targets["mastered"], _optional_bool)),
        ("evidence_count", _column(targets["evidence_count"], int)),
        ("status", _column(targets["status"], _same)),
        ("last_evidence_date", _column(targets["last_evidence_date"], _date)),
    ]
    fields = [(key, column.take(rows)) for key, column in fields]
    fields.append(("evidence", _flags(evidence.sizes == 0, "[\n", "[]")))
    return _pieces(_object_parts(fields, _ITEM_INDENT))


def _evidence_pieces(result: GradeResult, target_keys: Codes, target_texts: list[str],
                     position: dict[str, int]) -> tuple[_Groups, Codes, list[bytes]]:
    """Evidence objects grouped by target (``target_keys``: the (student, target) key of each
    target in output order), each group in evidence order; evidence of a (student, target)
    without a target row is not shown, as in the document."""
    ev = result.evidence
    keep = np.flatnonzero((ev["reason"] != "unknown-target").to_numpy(dtype=bool))
    ev = ev.iloc[keep]
    student = _student_of(ev["student_id"], position)
    codes, texts = _text_codes(ev["target"])
    index = {text: i for i, text in enumerate(target_texts)}
    target = np.asarray([index.get(t, -1) for t in texts], dtype=np.intp)[codes]
    key = student.astype(np.int64) * len(target_texts) + target
    sorter = np.argsort(target_keys, kind="stable")
    found = np.searchsorted(target_keys, key, sorter=sorter)
    found = np.minimum(found, max(len(target_keys) - 1, 0))
    slot = sorter[found] if len(sorter) else np.zeros(len(key), dtype=np.intp)
    valid = (student >= 0) & (target >= 0) & (target_keys[slot] == key if len(sorter)
                                              else np.zeros(len(key), dtype=bool))
    when = ev["date"].to_numpy(dtype="datetime64[ns]")
    dates = when.view(np.int64).copy()
    dates[np.isnat(when)] = (np.iinfo(np.int64).max if result.policy.undated == "last"
                             else np.iinfo(np.int64).min)
    if result.policy.order_by == "input":
        dates[:] = 0
    shown = np.flatnonzero(valid)
    rows = shown[np.lexsort((ev["seq"].to_numpy(dtype=np.int64)[shown], dates[shown],
                             slot[shown]))]
    groups = _Groups(slot[rows], len(target_keys))
    places = result.policy.places
    fields = [
        ("date", _column(ev["date"], _date)),
        ("assessment", _column(ev["assessment"], _text_or_empty)),
        ("type", _column(ev["type"], _text_or_empty)),
        ("score", _number_column(ev["score"], places)),
        ("status", _column(ev["status"], str)),
        ("used", _column(ev["used"], bool)),
        ("reason", _column(ev["reason"], _text_or_empty)),
    ]
    parts = _object_parts([(key, column.take(rows)) for key, column in fields], _EVIDENCE_INDENT)
    parts.append(_provenance_column(ev, _EVIDENCE_INDENT).take(rows))
    parts += [f"\n{' ' * _EVIDENCE_INDENT}}}", _flags(groups.last, ",\n", "")]
    codes_out, pieces = _pieces(parts)
    return groups, codes_out, pieces


def _student_ends(result: GradeResult, student_ids: list[str], position: dict[str, int],
                  target_counts: Codes) -> tuple[list[bytes], list[bytes]]:
    """Each student's head (``{`` up to ``"targets": [``) and tail (after the last target:
    competencies, courses, progress, ``}``)."""
    sections = _sections(result)
    names = dict(zip(result.targets["student_id"], result.targets["student_name"], strict=True))
    pad = " " * _STUDENT_INDENT
    inner = pad + "  "
    heads = [
        f"{pad}{{\n{inner}\"id\": {_dumps(student)},\n{inner}\"name\": "
        f"{_dumps(names.get(student, ''))},\n{inner}\"sections\": "
        f"{_dumps(sections.get(student, []), len(inner))},\n{inner}\"targets\": "
        f"{'[]' if count == 0 else '[' + chr(10)}".encode()
        for student, count in zip(student_ids, target_counts.tolist(), strict=True)
    ]
    places = result.policy.places
    tables = [
        ("competencies", result.competencies, lambda t: [
            ("competency", _column(t["competency"], _same)),
            ("kind", _column(t["kind"], _same)),
            ("score", _number_column(t["score"], places)),
            ("level", _column(t["level"], _level)),
            ("label", _column(t["label"], _same)),
            ("mastered", _column(t["mastered"], _optional_bool)),
            ("status", _column(t["status"], _same)),
            ("targets_assessed", _column(t["targets_assessed"], int)),
            ("targets_mastered", _column(t["targets_mastered"], int)),
            ("targets_total", _column(t["targets_total"], int)),
            ("rule", _column(t["rule"], _same))]),
        ("courses", result.courses, lambda t: [
            ("course", _column(t["course"], _same)),
            ("grade", _column(t["grade"], _or_none)),
            ("score", _number_column(t["score"], places)),
            ("status", _column(t["status"], _same)),
            ("rule", _column(t["rule"], _same)),
            ("credits", _column(t["credits"], _credits))]),
        ("progress", result.progress, lambda t: [
            ("progression", _column(t["progression"], _same)),
            ("mastered", _column(t["mastered"], _mastered_list, _ITEM_INDENT + 2)),
            ("ready_to_advance", _column(t["ready_to_advance"], bool)),
            ("next_target", _column(t["next_target"], _or_none))]),
    ]
    tails = [b"" if count == 0 else f"\n{inner}]".encode() for count in target_counts.tolist()]
    for key, table, make_fields in tables:
        owner = _student_of(table["student_id"], position)
        rows = _sorted_by(owner)
        groups = _Groups(owner[rows], len(student_ids))
        fields = [(name, column.take(rows)) for name, column in make_fields(table)]
        parts = _object_parts(fields, _ITEM_INDENT)
        parts += [f"\n{' ' * _ITEM_INDENT}}}", _flags(groups.last, ",\n", "")]
        codes, pieces = _pieces(parts)
        items = np.asarray(pieces, dtype=object)[codes].tolist()
        label = f",\n{inner}{_dumps(key)}: ".encode()
        for student, (start, end) in enumerate(zip(groups.starts[:-1].tolist(),
                                                   groups.starts[1:].tolist(), strict=True)):
            if start == end:
                tails[student] += label + b"[]"
            else:
                tails[student] += (label + b"[\n" + b"".join(items[start:end])
                                   + f"\n{inner}]".encode())
    last = len(tails) - 1
    return heads, [tail + f"\n{pad}}}".encode() + (b"" if i == last else b",\n")
                   for i, tail in enumerate(tails)]
