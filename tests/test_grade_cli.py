"""`mastery grade` on the command line: golden output files, exit codes, messages, --help.

Set MASTERY_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "grade"
INPUTS = GOLDEN / "inputs"
UPDATE = os.environ.get("MASTERY_UPDATE_GOLDEN") == "1"


def invoke(*args: str | Path) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "120"})


def grade_golden_inputs(out: Path, *extra: str) -> object:
    # Relative paths, so the file column of rejects.csv is the same on every machine.
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return invoke("grade", INPUTS.relative_to(REPO) / "scores.csv", "--framework",
                      INPUTS.relative_to(REPO) / "framework.yaml", "--policy",
                      INPUTS.relative_to(REPO) / "policy.yaml", "--out", out, *extra)
    finally:
        os.chdir(cwd)


GOLDEN_FILES = ["target_grades.csv", "competency_grades.csv", "course_grades.csv",
                "progress.csv", "rejects.csv", "grades.json"]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_outputs_match_golden_files(tmp_path: Path, name: str) -> None:
    result = grade_golden_inputs(tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    produced = (tmp_path / name).read_bytes()
    golden = GOLDEN / name
    if UPDATE:
        golden.write_bytes(produced)
    assert produced == golden.read_bytes()


def test_golden_content_is_what_the_policy_says() -> None:
    targets = (GOLDEN / "target_grades.csv").read_text(encoding="utf-8").splitlines()
    # T1: formative set aside, decaying average of 1, 2, 3, 4 (FIELD-NOTES: 3.48), level 3
    assert ('0012,"García, Ana",T1,C1,decaying_average(weight=0.65),3.48,3,Proficient,true,4,'
            'ok,2026-10-06') in targets
    # T3: one piece of evidence, the policy needs 2: insufficient evidence, never 0
    assert '0012,"García, Ana",T3,C1,decaying_average(weight=0.65),,,,,1,' \
           'insufficient-evidence,2026-10-06' in targets
    # a name that is a spreadsheet formula is neutralised
    assert any(line.startswith("0345,'=cmd|") for line in targets)
    rejects = (GOLDEN / "rejects.csv").read_text(encoding="utf-8")
    for reason in ("type-excluded", "excused", "no-score", "missing", "duplicate-row",
                   "unknown-target"):
        assert f",{reason}," in rejects
    grades = json.loads((GOLDEN / "grades.json").read_text(encoding="utf-8"))
    assert grades["version"] == 1 and grades["framework"] == "test-school"
    assert [s["id"] for s in grades["students"]] == ["0012", "0345"]
    ana = grades["students"][0]
    assert ana["courses"][0]["course"] == "CRS" and ana["sections"] == ["P1"]
    t1 = next(t for t in ana["targets"] if t["target"] == "T1")
    assert [e["used"] for e in t1["evidence"]] == [True, False, True, True, True]
    assert t1["evidence"][1]["reason"] == "type-excluded"
    counts = grades["counts"]
    assert counts["rows_read"] == counts["used"] + counts["set_aside"] + counts["rejected"]


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    grade_golden_inputs(tmp_path / "a", "--format", "json")
    grade_golden_inputs(tmp_path / "b", "--format", "json")
    for name in GOLDEN_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_summary_on_the_terminal(tmp_path: Path) -> None:
    result = grade_golden_inputs(tmp_path)
    output = result.output  # type: ignore[attr-defined]
    assert "20 rows read = 14 used + 5 set aside + 1 rejected (1 duplicate dropped)" in output
    assert "Levels per competency" in output
    assert "unknown target 'T9'" in output  # the warning, file:line:col first
    assert not (tmp_path / "grades.json").exists()  # only with --format json


def test_method_and_params_without_policy(tmp_path: Path) -> None:
    result = invoke("grade", INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml",
                    "--method", "highest", "--param", "min_evidence=1", "--out", tmp_path,
                    "--quiet")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = (tmp_path / "target_grades.csv").read_text(encoding="utf-8")
    assert '0012,"García, Ana",T3,C1,highest,2.00,2,Developing,false,1,ok' in text


def test_unknown_method_exits_1_with_did_you_mean(tmp_path: Path) -> None:
    result = invoke("grade", INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml",
                    "--method", "decaying_avrage", "--out", tmp_path)
    assert result.exit_code == 1
    output = result.output  # type: ignore[attr-defined]
    assert "did you mean 'decaying_average'?" in output
    assert "Traceback" not in output


def test_out_of_range_weight_exits_1_naming_the_range(tmp_path: Path) -> None:
    result = invoke("grade", INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml",
                    "--method", "weighted_average", "--param", "weight=1.2", "--out", tmp_path)
    assert result.exit_code == 1
    assert "weight must be between 0.01 and 0.99 (got" in result.output  # type: ignore


def test_bad_policy_file_exits_1_with_position(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nschema_version: 1\nid: p\nmethod:\n  name: decaying_average"
                      "\n  weight: 0.2\n", encoding="utf-8")
    result = invoke("grade", INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml",
                    "--policy", policy, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "policy.yaml:6:11: error [policy-parameter] weight must be between 0.5 and 0.99 " \
           "(got 0.2)" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_malformed_param_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("grade", INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml",
                    "--param", "weight", "--out", tmp_path)
    assert result.exit_code == 2
    assert "is not KEY=VALUE" in result.output  # type: ignore[attr-defined]


def test_help_has_an_example() -> None:
    for command in ("grade", "explain"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output  # type: ignore[attr-defined]


def test_example_school_grades(tmp_path: Path) -> None:
    gradebook = sorted((REPO / "examples" / "gradebook").glob("*.csv"))
    assert len(gradebook) >= 4
    result = invoke("grade", *gradebook, "--framework", REPO / "examples" / "framework",
                    "--policy", REPO / "examples" / "policy.yaml", "--out", tmp_path,
                    "--format", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    grades = json.loads((tmp_path / "grades.json").read_text(encoding="utf-8"))
    assert len(grades["students"]) >= 60
    transfer = next(s for s in grades["students"] if s["id"] == "0041066")
    sources = {e["assessment"].split(":")[0] for t in transfer["targets"]
               for e in t["evidence"]}
    assert "Lakeside" in sources  # evidence from the previous school came along
    courses = {c["course"] for s in grades["students"] for c in s["courses"]}
    assert {"ALG1", "BIO", "GEOM"} <= courses


def test_strict_exits_1_on_a_rejected_row_after_writing(tmp_path: Path) -> None:
    lenient = grade_golden_inputs(tmp_path / "lenient", "--quiet")
    assert lenient.exit_code == 0  # type: ignore[attr-defined]
    result = grade_golden_inputs(tmp_path / "strict", "--quiet", "--strict")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "--strict: 1 row rejected" in output
    assert "Traceback" not in output
    for name in GOLDEN_FILES[:-1]:  # every output is still written, the same bytes
        assert (tmp_path / "strict" / name).read_bytes() == (
            tmp_path / "lenient" / name).read_bytes()


def test_strict_passes_when_only_the_policy_set_rows_aside(tmp_path: Path) -> None:
    # Blank score, excused, duplicate, missing and an excluded type: set aside, not rejected.
    lines = (INPUTS / "scores.csv").read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "scores.csv"
    clean.write_text("\n".join(line for line in lines if ",T9," not in line) + "\n",
                     encoding="utf-8")
    result = invoke("grade", clean, "--framework", INPUTS / "framework.yaml", "--policy",
                    INPUTS / "policy.yaml", "--out", tmp_path / "out", "--strict")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "0 rejected" in result.output  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8").count("\n") == 6


def test_strict_exits_1_on_a_warning_without_rejects(tmp_path: Path) -> None:
    lines = (INPUTS / "scores.csv").read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "scores.csv"
    clean.write_text("\n".join(line for line in lines if ",T9," not in line) + "\n",
                     encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    # A last rule with conditions: a warning (no-catch-all-rule), not an error.
    policy.write_text((INPUTS / "policy.yaml").read_text(encoding="utf-8").replace(
        "    - grade: F\n", ""), encoding="utf-8")
    common = ["grade", clean, "--framework", INPUTS / "framework.yaml", "--policy", policy,
              "--quiet"]
    assert invoke(*common, "--out", tmp_path / "a").exit_code == 0  # type: ignore[attr-defined]
    result = invoke(*common, "--out", tmp_path / "b", "--strict")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert "no-catch-all-rule" in result.output  # type: ignore[attr-defined]
    assert "0 rows rejected, 1 warning" in result.output  # type: ignore[attr-defined]
    assert (tmp_path / "b" / "course_grades.csv").exists()


def test_help_mentions_strict() -> None:
    result = invoke("grade", "--help")
    assert "--strict" in result.output  # type: ignore[attr-defined]
    assert "rejected" in result.output  # type: ignore[attr-defined]


def test_explain_shows_the_competency_s_own_rollup(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((INPUTS / "policy.yaml").read_text(encoding="utf-8").replace(
        "  H1: {method: latest}\n",
        "  H1: {method: latest}\n  C1: {rollup: {method: n_of_m, n: 2}}\n"), encoding="utf-8")
    common = [INPUTS / "scores.csv", "--framework", INPUTS / "framework.yaml", "--policy", policy]
    result = invoke("explain", "0012", "C1", *common)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = result.output  # type: ignore[attr-defined]
    assert ("Roll-up: n of m (n = 2); needs results on at least 1 target (this competency's "
            "override; the policy's roll-up is mean).") in text
    assert "2 of 3 targets at mastery; 2 needed: mastered yes." in text
    other = invoke("explain", "0012", "C2", *common).output  # type: ignore[attr-defined]
    assert "Roll-up: mean; needs results on at least 1 target.\n" in other
    graded = invoke("grade", *common, "--out", tmp_path / "out", "--quiet")
    assert graded.exit_code == 0  # type: ignore[attr-defined]
    competencies = (tmp_path / "out" / "competency_grades.csv").read_text(encoding="utf-8")
    assert "2 of 3 targets at mastery (2 needed); score: mean of 2 targets" in competencies


CANVAS_RESULTS_HEADER = (
    "student name,student id,student sis id,assessment title,assessment id,assessment type,"
    "submission date,submission score,learning outcome name,learning outcome id,attempt,"
    "outcome score,assessment question,assessment question id,course name,course id,"
    "course sis id,section name,section id,section sis id,assignment url,"
    "learning outcome friendly name,learning outcome points possible,"
    "learning outcome mastery score,learning outcome mastered,learning outcome rating,"
    "learning outcome rating points,learning outcome group title,learning outcome group id,"
    "account id,account name,enrollment state")


def canvas_files(tmp_path: Path) -> tuple[Path, Path]:
    """A Canvas outcomes CSV as Canvas exports it after importing ours (canvas ids filled in,
    two outcomes renamed by the teacher) and an Outcome Results report using those names."""
    exported = tmp_path / "ours.csv"
    made = invoke("export", "canvas-outcomes", INPUTS / "framework.yaml", "--out", exported)
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"), newline="")))
    renamed = {"T1": "Linear equations", "T2": "Graphing"}
    for number, row in enumerate(rows[1:], 1):
        row[0] = str(9000 + number)
        row[3] = renamed.get(row[1], row[3])
    outcomes = tmp_path / "canvas_outcomes.csv"
    with outcomes.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    ids = {row[1]: row[0] for row in rows[1:]}
    results = tmp_path / "outcome_results.csv"
    lines = [CANVAS_RESULTS_HEADER]
    for target, score, title in (("T1", 4, "Quiz 1"), ("T2", 3, "Quiz 1"), ("T1", 5, "Test")):
        cells = ["" for _ in CANVAS_RESULTS_HEADER.split(",")]
        cells[0:12] = ['"Rivera, Ana"', "101", "0012", title, "11", "quiz",
                       "2026-09-10T10:00:00Z", "", renamed[target], ids[target], "1", str(score)]
        cells[14], cells[22], cells[23], cells[27] = "Mathematics", "5", "3", "Algebra"
        lines.append(",".join(cells))
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return outcomes, results


def test_canvas_outcomes_map_renamed_outcomes_to_targets(tmp_path: Path) -> None:
    outcomes, results = canvas_files(tmp_path)
    common = [results, "--framework", INPUTS / "framework.yaml", "--method", "latest"]
    without = invoke("grade", *common, "--out", tmp_path / "a", "--quiet")
    assert without.exit_code == 0  # type: ignore[attr-defined]
    rejects = (tmp_path / "a" / "rejects.csv").read_text(encoding="utf-8")
    assert rejects.count("unknown-target") == 3  # the names are not the target titles
    result = invoke("grade", *common, "--canvas-outcomes", outcomes, "--out", tmp_path / "b",
                    "--quiet", "--strict")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    targets = (tmp_path / "b" / "target_grades.csv").read_text(encoding="utf-8")
    assert '0012,"Rivera, Ana",T1,C1,latest,5.00,5,' in targets
    assert '0012,"Rivera, Ana",T2,C1,latest,3.00,3,' in targets
    explained = invoke("explain", "0012", "T1", *common, "--canvas-outcomes", outcomes)
    assert explained.exit_code == 0, explained.output  # type: ignore[attr-defined]
    text = explained.output  # type: ignore[attr-defined]
    assert "1. 2026-09-10  Quiz 1 (quiz)  score 4.00" in text
    assert "2. 2026-09-10  Test (quiz)  score 5.00" in text
    assert "Most recent score, from 2 scores: 5.00." in text


def test_policy_outcome_map_wins_over_canvas_outcomes(tmp_path: Path) -> None:
    outcomes, results = canvas_files(tmp_path)
    graphing_id = next(row[0] for row in csv.reader(outcomes.open(encoding="utf-8"))
                       if row[1] == "T2")
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nschema_version: 1\nid: p\nframework: test-school\n"
                      f"method: latest\ninput:\n  outcome_map: {{'{graphing_id}': T3}}\n",
                      encoding="utf-8")
    result = invoke("grade", results, "--framework", INPUTS / "framework.yaml", "--policy",
                    policy, "--canvas-outcomes", outcomes, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    targets = (tmp_path / "target_grades.csv").read_text(encoding="utf-8")
    assert '0012,"Rivera, Ana",T3,C1,latest,3.00,3,' in targets  # the policy's mapping
    assert ",T2,C1," not in targets
    assert '0012,"Rivera, Ana",T1,C1,latest,5.00,5,' in targets  # the rest from Canvas


def test_missing_canvas_outcomes_file_exits_1(tmp_path: Path) -> None:
    _, results = canvas_files(tmp_path)
    result = invoke("grade", results, "--framework", INPUTS / "framework.yaml",
                    "--canvas-outcomes", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert "cannot read the file" in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
