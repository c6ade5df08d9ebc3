"""Writing grade results: CSV files and ``grades.json``, deterministic to the byte.

Rows are sorted by student id, then ids; numbers are plain decimals rounded half away from
zero to the policy's places (:func:`rounding.format_decimal` semantics); dates are ISO
(YYYY-MM-DD); text cells that a spreadsheet would run as a formula are neutralised; every file
is written atomically. Formatting works on whole columns: distinct values are formatted once.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mastery_cli.framework.model import level_key
from mastery_cli.grading.pipeline import REJECT_COLUMNS, TARGET_COLUMNS, GradeResult
from mastery_cli.grading.progress import PROGRESS_COLUMNS
from mastery_cli.grading.rollup import COMPETENCY_COLUMNS, COURSE_COLUMNS
from mastery_cli.grading.rounding import round_half_up
from mastery_cli.output import neutralize_formula, write_text_atomic

CSV_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv", "progress.csv",
             "rejects.csv")
JSON_FILE = "grades.json"
GRADES_VERSION = 1

_NUMERIC = {"score", "credits"}
_LEVELS = {"level"}
_BOOLEANS = {"mastered", "ready_to_advance"}
_DATES = {"last_evidence_date"}
_INTEGERS = {"evidence_count", "targets_assessed", "targets_mastered", "targets_total", "row",
             "mastered_count", "units_assessed", "units_total"}


def decimals(values: npt.ArrayLike, places: int) -> npt.NDArray[np.object_]:
    """Plain decimal text for a column: half away from zero, fixed places, "" for NaN."""
    array = np.asarray(values, dtype=np.float64)
    rounded = round_half_up(array, places) + 0.0  # + 0.0: no "-0.00"
    text = np.char.mod(f"%.{places}f", rounded).astype(object)
    text[np.isnan(array)] = ""
    return text


def _by_distinct(values: pd.Series, render: Callable[[Any], str]) -> npt.NDArray[np.object_]:
    """Render each distinct value once and gather the texts back to the rows ("" for NA)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([render(v) for v in distinct] + [""], dtype=object)
    return texts[codes]  # code -1 (NA) picks the trailing ""


def _level_text(value: Any) -> str:
    return level_key(float(value))


def _bool_text(value: Any) -> str:
    return "true" if value else "false"


def csv_text(table: pd.DataFrame, columns: list[str], places: int) -> str:
    """The table as CSV text with plain, safe cells, in ``columns`` order."""
    cells: list[Any] = []
    for name in columns:
        column = table[name] if name in table else pd.Series([""] * len(table), dtype="str")
        if name in _NUMERIC:
            cells.append(decimals(column.to_numpy(dtype=np.float64, na_value=np.nan), places))
        elif name in _LEVELS:
            cells.append(_by_distinct(column, _level_text))
        elif name in _BOOLEANS and pd.api.types.is_bool_dtype(column):
            cells.append(_by_distinct(column, _bool_text))
        elif name in _DATES:
            dates = pd.DatetimeIndex(column).strftime("%Y-%m-%d")
            cells.append(np.where(pd.isna(dates), "", np.asarray(dates, dtype=object)))
        elif name in _INTEGERS:
            cells.append(column.to_numpy(dtype=np.int64).astype(str))
        else:
            cells.append(_by_distinct(column, lambda v: neutralize_formula(str(v))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*(list(c) for c in cells), strict=True))
    return out.getvalue()


def unused_rows(result: GradeResult) -> pd.DataFrame:
    """Every input row not used: rejected by the reader or set aside by the policy."""
    table = pd.concat([result.rejects.loc[:, REJECT_COLUMNS], result.set_aside],
                      ignore_index=True)
    table = table.astype({"file": "str", "row": "int64", "column": "str", "reason": "str"})
    table["value"] = table["value"].fillna("").astype("str")
    table["message"] = table["message"].fillna("").astype("str")
    return table.sort_values(["file", "row", "column", "reason", "value"],
                             kind="stable").reset_index(drop=True)


