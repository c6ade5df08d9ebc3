"""Help texts and the deterministic YAML writer behind the importers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.yamlwrite import dump_yaml
from mastery_cli.yamlfile import load_yaml_bytes

runner = CliRunner()


def test_every_interop_command_has_an_example() -> None:
    for command in (["import", "case"], ["import", "moodle"], ["export", "case"],
                    ["export", "moodle"], ["export", "canvas-outcomes"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, command


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120)
_scalars = st.one_of(_text, st.integers(), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300)
@given(st.dictionaries(_text, _values, max_size=6))
def test_yaml_writer_round_trips_through_both_readers(data: dict[str, object]) -> None:
    text = dump_yaml(data, schema="framework.schema.json")
    assert text.startswith("# yaml-language-server: $schema=framework.schema.json\n")
    document, problems = load_yaml_bytes(text.encode("utf-8"), "x.yaml")
    assert problems == [] and document is not None
    assert document.data == data
    assert yaml.safe_load(text) == data  # YAML 1.1 readers agree
    assert dump_yaml(data, schema="framework.schema.json") == text
    assert "&" not in text.split("\n", 1)[0]


def test_yaml_writer_quotes_what_yaml_would_misread() -> None:
    text = dump_yaml({"a": ["NO", "1.10", "2026-09-01", "on", "~", "x: y", "ünïcode"]})
    assert '"NO"' in text and '"1.10"' in text and '"2026-09-01"' in text and '"on"' in text
    assert "- ünïcode" in text


# -- imports check what they wrote -------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "interop"


def test_import_fails_when_its_own_output_does_not_validate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastery_cli.interop import moodle
    from mastery_cli.interop.case_import import ImportResult

    broken = {"kind": "framework", "schema_version": 1, "id": "x", "title": "X",
              "competencies": [{"id": "C", "title": "C", "targets": [
                  {"id": "T", "statement": "T", "prerequisites": ["nowhere"]}]}]}
    monkeypatch.setattr(moodle, "read_moodle_csv",
                        lambda *a, **k: ImportResult(files=[("x.yaml", broken)]))
    result = runner.invoke(app, ["import", "moodle", str(DATA / "small-moodle.csv"), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 1
    assert "import-output-invalid" in result.output
    assert "unresolved-reference" in result.output  # the validator's own diagnostic


def test_import_checks_only_the_files_it_wrote(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("kind: framework\nschema_version: 1\n",
                                         encoding="utf-8")  # invalid, but not ours
    result = runner.invoke(app, ["import", "moodle", str(DATA / "small-moodle.csv"), "--out",
                                 str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    # COLLAB's rule ("all children") is its roll-up override in policy.yaml
    assert [Path(p).name for p in summary["written"]] == ["habits.yaml", "policy.yaml"]
    assert summary["counts"]["moodle_competencies"] == 6
    assert summary["suggestions"] >= 1


def test_import_hint_names_the_schema_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "case", str(DATA / "small-case.json"), "--out",
                                 str(tmp_path), "--quiet"])
    assert result.exit_code == 0
    assert "they pass 'mastery validate'" in result.output
    assert "mastery schema --out" in result.output
