"""`mastery report` on the command line."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

DATA = Path(__file__).parent / "data" / "report"
BASE = ["--grades", str(DATA / "grades"), "--framework", str(DATA / "framework"),
        "--date", "2025-12-19", "-q"]

runner = CliRunner()


def run(*args: str) -> Any:
    # wide, so rich does not wrap the error box in the middle of a message
    return runner.invoke(app, ["report", *args], env={"COLUMNS": "240"})


def test_report_cards_and_index(tmp_path: Path) -> None:
    result = run("report-card", *BASE, "--out", str(tmp_path), "--comments",
                 str(DATA / "comments.csv"), "--term", "Fall 2025")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report-cards" / "0012345.html").is_file()
    assert (tmp_path / "report-cards" / "etc-passwd.html").is_file()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="report-cards/0012345.html"' in index
    assert "Progress report — Ana García" in index
    assert "&lt;script&gt;" in index and "<script>" not in index
    assert "unknown-reference" in result.output  # the comment about NOPE.1
    assert "wrote 4 HTML report-card documents" in result.output


def test_index_lists_documents_of_earlier_runs(tmp_path: Path) -> None:
    for kind in ("transcript", "class-summary"):
        assert run(kind, *BASE, "--out", str(tmp_path)).exit_code == 0
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "transcripts/S004.html" in index and "class-summaries/ALG1-P2.html" in index


def test_spanish_with_student_filter(tmp_path: Path) -> None:
    result = run("i-can", *BASE, "--out", str(tmp_path), "--lang", "es", "--student", "S004")
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html"))
    assert files == ["i-can/S004/ALG1.html", "i-can/S004/WATER.html", "index.html"]
    html = (tmp_path / "i-can" / "S004" / "ALG1.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in html and "Enunciados “Puedo…”" in html
    assert "missing-translation" in result.output


def test_pdf_without_weasyprint_exits_2_with_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_weasyprint(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise ImportError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    result = run("report-card", *BASE, "--out", str(tmp_path), "--pdf")
    assert result.exit_code == 2
    assert "pip install 'mastery-cli[pdf]'" in result.output
    assert not (tmp_path / "report-cards").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["poster", *BASE], "report-card, transcript, i-can, class-summary"),
        (["report-card", "--framework", str(DATA / "framework")], "no-input"),
        (["report-card", *BASE, "--student", "nobody"], "unknown-student"),
        (["report-card", *BASE, "--lang", "fr"], "unknown-language"),
        (["report-card", *BASE, "--date", "19/12/2025"], "not a date"),
        (["report-card", *BASE, "--combine"], "--combine needs --pdf"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run(*args, "--out", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert expected in result.output


def test_missing_grades_file(tmp_path: Path) -> None:
    result = run("report-card", "--grades", str(tmp_path), "--framework",
                 str(DATA / "framework"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "mastery grade" in result.output


def test_broken_custom_template_exits_1_naming_the_file(tmp_path: Path) -> None:
    custom = tmp_path / "district"
    custom.mkdir()
    (custom / "class-summary.html.j2").write_text("{{ sektion }}\n", encoding="utf-8")
    result = run("class-summary", *BASE, "--out", str(tmp_path / "out"), "--templates",
                 str(custom))
    assert result.exit_code == 1
    assert re.search(r"class-summary\.html\.j2:1: error \[template-error\].*sektion",
                     result.output)


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "mastery report report-card" in result.output


def _grades_copy(tmp_path: Path, change: Any) -> Path:
    """The test grades.json in a folder of its own, changed by ``change(document)``."""
    document = json.loads((DATA / "grades" / "grades.json").read_text(encoding="utf-8"))
    change(document)
    folder = tmp_path / "other-grades"
    folder.mkdir()
    (folder / "grades.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_grades_of_another_framework_exit_1_naming_the_folder(tmp_path: Path) -> None:
    """Grades made with another framework are an error, not empty report cards."""
    other = Path(__file__).parent / "golden" / "grade" / "inputs" / "framework.yaml"
    result = run("report-card", "--grades", str(DATA / "grades"), "--framework",
                 str(other), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 1, result.output
    assert "[grades-framework-mismatch]" in result.output
    assert str(DATA / "grades" / "grades.json") in result.output
    assert "made with framework 'riverside-test', not 'test-school'" in result.output
    assert "MATH.ALG.1" in result.output  # an id test-school does not have
    assert "hint: point --framework at the framework the grades were made with" in result.output
    assert not (tmp_path / "out").exists()


def test_grades_naming_an_unknown_target_exit_1_even_with_the_same_framework_id(
    tmp_path: Path
) -> None:
    def rename(document: dict[str, Any]) -> None:
        document["students"][0]["targets"][0]["target"] = "MATH.OLD.9"

    folder = _grades_copy(tmp_path, rename)
    result = run("report-card", "--grades", str(folder), "--framework",
                 str(DATA / "framework"), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 1, result.output
    assert "these grades do not fit framework 'riverside-test'" in result.output
    assert re.search(r"1 of the \d+ target, competency and progression ids", result.output)
    assert "MATH.OLD.9" in result.output


def test_grades_with_only_another_framework_id_warn_and_render(tmp_path: Path) -> None:
    def relabel(document: dict[str, Any]) -> None:
        document["framework"] = "riverside-copy"

    folder = _grades_copy(tmp_path, relabel)
    result = run("report-card", "--grades", str(folder), "--framework",
                 str(DATA / "framework"), "--date", "2025-12-19", "--out",
                 str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    assert "[framework-mismatch]" in result.output and "riverside-copy" in result.output
    assert "wrote 4 HTML report-card documents" in result.output


GRADE_INPUTS = Path(__file__).parent / "golden" / "grade" / "inputs"


def _friday_export(tmp_path: Path) -> Path:
    scores = tmp_path / "friday.csv"
    scores.write_text(
        "student_id,student_name,target,assessment,type,date,score\n"
        "0012,Ana,T1,Quiz 1,summative,2026-09-01,7\n"       # off the 0-5 scale: rejected
        "0012,Ana,T1,Quiz 2,summative,2026-09-08,3\n"
        "0012,Ana,T1,Quiz 3,summative,2026-09-15,\n"        # blank: set aside
        "0012,Ana,T9,Quiz 3,summative,2026-09-15,2\n",      # unknown target: rejected
        encoding="utf-8")
    return scores


def test_report_from_csv_prints_what_grade_prints_and_the_default_policy(tmp_path: Path) -> None:
    """The warnings and the row accounting of `mastery grade`, line for line (the levels
    table and the files written are grade's own), and which policy graded them."""
    scores = _friday_export(tmp_path)
    framework = ["--framework", str(GRADE_INPUTS / "framework.yaml")]
    graded = runner.invoke(app, ["grade", str(scores), *framework, "--out",
                                 str(tmp_path / "grades")], env={"COLUMNS": "240"})
    assert graded.exit_code == 0, graded.output
    expected = graded.output.split("Levels per competency")[0].splitlines()
    assert "4 rows read = 1 used + 1 set aside + 2 rejected" in expected
    assert any("[score-off-scale] score 7 is outside scale 'points'" in line
               for line in expected)
    result = run("report-card", str(scores), *framework, "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line in expected] == expected
    assert ("Graded with the default policy (no --policy given): "
            "decaying_average(weight=0.65), every piece of evidence counts, one score is "
            "enough.") in lines


def test_report_from_csv_names_the_policy_and_its_warnings(tmp_path: Path) -> None:
    scores = _friday_export(tmp_path)
    policy = tmp_path / "policy.yaml"
    text = (GRADE_INPUTS / "policy.yaml").read_text(encoding="utf-8")
    assert text.endswith("    - grade: F\n")
    # Without its catch-all rule the policy is usable, with a warning.
    policy.write_text(text.removesuffix("    - grade: F\n"), encoding="utf-8")
    options = ["--framework", str(GRADE_INPUTS / "framework.yaml"), "--policy", str(policy)]
    graded = runner.invoke(app, ["grade", str(scores), *options, "--out",
                                 str(tmp_path / "grades")], env={"COLUMNS": "240"})
    assert graded.exit_code == 0, graded.output
    expected = graded.output.split("Levels per competency")[0].splitlines()
    assert any("[no-catch-all-rule]" in line for line in expected)
    result = run("report-card", str(scores), *options, "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line in expected] == expected
    assert (f"Graded with policy 'test-policy' ({policy}): decaying_average(weight=0.65); "
            "overrides for H1.") in result.output
