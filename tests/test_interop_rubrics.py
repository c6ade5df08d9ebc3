"""CASE rubrics on import: rubric files, the scale built from their levels, lossless export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.case_export import (
    case_package_text,
    check_official_schema,
    export_case_package,
)
from mastery_cli.interop.case_import import ImportOptions, read_case_package
from mastery_cli.interop.case_rubrics import SCALE_ID, scale_from_rubrics
from mastery_cli.interop.files import render_framework_files, write_and_check
from mastery_cli.validation import load_framework, validate_paths

DATA = Path(__file__).parent / "data" / "interop"
RUBRIC_CASE = DATA / "rubric-case.json"
OFFICIAL = (Path(__file__).resolve().parents[2] / "shared" / "realdata" / "case" / "schemas"
            / "1edtech-case-v1p1-cfpackage.official.json")
runner = CliRunner()


def imported(tmp_path: Path, **options: Any) -> tuple[Any, Path]:
    result = read_case_package(RUBRIC_CASE, ImportOptions(**options))
    checked = write_and_check(result.files, tmp_path, source=RUBRIC_CASE.name)
    assert checked.errors == []
    return result, tmp_path


def rubric_file(folder: Path, name: str) -> dict[str, Any]:
    data = yaml.safe_load((folder / "rubrics" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_rubrics_become_rubric_files_that_validate(tmp_path: Path) -> None:
    result, out = imported(tmp_path)
    assert sorted(p.name for p in (out / "rubrics").iterdir()) == [
        "argument-writing.yaml", "conventions-checklist.yaml"]
    assert result.counts["rubric_files"] == 2
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    validation = validate_paths([out])
    assert validation.errors == []
    framework = validation.frameworks["example-writing-standards"]
    # every criterion of every rubric file resolves to a target of the framework
    criteria = [(r.id, c.target) for r in validation.rubrics for c in r.criteria]
    assert criteria == [("argument-writing", "W.1"), ("argument-writing", "W.2.a"),
                        ("conventions-checklist", "W.3")]
    assert all(target in framework.targets for _, target in criteria)


def test_rated_rubric_keeps_levels_labels_and_weight(tmp_path: Path) -> None:
    _, out = imported(tmp_path)
    argument = rubric_file(out, "argument-writing")
    assert argument["design"] == "rated"
    assert argument["framework"] == "example-writing-standards"
    assert argument["scale"] == SCALE_ID
    assert argument["description"] == "Scores an argumentative essay."
    claim = argument["criteria"][0]
    assert claim["title"] == "Claim and evidence" and claim["weight"] == 2
    # the package lists the levels highest first; the file goes up the scale
    assert [(lv["value"], lv["label"]) for lv in claim["levels"]] == [
        (0, "Not yet"), (1, "Approaching"), (2, "Meets"), (3, "Exceeds")]
    assert claim["levels"][2]["description"] == "States a claim supported by relevant evidence."
    conventions = rubric_file(out, "conventions-checklist")
    assert conventions["design"] == "indicators"
    assert conventions["criteria"] == [
        {"id": "W.3", "title": "Spelling and grammar", "target": "W.3"}]


def test_scale_is_built_from_the_rubric_scores(tmp_path: Path) -> None:
    _, out = imported(tmp_path)
    framework, _ = load_framework([out])
    scale = framework.default_scale
    assert scale is not None and scale.id == SCALE_ID
    assert [(lv.value, framework.text(lv.label)) for lv in scale.levels] == [
        (0, "Not yet"), (1, "Approaching"), (2, "Meets"), (3, "Exceeds")]
    assert scale.mastery_value == 2  # "Meets" names proficiency
    # the criterion's levels became the target's indicators
    assert framework.targets["W.1"].indicators[3.0] == "Weighs counter-claims and evidence."
    assert (framework.targets["W.3"].case or {}).get("placeholder_indicators") is True


def test_criteria_without_a_target_are_left_out_with_their_pointer() -> None:
    result = read_case_package(RUBRIC_CASE)
    notes = {d.code: d for d in result.diagnostics if d.code.startswith("case-rubric")}
    assert set(notes) == {"case-rubric-criterion-not-target", "case-rubric-criterion-unlinked",
                          "case-rubric-unknown-item"}
    assert notes["case-rubric-criterion-not-target"].pointer == (
        "/CFRubrics/0/CFRubricCriteria/2/CFItemURI")
    assert "/CFRubrics/0/CFRubricCriteria/2 " in notes[
        "case-rubric-criterion-not-target"].message
    assert notes["case-rubric-criterion-unlinked"].pointer == "/CFRubrics/0/CFRubricCriteria/3"
    assert notes["case-rubric-unknown-item"].pointer == "/CFRubrics/1/CFRubricCriteria/1/CFItemURI"
    assert all(d.severity.value == "warning" for d in notes.values())


def test_a_criterion_on_a_folded_component_assesses_its_target(tmp_path: Path) -> None:
    _, out = imported(tmp_path, levels="Domain,Standard")
    argument = rubric_file(out, "argument-writing")
    assert [c["target"] for c in argument["criteria"]] == ["W.1", "W.2"]
    assert validate_paths([out]).errors == []


def test_rubric_files_are_deterministic() -> None:
    first = render_framework_files(read_case_package(RUBRIC_CASE).files, source="x")
    second = render_framework_files(read_case_package(RUBRIC_CASE).files, source="x")
    assert first == second
    rubric = dict(first)["rubrics/argument-writing.yaml"]
    assert rubric.startswith(
        "# yaml-language-server: $schema=https://mastery-cli.org/schemas/rubric.schema.json\n")


def test_export_gives_the_cf_rubrics_back(tmp_path: Path) -> None:
    _, out = imported(tmp_path / "a")
    framework, _ = load_framework([out])
    package, _ = export_case_package(framework)
    original = json.loads(RUBRIC_CASE.read_text(encoding="utf-8"))
    assert package["CFRubrics"] == original["CFRubrics"]
    text = case_package_text(package)
    (tmp_path / "p1.json").write_text(text, encoding="utf-8")
    again = read_case_package(tmp_path / "p1.json")
    assert write_and_check(again.files, tmp_path / "b", source="p1.json").errors == []
    # the rubric files come back the same, and so does the package, byte for byte
    for name in ("argument-writing", "conventions-checklist"):
        assert rubric_file(tmp_path / "b", name) == rubric_file(out, name)
    second, _ = load_framework([tmp_path / "b"])
    assert case_package_text(export_case_package(second)[0]) == text
    if OFFICIAL.is_file():
        schema = json.loads(OFFICIAL.read_text(encoding="utf-8"))
        assert check_official_schema(package, schema) == []


# -- the scale decision ----------------------------------------------------------------------

def rubric(*criteria: list[tuple[str, float]]) -> dict[str, Any]:
    return {"CFRubricCriteria": [
        {"CFRubricCriterionLevels": [{"quality": q, "score": s} for q, s in levels]}
        for levels in criteria]}


DEFAULT_VALUES = [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(("qualities", "mastery"), [
    (["Does not meet", "Partially meets", "Meets", "Exceeds"], 2),  # not "Partially meets"
    (["Novice", "Apprentice", "Proficient", "Distinguished"], 2),
    (["Emerging", "Mastery"], 1),
    (["Novice", "Apprentice", "Practitioner", "Expert"], 2),  # no name: the second-highest
])
def test_mastery_level_of_a_built_scale(qualities: list[str], mastery: float) -> None:
    levels = [(q, float(n)) for n, q in enumerate(qualities)]
    scale = scale_from_rubrics([rubric(levels, levels)], DEFAULT_VALUES)
    assert scale is not None
    assert [lv["value"] for lv in scale["levels"] if lv.get("mastery")] == [mastery]
    assert [lv["label"] for lv in scale["levels"]] == qualities


def test_no_scale_is_built_when_rubrics_disagree_or_match_ours() -> None:
    low = [("A", 0.0), ("B", 1.0), ("C", 2.0)]
    high = [("A", 0.0), ("B", 1.0), ("C", 5.0)]
    assert scale_from_rubrics([rubric(low), rubric(high)], DEFAULT_VALUES) is None
    same = [("A", 1.0), ("B", 2.0), ("C", 3.0), ("D", 4.0)]
    assert scale_from_rubrics([rubric(same)], DEFAULT_VALUES) is None
    assert scale_from_rubrics([rubric([("A", 1.0), ("B", 1.0)])], DEFAULT_VALUES) is None
    assert scale_from_rubrics([{"CFRubricCriteria": [{}]}], DEFAULT_VALUES) is None


def test_levels_that_do_not_fit_the_scale_are_not_rated(tmp_path: Path) -> None:
    package = json.loads(RUBRIC_CASE.read_text(encoding="utf-8"))
    claim = package["CFRubrics"][0]["CFRubricCriteria"][0]
    claim["CFRubricCriterionLevels"] = claim["CFRubricCriterionLevels"][:3]  # 3 of 4 levels
    source = tmp_path / "package.json"
    source.write_text(json.dumps(package), encoding="utf-8")
    result = read_case_package(source)
    codes = {(d.code, d.pointer) for d in result.diagnostics}
    # the scores now disagree between criteria, so the default scale stays and nothing fits
    assert ("case-rubric-levels", "/CFRubrics/0/CFRubricCriteria/0/CFRubricCriterionLevels"
            ) in codes
    checked = write_and_check(result.files, tmp_path / "out", source="package.json")
    assert checked.errors == []
    framework = validate_paths([tmp_path / "out"]).frameworks["example-writing-standards"]
    assert framework.default_scale is not None and framework.default_scale.id == "default"
