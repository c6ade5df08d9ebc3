"""The grading pipeline end to end: CSV file -> ingest -> policy -> results -> output files.

The calculation values are FIELD-NOTES §2 (and Canvas's own tests); here they must survive the
whole path, including ordering by date, filters, minimum evidence, levels and rounding.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from mastery_cli.grading.outputs import csv_text, write_outputs
from mastery_cli.grading.pipeline import GradeResult, grade
from mastery_cli.grading.policy import (
    EvidenceRules,
    Policy,
    apply_options,
    policy_from_data,
)
from mastery_cli.grading.rollup import COURSE_COLUMNS
from mastery_cli.validation import load_framework

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK_FILE = REPO / "tests" / "golden" / "grade" / "inputs" / "framework.yaml"
FRAMEWORK, _ = load_framework(FRAMEWORK_FILE)
HEADER = ["student_id", "student_name", "target", "score", "date", "assessment", "type",
          "course"]

Row = Sequence[object]


def write_csv(path: Path, rows: Sequence[Row], header: Sequence[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def series(student: str, target: str, scores: Sequence[object], kind: str = "summative",
           start_day: int = 1) -> list[Row]:
    """One row per score, on consecutive days of September 2026."""
    return [[student, f"Student {student}", target, score, f"2026-09-{start_day + k:02d}",
             f"task {k + 1}", kind, "CRS"] for k, score in enumerate(scores)]


def run(tmp_path: Path, rows: Sequence[Row], policy: Policy | None = None,
        method: str | None = None, params: Sequence[str] = ()) -> GradeResult:
    file = write_csv(tmp_path / "scores.csv", rows)
    chosen = apply_options(policy, method, list(params))
    return grade([file], FRAMEWORK, chosen)


def shown(result: GradeResult, student: str, target: str = "T1") -> tuple[str, str]:
    """(score as written in target_grades.csv, status) for one student and target."""
    text = csv_text(result.targets, ["student_id", "target", "score", "status"],
                    result.policy.places)
    for line in text.splitlines()[1:]:
        sid, tid, score, status = line.split(",")
        if sid == student and tid == target:
            return score, status
    raise AssertionError(f"no result for {student} {target}")


FIELD_NOTES = [
    ([1, 2, 3, 4], "highest", [], "4.00"),
    ([1, 2, 3, 4], "latest", [], "4.00"),
    ([1, 2, 3, 4], "average", [], "2.50"),
    ([1, 2, 3, 4], "weighted_average", [], "3.30"),
    ([1, 2, 3, 4], "decaying_average", [], "3.48"),
    ([1, 2, 3, 4], "power_law", [], "4.00"),
    ([4, 3, 2, 1], "highest", [], "4.00"),
    ([4, 3, 2, 1], "latest", [], "1.00"),
    ([4, 3, 2, 1], "average", [], "2.50"),
    ([4, 3, 2, 1], "weighted_average", [], "1.70"),
    ([4, 3, 2, 1], "decaying_average", [], "1.52"),
    ([4, 3, 2, 1], "power_law", [], "1.28"),
    ([2, 3, 4], "average", [], "3.00"),
    ([2, 3, 4], "weighted_average", [], "3.48"),
    ([2, 3, 4], "decaying_average", [], "3.53"),
    ([1, 3, 2, 4], "power_law", [], "3.66"),
    ([2, 4, 1, 3], "power_law", [], "2.16"),
    # Canvas's own tests
    ([2, 3], "weighted_average", [], "2.65"),
    ([4, 5, 1, 3, 2, 3], "n_mastery", ["n=3"], "3.75"),
    ([1, 2, 3, 4, 5], "weighted_average", [], "4.13"),
    ([1, 2, 3, 4, 5], "decaying_average", [], "4.47"),
    ([1, 2, 3, 4, 5], "n_mastery", ["n=3"], "4.00"),
    # the other methods, worked by hand
    ([1, 3, 3, 2, 2], "mode", [], "2.00"),  # tie 3 vs 2: the most recent (2) wins
    ([1, 3, 3, 2, 2], "mode", ["tie=highest"], "3.00"),
    ([4, 1, 2, 5], "median", [], "3.00"),
    ([1, 2, 3, 4, 5], "mean_last_n", ["n=2"], "4.50"),
    ([5, 1, 2, 3], "highest_last_n", ["n=3"], "3.00"),
    ([5, 1, 4, 2], "mean_top_n", ["n=2"], "4.50"),
]


@pytest.mark.parametrize(("scores", "method", "params", "expected"), FIELD_NOTES,
                         ids=[f"{m}-{''.join(map(str, s))}" for s, m, _, _ in FIELD_NOTES])
def test_field_notes_values_through_csv(tmp_path: Path, scores: list[int], method: str,
                                        params: list[str], expected: str) -> None:
    # Rows are written newest first: the pipeline must order them by date.
    rows = list(reversed(series("0012", "T1", scores)))
    result = run(tmp_path, rows, method=method, params=params)
    assert shown(result, "0012") == (expected, "ok")


def test_every_method_in_one_file(tmp_path: Path) -> None:
    """One file, one student per case, each case's method as a target override."""
    rows: list[Row] = []
    for index, (scores, _, _, _) in enumerate(FIELD_NOTES[:6]):
        rows += series(f"s{index}", "T1", scores)
    result = run(tmp_path, rows, method="decaying_average")
    assert [shown(result, f"s{i}")[0] for i in range(6)] == ["3.48"] * 6


