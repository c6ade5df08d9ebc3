"""Numbers written where a file holds text are that text, always, before anything reads them.

The rule (issue 20): the schemas accept a number where a value is text that may look like one
(``"type": ["string", "number"]``: ids, labels, grade levels, course grades), and loading turns
every such number into the text as written, whether or not anything else in the file is wrong.
Anywhere else a number is not text, in the editor and in `mastery validate` alike.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli import numbers_as_text
from mastery_cli.cli import app
from mastery_cli.documents import load_documents
from mastery_cli.schemas import check_document, load_schema
from mastery_cli.yamlfile import YamlDocument, load_yaml_bytes

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "editor_cases" / "valid"

FRAMEWORK = """kind: framework
schema_version: 1
id: 2026
school: 1984
scales:
  - id: four
    levels:
      - {value: 1, label: 1, short: 1}
      - {value: 2.5, label: Two, short: 2.50}
competencies:
  - id: 7
    title: 0x1F
    targets:
      - {id: 1.10, statement: 1e3, indicators: {1: 10, 2.5: two}}
      - {id: 1.1, statement: Two, prerequisites: [1.10]}
courses:
  - {id: 101, title: Numeracy, credits: 1.0, grade_levels: [9, 10], targets: [1.1, 1.10]}
"""


def _load(text: str) -> YamlDocument:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "framework.yaml")
    assert document is not None and not problems
    return document


def test_numbers_at_text_places_become_the_text_written() -> None:
    document = _load(FRAMEWORK)
    assert check_document(document, "framework") == []
    data = document.data
    assert (data["id"], data["school"]) == ("2026", "1984")
    levels = data["scales"][0]["levels"]
    assert levels[0] == {"value": 1, "label": "1", "short": "1"}
    assert levels[1] == {"value": 2.5, "label": "Two", "short": "2.50"}
    competency = data["competencies"][0]
    assert (competency["id"], competency["title"]) == ("7", "0x1F")
    first, second = competency["targets"]
    assert (first["id"], first["statement"]) == ("1.10", "1e3")
    assert first["indicators"] == {"1": "10", "2.5": "two"}
    assert (second["id"], second["prerequisites"]) == ("1.1", ["1.10"])
    assert data["courses"][0] == {"id": "101", "title": "Numeracy", "credits": 1.0,
                                  "grade_levels": ["9", "10"], "targets": ["1.1", "1.10"]}


def test_numbers_are_text_even_when_the_file_has_other_errors() -> None:
    """The old rule turned them into text only when a schema check failed on them."""
    document = _load(FRAMEWORK.replace("credits: 1.0", "credits: many"))
    problems = check_document(document, "framework")
    assert [p.code for p in problems] == ["schema-type"]
    assert document.data["courses"][0]["id"] == "101"
    assert document.data["courses"][0]["grade_levels"] == ["9", "10"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("label: Two", "label: true",
     "expected text or a map of language to text, got the boolean true"),
    ("id: 2026\n", "id: 2026\nlanguages: [1]\n", "expected text, got the number 1"),
    ("label: 1, short: 1", "label: 1, short: [1]", "expected text, got a list"),
    ("id: 2026\n", "id: 2026\nnamespace: 12345\n", "expected text, got the number 12345"),
])
def test_what_is_not_text_stays_an_error(old: str, new: str, message: str) -> None:
    document = _load(FRAMEWORK.replace(old, new, 1))
    assert [p.message for p in check_document(document, "framework")] == [message]


def _text_places(schema: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = []
    if isinstance(schema, dict):
        if isinstance(schema.get("type"), list) and "number" in schema["type"]:
            places.append(path)
        for key, value in schema.items():
            if key not in ("examples", "const", "enum", "default"):
                places.extend(_text_places(value, (*path, key)))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            places.extend(_text_places(value, (*path, index)))
    return places


@pytest.mark.parametrize("kind", ["framework", "rubric", "policy"])
def test_a_number_type_comes_only_with_text(kind: str) -> None:
    """["string", "number"] is the one way the schemas say "text that may look like a number"."""
    schema = load_schema(kind)
    places = _text_places(schema)
    assert places, "some text may look like a number in every kind"
    for path in places:
        node: Any = schema
        for part in path:
            node = node[part]
        assert node["type"] == ["string", "number"], path


def test_a_number_with_an_explicit_tag_is_spelled() -> None:
    document = _load(FRAMEWORK.replace("school: 1984", 'school: !!float "1984"'))
    check_document(document, "framework")
    assert document.data["school"] == "1984"


def test_a_self_referencing_schema_does_not_loop() -> None:
    schema = {"$defs": {"tree": {"type": "object", "properties": {
        "name": {"type": ["string", "number"]}, "kids": {"items": {"$ref": "#/$defs/tree"}}},
        "allOf": [{"$ref": "#/$defs/tree"}]}}, "$ref": "#/$defs/tree"}
    document = _load("name: 1\nkids:\n  - name: 2.0\n    kids: [{name: 3}]\n")
    changed = numbers_as_text.convert(document, schema)
    assert document.data == {"name": "1", "kids": [{"name": "2.0", "kids": [{"name": "3"}]}]}
    assert len(changed) == 3


def test_a_policy_course_grade_written_as_a_number_is_text() -> None:
    text = (VALID / "policy.yaml").read_text(encoding="utf-8")
    document, _ = load_yaml_bytes(text.encode("utf-8"), "policy.yaml")
    assert document is not None
    assert check_document(document, "policy") == []
    assert document.data["course_grade"]["conversion"][0]["grade"] == "4"


def test_a_course_with_a_number_id_keeps_its_grades(tmp_path: Path) -> None:
    """``id: 101`` must not drop out of course_grades.csv (nor its targets' evidence)."""
    sets = load_documents([VALID / "framework.yaml"])
    assert [d.yaml.data["courses"][1]["id"] for d in sets.documents] == ["101"]
    gradebook = tmp_path / "numeracy.csv"
    gradebook.write_text(
        "student_id,course,target,date,score\n"
        "s1,101,MATH.1,2026-09-01,2\ns1,101,MATH.1,2026-09-08,3\n"
        "s2,101,MATH.1,2026-09-01,4\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "grade", str(gradebook), "--framework", str(VALID / "framework.yaml"),
        "--policy", str(VALID / "policy.yaml"), "--out", str(out), "--format", "json",
        "--quiet"])
    assert result.exit_code == 0, result.output
    with (out / "course_grades.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(row["student_id"], row["course"]) for row in rows if row["course"] == "101"} == {
        ("s1", "101"), ("s2", "101")}
    courses = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert "101" in json.dumps(courses)


def test_ids_that_equal_as_numbers_are_not_repeated_but_the_same_id_twice_is(
    tmp_path: Path,
) -> None:
    """[1.1, 1.10] are two ids (the editor sees equal numbers, so the schema has no
    uniqueItems there); the same id twice is reported by `mastery validate` at the second."""
    from mastery_cli.validation import validate_paths

    path = tmp_path / "framework.yaml"
    path.write_text(FRAMEWORK, encoding="utf-8")

    def repeated() -> list[Any]:
        return [d for d in validate_paths([path]).errors if d.code == "repeated-reference"]

    assert repeated() == []
    path.write_text(FRAMEWORK.replace("targets: [1.1, 1.10]", "targets: [1.1, 1.10, 1.1]"),
                    encoding="utf-8")
    [problem] = repeated()
    assert (problem.code, problem.line, problem.column) == ("repeated-reference", 17, 90)
    assert problem.message == "'1.1' is listed twice in 'targets'"
