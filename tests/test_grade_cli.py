"""`mastery grade` on the command line: golden output files, exit codes, messages, --help.

Set MASTERY_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

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
