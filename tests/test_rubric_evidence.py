"""Rubric-scored performance tasks become evidence on each criterion's target: the grade of
a converted file equals the grade of the same evidence written by hand as a long gradebook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from test_pipeline import write_csv
from typer.testing import CliRunner

from mastery_cli.cli import app

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK = REPO / "examples" / "framework"
MODELLING = REPO / "examples" / "rubrics" / "modelling-task.yaml"  # rated design
LAB_REPORT = REPO / "examples" / "rubrics" / "lab-report.yaml"  # indicator design
HEADER = ["student_id", "student_name", "assessment", "date", "criterion", "rating"]


def _grade(tmp_path: Path, files: list[Path], *extra: str) -> dict[tuple[str, str], float]:
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    result = CliRunner().invoke(app, ["grade", *map(str, files), "--framework", str(FRAMEWORK),
                                      "--method", "average", "--out", str(out), "--format",
                                      "json", "--quiet", *extra])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return {(s["id"], t["target"]): t["score"] for s in document["students"]
            for t in s["targets"] if t.get("score") is not None}


def test_rated_labels_and_titles_become_levels_on_the_criteria_targets(tmp_path: Path) -> None:
    scored = write_csv(tmp_path / "task.csv", [
        ["S1", "Ana", "Water task", "2026-11-20", "Representing the situation", "Developing"],
        ["S1", "Ana", "Water task", "2026-11-20", "solve", "4"],
        ["S1", "Ana", "Water task", "2026-11-20", "Unidades y cantidades", "Emergente"],
        ["S2", "Ben", "Water task", "2026-11-20", "model", "Extending"],
    ], HEADER)
    by_hand = write_csv(tmp_path / "hand.csv", [
        ["S1", "Ana", "MATH.ALG.3", "Water task", "2026-11-20", 2],
        ["S1", "Ana", "MATH.ALG.4", "Water task", "2026-11-20", 4],
        ["S1", "Ana", "MATH.NQ.1", "Water task", "2026-11-20", 1],
        ["S2", "Ben", "MATH.ALG.3", "Water task", "2026-11-20", 4],
    ], ["student_id", "student_name", "target", "assessment", "date", "score"])
    converted = _grade(tmp_path, [scored], "--rubric", str(MODELLING))
    assert converted == _grade(tmp_path, [by_hand])
    assert converted[("S1", "MATH.ALG.3")] == 2


def test_indicator_rubrics_use_the_targets_levels_and_the_rubric_title(tmp_path: Path) -> None:
    scored = write_csv(tmp_path / "lab.csv", [
        ["S1", "Ana", "", "2026-10-01", "design", "Proficient"],
        ["S1", "Ana", "", "2026-10-01", "conclusion", "2"],
    ], HEADER)
    assert _grade(tmp_path, [scored], "--rubric", str(LAB_REPORT)) == {
        ("S1", "SCI.INQ.2"): 3, ("S1", "SCI.ARG.2"): 2}


def test_an_unknown_criterion_is_reported_where_it_is(tmp_path: Path) -> None:
    scored = write_csv(tmp_path / "lab.csv", [
        ["S1", "Ana", "Lab", "2026-10-01", "design", "3"],
        ["S1", "Ana", "Lab", "2026-10-01", "spelling", "3"],
    ], HEADER)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["grade", str(scored), "--framework", str(FRAMEWORK),
                                      "--rubric", str(LAB_REPORT), "--out", str(out)])
    assert result.exit_code == 0
    assert f"{scored}:3:5: warning [unknown-criterion] criterion 'spelling'" in result.output
    with (out / "target_grades.csv").open(encoding="utf-8") as handle:
        assert [r["target"] for r in csv.DictReader(handle)] == ["SCI.INQ.2"]


def test_explain_names_the_criterion(tmp_path: Path) -> None:
    scored = write_csv(tmp_path / "lab.csv", [
        ["S1", "Ana", "Heart-rate lab", "2026-10-01", "analysis", "3"]], HEADER)
    result = CliRunner().invoke(app, ["explain", "S1", "SCI.INQ.3", str(scored), "--framework",
                                      str(FRAMEWORK), "--rubric", str(LAB_REPORT)])
    assert result.exit_code == 0, result.output
    assert "Heart-rate lab [criterion analysis of rubric lab-report]  score 3" in result.output
    assert "lab.csv:2]" in result.output  # the original line


def test_files_without_a_criterion_column_are_graded_as_they_are(tmp_path: Path) -> None:
    plain = write_csv(tmp_path / "plain.csv", [["S1", "Ana", "SCI.INQ.3", "Lab", "2026-10-01",
                                                2]],
                      ["student_id", "student_name", "target", "assessment", "date", "score"])
    assert _grade(tmp_path, [plain], "--rubric", str(LAB_REPORT)) == _grade(tmp_path, [plain])


def test_the_example_task_grades_with_the_school(tmp_path: Path) -> None:
    files = sorted((REPO / "examples" / "gradebook").glob("*.csv"))
    task = REPO / "examples" / "tasks" / "water-plan-rubric-scores.csv"
    with_task = _grade(tmp_path, [*files, task], "--rubric", str(MODELLING))
    without = _grade(tmp_path, files)
    changed = {key for key in with_task if with_task[key] != without.get(key)}
    assert changed and {target for _, target in changed} <= {
        "MATH.ALG.3", "MATH.ALG.4", "MATH.FUN.2", "MATH.NQ.1"}


def test_ratings_the_scale_cannot_read_are_reported_in_the_original_file(tmp_path: Path
                                                                         ) -> None:
    scored = write_csv(tmp_path / "task.csv", [
        ["S1", "Ana", "Task", "2026-11-20", "model", "Superb"],
        ["S1", "Ana", "Task", "2026-11-20", "solve", "7"],
        ["S1", "Ana", "Task", "2026-11-20", "units", "EX"],
    ], HEADER)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["grade", str(scored), "--framework", str(FRAMEWORK),
                                      "--rubric", str(MODELLING), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (f"{scored}:2:6: warning [unknown-rating] rating 'Superb' is not a level of "
            "criterion 'model'") in result.output
    assert "Emerging, Emergente, Developing" in result.output  # the criterion's own labels
    assert f"{scored}:3:6: warning [rating-off-scale] rating 7 is outside" in result.output
    # (The reader only notes the rows skipped, in the converted file.)
    assert not [line for line in result.output.splitlines()
                if "warning" in line and "mastery-rubric-" in line]


def test_criterion_weights_count_where_the_method_uses_weights(tmp_path: Path) -> None:
    """Two criteria on one target, weights 3 and 1, rated 4 and 2: the average (a method that
    weighs) gives (3 × 4 + 1 × 2) / 4 = 3.5 exactly, where the same scores written by hand
    without weights give 3; the median ignores weights. Explain shows the weights."""
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        "kind: rubric\nschema_version: 1\nid: eq-task\ntitle: Equations task\n"
        "framework: riverside-hs\ndesign: indicators\ncriteria:\n"
        "  - {id: method, target: MATH.ALG.1, weight: 3}\n"
        "  - {id: check, target: MATH.ALG.1, weight: 1}\n", encoding="utf-8")
    scored = write_csv(tmp_path / "task.csv", [
        ["S1", "Ana", "Equations task", "2026-11-20", "method", "4"],
        ["S1", "Ana", "Equations task", "2026-11-20", "check", "2"],
    ], HEADER)
    by_hand = write_csv(tmp_path / "hand.csv", [
        ["S1", "Ana", "MATH.ALG.1", "Equations task", "2026-11-20", 4],
        ["S1", "Ana", "MATH.ALG.1", "Equations task", "2026-11-20", 2],
    ], ["student_id", "student_name", "target", "assessment", "date", "score"])
    assert _grade(tmp_path, [scored], "--rubric", str(rubric)) == {("S1", "MATH.ALG.1"): 3.5}
    assert _grade(tmp_path, [by_hand]) == {("S1", "MATH.ALG.1"): 3}
    assert _grade(tmp_path, [scored], "--rubric", str(rubric), "--method", "median") == {
        ("S1", "MATH.ALG.1"): 3}
    result = CliRunner().invoke(app, ["explain", "S1", "MATH.ALG.1", str(scored), "--framework",
                                      str(FRAMEWORK), "--rubric", str(rubric), "--method",
                                      "average"])
    assert result.exit_code == 0, result.output
    assert "Result: 3.50" in result.output or "Result: 3.5" in result.output, result.output
    # Rows are shown at their place in the file the teacher gave, not the converted copy.
    assert f"{scored}:2]" in result.output and "mastery-rubric-" not in result.output
