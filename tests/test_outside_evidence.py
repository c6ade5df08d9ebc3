"""Learning outside school in grading: approved rows count (in their own window), unapproved
ones are set aside with their own reason, and grades.json says where evidence came from."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

REPO = Path(__file__).resolve().parent.parent
FRAMEWORK = REPO / "examples" / "framework"
HEADER = ["student_id", "student_name", "target", "score", "date", "type", "source",
          "artifact", "approved_by", "approved_on"]
SCHOOL = ["0041001", "Rivera, Ana", "MATH.ALG.1", "3", "2026-09-20", "summative", "", "", "",
          ""]
INTERNSHIP = ["0041001", "Rivera, Ana", "MATH.ALG.1", "4", "2026-07-15", "summative",
              "Internship", "https://portfolio.example/ana/bridge", "Mr. Lind", "2026-10-01"]


def _grade(tmp_path: Path, rows: list[list[str]], policy_body: str
           ) -> tuple[dict[str, Any], str, str]:
    scores = tmp_path / "scores.csv"
    with scores.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nschema_version: 1\nid: p\nframework: riverside-hs\n"
                      "method: average\nmin_evidence: 1\n"
                      "evidence: {from: '2026-09-01', to: '2027-01-29'}\n"
                      + policy_body, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["grade", str(scores), "--framework", str(FRAMEWORK),
                                      "--policy", str(policy), "--out", str(out), "-q",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    grades = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    return grades, (out / "rejects.csv").read_text(encoding="utf-8"), \
        (out / "target_grades.csv").read_text(encoding="utf-8")


def _evidence(grades: dict[str, Any]) -> list[dict[str, Any]]:
    [student] = grades["students"]
    [target] = [t for t in student["targets"] if t["target"] == "MATH.ALG.1"]
    return target["evidence"]


OUTSIDE = "outside_evidence:\n  requires_approval: true\n  window: {from: '2026-06-01'}\n"


def test_an_approved_summer_internship_counts_and_says_where_it_came_from(tmp_path: Path
                                                                          ) -> None:
    grades, rejects, targets = _grade(tmp_path, [SCHOOL, INTERNSHIP], OUTSIDE)
    internship, school = _evidence(grades)  # evidence order: by date
    assert internship["used"] and internship["reason"] == ""
    assert internship["source"] == "Internship"
    assert internship["artifact"] == "https://portfolio.example/ana/bridge"
    assert "source" not in school and "artifact" not in school  # school evidence says nothing
    assert "MATH.ALG.1" in targets and ",3.50," in targets  # mean of 3 and 4
    assert "outside-unapproved" not in rejects and "before-window" not in rejects
    assert grades["counts"]["used"] == 2


@pytest.mark.parametrize(("approved_by", "approved_on"), [
    ("", "2026-10-01"), ("Mr. Lind", ""), ("Mr. Lind", "soon"), ("  ", "2026-10-01")])
def test_outside_work_nobody_approved_is_set_aside_with_its_own_reason(
        tmp_path: Path, approved_by: str, approved_on: str) -> None:
    row = [*INTERNSHIP[:8], approved_by, approved_on]
    grades, rejects, _ = _grade(tmp_path, [SCHOOL, row], OUTSIDE)
    internship = _evidence(grades)[0]
    assert not internship["used"] and internship["reason"] == "outside-unapproved"
    [line] = [r for r in csv.DictReader(rejects.splitlines())
              if r["reason"] == "outside-unapproved"]
    assert line["row"] == "3" and line["column"] == "approved_by"
    assert line["value"] == approved_by.strip() and "approved" in line["message"]
    counts = grades["counts"]
    assert counts["rows_read"] == counts["used"] + counts["set_aside"] + counts["rejected"] == 2


def test_unapproved_is_told_before_the_window(tmp_path: Path) -> None:
    """Work waiting for approval says so even when it is also outside the window."""
    row = [*INTERNSHIP[:4], "2026-01-10", *INTERNSHIP[5:8], "", ""]
    grades, _, _ = _grade(tmp_path, [SCHOOL, row], OUTSIDE)
    assert _evidence(grades)[0]["reason"] == "outside-unapproved"


def test_outside_work_keeps_to_its_own_window(tmp_path: Path) -> None:
    early = [*INTERNSHIP[:4], "2026-05-20", *INTERNSHIP[5:]]
    grades, _, _ = _grade(tmp_path, [SCHOOL, early], OUTSIDE)
    assert _evidence(grades)[0]["reason"] == "before-window"
    # The evidence window's end applies to it when its own window gives no end.
    late = [*INTERNSHIP[:4], "2027-03-01", *INTERNSHIP[5:]]
    grades, _, _ = _grade(tmp_path, [SCHOOL, late], OUTSIDE)
    assert _evidence(grades)[-1]["reason"] == "after-window"


def test_without_the_setting_outside_rows_are_graded_as_before(tmp_path: Path) -> None:
    unapproved = [*INTERNSHIP[:8], "", ""]
    grades, _, _ = _grade(tmp_path, [SCHOOL, unapproved], "")
    # No outside_evidence: the summer row is simply before the evidence window.
    assert _evidence(grades)[0]["reason"] == "before-window"
    in_term = [*INTERNSHIP[:4], "2026-10-05", *INTERNSHIP[5:8], "", ""]
    grades, _, _ = _grade(tmp_path, [SCHOOL, in_term], "")
    assert all(e["used"] for e in _evidence(grades))


def test_a_source_that_is_not_outside_learning_is_school_evidence(tmp_path: Path) -> None:
    """A transfer row names its school: not one of the outside sources, so no approval is
    asked and the evidence window applies."""
    transfer = [*SCHOOL[:4], "2026-09-10", "summative", "Lakeside Middle School", "", "", ""]
    grades, _, _ = _grade(tmp_path, [SCHOOL, transfer], OUTSIDE)
    entry = _evidence(grades)[0]
    assert entry["used"] and entry["source"] == "Lakeside Middle School"


def test_explain_says_why_unapproved_work_does_not_count(tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    with scores.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, SCHOOL, [*INTERNSHIP[:8], "", ""]])
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nschema_version: 1\nid: p\nframework: riverside-hs\n"
                      + OUTSIDE, encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", "0041001", "MATH.ALG.1", str(scores),
                                      "--framework", str(FRAMEWORK), "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "no one has approved yet" in result.output
