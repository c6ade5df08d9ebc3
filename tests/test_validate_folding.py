"""A misspelled key is one error: the references it leaves unresolved are counted in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.diagnostics import MasteryError
from mastery_cli.validation import load_framework, validate_paths

CASES = Path(__file__).parent / "cases"


def _errors(path: Path) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in validate_paths([path]).errors]


def test_a_misspelled_section_is_one_error_counting_its_references() -> None:
    [unknown, other] = _errors(CASES / "misspelled-section")
    assert unknown[0] == "schema-unknown-key"
    # course ELA + ENG10 ELA.WR.1 + the two progression steps + two rubric criteria + the
    # policy override: 7, the rubric and the policy in other files.
    assert "7 references to it (ELA, ELA.RD.1, ELA.WR.1)" in unknown[1]
    assert other == ("unresolved-reference", "target 'ELA.WR.9' is not defined")


def test_the_same_reference_without_the_typo_resolves(tmp_path: Path) -> None:
    """The fold counts only what the typo hides: with the key spelled right, all is well."""
    shutil.copytree(CASES / "misspelled-section", tmp_path / "case")
    framework = tmp_path / "case" / "framework.yaml"
    framework.write_text(framework.read_text(encoding="utf-8").replace(
        "competences:", "competencies:"), encoding="utf-8")
    assert _errors(tmp_path / "case") == [
        ("unresolved-reference", "target 'ELA.WR.9' is not defined")]


def test_an_id_defined_nowhere_is_not_folded(tmp_path: Path) -> None:
    data = yaml.safe_load((CASES / "misspelled-section" / "framework.yaml").read_text())
    data["courses"][0]["competencies"] = ["MATH"]
    (tmp_path / "framework.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    codes = [code for code, _ in _errors(tmp_path)]
    assert codes.count("unresolved-reference") == 2  # MATH and ELA.WR.9
    assert codes.count("schema-unknown-key") == 1


def test_grade_and_report_see_the_folded_error() -> None:
    with pytest.raises(MasteryError) as caught:
        load_framework(CASES / "misspelled-section" / "framework.yaml")
    codes = [d.code for d in caught.value.diagnostics]
    assert codes == ["schema-unknown-key", "unresolved-reference"]


def test_json_output_carries_the_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    result = CliRunner().invoke(app, ["validate", "--format", "json", "misspelled-scales"])
    assert result.exit_code == 1
    assert '"schema-unknown-key"' in result.stdout
    assert "missing-scale" not in result.stdout and "unresolved-reference" not in result.stdout
