"""Any valid JSON Schema construct gives located diagnostics, never an internal error.

`mastery validate` once crashed on a ``false`` subschema (``TypeError`` in ``_code``). Here
every keyword of Draft 2020-12 that can reject a value is exercised through the same code
path as the bundled schemas, plus the rules the bundled schemas are written to (issue 20).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mastery_cli.schemas import check_against, check_document
from mastery_cli.yamlfile import load_yaml_bytes

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("framework", "rubric", "policy")
CODE = re.compile(r"^[a-z]+(-[a-z]+)*$")


def _document(text: str) -> Any:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "file.yaml")
    assert document is not None and not problems
    return document


@pytest.mark.parametrize(("schema", "text", "line"), [
    ({"properties": {"levels": False}}, "id: a\nlevels: [1]\n", 2),
    ({"patternProperties": {"^x": False}}, "id: a\nxy: 1\n", 2),
    ({"additionalProperties": False}, "id: a\n", 1),
    ({"items": False}, "[1]\n", 1),
    ({"prefixItems": [True, False]}, "[1, 2]\n", 1),
    ({"prefixItems": [{"type": "string"}], "items": False}, "[a, 2]\n", 1),
    ({"propertyNames": False}, "a: 1\n", 1),
    ({"propertyNames": {"not": {"const": "b"}}}, "a: 1\nb: 2\n", 2),
    (False, "a: 1\n", 1),
    ({"allOf": [True, False]}, "a: 1\n", 1),
    ({"anyOf": [False, False]}, "a: 1\n", 1),
    ({"oneOf": [True, True]}, "a: 1\n", 1),
    ({"not": True}, "a: 1\n", 1),
    ({"not": {"required": ["a"]}}, "a: 1\n", 1),
    ({"contains": False}, "[1]\n", 1),
    ({"contains": {"type": "string"}, "minContains": 2}, "[a, 1]\n", 1),
    ({"contains": {"type": "string"}, "maxContains": 1}, "[a, b]\n", 1),
    ({"if": True, "then": False}, "a: 1\n", 1),
    ({"if": False, "else": {"required": ["b"]}}, "a: 1\n", 1),
    ({"dependentRequired": {"a": ["b"]}}, "a: 1\n", 1),
    ({"dependentSchemas": {"a": False}}, "a: 1\n", 1),
    ({"properties": {"n": {"multipleOf": 2}}}, "n: 3\n", 1),
    ({"properties": {"n": {"exclusiveMaximum": 2}}}, "n: 3\n", 1),
    ({"properties": {"s": {"format": "date"}, "t": {"type": "null"}}}, "s: x\nt: 1\n", 2),
    ({"unevaluatedProperties": False, "properties": {"a": True}}, "a: 1\nb: 2\n", 1),
    ({"unevaluatedItems": False, "prefixItems": [True]}, "[1, 2]\n", 1),
    ({"$ref": "#/$defs/no", "$defs": {"no": False}}, "a: 1\n", 1),
    ({"properties": {"a": {"$ref": "#"}}, "required": ["b"]}, "b: 1\na:\n  a: {}\n  b: 1\n", 3),
    ({"enum": [[1], {"a": 1}]}, "a: 2\n", 1),
    ({"const": {"a": [1]}}, "a: 2\n", 1),
    ({"uniqueItems": True}, "[1, 1.0]\n", 1),
    ({"minProperties": 2, "maxLength": 1}, "a: 1\n", 1),
])
def test_every_construct_gives_a_located_diagnostic(schema: Any, text: str, line: int) -> None:
    document = _document(text)
    diagnostics = check_against(document, schema)
    assert diagnostics, "the value is invalid: something must be reported"
    for diagnostic in diagnostics:
        assert CODE.match(diagnostic.code), diagnostic
        assert diagnostic.line is not None and diagnostic.column is not None
        assert "internal" not in diagnostic.message
    assert line in {d.line for d in diagnostics}


def test_a_false_property_is_a_forbidden_key_at_the_key() -> None:
    document = _document("kind: x\nlist:\n  - name: a\n    levels: [1, 2]\n")
    schema = {"properties": {"list": {"items": {"properties": {"levels": False}}}}}
    [diagnostic] = check_against(document, schema)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("schema-forbidden-key", 4, 5)
    assert diagnostic.message == "'levels' is not allowed here in list/0"


def test_a_false_list_item_is_a_forbidden_item() -> None:
    document = _document("- a\n- b\n")
    [diagnostic] = check_against(document, {"prefixItems": [True, False]})
    assert (diagnostic.code, diagnostic.line, diagnostic.message) == (
        "schema-forbidden-item", 2, "item 2 is not allowed here")


# --- hints come from the property, as the editor's hover shows it -----------------------------

FRAMEWORK = """kind: framework
schema_version: 1
id: demo
scales:
  - id: four
    levels:
      - {value: 1, label: ""}
      - {value: 2, label: Two}
