"""Assessment plans (kind: assessment-plan): schema, validate rules, and `report coverage`
counted against the evidence by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from test_pipeline import FRAMEWORK_FILE, write_csv
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.validation import validate_paths

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "assessment-plan.schema.json"
HEADER = "kind: assessment-plan\nschema_version: 1\nid: plan\nframework: test-school\n"


def check(tmp_path: Path, body: str) -> list[str]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(HEADER + body, encoding="utf-8")
    result = validate_paths([plan, FRAMEWORK_FILE])
    return [f"{d.location()} [{d.code}] {d.message}".replace(f"{tmp_path}/", "")
            for d in result.diagnostics]


def test_schema_is_valid_and_documents_every_property() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)

    def walk(node: dict, where: str) -> None:
        for name, prop in (node.get("properties") or {}).items():
            for key in ("title", "description", "examples"):
                assert key in prop, f"{where}/{name} has no {key}"
            walk(prop, f"{where}/{name}")
        if isinstance(node.get("items"), dict) and "$ref" not in node["items"]:
            walk(node["items"], where + "[]")

    walk(schema, "")
    walk(schema["$defs"]["assessment"], "assessment")
    for example in schema["examples"]:
        Draft202012Validator(schema).validate(example)


def test_the_example_plan_is_valid() -> None:
    result = validate_paths([REPO / "examples"])
    assert [d for d in result.diagnostics if "plans" in d.path] == []


def test_a_clean_plan_has_no_problems(tmp_path: Path) -> None:
    assert check(tmp_path, "assessments:\n  - {id: a, title: Quiz, tier: team, "
                           "date: 2026-10-01, targets: [T1, T2]}\n") == []


def test_plan_rules_name_the_place(tmp_path: Path) -> None:
    lines = check(tmp_path, (
        "term: {start: 2026-08-24, end: 2027-01-29}\n"
        "assessments:\n"
        "  - {id: a, title: Quiz, tier: team, date: 2026-10-01, targets: [T1, T7]}\n"
        "  - {id: a, title: Test, tier: school, window: {start: 2026-11-02, end: 2026-11-01},"
        " targets: [T2], course: NOPE}\n"
        "  - {id: b, title: Late, tier: classroom, date: 2027-03-01, targets: [T3]}\n"))
    assert any(line.startswith("plan.yaml:7:") and "[unknown-target] unknown target 'T7'" in line
               for line in lines), lines
    assert any("[duplicate-id] assessment id 'a' is used twice" in line for line in lines)
    assert any("[bad-window]" in line for line in lines)
    assert any("[unknown-course] unknown course 'NOPE'" in line for line in lines)
    assert any("[outside-term]" in line for line in lines)


def test_schema_errors_for_a_missing_tier_and_date(tmp_path: Path) -> None:
    lines = check(tmp_path, "assessments:\n  - {id: a, title: Quiz, targets: [T1]}\n")
    assert any("tier" in line for line in lines), lines
    assert lines and all("plan.yaml:" in line for line in lines)


def _rows() -> list[list[object]]:
    # T1: 2 summative pieces in P1 (one excused row not counted); T2: formative only.
    return [
        ["S1", "A", "T1", "Quiz", "summative", "2026-10-01", 3, "P1", "CRS"],
        ["S2", "B", "T1", "Quiz", "summative", "2026-10-01", 2, "P1", "CRS"],
        ["S3", "C", "T1", "Quiz", "summative", "2026-10-01", "EX", "P1", "CRS"],
        ["S1", "A", "T2", "Practice", "formative", "2026-10-02", 2, "P1", "CRS"],
        ["S4", "D", "T1", "Quiz", "summative", "2026-10-01", 1, "P2", "CRS"],
    ]


def test_coverage_counts_summative_pieces_against_the_plan(tmp_path: Path) -> None:
    scores = write_csv(tmp_path / "scores.csv", _rows(), [
        "student_id", "student_name", "target", "assessment", "type", "date", "score",
        "section", "course"])
    plan = tmp_path / "plan.yaml"
    plan.write_text(HEADER + (
        "assessments:\n"
        "  - {id: quiz, title: quiz, tier: team, date: 2026-10-01, targets: [T1, T2]}\n"
        "  - {id: final, title: Final task, tier: school, date: 2027-01-20, targets: [T4]}\n"
        "  - {id: later, title: Next unit, tier: classroom, date: 2027-03-01, targets: [T3],"
        " sections: [P1]}\n"), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "coverage", str(scores), "--framework",
                                      str(FRAMEWORK_FILE), "--plan", str(plan), "--out",
                                      str(out), "--date", "2027-01-29"])
    assert result.exit_code == 0, result.output
    with (out / "coverage.csv").open(encoding="utf-8") as handle:
        rows = {(r["section"], r["target"]): r for r in csv.DictReader(handle)}
    assert (rows["P1", "T1"]["pieces"], rows["P1", "T1"]["students"],
            rows["P1", "T1"]["planned"], rows["P1", "T1"]["status"]) == ("2", "2", "1",
                                                                        "as planned")
    assert (rows["P1", "T2"]["pieces"], rows["P1", "T2"]["status"]) == ("0", "no evidence")
    assert rows["P2", "T1"]["pieces"] == "1"
    assert rows["P1", "T3"]["planned"] == "1" and ("P2", "T3") in rows  # course CRS has T3
    with (out / "planned.csv").open(encoding="utf-8") as handle:
        planned = {r["assessment"]: r for r in csv.DictReader(handle)}
    assert planned["quiz"]["status"] == "scored"
    assert planned["quiz"]["missing_targets"] == "T2"
    assert planned["final"]["status"] == "no scores yet"
    assert planned["later"]["status"] == "not due yet"
    html = (out / "coverage.html").read_text(encoding="utf-8")
    assert "Targets with no summative evidence this term" in html
    assert "T2" in html.split("Planned assessments")[0]  # T2 has none anywhere


def test_the_example_school_coverage_runs(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (REPO / "examples" / "gradebook").glob("*.csv"))
    result = CliRunner().invoke(app, [
        "report", "coverage", *files, "--framework", str(REPO / "examples" / "framework"),
        "--plan", str(REPO / "examples" / "plans" / "fall-2026.yaml"), "--out", str(tmp_path),
        "--date", "2027-01-29"])
    assert result.exit_code == 0, result.output
    with (tmp_path / "planned.csv").open(encoding="utf-8") as handle:
        statuses = {r["assessment"]: r["status"] for r in csv.DictReader(handle)}
    assert statuses["water-study-report"] == "no scores yet"
    assert statuses["bio-homeostasis"] == "scored"


def test_without_a_plan_a_section_is_expected_to_assess_its_courses_targets(tmp_path: Path
                                                                             ) -> None:
    scores = write_csv(tmp_path / "scores.csv", _rows(), [
        "student_id", "student_name", "target", "assessment", "type", "date", "score",
        "section", "course"])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "coverage", str(scores), "--framework",
                                      str(FRAMEWORK_FILE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "planned.csv").exists()
    with (out / "coverage.csv").open(encoding="utf-8") as handle:
        rows = {(r["section"], r["target"]): r["status"] for r in csv.DictReader(handle)}
    # Course CRS covers C1, C2 and E1: T1-T4 and H1 are expected in each section.
    assert {t for s, t in rows if s == "P1"} == {"T1", "T2", "T3", "T4", "H1"}
    assert rows["P1", "T1"] == "assessed" and rows["P1", "T4"] == "no evidence"
