"""grades.json: the column-wise writer gives exactly the bytes of the reference document.

The reference is ``json.dumps(grades_document(result), indent=2, ensure_ascii=False) + "\\n"``,
the way grades.json was always written; `grades_json_bytes` must match it for any result.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.grading.json_output import grades_document, grades_json, grades_json_bytes
from mastery_cli.grading.outputs import write_outputs
from mastery_cli.grading.pipeline import GradeResult, grade
from mastery_cli.grading.policy import apply_options
from mastery_cli.grading.policy_check import load_policy
from mastery_cli.validation import load_framework

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "tests" / "golden" / "grade" / "inputs"
FRAMEWORK, _ = load_framework(INPUTS / "framework.yaml")
HEADER = ["student_id", "student_name", "target", "score", "date", "assessment", "type",
          "section", "course"]
ODD_TEXTS = ['say "hi"', "back\\slash", "Zoë — ñandú 漢字 🎓", "tab\there", "bell\x07",
             "<script>alert(1)</script>", "=SUM(A1)", "line\u2028sep", "", "  spaced  "]


def reference(result: GradeResult) -> bytes:
    return (json.dumps(grades_document(result), indent=2, ensure_ascii=False)
            + "\n").encode("utf-8")


def graded(folder: Path, rows: list[list[str]], method: str = "decaying_average",
           **policy_changes: object) -> GradeResult:
    path = folder / "scores.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    policy = apply_options(None, method, ["n=2"] if method == "n_mastery" else [])
    return grade([path], FRAMEWORK, replace(policy, **policy_changes))  # type: ignore[arg-type]


def with_frames(result: GradeResult, **frames: object) -> GradeResult:
    """A copy of ``result`` whose DataFrames (targets, evidence...) are replaced by ``frames``:
    grades.json is written from the DataFrames, whatever the tables hold."""
    copy = replace(result)
    for name, frame in frames.items():
        setattr(copy, name, frame)  # the DataFrame attributes are cached properties
    return copy


def golden_result() -> GradeResult:
    policy, _ = load_policy(INPUTS / "policy.yaml", FRAMEWORK)
    return grade([INPUTS / "scores.csv"], FRAMEWORK, policy)


def test_reference_document_still_gives_the_golden_file() -> None:
    # grades_document is what `mastery report` renders in-process: it must not drift either.
    result = golden_result()
    golden = (REPO / "tests" / "golden" / "grade" / "grades.json").read_bytes()
    assert reference(result) == golden
    assert grades_json_bytes(result) == golden
    assert grades_json(result) == golden.decode("utf-8")


def test_odd_strings_are_escaped_like_json_dumps(tmp_path: Path) -> None:
    rows = [[f"s{k % 3}{text}", f"Name {text}", target, score, date, f"task {text}", kind,
             text, "CRS"]
            for k, text in enumerate(ODD_TEXTS)
            for target, score, date, kind in [("T1", "3", "2026-09-01", "summative"),
                                              ("T2", "", "", "formative"),
                                              ("T9", "2", "2026-09-02", "summative"),
                                              ("H1", "EX", "2026-09-03", "diagnostic")]]
    result = graded(tmp_path, rows)
    produced = grades_json_bytes(result)
    assert produced == reference(result)
    text = produced.decode("utf-8")
    assert "<script>alert(1)</script>" in text and "\\\\slash" in text and "\\u0007" in text
    assert "🎓" in text  # ensure_ascii=False: written as is


@pytest.mark.parametrize(("places", "order_by", "undated"),
                         [(0, "date", "last"), (2, "input", "first"), (3, "date", "first")])
def test_rounding_and_order_options(tmp_path: Path, places: int, order_by: str,
                                    undated: str) -> None:
    rows = [["1", "A", "T1", "2.675", "2026-09-05", "a", "summative", "P1", "CRS"],
            ["1", "A", "T1", "3.5", "", "b", "summative", "P1", "CRS"],
            ["1", "A", "T1", "1.0049", "2026-09-01", "c", "summative", "P2", "CRS"],
            ["2", "B", "T2", "-0", "2026-09-01", "d", "summative", "", "CRS"],
            ["2", "B", "T2", "4", "2026-09-01", "d", "summative", "", "CRS"]]
    result = graded(tmp_path, rows, "average", places=places, order_by=order_by,
                    undated=undated)
    assert grades_json_bytes(result) == reference(result)


def test_empty_result(tmp_path: Path) -> None:
    result = graded(tmp_path, [["1", "A", "T9", "3", "2026-09-01", "a", "summative", "", ""]])
    assert grades_json_bytes(result) == reference(result)
    empty = with_frames(result, targets=result.targets.iloc[:0], courses=result.courses.iloc[:0],
                    competencies=result.competencies.iloc[:0],
                    progress=result.progress.iloc[:0], evidence=result.evidence.iloc[:0])
    produced = grades_json_bytes(empty)
    assert produced == reference(empty)
    assert json.loads(produced)["students"] == []


def test_students_with_courses_but_no_targets(tmp_path: Path) -> None:
    rows = [[str(k), f"N{k}", "T1", "3", "2026-09-01", "a", "summative", "P1", "CRS"]
            for k in range(3)]
    result = graded(tmp_path, rows)
    only_courses = with_frames(result, targets=result.targets.iloc[:1])
    assert len(only_courses.courses) == 3
    produced = grades_json_bytes(only_courses)
    assert produced == reference(only_courses)
    assert [len(s["targets"]) for s in json.loads(produced)["students"]] == [1, 0, 0]


def test_missing_values_of_every_kind(tmp_path: Path) -> None:
    # Object columns holding None, NaN and pd.NA: each converts as the document converts it.
    rows = [[str(k % 4), f"N{k % 4}", target, score, "2026-09-0" + str(1 + k % 8), f"t{k}",
             "summative", "P1", "CRS"]
            for k, (target, score) in enumerate([("T1", "3"), ("T2", "2"), ("T3", ""),
                                                 ("T1", "4"), ("T2", "1"), ("T4", "3")] * 3)]
    result = graded(tmp_path, rows)
    targets = result.targets.astype(object)
    missing: list[object] = [None, np.nan, pd.NA]
    count = len(targets)
    targets["label"] = pd.Series([missing[k % 2] for k in range(count)], dtype=object,
                                 index=targets.index)  # pd.NA has no JSON at all
    targets["score"] = pd.Series([missing[(k + 1) % 3] for k in range(count)], dtype=object,
                                 index=targets.index)
    targets["mastered"] = pd.Series([missing[(k + 2) % 3] for k in range(count)],
                                    dtype=object, index=targets.index)
    evidence = result.evidence.copy()
    evidence["assessment"] = evidence["assessment"].astype(object)
    evidence.loc[evidence.index[::2], "assessment"] = None
    evidence.loc[evidence.index[1::4], "assessment"] = np.nan
    odd = with_frames(result, targets=targets, evidence=evidence)
    assert grades_json_bytes(odd) == reference(odd)


def test_written_file_is_the_fast_text(tmp_path: Path) -> None:
    result = golden_result()
    write_outputs(result, tmp_path, json_too=True)
    assert (tmp_path / "grades.json").read_bytes() == reference(result)


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
evidence_rows = st.lists(
    st.tuples(
        st.sampled_from(["007", "010", "2", "abc", "é"]),
        texts,
        st.sampled_from(["T1", "T2", "T3", "T4", "H1", "T9"]),
        st.sampled_from(["1", "2", "3", "4", "2.5", "3.125", "EX", "M", ""]),
        st.sampled_from(["2026-09-01", "2026-09-02", "2026-10-15", ""]),
        texts,
        st.sampled_from(["summative", "formative", "diagnostic"]),
        st.sampled_from(["P1", "P2", ""]),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence_rows, st.sampled_from(["decaying_average", "mode", "latest", "n_mastery"]),
       st.sampled_from([0, 1, 2]))
def test_fast_text_equals_reference(rows: list[tuple[str, ...]], method: str,
                                    places: int) -> None:
    table = [[sid, name, target, score, date, assessment, kind, section, "CRS"]
             for sid, name, target, score, date, assessment, kind, section in rows]
    with tempfile.TemporaryDirectory() as folder:
        result = graded(Path(folder), table, method, places=places)
    assert grades_json_bytes(result) == reference(result)
