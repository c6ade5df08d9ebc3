"""Ordinary slips are named, not silently graded (issue 14, part 6).

Ids that lost their leading zeros in a spreadsheet, evidence types the policy names but no row
has, a comments file with the gradebook's headers or unknown students, and ``--param
undated=first``: each is a located warning (or simply works), never a silent change of grades.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports.comments import read_comments

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "tests" / "golden" / "grade" / "inputs"
FRAMEWORK = INPUTS / "framework.yaml"
REPORT_DATA = REPO / "tests" / "data" / "report"


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def json_diagnostics(output: str) -> list[dict[str, Any]]:
    document = json.loads(output)
    diagnostics: list[dict[str, Any]] = document["diagnostics"]
    return diagnostics


# ------------------------------------------------------------------ --param undated=first

UNDATED_SCORES = (
    "student_id,target,date,score\n"
    "0012,T1,2026-09-01,1\n"
    "0012,T1,,4\n"
    "0012,T1,2026-09-20,2\n"
)


def _latest_score(out: Path) -> str:
    with (out / "target_grades.csv").open(encoding="utf-8") as stream:
        [row] = [r for r in csv.DictReader(stream) if r["target"] == "T1"]
    return row["score"]


@pytest.mark.parametrize(("option", "latest"), [
    ([], "4.00"),  # undated evidence goes last by default: it is the latest
    (["--param", "undated=last"], "4.00"),
    (["--param", "undated=first"], "2.00"),
    (["--param", "undated=FIRST"], "2.00"),
])
def test_param_undated_orders_undated_evidence(
    tmp_path: Path, option: list[str], latest: str
) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--method", "latest",
                    *option, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert _latest_score(tmp_path / "out") == latest


def test_param_undated_overrides_the_policy_file(tmp_path: Path) -> None:
    policy = write(tmp_path / "policy.yaml", "kind: policy\nschema_version: 1\nid: p\n"
                   "method: latest\nundated: last\n")
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--policy", policy,
                    "--param", "undated=first", "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert _latest_score(tmp_path / "out") == "2.00"


def test_param_undated_with_a_bad_value_exits_1_naming_the_choices(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--param", "undated=frist",
                    "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "[policy-parameter]" in result.output
    assert "undated must be 'last' or 'first'" in result.output
    assert "did you mean 'first'?" in result.output
    assert not (tmp_path / "out").exists()


def test_explain_takes_param_undated_too(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("explain", "0012", "T1", scores, "--framework", FRAMEWORK,
                    "--method", "latest", "--param", "undated=first")
    assert result.exit_code == 0, result.output
    used = result.output.split("Method:")[0]
    # the undated 4 comes first, the last dated score (2) is the latest
    assert used.index("score 4.00") < used.index("score 2.00")


# ------------------------------------------------------------------ comments CSV

def _report_grades() -> tuple[list[str], list[str]]:
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(REPORT_DATA / "framework")
    grades = json.loads((REPORT_DATA / "grades" / "grades.json").read_text(encoding="utf-8"))
    known = [*framework.targets, *framework.competencies, *framework.courses]
    return known, [s["id"] for s in grades["students"]]


def test_comments_accept_the_gradebook_s_header_aliases(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "Student ID,Standard,Notes\n"
                 "0012345,MATH.ALG.3,Check your solutions.\n"
                 "S002,,A good term.\n")
    comments, problems = read_comments(path, known, students)
    assert problems == []
    assert comments.for_item("0012345", "MATH.ALG.3") == ["Check your solutions."]
    assert comments.for_student("S002") == ["A good term."]


def test_comments_about_column_wins_over_target_aliases(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "SIS ID,Course,About,Feedback\n"
                 "S002,ALG1,MATH.ALG.3,On the target.\n")
    comments, problems = read_comments(path, known, students)
    assert problems == []
    assert comments.for_item("S002", "MATH.ALG.3") == ["On the target."]


def test_comments_without_an_id_column_name_the_columns(tmp_path: Path) -> None:
    from mastery_cli.diagnostics import MasteryError

    path = write(tmp_path / "comments.csv", "who,comment\nS002,Hello\n")
    with pytest.raises(MasteryError) as caught:
        read_comments(path, [], [])
    [problem] = caught.value.diagnostics
    assert (problem.code, problem.line) == ("missing-column", 1)
    assert "student_id" in problem.message


def test_comments_for_unknown_students_are_warnings_at_their_row(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "student_id,about,comment\n"
                 "S002,,Fine.\n"
                 '12345,,"Lost its zeros\nin Excel."\n'
                 "S003,,No such student.\n"
                 "NOBODY,,Nobody.\n")
    comments, problems = read_comments(path, known, students)
    assert comments.for_student("S002") == ["Fine."]
    assert [(p.code, p.severity.value, p.path, p.line, p.column) for p in problems] == [
        ("unknown-student", "warning", str(path), 3, 1),
        ("unknown-student", "warning", str(path), 5, 1),  # the record before spans 2 lines
        ("unknown-student", "warning", str(path), 6, 1),
    ]
    assert "'12345'" in problems[0].message
    assert problems[0].hint is not None and "did you mean '0012345'?" in problems[0].hint
    assert "format the id column as text" in problems[0].hint
    assert problems[1].hint == "did you mean 'S002'?"
    assert problems[2].hint == "use the student ids of the gradebook"
    assert "'12345'" not in json.dumps([comments.general, list(comments.about)])


def test_report_prints_unknown_comment_students_and_still_exits_0(tmp_path: Path) -> None:
    comments = write(tmp_path / "comments.csv",
                     "Student ID,Comment\n0012345,Well done.\n99999,Who is this?\n")
    result = invoke("report", "report-card", "--grades", REPORT_DATA / "grades",
                    "--framework", REPORT_DATA / "framework", "--date", "2025-12-19", "-q",
                    "--out", tmp_path / "out", "--comments", comments)
    assert result.exit_code == 0, result.output
    assert f"{comments}:3:1: warning [unknown-student]" in result.output
    card = (tmp_path / "out" / "report-cards" / "0012345.html").read_text(encoding="utf-8")
    assert "Well done." in card