def write_outputs(result: GradeResult, out: Path, *, json_too: bool = False) -> list[Path]:
    """Write the CSV files (and grades.json) into ``out``; returns the paths written."""
    places = result.policy.places
    tables = {
        "target_grades.csv": (result.targets, TARGET_COLUMNS),
        "competency_grades.csv": (result.competencies, COMPETENCY_COLUMNS),
        "course_grades.csv": (result.courses, COURSE_COLUMNS),
        "progress.csv": (result.progress, PROGRESS_COLUMNS),
        "rejects.csv": (unused_rows(result), REJECT_COLUMNS),
    }
    written = []
    for name, (table, columns) in tables.items():
        path = out / name
        write_text_atomic(path, csv_text(table, columns, places))
        written.append(path)
    if json_too:
        path = out / JSON_FILE
        write_text_atomic(path, grades_json(result))
        written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# grades.json
# --------------------------------------------------------------------------------------------


def _number(value: Any, places: int) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    rounded = float(round_half_up(float(value), places)) + 0.0
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


def _by_student(records: list[dict[Any, Any]]) -> dict[str, list[dict[Any, Any]]]:
    grouped: dict[str, list[dict[Any, Any]]] = defaultdict(list)
    for record in records:
        grouped[str(record["student_id"])].append(record)
    return grouped


def _evidence_lists(result: GradeResult) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(student, target) -> evidence in evidence order, set-aside rows in their date place."""
    places = result.policy.places
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
    ev = ev.iloc[order]
    lists: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    columns = zip(ev["student_id"], ev["target"], ev["date"], ev["assessment"], ev["type"],
                  ev["score"], ev["status"], ev["used"], ev["reason"], strict=True)
    for student, target, when, assessment, kind, score, status, used, reason in columns:
        lists[(str(student), str(target))].append({
            "date": _date(when), "assessment": str(assessment or ""), "type": str(kind or ""),
            "score": _number(score, places), "status": str(status), "used": bool(used),
            "reason": str(reason or ""),
        })
    return lists


def grades_document(result: GradeResult) -> dict[str, Any]:
    """The grades.json document (docs/CONTRACTS.md, "Grades") as plain data."""
    places = result.policy.places
    evidence = _evidence_lists(result)
    targets = _by_student(result.targets.to_dict("records"))
    competencies = _by_student(result.competencies.to_dict("records"))
    courses = _by_student(result.courses.to_dict("records"))
    progress = _by_student(result.progress.to_dict("records"))
    sections: dict[str, set[str]] = defaultdict(set)
    for student, section in result.evidence[["student_id", "section"]].drop_duplicates(
    ).itertuples(index=False):
        if isinstance(section, str) and section:
            sections[str(student)].add(section)
    names = dict(zip(result.targets["student_id"], result.targets["student_name"], strict=True))
    students = []
    for student_id in sorted(set(targets) | set(courses)):
        students.append({
            "id": student_id,
            "name": names.get(student_id, ""),
            "sections": sorted(sections.get(student_id, ())),
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
                "course": c["course"], "grade": c["grade"] or None,
                "score": _number(c["score"], places), "status": c["status"], "rule": c["rule"],
                "credits": None if pd.isna(c["credits"]) else float(c["credits"]),
            } for c in courses.get(student_id, [])],
            "progress": [{
                "progression": p["progression"],
                "mastered": [t for t in str(p["mastered"]).split(";") if t],
                "ready_to_advance": bool(p["ready_to_advance"]),
                "next_target": p["next_target"] or None,
            } for p in progress.get(student_id, [])],
        })
    counts = result.counts
    return {
        "version": GRADES_VERSION,
        "framework": result.framework.id,
        "policy": result.policy.to_dict(),
        "counts": {"rows_read": counts.rows_read, "used": counts.used,
                   "set_aside": counts.set_aside, "rejected": counts.rejected,
                   "duplicates_dropped": counts.duplicates_dropped},
        "students": students,
    }


def grades_json(result: GradeResult) -> str:
    return json.dumps(grades_document(result), indent=2, ensure_ascii=False,
                      sort_keys=False) + "\n"