def test_mode_tie_without_rule_gives_no_result(tmp_path: Path) -> None:
    result = run(tmp_path, series("a", "T1", [3, 2]), method="mode", params=["tie=none"])
    assert shown(result, "a") == ("", "no-result")


def test_ties_on_the_same_date_keep_input_order(tmp_path: Path) -> None:
    same_day = [["a", "A", "T1", score, "2026-09-01", f"t{k}", "summative", "CRS"]
                for k, score in enumerate([4, 1, 2])]
    second = tmp_path / "second.csv"
    write_csv(second, [["a", "A", "T1", 3, "2026-09-01", "t3", "summative", "CRS"]])
    first = write_csv(tmp_path / "first.csv", same_day)
    latest = grade([first, second], FRAMEWORK, apply_options(None, "latest", []))
    assert shown(latest, "a")[0] == "3.00"  # file order, then row order: 4, 1, 2, 3
    reversed_files = grade([second, first], FRAMEWORK, apply_options(None, "latest", []))
    assert shown(reversed_files, "a")[0] == "2.00"  # 3, 4, 1, 2
    order = latest.evidence.sort_values("order")["score"].tolist()
    assert order == [4.0, 1.0, 2.0, 3.0]


def test_undated_evidence_goes_last_or_first(tmp_path: Path) -> None:
    rows = [["a", "A", "T1", 1, "", "undated", "summative", "CRS"],
            ["a", "A", "T1", 4, "2026-09-01", "dated", "summative", "CRS"]]
    last = run(tmp_path, rows, method="latest")
    assert shown(last, "a")[0] == "1.00"
    first = run(tmp_path, rows, policy=replace(last.policy, undated="first"))
    assert shown(first, "a")[0] == "4.00"
    by_input = run(tmp_path, rows, policy=replace(last.policy, order_by="input"))
    assert shown(by_input, "a")[0] == "4.00"


def test_min_evidence_gives_insufficient_evidence_never_zero(tmp_path: Path) -> None:
    rows = series("a", "T1", [4]) + series("b", "T1", [1, 2])
    result = run(tmp_path, rows, method="highest", params=["min_evidence=2"])
    assert shown(result, "a") == ("", "insufficient-evidence")
    assert shown(result, "b") == ("2.00", "ok")
    row = result.targets.set_index("student_id").loc["a"]
    assert pd.isna(row["score"]) and pd.isna(row["level"]) and pd.isna(row["mastered"])
    assert row["evidence_count"] == 1


def test_formative_is_set_aside_with_a_reason(tmp_path: Path) -> None:
    rows = series("a", "T1", [1, 1], kind="formative") + series("a", "T1", [3], start_day=5)
    policy = replace(apply_options(None, "average", []),
                     evidence=EvidenceRules(exclude_types=("formative",)))
    result = run(tmp_path, rows, policy=policy)
    assert shown(result, "a") == ("3.00", "ok")
    assert result.set_aside["reason"].tolist() == ["type-excluded", "type-excluded"]
    only_practice = run(tmp_path, series("b", "T1", [2], kind="formative"), policy=policy)
    assert shown(only_practice, "b") == ("", "insufficient-evidence")


