"""Canvas outcomes import CSV export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.canvas_outcomes import (
    HEADER,
    Calculation,
    calculation_from_policy,
    canvas_outcome_map,
    export_canvas_outcomes,
)
from mastery_cli.interop.case_import import ImportOptions, read_case_package
from mastery_cli.interop.files import write_framework_files
from mastery_cli.validation import load_framework

DATA = Path(__file__).parent / "data" / "interop"
runner = CliRunner()


def small_framework(tmp_path: Path):
    result = read_case_package(DATA / "small-case.json", ImportOptions())
    write_framework_files(result.files, tmp_path / "fw", source="small-case.json")
    return load_framework([tmp_path / "fw"])[0]


def test_format_header_rating_pairs_and_vendor_guids(tmp_path: Path) -> None:
    framework = small_framework(tmp_path)
    rows = list(csv.reader(io.StringIO(export_canvas_outcomes(framework), newline="")))
    assert rows[0][: len(HEADER)] == HEADER
    assert all(cell == "" for cell in rows[0][len(HEADER):])
    assert len({len(row) for row in rows}) == 1
    outcomes = [dict(zip(HEADER, row, strict=False)) | {"_row": row} for row in rows[1:]
                if row[2] == "outcome"]
    assert {o["vendor_guid"] for o in outcomes} == set(framework.targets)
    groups = {row[1] for row in rows[1:] if row[2] == "group"}
    assert set(framework.competencies) | {framework.id} == groups
    for outcome in outcomes:
        target = framework.targets[outcome["vendor_guid"]]
        assert outcome["parent_guids"] == target.competency_id
        assert outcome["mastery_points"] == "3"
        pairs = [cell for cell in outcome["_row"][len(HEADER) - 1:] if cell != ""]
        points = [float(p) for p in pairs[0::2]]
        assert points == sorted(points, reverse=True) == [4.0, 3.0, 2.0, 1.0]
        assert pairs[1::2] == ["Advanced", "Proficient", "Developing", "Beginning"]


def test_policy_methods_map_to_canvas(tmp_path: Path) -> None:
    def policy(method: str) -> Calculation:
        path = tmp_path / "policy.yaml"
        path.write_text(f"kind: policy\nschema_version: 1\nid: p\nmethod: {method}\n",
                        encoding="utf-8")
        return calculation_from_policy(path)[0]

    assert policy("decaying_average") == Calculation("standard_decaying_average", "65")
    assert policy("{name: decaying_average, weight: 0.7}") == Calculation(
        "standard_decaying_average", "70")
    assert policy("{name: weighted_average}") == Calculation("weighted_average", "65")
    assert policy("{name: n_mastery, n: 3}") == Calculation("n_mastery", "3")
    assert policy("highest") == Calculation("highest", "")
    path = tmp_path / "policy.yaml"
    path.write_text("kind: policy\nmethod: power_law\n", encoding="utf-8")
    calculation, problems = calculation_from_policy(path)
    assert calculation == Calculation() and problems[0].code == "canvas-method-unsupported"


def test_cli_export_with_policy(tmp_path: Path) -> None:
    small_framework(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nmethod: {name: n_mastery, n: 4}\n", encoding="utf-8")
    out = tmp_path / "outcomes.csv"
    result = runner.invoke(app, ["export", "canvas-outcomes", str(tmp_path / "fw"), "--policy",
                                 str(policy), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    outcome = next(row for row in rows if row[2] == "outcome")
    assert (outcome[6], outcome[7]) == ("n_mastery", "4")


def test_outcome_map_reads_canvas_ids_back(tmp_path: Path) -> None:
    framework = small_framework(tmp_path)
    exported = tmp_path / "from-canvas.csv"
    rows = list(csv.reader(io.StringIO(export_canvas_outcomes(framework), newline="")))
    for number, row in enumerate(rows[1:], 1):
        row[0] = str(1000 + number)  # Canvas fills canvas_id on its own export
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    exported.write_text(buffer.getvalue(), encoding="utf-8")
    mapping = canvas_outcome_map(framework, exported)
    target_rows = [row for row in rows[1:] if row[2] == "outcome"]
    assert all(mapping[row[0]] == row[1] for row in target_rows)
    assert mapping["SCI.PS.1.2"] == "SCI.PS.1.2"


def test_outcome_map_follows_outcomes_renamed_in_canvas(tmp_path: Path) -> None:
    framework = small_framework(tmp_path)
    exported = tmp_path / "from-canvas.csv"
    rows = list(csv.reader(io.StringIO(export_canvas_outcomes(framework), newline="")))
    header = rows[0]
    title_at, guid_at = header.index("title"), header.index("vendor_guid")
    renamed = {}
    for row in rows[1:]:
        if row[2] == "outcome":
            row[title_at] = f"Renamed in Canvas: {row[guid_at]}"
            renamed[row[title_at]] = row[guid_at]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    exported.write_text(buffer.getvalue(), encoding="utf-8")
    assert renamed
    without = canvas_outcome_map(framework)
    mapping = canvas_outcome_map(framework, exported)
    for name, target in renamed.items():
        assert name not in without
        assert mapping[name] == target
