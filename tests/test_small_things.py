"""Small things people noticed (issue 17): a dangling "the goal:", plurals, level labels."""

from __future__ import annotations

import csv
from pathlib import Path

from babel import Locale
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.cli.grade_run import _level_tables
from mastery_cli.grading.pipeline import GradeCounts
from mastery_cli.grading.summary import LevelRow, RunSummary
from mastery_cli.plurals import counted, noun
from mastery_cli.reports.environment import make_environment
from mastery_cli.validation import load_framework
from tests.test_report_render import DATA

REPO = Path(__file__).resolve().parents[1]

LEGEND = '{% import "macros.html.j2" as m %}{{ m.legend(scales, policy) }}'


def _scale(descriptor: str) -> dict[str, object]:
    level = {"text": "3", "label": "Proficient", "tone": 4, "descriptor": descriptor,
             "is_mastery": True}
    return {"title": "Academic", "description": "", "levels": [level]}


def test_the_goal_without_a_descriptor_has_no_dangling_colon() -> None:
    env = make_environment("en", Locale.parse("en"))
    bare = env.from_string(LEGEND).render(scales=[_scale("")], policy={})
    assert "<strong>the goal</strong></dd>" in bare and "the goal:" not in bare
    described = env.from_string(LEGEND).render(scales=[_scale("Meets it.")], policy={})
    assert "<strong>the goal:</strong> Meets it.</dd>" in described


def test_counted_nouns_agree() -> None:
    assert counted(1, "course grade", "course grades") == "1 course grade"
    assert counted(0, "course grade", "course grades") == "0 course grades"
    assert counted(2, "place", "places") == "2 places"
    assert f"0 of 1 {noun(1, 'target', 'targets')}" == "0 of 1 target"


def test_level_table_has_one_table_per_scale_with_labels() -> None:
    framework, _ = load_framework(DATA / "framework")
    summary = RunSummary(
        counts=GradeCounts(), students=2, target_results=0, competency_results=2,
        course_grades=0, not_used=(), levels=(1.0, 2.0, 3.0, 4.0),
        level_rows=(LevelRow("HAB.COL", (0, 1, 2, 0), 1), LevelRow("MATH.NQ", (1, 0, 3, 1), 0)))
    tables = _level_tables(summary, framework)
    titles = [title for title, _, _ in tables]
    assert titles[0].endswith("Academic scale")  # the default scale first
    # The levels its competencies reached (no 2), each with its label.
    assert [h.split(" ", 1)[0] for h in tables[0][1]] == ["1", "3", "4"]
    assert all(len(h.split(" ", 1)) == 2 for h in tables[0][1])
    assert tables[0][2] == [("MATH.NQ", [1, 3, 1], 0)]
    # Without the framework: the plain table, headed by numbers.
    [(_title, headers, rows)] = _level_tables(summary, None)
    assert headers == ["1", "2", "3", "4"] and len(rows) == 2


def test_rejects_show_the_cell_as_written_and_the_column_as_the_file_spells_it(
        tmp_path: Path) -> None:
    """Work set aside as excused or missing shows its cell ("EX", "M"), not the status; every
    row names the column by the file's own header ("Score", "Standard"), the reader's rejects
    and the policy's set-aside rows alike."""
    scores = tmp_path / "scores.csv"
    scores.write_text("Student ID,Name,Standard,Score,Date\n"
                      "0041001,Ana,MATH.ALG.1,EX,2026-10-01\n"
                      "0041001,Ana,MATH.ALG.1, m ,2026-10-02\n"
                      "0041001,Ana,MATH.ALG.9,3,2026-10-02\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["grade", str(scores), "--framework",
                                      str(REPO / "examples" / "framework"), "--out", str(out),
                                      "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "rejects.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["row"], r["student_id"], r["column"], r["value"], r["reason"]) for r in rows] == [
        ("2", "0041001", "Score", "EX", "excused"),
        ("3", "0041001", "Score", "m", "missing"),
        ("4", "0041001", "Standard", "MATH.ALG.9", "unknown-target"),
    ]