def test_type_weights_and_date_window(tmp_path: Path) -> None:
    rows = (series("a", "T1", [1], kind="diagnostic") + series("a", "T1", [4], start_day=2)
            + [["a", "A", "T1", 1, "2026-12-01", "late", "summative", "CRS"]])
    policy = replace(apply_options(None, "average", []), evidence=EvidenceRules(
        type_weights={"diagnostic": 0.5, "summative": 1.0},
        date_to=pd.Timestamp("2026-10-31").date()))
    result = run(tmp_path, rows, policy=policy)
    assert shown(result, "a")[0] == "3.00"  # (1 × 0.5 + 4 × 1) / 1.5
    assert result.set_aside["reason"].tolist() == ["after-window"]


def test_excused_and_blank_are_not_zeros(tmp_path: Path) -> None:
    rows = series("a", "T1", [3, "EX", "", 3])
    result = run(tmp_path, rows, method="average")
    assert shown(result, "a") == ("3.00", "ok")
    counts = result.counts
    assert counts.rows_read == 4 and counts.used == 2 and counts.set_aside == 2
    assert counts.rows_read == counts.used + counts.set_aside + counts.rejected
    only_excused = run(tmp_path, series("b", "T1", ["EX"]), method="average")
    assert shown(only_excused, "b") == ("", "excused")


def test_missing_work_ignored_or_scored(tmp_path: Path) -> None:
    rows = series("a", "T1", [4, "M"])
    ignored = run(tmp_path, rows, method="average")
    assert shown(ignored, "a")[0] == "4.00"
    scored = run(tmp_path, rows, policy=replace(ignored.policy, missing_score=0.0))
    assert shown(scored, "a")[0] == "2.00"


