"""The roster (--roster): SIS column names, what it puts on cards and transcripts, bad cells."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_report_render import make_data

from mastery_cli.diagnostics import MasteryError
from mastery_cli.reports import plan_documents
from mastery_cli.reports.environment import make_environment
from mastery_cli.reports.render import render_html
from mastery_cli.reports.roster import find_roster_columns, parse_birth_date, read_roster

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_sis_column_names_are_recognised() -> None:
    header = ["Student Number", "Last, First", "Grade Level", "Homeroom Teacher", "Section",
              "Teacher", "Days Present", "Days Absent", "DOB"]
    assert find_roster_columns(header) == {
        "student_id": 0, "grade_level": 2, "advisor": 3, "section": 4, "teacher": 5,
        "days_present": 6, "days_absent": 7, "date_of_birth": 8}
    assert find_roster_columns(["SIS ID", "Grade", "Absences", "Birth Date"]) == {
        "student_id": 0, "grade_level": 1, "days_absent": 2, "date_of_birth": 3}
    # As in the gradebook: "Student Number" before a "Student" column, wherever it is.
    assert find_roster_columns(["Student", "Student Number"])["student_id"] == 1


def test_one_row_per_section_collects_teachers(tmp_path: Path) -> None:
    path = write(tmp_path, "Student Number,Grade Level,Advisor,Section,Teacher,Days Present,"
                           "Days Absent,DOB\n"
                           "0012345,9,Ms. Alvarez,ALG1-P2,Ms. Rivera,84,3.5,04/02/2011\n"
                           "0012345,9,Ms. Alvarez,WATER-A,Dr. Chen,84,3.5,04/02/2011\n")
    roster, problems = read_roster(path, ["0012345"])
    assert problems == []
    entry = roster.entries["0012345"]
    assert entry.grade_level == "9" and entry.advisor == "Ms. Alvarez"
    assert entry.teachers == {"ALG1-P2": "Ms. Rivera", "WATER-A": "Dr. Chen"}
    assert entry.days_present == Decimal("84") and entry.days_absent == Decimal("3.5")
    assert entry.date_of_birth == date(2011, 4, 2)


def test_bad_cells_are_located_warnings_and_left_off(tmp_path: Path) -> None:
    path = write(tmp_path, "student_id,days_absent,date_of_birth\n"
                           "0012345,three,2011-02-30\n"
                           "70107,1,2011-01-01\n")
    roster, problems = read_roster(path, ["0012345", "0070107"])
    entry = roster.entries["0012345"]
    assert entry.days_absent is None and entry.date_of_birth is None
    by_code = sorted((p.code, p.line, p.column) for p in problems)
    assert by_code == [("bad-roster-cell", 2, 2), ("bad-roster-cell", 2, 3),
                       ("unknown-student", 3, 1)]
    assert all(p.severity.value == "warning" for p in problems)


def test_roster_without_student_id_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MasteryError) as caught:
        read_roster(write(tmp_path, "name,grade\nAna,9\n"))
    assert caught.value.diagnostics[0].code == "missing-column"


def test_birth_dates_in_iso_and_us_order() -> None:
    assert parse_birth_date("2011-04-02") == parse_birth_date("04/02/2011") == date(2011, 4, 2)
    assert parse_birth_date("31/12/2011") is None


@pytest.mark.parametrize("lang", ["en", "es"])
def test_card_and_transcript_carry_the_roster(tmp_path: Path, lang: str) -> None:
    data = make_data(lang)
    data.roster, _ = read_roster(write(
        tmp_path, "Student Number,Grade Level,Advisor,Section,Teacher,Days Present,Days Absent,"
                  "DOB\n0012345,9,Ms. Alvarez,ALG1-P2,Ms. Rivera,84,3.5,04/02/2011\n"),
        data.students)
    env = make_environment(lang, data.options.locale)
    [card] = plan_documents(data, "report-card", students=["0012345"])
    html = render_html(env, data, card)
    [transcript] = plan_documents(data, "transcript", students=["0012345"])
    transcript_html = render_html(env, data, transcript)
    if lang == "en":
        for text in ("Grade:</dt><dd>9", "Advisor:</dt><dd>Ms. Alvarez", "Ms. Rivera",
                     "84 days present, 3.5 days absent"):
            assert text in html
        assert "Date of birth:</dt><dd>April 2, 2011" in transcript_html
    else:
        assert "Grado:</dt><dd>9" in html and "Consejero:</dt><dd>Ms. Alvarez" in html
        assert "84 días de asistencia, 3,5 días de ausencia" in html
        assert "Fecha de nacimiento:</dt><dd>2 de abril de 2011" in transcript_html
    # A student the roster does not list gets no empty lines.
    [other] = plan_documents(data, "report-card", students=["S004"])
    assert "Advisor" not in render_html(env, data, other)


def test_example_roster_covers_every_example_student(tmp_path: Path) -> None:
    """examples/roster.csv (make demo uses it) names every student of the example gradebook,
    with no bad cell."""
    import json

    from typer.testing import CliRunner

    from mastery_cli.cli import app

    files = sorted(str(p) for p in (ROOT / "examples" / "gradebook").glob("*.csv"))
    result = CliRunner().invoke(app, [
        "grade", *files, "--framework", str(ROOT / "examples" / "framework"), "--policy",
        str(ROOT / "examples" / "policy.yaml"), "--out", str(tmp_path), "--format", "json",
        "-q"])
    assert result.exit_code == 0, result.output
    grades = json.loads((tmp_path / "grades.json").read_text(encoding="utf-8"))
    students = [s["id"] for s in grades["students"]]
    roster, problems = read_roster(ROOT / "examples" / "roster.csv", students)
    assert problems == []
    assert sorted(roster.entries) == sorted(students)
    assert all(e.grade_level and e.advisor and e.teachers and e.days_present is not None
               and e.date_of_birth for e in roster.entries.values())
