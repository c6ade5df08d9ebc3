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