"""
POLICY = "kind: policy\nschema_version: 1\nid: p\n"


def _description(kind: str, *path: str) -> str:
    node: Any = json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text("utf-8"))
    for part in path:
        node = node[part]
    description: str = node["description"]
    return description


@pytest.mark.parametrize(("kind", "text", "described_by"), [
    ("framework", FRAMEWORK, ("$defs", "level", "properties", "label")),
    ("policy", POLICY + 'method: ""\n', ("properties", "method")),
    ("policy", POLICY + "missing: {score: x}\n",
     ("properties", "missing", "oneOf", 1, "properties", "score")),
    ("policy", POLICY + "method: {name: mode, tie: sometimes}\n",
     ("properties", "method", "oneOf", 1, "properties", "tie")),
])
def test_the_hint_is_the_description_of_the_property(
    kind: str, text: str, described_by: tuple[Any, ...]
) -> None:
    [diagnostic] = check_document(_document(text), kind)
    assert diagnostic.hint == _description(kind, *described_by)


# --- the schemas as editors read them ----------------------------------------------------------

def _schema(kind: str) -> Any:
    return json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text("utf-8"))


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("examples", "default", "const", "enum"):
                yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


@pytest.mark.parametrize("kind", KINDS)
def test_branches_carry_no_titles_descriptions_or_examples(kind: str) -> None:
    """Editors show the first title they meet, and a branch's comes before the property's."""
    found = [path for path, node in _walk(_schema(kind)) if isinstance(node, dict)
             for keyword in ("oneOf", "anyOf") for branch in node.get(keyword, [])
             if isinstance(branch, dict) and {"title", "description", "examples"} & set(branch)]
    assert found == []


@pytest.mark.parametrize("kind", KINDS)
def test_only_keywords_draft_07_era_editors_understand(kind: str) -> None:
    newer = {"unevaluatedProperties", "unevaluatedItems", "prefixItems", "dependentRequired",
             "dependentSchemas", "$dynamicRef", "$dynamicAnchor", "minContains", "maxContains"}
    schema = _schema(kind)
    assert "draft-07" in schema["$comment"]
    used = {key for _, node in _walk(schema) if isinstance(node, dict) for key in node}
    assert used & newer == set()


@pytest.mark.parametrize("kind", KINDS)
def test_kind_and_version_complete_to_their_only_value(kind: str) -> None:
    properties = _schema(kind)["properties"]
    for name in ("kind", "schema_version"):
        assert properties[name]["default"] == properties[name]["const"]


@pytest.mark.parametrize("kind", KINDS)
def test_keys_are_not_typed(kind: str) -> None:
    """The editor checks a YAML key's own type: ``{1: "…"}`` has a number key."""
    found = [path for path, node in _walk(_schema(kind))
             if path and path[-1] == "propertyNames" and "type" in node]
    assert found == []
