"""What decided a course grade is said in the report's language, not the policy's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app

INPUTS = Path(__file__).resolve().parent / "golden" / "grade" / "inputs"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grades")
    result = CliRunner().invoke(app, [
        "grade", str(INPUTS / "scores.csv"), "--framework", str(INPUTS / "framework.yaml"),
        "--policy", str(INPUTS / "policy.yaml"), "--out", str(out), "--format", "json", "-q",
    ])
    assert result.exit_code == 0, result.output
    return out


def _decided(graded: Path, tmp_path: Path, lang: str) -> list[str]:
    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", str(graded), "--framework",
        str(INPUTS / "framework.yaml"), "--out", str(tmp_path), "--lang", lang,
        "--date", "2027-01-29", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    cells = []
    for page in sorted((tmp_path / "transcripts").glob("*.html")):
        cells += re.findall(r"<td>((?:Rule|Regla)[^<]*)</td>", page.read_text(encoding="utf-8"))
    return cells


def test_generated_rule_text_is_translated(graded: Path, tmp_path: Path) -> None:
    rules = json.loads((graded / "grades.json").read_text(encoding="utf-8"))["policy"][
        "course_rules"]
    assert all(rule["description"] is None for rule in rules), "this policy words no rule"
    english = _decided(graded, tmp_path / "en", "en")
    spanish = _decided(graded, tmp_path / "es", "es")
    assert english and len(english) == len(spanish)
    assert all(cell.startswith("Rule ") for cell in english)
    assert all(cell.startswith("Regla ") for cell in spanish)
    assert not any(" and " in cell or "none below" in cell for cell in spanish)


def test_policy_descriptions_per_language(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    out = tmp_path / "grades"
    files = sorted(str(p) for p in (examples / "gradebook").glob("*.csv"))
    result = CliRunner().invoke(app, [
        "grade", *files, "--framework", str(examples / "framework"),
        "--policy", str(examples / "policy.yaml"), "--out", str(out), "--format", "json", "-q",
    ])
    assert result.exit_code == 0, result.output
    csv_text = (out / "course_grades.csv").read_text(encoding="utf-8")
    assert "rule C: at least half the competencies at 3 and none below 2" in csv_text
    result = CliRunner().invoke(app, [
        "report", "transcript", "--grades", str(out), "--framework", str(examples / "framework"),
        "--out", str(tmp_path / "es"), "--lang", "es", "--date", "2027-01-29",
        "--student", "0041002", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "es" / "transcripts" / "0041002.html").read_text(encoding="utf-8")
    assert "Regla C: al menos la mitad de las competencias en 3 y ninguna por debajo de 2" in page