def test_rejected_rows_are_counted_and_listed(tmp_path: Path) -> None:
    rows = [*series("a", "T1", [3]), ["a", "A", "T99", 3, "2026-09-02", "x", "summative", "CRS"]]
    result = run(tmp_path, rows)
    assert result.counts.rejected == 1
    write_outputs(result, tmp_path / "out")
    rejects = (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "file,row,student_id,column,value,reason,message"
    assert ",3,a,target,T99,unknown-target," in rejects[1]  # whose row it was, too


def test_rounding_half_up_at_output_only(tmp_path: Path) -> None:
    result = run(tmp_path, series("a", "T1", ["2.675"]), method="latest")
    assert result.targets.loc[0, "score"] == 2.675  # full precision inside
    assert shown(result, "a")[0] == "2.68"  # Python's round() would print 2.67
    one_place = run(tmp_path, series("a", "T1", ["2.25"]), method="latest",
                    params=["places=1"])
    assert shown(one_place, "a")[0] == "2.3"


def test_levels_default_and_cut_points(tmp_path: Path) -> None:
    rows = series("a", "T1", ["2.5"]) + series("b", "T1", ["2.4"])
    default = run(tmp_path, rows, method="latest")
    levels = dict(zip(default.targets["student_id"], default.targets["level"], strict=True))
    assert levels == {"a": 2.0, "b": 2.0}  # a score reaches a level at the level's value
    data = {"method": "latest", "levels": {"cut_points": {"3": 2.5}}}
    policy, problems = policy_from_data(data)
    assert policy is not None and problems == []
    cut = run(tmp_path, rows, policy=policy)
    table = cut.targets.set_index("student_id")
    assert table.loc["a", "level"] == 3.0 and table.loc["a", "label"] == "Proficient"
    assert bool(table.loc["a", "mastered"]) and not bool(table.loc["b", "mastered"])


def test_level_is_read_from_the_score_as_shown(tmp_path: Path) -> None:
    # 2.996 is shown as 3.00, so it must not be labelled Developing.
    result = run(tmp_path, series("a", "T1", ["2.996"]), method="latest")
    assert shown(result, "a")[0] == "3.00"
    assert result.targets.loc[0, "level"] == 3.0


def competency_result(result: GradeResult, student: str, competency: str) -> pd.Series:
    table = result.competencies
    return table.loc[(table["student_id"] == student) & (table["competency"] == competency)
                     ].iloc[0]


def test_competency_rollups(tmp_path: Path) -> None:
    rows = series("a", "T1", [4]) + series("a", "T2", [2]) + series("a", "T3", [3])
    base = apply_options(None, "latest", [])
    expected = {"mean": 3.0, "minimum": 2.0, "median": 3.0}
    for method, value in expected.items():
        policy, _ = policy_from_data({"method": "latest",
                                      "competency_rollup": {"method": method}})
        assert policy is not None
        assert competency_result(run(tmp_path, rows, policy=policy), "a", "C1")["score"] == value
    weighted, _ = policy_from_data({"method": "latest", "competency_rollup": {
        "method": "weighted_mean", "weights": {"T1": 2}}})
    assert weighted is not None
    row = competency_result(run(tmp_path, rows, policy=weighted), "a", "C1")
    assert row["score"] == pytest.approx((4 * 2 + 2 + 3) / 4)
    all_mastered, _ = policy_from_data({"method": "latest",
                                        "competency_rollup": {"method": "all_mastered"}})
    assert all_mastered is not None
    row = competency_result(run(tmp_path, rows, policy=all_mastered), "a", "C1")
    assert not row["mastered"] and row["targets_mastered"] == 2 and row["targets_total"] == 3
    two_of_three, _ = policy_from_data({"method": "latest",
                                        "competency_rollup": {"method": "n_of_m", "n": 2}})
    assert two_of_three is not None
    row = competency_result(run(tmp_path, rows, policy=two_of_three), "a", "C1")
    assert row["mastered"] and row["rule"].startswith("2 of 3 targets at mastery")
    assert competency_result(run(tmp_path, rows, policy=base), "a", "C1")["status"] == "ok"


def course_row(result: GradeResult, student: str) -> dict[str, str]:
    text = csv_text(result.courses, COURSE_COLUMNS, result.policy.places)
    header, *lines = list(csv.reader(text.splitlines()))
    for line in lines:
        if line[0] == student:
            return dict(zip(header, line, strict=True))
    raise AssertionError(student)


def test_efficacy_stays_out_of_course_grade(tmp_path: Path) -> None:
    rows = series("a", "T1", [3]) + series("a", "T4", [3]) + series("a", "H1", [1])
    result = run(tmp_path, rows, method="latest")
    assert course_row(result, "a")["score"] == "3.00"
    assert competency_result(result, "a", "E1")["level"] == 1.0  # still reported
    included = run(tmp_path, rows, policy=replace(result.policy, efficacy_in_course_grade=True))
    assert course_row(included, "a")["score"] == "2.33"


def test_conversion_table(tmp_path: Path) -> None:
    rows = (series("a", "T1", [4]) + series("a", "T4", [3])
            + series("b", "T1", [2]) + series("b", "T4", [2])
            + series("c", "T1", [0]))
    policy, _ = policy_from_data({"method": "latest", "course_grade": {"conversion": [
        {"min": 3.5, "grade": "A"}, {"min": 2.5, "grade": "B"}, {"min": 1, "grade": "C"},
    ]}})
    assert policy is not None
    result = run(tmp_path, rows, policy=policy)
    assert course_row(result, "a")["grade"] == "A"  # (4 + 3) / 2 = 3.5 reaches A
    assert course_row(result, "a")["rule"] == "conversion: 3.5 or more is A"
    assert course_row(result, "b")["grade"] == "C"
    assert course_row(result, "c")["status"] == "no-grade"  # 0 is below every row


def test_conjunctive_rules(tmp_path: Path) -> None:
    data = {"method": "latest", "course_grade": {"rules": [
        {"grade": "A", "at_least": {"share": 0.5, "level": 4}, "none_below": 3},
        {"grade": "B", "none_below": 3},
        {"grade": "C", "min_score": 2},
        {"grade": "F"},
    ]}}
    policy, problems = policy_from_data(data)
    assert policy is not None and problems == []
    rows = (series("a", "T1", [4]) + series("a", "T4", [3])  # half at 4, none below 3: A
            + series("b", "T1", [5]) + series("b", "T4", [2])  # a 2: not A nor B; 3.5: C
            + series("c", "T1", [3]) + series("c", "T4", [3])  # B
            + series("d", "T1", [1]) + series("d", "T4", [1]))  # F
    result = run(tmp_path, rows, policy=policy)
    assert [course_row(result, s)["grade"] for s in "abcd"] == ["A", "C", "B", "F"]
    assert course_row(result, "a")["rule"] == (
        "rule A: at least 50% of competencies at 4 or above and none below 3")


def test_progressions(tmp_path: Path) -> None:
    rows = series("a", "T1", [3]) + series("a", "T3", [4]) + series("b", "T1", [3]) + series(
        "b", "T2", [3]) + series("b", "T3", [3])
    result = run(tmp_path, rows, method="latest")
    table = result.progress.set_index("student_id")
    assert table.loc["a", "mastered"] == "T1;T3" and table.loc["a", "next_target"] == "T2"
    assert not table.loc["a", "ready_to_advance"]
    assert table.loc["b", "ready_to_advance"] and table.loc["b", "next_target"] == ""
    two_thirds = run(tmp_path, rows, policy=replace(result.policy, ready_share=0.6))
    assert two_thirds.progress.set_index("student_id").loc["a", "ready_to_advance"]


def test_student_ids_stay_text(tmp_path: Path) -> None:
    result = run(tmp_path, series("0012345", "T1", [3]))
    assert result.targets["student_id"].tolist() == ["0012345"]


def test_per_competency_rollup_overrides(tmp_path: Path) -> None:
    rows = (series("a", "T1", [4]) + series("a", "T2", [2]) + series("a", "T3", [3])
            + series("a", "T4", [2]))
    # C1: 2 of its 3 targets at mastery; C2 keeps the policy's mean.
    policy, problems = policy_from_data({
        "method": "latest", "competency_rollup": {"method": "mean"},
        "overrides": {"C1": {"rollup": {"method": "n_of_m", "n": 2}}}})
    assert problems == [] and policy is not None
    result = run(tmp_path, rows, policy=policy)
    c1, c2 = competency_result(result, "a", "C1"), competency_result(result, "a", "C2")
    assert (c1["score"], bool(c1["mastered"])) == (3.0, True)
    assert c1["rule"] == "2 of 3 targets at mastery (2 needed); score: mean of 3 targets"
    assert (c2["score"], bool(c2["mastered"]), c2["rule"]) == (2.0, False, "mean of 1 target")
    # The other way round: n_of_m for all, C1 back to mean (mastered by its level 3).
    strict, _ = policy_from_data({
        "method": "latest", "competency_rollup": {"method": "n_of_m", "n": 1},
        "overrides": {"C1": {"rollup": {"method": "all_mastered"}},
                      "C2": {"rollup": {"method": "mean"}}}})
    assert strict is not None
    result = run(tmp_path, rows, policy=strict)
    c1, c2 = competency_result(result, "a", "C1"), competency_result(result, "a", "C2")
    assert not c1["mastered"] and c1["rule"].startswith("2 of 3 targets at mastery (all needed)")
    assert not c2["mastered"] and c2["rule"] == "mean of 1 target"


def test_rollup_override_weights_minimum_and_min_targets(tmp_path: Path) -> None:
    rows = (series("a", "T1", [4]) + series("a", "T2", [2]) + series("a", "T4", [2])
            + series("b", "T1", [4]) + series("b", "T2", [2]) + series("b", "T3", [3]))
    policy, _ = policy_from_data({
        "method": "latest", "competency_rollup": {"method": "minimum"},
        "overrides": {"C1": {"rollup": {"method": "weighted_mean", "weights": {"T1": 3},
                                        "min_targets": 3}}}})
    assert policy is not None
    result = run(tmp_path, rows, policy=policy)
    a1 = competency_result(result, "a", "C1")
    assert a1["status"] == "insufficient-evidence"
    assert a1["rule"] == "fewer than 3 targets with a result"
    assert competency_result(result, "b", "C1")["score"] == pytest.approx((4 * 3 + 2 + 3) / 5)
    assert competency_result(result, "a", "C2")["score"] == 2.0  # minimum, min_targets 1
    assert policy.to_dict()["overrides"]["C1"]["rollup"] == {
        "method": "weighted_mean", "n": None, "weights": {"T1": 3.0}, "min_targets": 3}


def test_same_rollup_as_an_override_gives_the_same_table(tmp_path: Path) -> None:
    rows = series("a", "T1", [4, 1]) + series("a", "T2", [2]) + series("a", "T4", [3])
    plain, _ = policy_from_data({"method": "average",
                                 "competency_rollup": {"method": "median"}})
    spelled, _ = policy_from_data({"method": "average", "competency_rollup": {"method": "median"},
                                   "overrides": {"C2": {"rollup": {"method": "median"}}}})
    assert plain is not None and spelled is not None
    left = run(tmp_path, rows, policy=plain).competencies
    right = run(tmp_path, rows, policy=spelled).competencies
    pd.testing.assert_frame_equal(left, right)
