"""The quick schema check must never call a document valid that jsonschema rejects.

`schemas.certainly_valid` (jsonschema-rs) lets valid files skip importing jsonschema, which gives
every diagnostic; its one claim ("certainly valid") is compared here with jsonschema's Draft
2020-12 verdict on documents made by mutating valid ones, for every bundled schema.
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mastery_cli import numbers_as_text
from mastery_cli.schemas import certainly_valid, check_document
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



def _agrees(kind: str, document: Any) -> None:
    # As check_document does before the quick check: numbers at text places become text.
    numbers_as_text.convert(YamlDocument("mutant.yaml", document), _schema(kind))
    quick = certainly_valid(document, kind)
    exact = Draft202012Validator(_schema(kind)).is_valid(document)
    if quick:
        assert exact, document  # the one claim the quick check makes
    if exact and not _has_float(document):
        assert quick, document  # and it is not needlessly unsure


def _has_float(value: Any) -> bool:
    # 1.0 where the schema wants an integer: jsonschema says valid, jsonschema-rs may not.
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_seeds_are_certainly_valid(kind: str) -> None:
    for seed in SEEDS[kind]:
        assert certainly_valid(seed, kind)


@settings(max_examples=300, deadline=None)
@given(_mutants("framework"))
def test_framework_verdicts_agree(document: Any) -> None:
    _agrees("framework", document)


@settings(max_examples=200, deadline=None)
@given(_mutants("rubric"))
def test_rubric_verdicts_agree(document: Any) -> None:
    _agrees("rubric", document)


@pytest.mark.parametrize(
    "value",
    [datetime.date(2026, 9, 1), 10**30, float("nan"), "en\n", b"bytes", {1: "x"}],
    ids=["date", "huge-int", "nan", "trailing-newline", "bytes", "int-key"],
)
def test_values_json_has_no_word_for_are_left_to_jsonschema(value: Any) -> None:
    """YAML can say things JSON cannot, and Python's ``re`` lets "$" match before a final line
    break: the quick check answers "not certain" (jsonschema decides), and never raises."""
    document = copy.deepcopy(SEEDS["framework"][0])
    document["languages"] = ["en", value]
    assert certainly_valid(document, "framework") is False
    document["languages"] = ["en", "es"]
    assert certainly_valid(document, "framework") is True


def test_a_final_line_break_is_jsonschema_s_to_judge() -> None:
    # The one place the two differ on our schemas: both answers must lead to the same result.
    document = copy.deepcopy(SEEDS["framework"][0])
    document["languages"] = ["en", "es\n"]
    assert Draft202012Validator(_schema("framework")).is_valid(document)
    assert certainly_valid(document, "framework") is False
