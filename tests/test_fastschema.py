"""The quick schema check must never call a document valid that jsonschema rejects.

`validation/fastschema.py` lets valid files skip importing jsonschema; its one claim ("certainly
valid") is compared here with jsonschema's Draft 2020-12 verdict on thousands of documents made
by mutating valid ones, for every bundled schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mastery_cli import numbers_as_text
from mastery_cli.schemas import check_document
from mastery_cli.validation.fastschema import compile_schema
from mastery_cli.yamlfile import YamlDocument, load_yaml

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "cases" / "good"


def _schema(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    )
    return data


def _seed(name: str, kind: str) -> Any:
    """A valid document as validate sees it (version-like ids read back as text)."""
    document, problems = load_yaml(GOOD / name)
    assert document is not None and not problems
    assert check_document(document, kind) == []
    return document.data


SEEDS = {"framework": [_seed("framework.yaml", "framework"), _seed("courses.yml", "framework")],
         "rubric": [_seed("rubric.yaml", "rubric")]}

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.floats(allow_nan=False, width=32),
    st.sampled_from(["", "x", "MATH.1", "1.10", "rated", "academic", "en", "four", "3",
                     "indicators", "framework", "bad id", "module"]),
    st.just([]), st.just({}), st.just(["a", "a"]), st.just({"en": "x"}), st.just({"zz-!": 1}),
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*here, index))
    return found


@st.composite
def _mutants(draw: st.DrawFn, kind: str) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(SEEDS[kind])))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if not path:
            continue
        last = path[-1]
        if action == "replace":
            parent[last] = copy.deepcopy(draw(_values))
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent[last], dict):
            key = draw(st.sampled_from(["levels", "title", "extra", "mastery", "id", "1", "en"]))
            parent[last][key] = copy.deepcopy(draw(_values))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
    return document


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_bundled_schemas_compile(kind: str) -> None:
    assert compile_schema(_schema(kind)) is not None


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_seeds_are_valid_for_both(kind: str) -> None:
    check = compile_schema(_schema(kind))
    assert check is not None
    for seed in SEEDS[kind]:
        assert check(seed)
        assert Draft202012Validator(_schema(kind)).is_valid(seed)


def _agrees(kind: str, document: Any) -> None:
    # As check_document does before the quick check: numbers at text places become text.
    numbers_as_text.convert(YamlDocument("mutant.yaml", document), _schema(kind))
    check = compile_schema(_schema(kind))
    assert check is not None
    quick = check(document)
    exact = Draft202012Validator(_schema(kind)).is_valid(document)
    if quick:
        assert exact, document  # the one claim the quick check makes
    if exact and not _has_float(document):
        assert quick, document  # and it is not needlessly unsure


@settings(max_examples=400, deadline=None)
@given(_mutants("framework"))
def test_framework_verdicts_agree(document: Any) -> None:
    _agrees("framework", document)


@settings(max_examples=300, deadline=None)
@given(_mutants("rubric"))
def test_rubric_verdicts_agree(document: Any) -> None:
    _agrees("rubric", document)


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"type": "integer"}, [1, -3], ["1", True, None]),
        ({"const": 1}, [1], [True, "1", 2]),
        ({"enum": ["a", 1, None, False]}, ["a", 1, None, False], [0, "b", True]),
        ({"uniqueItems": True}, [["a", "b"], "x"], [["a", "a"]]),
        ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, [3], ["abc"]),
        ({"not": {"required": ["a"]}}, [{"b": 1}], [{"a": 1}, 3]),
        ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"type": "string"}},
         [{"a": 1, "b": 2}, "s"], [{"a": 1}, {"c": 1}]),
        ({"properties": {"a": {"type": "string"}}, "patternProperties": {"^x": {"type": "null"}},
          "additionalProperties": {"type": "integer"}},
         [{"a": "s", "x1": None, "b": 2}], [{"x1": 1}, {"b": "s"}, {"a": 1}]),
        ({"$ref": "#/$defs/tree", "$defs": {"tree": {"type": "array",
                                                     "items": {"$ref": "#/$defs/tree"}}}},
         [[], [[[]]]], [[1], [[{}]]]),
        ({"minimum": 2, "exclusiveMaximum": 5}, [2, 4.5, "x"], [1, 5]),
        ({"propertyNames": {"pattern": "^[a-z]+$"}, "minProperties": 1}, [{"ab": 1}],
         [{}, {"A": 1}]),
    ],
)
def test_keywords_match_jsonschema(schema: dict[str, Any], valid: list[Any],
                                   invalid: list[Any]) -> None:
    check = compile_schema(schema)
    assert check is not None
    validator = Draft202012Validator(schema)
    for value in valid:
        assert validator.is_valid(value) and check(value), value
    for value in invalid:
        assert not validator.is_valid(value) and not check(value), value


@pytest.mark.parametrize(
    "schema",
    [{"unevaluatedProperties": False}, {"$ref": "https://example.org/s.json"},
     {"prefixItems": [{}], "items": False}, {"dependentSchemas": {}},
     {"properties": {"a": {"$id": "x", "type": "string"}}}],
)
def test_what_it_does_not_model_is_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is None


def test_floats_for_integers_are_left_to_jsonschema() -> None:
    check = compile_schema({"type": "integer"})
    assert check is not None and check(1.0) is False  # "not certain", jsonschema decides
