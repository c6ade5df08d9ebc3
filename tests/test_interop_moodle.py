"""Moodle competency framework CSV: import (14 and 12 columns), export, round trip."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.files import write_framework_files
from mastery_cli.interop.moodle import HEADER_14, export_moodle_csv, read_moodle_csv
from mastery_cli.validation import load_framework, validate_paths

DATA = Path(__file__).parent / "data" / "interop"
REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "moodle"
CORE_FIXTURE = REAL / "moodle-core_tool_lpimportcsv_tests_fixtures_example.csv"
OLD_FORMAT = REAL / "moodlehq_tool_lpimportcsv_example.csv"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata is absent")
runner = CliRunner()


def imported_id_numbers(folder: Path) -> list[str]:
    """Every Moodle id number present in the imported YAML, once per competency."""
    framework, _ = load_framework([folder])
    found = []
    for competency in framework.competencies.values():
        if not (competency.case or {}).get("synthetic"):
            found.append(competency.case["moodle"]["id_number"])  # type: ignore[index]
        found += [t.case["moodle"]["id_number"] for t in competency.targets]  # type: ignore[index]
    found += [g["moodle"]["id_number"] for g in (framework.case or {}).get("groups", [])]
    return found


def test_small_framework_scale_rules_and_text(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(result.files, tmp_path, source="small-moodle.csv")
    assert validate_paths([tmp_path]).errors == []
    framework, _ = load_framework([tmp_path])
    assert framework.id == "habits"
    scale = framework.default_scale
    assert scale is not None
    assert [framework.text(level.label) for level in scale.levels] == [
        "Not yet", "Approaching", "Meets", "Exceeds"]
    assert scale.mastery_value == 3  # the lowest proficient item
    assert framework.description == "How students work & learn."
    collab = framework.competencies["COLLAB"]
    assert collab.case is not None
    assert collab.case["moodle"]["rule_type"] == "core_competency\\competency_rule_all"
    assert collab.case["moodle"]["rule_outcome"] == "1"
    assert framework.targets["COLLAB.1"].case["moodle"]["cross_references"] == "SELF.1"  # type: ignore[index]
    self_direction = framework.competencies["SELF"].case
    assert self_direction is not None
    assert '"points":2' in self_direction["moodle"]["rule_config"]


def test_old_twelve_column_format(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "old-moodle.csv")
    write_framework_files(result.files, tmp_path, source="old-moodle.csv")
    assert validate_paths([tmp_path]).errors == []
    framework, _ = load_framework([tmp_path])
    assert set(framework.targets) == {"1.1", "1.2"}
    assert framework.default_scale is not None
    assert framework.default_scale.mastery_value == 2


def test_export_then_import_round_trip(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(result.files, tmp_path / "a", source="x")
    framework, _ = load_framework([tmp_path / "a"])
    text, _ = export_moodle_csv(framework)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER_14
    assert all(len(row) == 14 for row in rows)
    assert [row[12] for row in rows[1:]].count("1") == 1
    original = list(csv.reader(io.StringIO((DATA / "small-moodle.csv").read_text(), newline="")))
    # parents, id numbers, rules and cross references come back as they were
    columns = (0, 1, 2, 7, 8, 9, 10, 11)
    assert sorted(tuple(r[i] for i in columns) for r in rows[2:]) == sorted(
        tuple(r[i] for i in columns) for r in original[2:])
    (tmp_path / "out.csv").write_text(text, encoding="utf-8")
    again = read_moodle_csv(tmp_path / "out.csv")
    write_framework_files(again.files, tmp_path / "b", source="x")
    second, _ = load_framework([tmp_path / "b"])
    assert export_moodle_csv(second)[0] == text
    assert second.default_scale is not None and second.default_scale.mastery_value == 3


def test_not_a_moodle_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "moodle", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "moodle-header" in result.output


@needs_real
def test_moodle_core_fixture_imports_exactly_64_competencies(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(CORE_FIXTURE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 0
    ids = imported_id_numbers(tmp_path)
    assert len(ids) == 64 and len(set(ids)) == 64


@needs_real
def test_moodle_old_format_fixture(tmp_path: Path) -> None:
    result = read_moodle_csv(OLD_FORMAT)
    write_framework_files(result.files, tmp_path, source=OLD_FORMAT.name)
    assert validate_paths([tmp_path]).errors == []
    assert len(imported_id_numbers(tmp_path)) == 209
