"""Transcripts across terms: term and cumulative credits, competencies mastered, GPA.

Every figure is worked out by hand in the comments (exact decimals, rounded half up to 2
places), not by the code under test.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports import ReportData, ReportOptions
from mastery_cli.reports.gpa import GpaTable, average
from mastery_cli.reports.i18n import parse_language
from mastery_cli.reports.terms import Term, merged_grades, ordered_terms
from mastery_cli.validation import load_framework
from tests.test_report_render import DATA, REPORT_DATE

FOUR_POINTS = {"points": {"4": 4.0, "3": 3.0, "2": 2.0, "1": 1.0}, "weights": {}}


def fall() -> dict[str, Any]:
    """The report test grades (2025 evidence): 0012345 has ALG1 3 (1 credit) and WATER 3
    (0.5 credit), and mastered MATH.NQ (ALG1) and HAB.COL (a habit: never listed)."""
    grades = json.loads((DATA / "grades" / "grades.json").read_text(encoding="utf-8"))
    grades["policy"]["gpa"] = FOUR_POINTS
    return grades


def spring() -> dict[str, Any]:
    """A later term: ALG1 4 (1 credit) and WATER 2 (0.5 credit), WATER weighing 2 in the
    GPA; every piece of evidence dated 2026."""
    grades = fall()
    grades["policy"]["gpa"] = {**FOUR_POINTS, "weights": {"WATER": 2}}
    for student in grades["students"]:
        for target in student.get("targets") or []:
            for piece in target.get("evidence") or []:
                piece["date"] = "2026-03-02"
        for course in student.get("courses") or []:
            course["grade"] = {"ALG1": "4", "WATER": "2"}[course["course"]] \
                if course["status"] == "ok" else None
    return grades


def report_data(terms: list[Term], lang: str = "en") -> ReportData:
    framework, _ = load_framework(DATA / "framework")
    language, locale = parse_language(lang)
    ordered = ordered_terms(terms)
    return ReportData(merged_grades(ordered), framework,
                      ReportOptions(language, locale, REPORT_DATE, html_lang=lang),
                      terms=ordered)


def test_terms_are_ordered_by_their_evidence_not_as_given() -> None:
    terms = ordered_terms([Term("Spring", spring()), Term("Fall", fall())])
    assert [t.label for t in terms] == ["Fall", "Spring"]


def test_cumulative_credits_and_gpa_by_hand() -> None:
    transcript = report_data([Term("Spring", spring()), Term("Fall", fall())]).transcript(
        "0012345")
    first, second = transcript["terms"]
    assert first["label"] == "Fall"
    # Fall: 1 + 0.5 credits; GPA (3 x 1 + 3 x 0.5) / 1.5 = 3.00
    assert (first["credits_earned"], first["cumulative_credits"]) == ("1.5", "1.5")
    assert (first["gpa"], first["cumulative_gpa"]) == ("3.00", "3.00")
    # Spring: 1.5 more, 3 in all; GPA (4 x 1 + 2 x 2) / 3 = 2.666.. -> 2.67
    assert (second["credits_earned"], second["cumulative_credits"]) == ("1.5", "3")
    assert second["gpa"] == "2.67"
    # Cumulative: (3 + 1.5 + 4 + 4) / (1 + 0.5 + 1 + 2) = 12.5 / 4.5 = 2.777.. -> 2.78
    assert second["cumulative_gpa"] == transcript["gpa"] == "2.78"
    assert transcript["credits_earned"] == "3"
    assert [c["term"] for c in transcript["courses"]] == ["Fall", "Fall", "Spring", "Spring"]
    algebra = first["courses"][0]
    assert algebra["id"] == "ALG1" and algebra["grade_points"] == "3.00"
    assert algebra["competencies_mastered"] == ["Number and Quantity"]


def test_no_gpa_without_a_gpa_table() -> None:
    plain = fall()
    del plain["policy"]["gpa"]
    transcript = report_data([Term("Fall", plain), Term("Spring", spring())]).transcript(
        "0012345")
    first, second = transcript["terms"]
    assert not first["has_gpa"] and first["gpa"] == ""
    assert second["gpa"] == "2.67"
    # One term without points: no cumulative GPA rather than one that leaves a term out.
    assert second["cumulative_gpa"] == transcript["gpa"] == ""


def test_courses_without_grade_points_are_left_out() -> None:
    # S004 has no ALG1 or WATER grade yet (insufficient evidence, not assessed): no GPA.
    transcript = report_data([Term("Fall", fall())]).transcript("S004")
    assert transcript["terms"][0]["gpa"] == ""
    assert transcript["terms"][0]["has_gpa"]


def test_gpa_rounds_half_up_in_exact_decimals() -> None:
    # (2.25 + 2) / 2 = 2.125: half up gives 2.13 (binary floats and half-even give 2.12).
    assert average([(Decimal("2.25"), Decimal(1)), (Decimal(2), Decimal(1))]) == Decimal(
        "2.13")
    # 0.1-credit courses: (4 x 0.1 + 1 x 0.2) / 0.3 = 2 exactly.
    assert average([(Decimal(4), Decimal("0.1")), (Decimal(1), Decimal("0.2"))]) == 2
    assert average([]) is None


def test_gpa_table_weights_default_to_credits_then_one() -> None:
    table = GpaTable.of({"gpa": {"points": {"A": 4, "P": 0}, "weights": {"X": 2}}})
    assert table is not None
    assert table.entry("X", "A", 0.5) == (Decimal(4), Decimal(2))
    assert table.entry("Y", "A", 0.5) == (Decimal(4), Decimal("0.5"))
    assert table.entry("Y", "A", None) == (Decimal(4), Decimal(1))
    assert table.entry("Y", "B", 1.0) is None
    assert GpaTable.of({"method": "mean"}) is None


def test_cli_renders_a_two_term_transcript(tmp_path: Path) -> None:
    for name, grades in (("fall", fall()), ("spring", spring())):
        (tmp_path / name).mkdir()
        (tmp_path / name / "grades.json").write_text(json.dumps(grades), encoding="utf-8")
    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", f"Spring 2026={tmp_path / 'spring'}",
        "--grades", f"Fall 2025={tmp_path / 'fall'}", "--framework", str(DATA / "framework"),
        "--student", "0012345", "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "transcripts" / "0012345.html").read_text(encoding="utf-8")
    assert html.index("Fall 2025") < html.index("Spring 2026")
    assert "Cumulative credits: 3" in html and "Cumulative GPA: 2.78" in html


def test_cli_reads_a_folder_of_terms(tmp_path: Path) -> None:
    terms = tmp_path / "terms"
    for name, grades in (("2-spring", spring()), ("1-fall", fall())):
        (terms / name).mkdir(parents=True)
        (terms / name / "grades.json").write_text(json.dumps(grades), encoding="utf-8")
    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", str(terms), "--framework",
        str(DATA / "framework"), "--student", "0012345", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "transcripts" / "0012345.html").read_text(encoding="utf-8")
    assert "1-fall" in html and "Total credits earned: 3" in html


def test_several_terms_are_for_transcripts_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "grades.json").write_text(json.dumps(fall()), encoding="utf-8")
    result = CliRunner().invoke(app, [
        "report", "report-card", "--grades", str(tmp_path / "a"), "--grades",
        str(tmp_path / "a"), "--framework", str(DATA / "framework"),
        "--out", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "transcript" in result.output


def test_merged_grades_keep_every_student_once() -> None:
    later = spring()
    later["students"] = later["students"][:1]
    merged = merged_grades([Term("Fall", fall()), Term("Spring", later)])
    ids = [s["id"] for s in merged["students"]]
    assert len(ids) == len(set(ids)) == len(fall()["students"])
    assert copy.deepcopy(merged["policy"]) == later["policy"]


def test_validate_gpa_keys(tmp_path: Path) -> None:
    from tests.test_policy import check

    rules = ("course_grade:\n  rules:\n    - {grade: A, none_below: 3}\n    - grade: F\n")
    assert check(tmp_path, rules + "  gpa: {A: 4, F: 0}\n  gpa_weights: {CRS: 2}\n") == []
    lines = check(tmp_path, rules + "  gpa: {A: 4, B: 3}\n  gpa_weights: {CRX: 1}\n")
    joined = "\n".join(lines)
    assert "[gpa-unknown-grade] grade 'B' has GPA points but no course-grade rule" in joined
    assert "[gpa-missing-grade] grade F has no GPA points" in joined
    assert "[unresolved-reference] course 'CRX' is not defined in the framework" in joined
    assert "[gpa-weights-without-gpa]" in "\n".join(
        check(tmp_path, rules + "  gpa_weights: {CRS: 1}\n"))
    assert any("gpa" in line for line in check(tmp_path, rules + "  gpa: {A: -1, F: 0}\n"))


def test_example_gradebooks_are_what_their_scripts_write(tmp_path: Path) -> None:
    """examples/gradebook*/ are generated: the scripts write them byte for byte (the fall's
    Canvas file names outcomes by the framework's titles, so it follows the framework)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    for script, folder in (("make_example_gradebook.py", "gradebook"),
                           ("make_example_spring_gradebook.py", "gradebook-spring")):
        out = tmp_path / folder
        subprocess.run([sys.executable, str(root / "benchmarks" / script), "--out", str(out)],
                       check=True, capture_output=True)
        for written in sorted(out.glob("*.csv")):
            assert written.read_bytes() == (root / "examples" / folder / written.name
                                            ).read_bytes(), written.name
