"""Diagnostics that name the mistake a newcomer actually made (issue 15, section 6).

The case folders in tests/cases/ pin the full output; these tests pin each rule on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mastery_cli.diagnostics import Diagnostic
from mastery_cli.schemas import check_document
from mastery_cli.validation import validate_paths
from mastery_cli.yamlfile import YamlDocument, load_yaml_bytes

POLICY = "kind: policy\nschema_version: 1\nid: p\ntitle: P\n"
FRAMEWORK = "kind: framework\nschema_version: 1\nid: demo\ntitle: Demo\n"


def _read(text: str) -> tuple[YamlDocument, list[Diagnostic]]:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "f.yaml")
    assert document is not None, problems
    return document, problems


def _schema(kind: str, text: str) -> list[tuple[str, str, int | None, int | None]]:
    document, problems = _read(text)
    assert not problems
    return [(d.code, d.message, d.line, d.column) for d in check_document(document, kind)]


# --- oneOf/anyOf: the alternative the value means ---------------------------------------------

def test_a_quoted_number_in_a_method_mapping_is_reported_as_a_number() -> None:
    found = _schema("policy", POLICY + "method:\n  name: decaying_average\n  weight: \"0.7\"\n")
    assert found == [("schema-type", "expected a number, got the text '0.7'", 7, 11)]


def test_every_error_of_the_meant_alternative_is_reported() -> None:
    found = _schema("policy", POLICY + "method: {name: mode, tie: latst, n: \"3\"}\n")
    assert sorted((line, column, code) for code, _, line, column in found) == [
        (5, 27, "schema-enum"), (5, 37, "schema-type")]


def test_a_constant_alternative_of_another_type_is_not_the_one_meant() -> None:
    # missing: 'ignore' or {score: N}; a mapping means the second.
    found = _schema("policy", POLICY + "missing: {score: \"1\"}\n")
    assert found == [("schema-type", "expected a number, got the text '1'", 5, 18)]


def test_a_near_miss_of_a_constant_alternative_names_the_constant() -> None:
    found = _schema("policy", POLICY + "missing: ignor\n")
    assert found == [("schema-const", "expected 'ignore', got the text 'ignor'", 5, 10)]


@pytest.mark.parametrize(("value", "expected"), [
    ("method: [highest]", "expected text or a mapping (key: value pairs), got a list"),
    ("missing: [ignore]", "expected 'ignore' or a mapping (key: value pairs), got a list"),
])
def test_a_value_no_alternative_takes_lists_what_they_take(value: str, expected: str) -> None:
    column = value.index("[") + 1
    assert _schema("policy", POLICY + value + "\n") == [("schema-type", expected, 5, column)]


def test_text_or_a_language_map_keeps_its_own_message() -> None:
    document, _ = _read(FRAMEWORK.replace("title: Demo", "title: [Demo]") + "scales: []\n")
    text_errors = [d for d in check_document(document, "framework") if d.pointer == "/title"]
    assert [(d.message, d.hint) for d in text_errors] == [(
        "expected text or a map of language to text, got a list",
        'write a string, or a map such as {en: "…", es: "…"}',
    )]


def test_a_language_map_with_a_bad_key_is_reported_at_the_key() -> None:
    document, _ = _read(FRAMEWORK.replace("title: Demo", "title: {english: Demo}"))
    found = [d for d in check_document(document, "framework") if d.pointer.startswith("/title")]
    assert [(d.code, d.line, d.column) for d in found] == [("schema-pattern", 4, 9)]


# --- an unquoted comma inside {…} -------------------------------------------------------------

def test_text_cut_by_a_comma_is_read_whole_and_reported_at_the_comma() -> None:
    document, problems = _read("statement: {en: Names the topic, not the idea., es: Nombra.}\n")
    assert document.data == {"statement": {"en": "Names the topic, not the idea.",
                                           "es": "Nombra."}}
    assert [(p.code, p.line, p.column) for p in problems] == [("yaml-unquoted-comma", 1, 32)]
    assert "'not the idea.' becomes a key of its own" in problems[0].message
    assert problems[0].hint == 'put the text in quotes: en: "Names the topic, not the idea."'


def test_text_cut_by_several_commas_gives_one_error() -> None:
    document, problems = _read('x: {"2": Partly, on their own, mostly., es: b}\n')
    assert document.data == {"x": {"2": "Partly, on their own, mostly.", "es": "b"}}
    assert len(problems) == 1
    assert problems[0].hint == 'put the text in quotes: "2": "Partly, on their own, mostly."'


def test_text_cut_across_lines_is_folded_like_plain_text() -> None:
    document, problems = _read("x: {en: Starts,\n     with help, es: b}\n")
    assert document.data == {"x": {"en": "Starts, with help", "es": "b"}}
    assert [(p.line, p.column) for p in problems] == [(1, 15)]


@pytest.mark.parametrize(("text", "data"), [
    ("x: {en: , es: b}\n", {"x": {"en": None, "es": "b"}}),  # an empty value, with its colon
    ("x: {en:, es: b}\n", None),  # not YAML at all: a syntax error, as before
    ("x: {alone, en: b}\n", {"x": {"alone": None, "en": "b"}}),  # nothing before it to join
    ('x: {en: "quoted", more}\n', {"x": {"en": "quoted", "more": None}}),
    ("x: [a, b, c]\n", {"x": ["a", "b", "c"]}),
    ("x:\n  en: Names the topic, not the idea.\n",
     {"x": {"en": "Names the topic, not the idea."}}),
])
def test_only_plain_text_cut_by_a_comma_is_repaired(text: str, data: Any) -> None:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "f.yaml")
    if data is None:
        assert document is None and [p.code for p in problems] == ["yaml-syntax"]
    else:
        assert document is not None and document.data == data
        assert not [p for p in problems if p.code == "yaml-unquoted-comma"]


# --- after a file cannot be read --------------------------------------------------------------

BASE = (
    "kind: framework\nschema_version: 1\nid: demo\ntitle: Demo\n"
    "scales:\n  - id: two\n    levels:\n      - {value: 1, label: Starting}\n"
    "      - {value: 2, label: Done, mastery: true}\n"
    "competencies:\n  - id: C\n    title: C\n    targets:\n"
    "      - id: C.1\n        statement: Does it.\n        i_can: I can do it.\n"
    "        indicators: {\"1\": Starts., \"2\": Does it.}\n"
)
POLICY_FOR_DEMO = POLICY + "framework: demo\nmethod: highest\n"


def _validate(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [(d.path.rsplit("/", 1)[-1], d.code) for d in validate_paths([tmp_path]).diagnostics]


@pytest.mark.parametrize("broken", [
    BASE.replace("title: Demo", "title: [Demo"),  # does not parse
    BASE.replace("kind: framework", "kind: framwork"),  # an unknown kind, same id
])
def test_a_framework_that_cannot_be_read_silences_framework_not_loaded(
    tmp_path: Path, broken: str
) -> None:
    found = _validate(tmp_path, {"framework.yaml": broken, "policy.yaml": POLICY_FOR_DEMO})
    assert [name for name, _ in found] == ["framework.yaml"]


def test_an_unreadable_file_with_another_id_does_not_silence_it(tmp_path: Path) -> None:
    other = BASE.replace("kind: framework", "kind: framwork").replace("id: demo", "id: other")
    found = _validate(tmp_path, {"framework.yaml": other, "policy.yaml": POLICY_FOR_DEMO})
    assert found == [("framework.yaml", "unknown-kind"), ("policy.yaml", "framework-not-loaded")]


def test_framework_not_loaded_stays_when_every_file_was_read(tmp_path: Path) -> None:
    found = _validate(tmp_path, {"policy.yaml": POLICY_FOR_DEMO})
    assert found == [("policy.yaml", "framework-not-loaded")]


# --- indentation is not quoting -----------------------------------------------------------------

def _syntax(text: str) -> Diagnostic:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "f.yaml")
    assert document is None and len(problems) == 1
    return problems[0]


@pytest.mark.parametrize(("text", "line", "column", "key"), [
    ("a:\n  statement: Names it.\n   i_can: I can.\n", 3, 4, "i_can"),
    ("kind: framework\n title: Demo\n", 2, 2, "title"),
    ('x:\n  "1": a\n   "2": b\n', 3, 4, '"2"'),
    ("- id: A\n  title: B\n   - id: C\n", 3, 4, "id"),
])
def test_an_extra_space_before_a_key_gets_an_indentation_hint(
    text: str, line: int, column: int, key: str
) -> None:
    problem = _syntax(text)
    assert (problem.code, problem.line, problem.column) == ("yaml-syntax", line, column)
    assert problem.message.startswith(f"invalid YAML: '{key}' is indented further than line")
    assert problem.hint is not None and problem.hint.startswith("keys of one mapping start")


def test_a_value_with_a_colon_still_gets_the_quoting_hint() -> None:
    problem = _syntax("statement: Note: it is plain text.\n")
    assert problem.hint == "a value that contains ': ' must be put in quotes"
    assert (problem.line, problem.column) == (1, 16)


def test_the_canvas_export_refuses_a_policy_with_a_repaired_comma(tmp_path: Path) -> None:
    from mastery_cli.diagnostics import MasteryError
    from mastery_cli.interop.canvas_outcomes import calculation_from_policy

    path = tmp_path / "policy.yaml"
    path.write_text(POLICY + "method: {name: decaying_average, weight: 0.7, 0.8}\n",
                    encoding="utf-8")
    with pytest.raises(MasteryError) as caught:
        calculation_from_policy(path)
    assert [d.code for d in caught.value.diagnostics] == ["yaml-unquoted-comma"]
