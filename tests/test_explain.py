"""`mastery explain`: the evidence, what was set aside, the method, the arithmetic, the level,
for a target, a competency and a course grade."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mastery_cli.cli import app

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "tests" / "golden" / "grade" / "inputs"
COMMON = [str(INPUTS / "scores.csv"), "--framework", str(INPUTS / "framework.yaml"),
          "--policy", str(INPUTS / "policy.yaml")]


def explain(student: str, subject: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["explain", student, subject, *COMMON, *extra],
                                env={"COLUMNS": "120"})
    return result.exit_code, result.output


def test_target_explanation_has_evidence_arithmetic_and_level() -> None:
    code, text = explain("0012", "T1")
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0] == 'Student 0012 (García, Ana): target T1 "Solve equations." (competency C1)'
    used = [line for line in lines if line.startswith("  ") and line.strip()[:2] in
            ("1.", "2.", "3.", "4.")]
    assert [line.split()[1] for line in used] == ["2026-09-01", "2026-09-08", "2026-09-22",
                                                  "2026-10-06"]
    assert "Diagnostic (diagnostic)  score 1.00" in used[0]
    assert any("Practice (formative)" in line and "[type-excluded;" in line for line in lines)
    assert "Method: decaying_average (weight 0.65)" in text
    # Working values unrounded, so a calculator redoes each step from the printed numbers.
    assert "d3 = 1.65 × 0.35 + 3.00 × 0.65 = 2.5275" in text
    assert "d4 = 2.5275 × 0.35 + 4.00 × 0.65 = 3.484625" in text
    assert "Result: 3.48 (3.484625 rounded half up to 2 places)." in text
    assert ("Level: 3.484625 shows as 3.48 at 2 places, which reaches level 3 (Proficient)"
            in text)
    assert "3 Proficient from 2.5" in text  # the policy's cut point


def test_insufficient_evidence_is_explained_not_zero() -> None:
    code, text = explain("0012", "T3")
    assert code == 0
    assert "Only 1 piece of evidence counted; the policy needs 2." in text
    assert "insufficient evidence" in text and "this is not a zero" in text


def test_competency_explanation_shows_the_rollup() -> None:
    code, text = explain("0012", "C1")
    assert code == 0
    assert "T3: insufficient-evidence" in text
    assert "(3.484625 + 3.65) / 2 = 3.5673125" in text
    assert "Level: 3.5673125 shows as 3.57 at 2 places, which reaches level 4 (Advanced)" in text


def test_course_explanation_shows_the_deciding_rule() -> None:
    code, text = explain("0012", "CRS")
    assert code == 0
    assert "Not counted (efficacy, reported separately): E1." in text
    assert "(3.5673125 × 1 + 3.65 × 1) / 2 = 3.60865625 shows as 3.61 at 2 places" in text
    assert "A: at least 50% of competencies at 4 or above and none below 3 -> holds" in text
    assert "Course grade: A" in text
    code, text = explain("0345", "CRS")
    assert "-> does not hold" in text and "Course grade: B" in text


def test_efficacy_competency_says_it_stays_out_of_grades() -> None:
    code, text = explain("0012", "E1")
    assert code == 0 and "does not count in course grades" in text


def test_unknown_student_and_subject_exit_1_with_hints() -> None:
    code, text = explain("12", "T1")
    assert code == 1 and "no evidence for student '12'" in text
    code, text = explain("0012", "T11")
    assert code == 1 and "'T11' is not a target, competency or course" in text
    assert "Traceback" not in text


def test_method_option_changes_the_explanation() -> None:
    code, text = explain("0012", "T1", "--method", "highest")
    assert code == 0
    assert "Method: highest" in text and "Result: 4.00" in text


def explain_file(path: Path, student: str, subject: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [
        "explain", student, subject, str(path), "--framework", str(INPUTS / "framework.yaml"),
        "--policy", str(INPUTS / "policy.yaml")], env={"COLUMNS": "120"})
    return result.exit_code, result.output


HEADER = "student_id,student_name,target,assessment,type,date,score\n"


def test_every_row_of_the_student_and_target_is_accounted_for(tmp_path: Path) -> None:
    """Used, set aside (the policy's reasons and the reader's: blank, duplicate) and rejected
    rows, each with file:row, the cell and the reason; an off-scale score does not vanish."""
    scores = tmp_path / "friday.csv"
    scores.write_text(HEADER + "\n".join([
        "0012,Ana,T1,Quiz 1,summative,2026-09-01,7",            # 2: off the 0-5 scale
        "0012,Ana,T1,Quiz 2,summative,2026-09-08,3",            # 3: used
        "0012,Ana,T1,Quiz 3,summative,2026-09-09,three",        # 4: not a number
        "0012,Ana,T1,Quiz 4,summative,2026-13-09,3",            # 5: not a date
        "0012,Ana,T1,Quiz 5,summative,2026-09-10,",             # 6: blank: set aside
        "0012,Ana,T1,Quiz 2,summative,2026-09-08,3",            # 7: copy of 3: set aside
        "0012,Ana,T1,Practice,formative,2026-09-08,2",          # 8: type excluded
        "0012,Ana,T 1,Quiz 6,summative,2026-09-11,3",           # 9: unknown target
        "0012,Ana,T2,Quiz 1,summative,2026-09-01,9",            # 10: another target
        "0345,Bo,T1,Quiz 1,summative,2026-09-01,8",             # 11: another student
    ]) + "\n", encoding="utf-8")
    code, text = explain_file(scores, "0012", "T1")
    assert code == 0, text
    name = str(scores)
    rejected = text.split("Rejected (not counted; fix them in the file and grade again):\n")[1]
    rejected = rejected.split("Rows of this student")[0].splitlines()
    assert rejected == [
        f"  - score '7': score 7 is outside scale 'points' (0–5) [score-off-scale; {name}:2]",
        f"  - score 'three': score 'three' is not a number or a level of scale 'points'; use a "
        f"number from 0–5 or a level label (Not yet, Beginning, Developing, Proficient, "
        f"Advanced, Exceeding), EX or M [non-numeric-score; {name}:4]",
        f"  - date '2026-13-09': date '2026-13-09' is not a date (write it as YYYY-MM-DD or "
        f"MM/DD/YYYY) [bad-date; {name}:5]",
    ]
    assert f"[type-excluded; {name}:8]" in text
    assert f"  - score '': no score in this cell: no evidence (not counted as zero) [no-score; " \
           f"{name}:6]" in text
    assert f"  - the row: exact copy of line 3: dropped [duplicate-row; {name}:7]" in text
    assert "Rows of this student for this target: 7 = 1 used + 3 set aside + 3 rejected." in text
    assert "with no target of the framework" in text and f"[unknown-target; {name}:9]" in text
    assert ":10]" not in text and ":11]" not in text  # other targets, other students
    assert "Only 1 piece of evidence counted; the policy needs 2." in text


def test_a_student_whose_every_row_was_rejected_is_explained(tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text(HEADER + "0099,Cy,T1,Quiz 1,summative,2026-09-01,7\n"
                      "0012,Ana,T1,Quiz 1,summative,2026-09-01,3\n", encoding="utf-8")
    code, text = explain_file(scores, "0099", "T1")
    assert code == 0, text
    assert "Evidence used: none." in text
    assert f"score '7': score 7 is outside scale 'points' (0–5) [score-off-scale; {scores}:2]" \
        in text
    assert "Rows of this student for this target: 1 = 0 used + 0 set aside + 1 rejected." in text
