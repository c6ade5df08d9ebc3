"""kind: learner — the schema, the validate rules, and the bulk CSV form."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mastery_cli.learner.check import check_record
from mastery_cli.learner.csvform import read_learner_csv
from mastery_cli.learner.load import read_learners
from mastery_cli.validation import load_framework, validate_paths

REPO = Path(__file__).resolve().parent.parent
FRAMEWORK = REPO / "examples" / "framework"
LEARNERS = REPO / "examples" / "learners"
SCHEMA = REPO / "schemas" / "learner.schema.json"

GOOD = """kind: learner
schema_version: 1
student_id: "0041001"
profile:
  preferred_name: Mateo
  in_my_words: I keep trying.
plan:
  goals:
    - id: equations
      arena: academic
      statement: SECRET-WORDS I want to solve equations.
      targets: [MATH.ALG.1]
      set_on: "2026-09-10"
      target_date: "2099-01-22"
"""


def _lines(tmp_path: Path, text: str, name: str = "learner.yaml") -> list[str]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = validate_paths([tmp_path / name, FRAMEWORK])
    return [f"{d.line}:{d.column} {d.severity.value} [{d.code}] {d.message}"
            for d in result.diagnostics]


def test_schema_is_valid_and_documents_every_property() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)

    def walk(node: dict, where: str) -> None:
        for name, prop in (node.get("properties") or {}).items():
            for key in ("title", "description", "examples"):
                assert key in prop, f"{where}/{name} has no {key}"
            walk(prop, f"{where}/{name}")
        for alternative in node.get("oneOf") or []:
            walk(alternative, where)
        if isinstance(node.get("items"), dict):
            walk(node["items"], where + "[]")

    walk(schema, "")
    walk(schema["$defs"]["entry"], "$defs/entry")
    for example in schema["examples"]:
        Draft202012Validator(schema).validate(example)


def test_the_example_school_records_are_clean() -> None:
    result = validate_paths([REPO / "examples"])
    assert [d for d in result.diagnostics if "learners" in d.path] == []
    framework, _ = load_framework(FRAMEWORK)
    learners, problems = read_learners([LEARNERS], framework)
    assert problems == []
    assert sorted(r.student_id for r in learners) == ["0041001", "0041021", "0041066"]
    hugo = next(r for r in learners if r.student_id == "0041021")
    assert [g.arena for g in hugo.goals] == [
        "academic", "social-emotional/physical", "college/career"]
    assert any(p.source == "internship" and p.artifact for p in hugo.portfolio)


def test_a_clean_record_has_no_problems(tmp_path: Path) -> None:
    assert _lines(tmp_path, GOOD) == []


def test_unknown_targets_and_competencies_are_located_with_a_suggestion(tmp_path: Path) -> None:
    text = GOOD.replace("targets: [MATH.ALG.1]",
                        "targets: [MATH.ALG.1, MATH.ALG]\n      competencies: [MATH.ALX]")
    text += "portfolio:\n  - title: Piece\n    targets: [MATH.FUN.9]\n"
    lines = _lines(tmp_path, text)
    assert "12:29 error [learner-unknown-target] unknown target 'MATH.ALG'" in lines
    assert "13:22 error [learner-unknown-competency] unknown competency 'MATH.ALX'" in lines
    assert any("[learner-unknown-target] unknown target 'MATH.FUN.9'" in line
               for line in lines)
    (tmp_path / "learner.yaml").write_text(text, encoding="utf-8")
    hints = {d.message: d.hint for d in validate_paths(
        [tmp_path / "learner.yaml", FRAMEWORK]).diagnostics}
    assert hints["unknown target 'MATH.ALG'"] == (
        "'MATH.ALG' is a competency: list it under 'competencies:'")
    assert hints["unknown competency 'MATH.ALX'"] == "did you mean 'MATH.ALG'?"


def test_impossible_days_are_errors_at_their_line(tmp_path: Path) -> None:
    lines = _lines(tmp_path, GOOD.replace('"2099-01-22"', '"2099-02-30"'))
    assert lines == ["14:20 error [learner-bad-date] 'target_date' is not a real day"]


def test_a_goal_past_its_date_without_a_review_since_is_a_warning() -> None:
    data = {"kind": "learner", "schema_version": 1, "student_id": "1", "plan": {"goals": [
        {"id": "a", "arena": "academic", "statement": "x", "targets": ["MATH.ALG.1"],
         "target_date": "2026-12-01"},
        {"id": "b", "arena": "college/career", "statement": "y", "target_date": "2026-12-01",
         "reviews": [{"date": "2026-12-02", "by": "Ms. O"}]},
        {"id": "c", "arena": "college/career", "statement": "z", "target_date": "2026-12-01",
         "reviews": [{"date": "2026-11-30", "by": "Ms. O"}]},
    ]}}
    found = check_record(data, "f.yaml", lambda code, message, *_: (code, message), None,
                         today=date(2026, 12, 5))
    assert found == [
        ("goal-past-date-unreviewed", "goal 'a' was due 2026-12-01 and has no review since"),
        ("goal-past-date-unreviewed", "goal 'c' was due 2026-12-01 and has no review since"),
    ]
    assert check_record(data, "f.yaml", lambda *a: a, None, today=date(2026, 12, 1)) == []


def test_academic_goal_without_targets_and_duplicate_ids(tmp_path: Path) -> None:
    text = GOOD.replace("      targets: [MATH.ALG.1]\n", "") + (
        "    - id: equations\n      arena: college/career\n      statement: again\n")
    lines = _lines(tmp_path, text)
    assert any("[goal-without-targets] academic goal 'equations'" in line for line in lines)
    assert any("error [duplicate-goal] goal id 'equations' is used twice" in line
               for line in lines)


def test_two_records_for_one_student_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    codes = [(Path(d.path).name, d.code) for d in validate_paths([tmp_path, FRAMEWORK]).diagnostics]
    assert codes == [("b.yaml", "duplicate-learner")]


def test_schema_errors_name_the_place(tmp_path: Path) -> None:
    lines = _lines(tmp_path, GOOD.replace("arena: academic", "arena: sports"))
    assert len(lines) == 1 and lines[0].startswith("10:14 error [schema-enum]")


def test_diagnostics_never_repeat_what_the_student_wrote(tmp_path: Path) -> None:
    text = GOOD.replace("targets: [MATH.ALG.1]", "targets: [NOPE]").replace(
        '"2099-01-22"', '"2020-01-22"')
    (tmp_path / "learner.yaml").write_text(text, encoding="utf-8")
    diagnostics = validate_paths([tmp_path / "learner.yaml", FRAMEWORK]).diagnostics
    assert len(diagnostics) == 3  # unknown target, dates reversed, past its date
    assert all("SECRET-WORDS" not in f"{d.message} {d.hint}" for d in diagnostics)


# -- the bulk CSV form ---------------------------------------------------------------------------

HEADER = "student_id,record,goal,arena,text,targets,competencies,set_on,date,by,artifact,source\n"


def test_bulk_rows_make_the_same_record_as_a_yaml_file(tmp_path: Path) -> None:
    framework, _ = load_framework(FRAMEWORK)
    rows = HEADER + (
        "0041001,preferred_name,,,Mateo,,,,,,,\n"
        "0041001,in_my_words,,,I keep trying.,,,,,,,\n"
        "0041001,goal,equations,academic,SECRET-WORDS I want to solve equations.,MATH.ALG.1,,"
        "2026-09-10,2099-01-22,,,\n")
    (tmp_path / "bulk.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "one.yaml").write_text(GOOD, encoding="utf-8")
    from_csv, problems = read_learners([tmp_path / "bulk.csv"], framework)
    from_yaml, _ = read_learners([tmp_path / "yaml"], framework)
    assert problems == []
    for record in (*from_csv, *from_yaml):
        record.path = ""
    assert from_csv == from_yaml


def test_bulk_problems_are_reported_at_their_row_and_column() -> None:
    rows = HEADER + (
        "0041001,goal,g1,academic,Solve things,MATH.ALG.9,,,2026-02-30,,,\n"
        "0041001,review,g2,,note,,,,2026-10-01,Ms. O,,\n"
        "0041001,hobby,,,chess,,,,,,,\n"
        ",interest,,,chess,,,,,,,\n")
    records, problems = read_learner_csv(rows, "bulk.csv")
    assert [(p.line, p.column, p.code) for p in problems] == [
        (3, 3, "learner-csv-review-goal"), (4, 2, "learner-csv-record"),
        (5, 1, "learner-csv-no-student")]
    record = records[0]
    found = check_record(record.data, "bulk.csv", record.locate(),
                         load_framework(FRAMEWORK)[0], today=date(2026, 1, 1))
    assert [(d.line, d.column, d.code) for d in found] == [
        (2, 9, "learner-bad-date"), (2, 6, "learner-unknown-target")]


def test_a_csv_without_the_key_columns_is_one_clear_error() -> None:
    records, problems = read_learner_csv("name,goal\nx,y\n", "bulk.csv")
    assert records == []
    assert [(p.code, p.message) for p in problems] == [
        ("learner-csv-columns", "a bulk learner CSV needs the columns student_id and record")]


@pytest.mark.parametrize("kind", ["interest", "strength", "support", "language"])
def test_profile_rows_keep_their_dates(kind: str) -> None:
    rows = HEADER + f"7,{kind},,,something,,,,2026-09-01,,,\n"
    records, problems = read_learner_csv(rows, "bulk.csv")
    assert problems == []
    key = {"interest": "interests", "strength": "strengths", "support": "supports",
           "language": "languages"}[kind]
    assert records[0].data["profile"][key] == [{"text": "something", "date": "2026-09-01"}]


def test_schema_errors_do_not_repeat_the_students_words(tmp_path: Path) -> None:
    text = GOOD.replace("  preferred_name: Mateo\n",
                        "  preferred_name: Mateo\n  interests: SECRET-WORDS soccer\n").replace(
        "arena: academic", "arena: SECRET-WORDS")
    (tmp_path / "learner.yaml").write_text(text, encoding="utf-8")
    diagnostics = validate_paths([tmp_path / "learner.yaml"]).diagnostics
    assert [(d.line, d.code) for d in diagnostics] == [(6, "schema-type"), (11, "schema-enum")]
    assert all("SECRET-WORDS" not in f"{d.message} {d.hint}" for d in diagnostics)
