"""The YAML loader: YAML 1.2 scalars, exact positions, and diagnostics instead of exceptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.yamlfile import (
    MAX_DEPTH,
    YamlDocument,
    _surely_shallow,
    coerce_pointer_values,
    load_yaml_bytes,
    pointer_text,
)
from mastery_cli.yamlfile import _Loader as _YAML_LOADER


def load(text: str) -> YamlDocument:
    document, problems = load_yaml_bytes(text.encode("utf-8"), "f.yaml")
    assert not problems, problems
    assert document is not None
    return document


def codes(raw: bytes) -> list[str]:
    document, problems = load_yaml_bytes(raw, "f.yaml")
    assert document is None or not problems
    return [p.code for p in problems]


# --- YAML 1.2 core scalars --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", "2026-09-01"),  # YAML 1.1 would give a date
        ("NO", "NO"), ("no", "no"), ("yes", "yes"), ("on", "on"), ("Off", "Off"),
        ("true", True), ("False", False), ("TRUE", True),
        ("1.10", 1.1), ("'1.10'", "1.10"), ("010", 10), ("0o17", 15), ("0x1F", 31),
        ("~", None), ("null", None), ("", None), ("1_000", "1_000"), ("12:30", "12:30"),
        (".inf", float("inf")), ("-.INF", float("-inf")), ("3e2", 300.0),
        ("!!str 12", "12"), ('"true"', "true"), ("'~'", "~"),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, expected: Any) -> None:
    assert load(f"value: {text}\n").data == {"value": expected}


def test_nan_is_a_float() -> None:
    value = load("value: .nan\n").data["value"]
    assert value != value


def test_merge_keys_are_applied_and_explicit_keys_win() -> None:
    data = load("base: &b {a: 1, b: 2}\nthing:\n  <<: *b\n  b: 3\n").data
    assert data["thing"] == {"a": 1, "b": 3}


def test_coercion_gives_back_the_text_as_written() -> None:
    document = load("id: 1.10\nflag: NO\nn: 007\nquoted: '1.5'\nlist: [1.10, 2]\n")
    changed = coerce_pointer_values(
        document, [("id",), ("n",), ("quoted",), ("list", 0), ("missing",)]
    )
    assert document.data == {"id": "1.10", "flag": "NO", "n": "007", "quoted": "1.5",
                             "list": ["1.10", 2]}
    assert changed == [("id",), ("n",), ("list", 0)]


# --- positions ---------------------------------------------------------------------------------

def test_positions_of_values_and_keys() -> None:
    document = load("kind: framework\nscales:\n  - id: four\n    levels: [1, 2]\n")
    assert document.position(("kind",)) == (1, 7)
    assert document.position(("kind",), key=True) == (1, 1)
    assert document.position(("scales", 0, "id")) == (3, 9)
    assert document.position(("scales", 0, "levels", 1)) == (4, 17)
    # a missing key is reported at its parent's key
    assert document.position(("scales", 0, "title")) == (3, 5)
    assert document.position(("nothing", "here")) == (1, 1)


def test_pointer_text_escapes() -> None:
    assert pointer_text(("a/b", "c~d", 3)) == "/a~1b/c~0d/3"
    assert pointer_text(()) == ""


def _render(value: Any, indent: int, lines: list[str], here: tuple[Any, ...],
            where: dict[tuple[Any, ...], tuple[int, int]]) -> None:
    """Write ``value`` in block style, recording where each scalar value starts (1-based)."""
    pad = " " * indent
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        prefix = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(child, dict | list) and child:
            lines.append(prefix)
            _render(child, indent + 2, lines, (*here, key), where)
        else:
            text = json.dumps(child, ensure_ascii=False)
            where[(*here, key)] = (len(lines) + 1, len(prefix) + 2)
            lines.append(f"{prefix} {text}")


_keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
# Printable text (YAML forbids some control characters even when escaped by JSON).
_printable = st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0xFFFD)
_leaves = st.one_of(st.integers(-1000, 1000), st.text(_printable, max_size=12), st.booleans(),
                    st.none())
_trees = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=4),
                            st.dictionaries(_keys, inner, min_size=1, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _trees, min_size=1, max_size=5))
def test_positions_match_where_values_were_written(tree: dict[str, Any]) -> None:
    lines: list[str] = []
    where: dict[tuple[Any, ...], tuple[int, int]] = {}
    _render(tree, 0, lines, (), where)
    document = load("\n".join(lines) + "\n")
    assert document.data == tree
    for pointer, position in where.items():
        assert document.position(pointer) == position, (pointer, "\n".join(lines))


# --- problems become diagnostics --------------------------------------------------------------

def test_duplicate_key_is_reported_at_the_duplicate() -> None:
    _, problems = load_yaml_bytes(b"a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert [(p.code, p.line, p.column) for p in problems] == [("duplicate-key", 4, 3)]
    assert "line 3" in problems[0].message


def test_billion_laughs_fails_fast() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    assert codes("\n".join(lines).encode()) == ["yaml-alias-bomb"]


def test_moderate_aliases_are_fine() -> None:
    document = load("base: &b {x: 1}\nitems: [*b, *b, *b]\n")
    assert document.data["items"] == [{"x": 1}] * 3


def test_recursive_alias() -> None:
    assert codes(b"a: &x\n  - *x\n") == ["yaml-recursive-alias"]


@pytest.mark.parametrize(
    ("raw", "code", "line", "column"),
    [
        (b"a:\n\tb: 1\n", "yaml-tab", 2, 1),
        (b"a: caf\xe9\n", "file-encoding", 1, 7),
        ("a: é\nb: caf".encode() + b"\xe9\n", "file-encoding", 2, 7),
        ("a: ééé\xe9".encode()[:-2] + b"\xe9\n", "file-encoding", 1, 7),
        ("a: 1\n".encode("utf-16"), "file-encoding", 1, 1),
        (b"a: 1\x00\n", "file-encoding", 1, 5),
        (b"a: [1, 2\nb: 3\n", "yaml-syntax", 2, 2),
        (b"a: 1\n---\nb: 2\n", "yaml-multiple-documents", 2, 1),
        (b"? [1]\n: x\n", "yaml-complex-key", 1, 3),
        (b"a: *nothing\n", "yaml-syntax", 1, 4),
    ],
)
def test_broken_files_give_positioned_diagnostics(
    raw: bytes, code: str, line: int, column: int
) -> None:
    _, problems = load_yaml_bytes(raw, "f.yaml")
    assert [(p.code, p.line, p.column) for p in problems] == [(code, line, column)]
    assert all(p.path == "f.yaml" for p in problems)


def test_utf8_bom_is_accepted_and_empty_file_has_no_data() -> None:
    document, problems = load_yaml_bytes(b"\xef\xbb\xbfa: 1\n", "f.yaml")
    assert document is not None and document.data == {"a": 1} and not problems
    document, problems = load_yaml_bytes(b"", "f.yaml")
    assert document is not None and document.data is None and not problems


@pytest.mark.parametrize("depth", [MAX_DEPTH * 5, 100_000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    # libyaml's composer recurses in C: 100,000 brackets used to kill the interpreter.
    assert codes(b"a: " + b"[" * depth + b"]" * depth + b"\n") == ["yaml-too-deep"]
    assert codes(b"a:\n" + b"- " * depth + b"1\n") == ["yaml-too-deep"]


def test_too_deep_is_reported_where_the_limit_is_crossed() -> None:
    # Newer libyaml stops at a nesting limit of its own with a scanner error before our check
    # sees the events; whatever PyYAML does, the diagnostic names the first bracket too deep.
    depth = 2_000
    _, problems = load_yaml_bytes(b"a: " + b"[" * depth + b"]" * depth + b"\n", "f.yaml")
    [problem] = problems
    # The mapping is level 1, so the bracket that makes level MAX_DEPTH + 1 is the MAX_DEPTH-th.
    assert (problem.code, problem.line, problem.column) == ("yaml-too-deep", 1, 3 + MAX_DEPTH)


def test_reasonable_nesting_is_fine() -> None:
    depth = MAX_DEPTH - 2
    document = load("a: " + "[" * depth + "]" * depth + "\n")
    assert document.data is not None


# The cheap check decides whether a file needs the event-by-event depth count before libyaml's
# recursive composer sees it: "surely shallow" must never be said of a file the parser takes
# deeper than the limit. Small limits make the check decide often on small documents.

def _deepest(text: str) -> int:
    """How deep the parser's collections nest before the end or the first error (the composer
    recurses as far as the events go, error or not); the C and the pure-Python parser."""
    deepest = 0
    for loader in (_YAML_LOADER, yaml.SafeLoader):
        depth = 0
        try:
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    deepest = max(deepest, depth)
                elif isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
        except yaml.YAMLError:
            pass
    return deepest


def _check_never_too_optimistic(text: str) -> None:
    deepest = _deepest(text)
    for limit in range(1, deepest + 2):
        if _surely_shallow(text, limit):
            assert deepest <= limit, (limit, deepest, text)


_NESTING_ALPHABET = st.sampled_from(["- ", "-", "? ", "?", ": ", ":", "\n", " ", "  ", "\t",
                                     "a", "b", "[", "]", "{", "}", ",", "#", "&x ", "!t ",
                                     "'", "--- ", "\r\n", "\x85", "\u2028"])
_NESTED = st.recursive(st.sampled_from(["a", "b c", "x: y", "- z", "1", ""]),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(["k", "a b", "?q", "-"]), inner,
                                         max_size=3), max_leaves=30)


@pytest.mark.parametrize("text", [
    "- " * 150 + "a\n",
    "a:\n- b:\n  - c:\n    - d:\n      - e\n",
    "? - - a\n: - - b\n",
    "- &x a: - b\n",
    "--- - - a\n",
    "k:\n" + "".join("  " * i + "- k:\n" for i in range(60)),
    # two levels a column: a key, the sequence under it, a key one column in, ...
    "k:\n" + "".join(" " * i + "-\n" + " " * (i + 1) + "k:\n" for i in range(40)),
    "x: " + "some text with - dashes and: colons ? marks " * 3 + "\n",
    "a: [[{b: [c]}]]\n",
])
def test_surely_shallow_is_never_said_of_a_deeper_document(text: str) -> None:
    _check_never_too_optimistic(text)


def test_surely_shallow_says_so_of_the_example_framework() -> None:
    """The point of the check: real files, lines of 100 characters and more included, are
    composed once, not parsed twice."""
    files = sorted((Path(__file__).resolve().parents[1] / "examples" / "framework").glob("*.yaml"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    assert files and max(len(line) for t in texts for line in t.splitlines()) > MAX_DEPTH // 2
    assert all(_surely_shallow(text) for text in texts)


@settings(max_examples=800, deadline=None)
@given(st.lists(_NESTING_ALPHABET, max_size=150).map("".join))
def test_surely_shallow_holds_for_random_yaml_like_text(text: str) -> None:
    _check_never_too_optimistic(text)


@settings(max_examples=300, deadline=None)
@given(_NESTED, st.integers(2, 9), st.sampled_from([False, None]))
def test_surely_shallow_holds_for_dumped_documents(data: Any, indent: int, flow: bool | None
                                                   ) -> None:
    _check_never_too_optimistic(yaml.safe_dump(data, indent=indent, default_flow_style=flow,
                                               width=20))


# --- never an exception -------------------------------------------------------------------------

_YAML_ALPHABET = st.sampled_from(
    [*"ab:- \n\t[]{},&*!|>'\"#%@`?~.0123456789", "<<", "---", "...", "\xe9", "\x00", "\r"]
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(raw: bytes) -> None:
    document, problems = load_yaml_bytes(raw, "f.yaml")
    assert (document is None) == bool(problems)
    for problem in problems:
        assert problem.code and problem.message and problem.path == "f.yaml"


@settings(max_examples=600, deadline=None)
@given(st.lists(_YAML_ALPHABET, max_size=120).map("".join))
def test_random_yaml_like_text_never_raises(text: str) -> None:
    document, problems = load_yaml_bytes(text.encode("utf-8", "surrogatepass"), "f.yaml")
    assert (document is None) == bool(problems)
    if document is not None and document.root is not None:
        # every value can be located
        document.position(())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_agrees_with_pyyaml_on_what_is_yaml(text: str) -> None:
    """Whatever PyYAML can compose as a single document, we load (or reject with a reason)."""
    _, problems = load_yaml_bytes(text.encode("utf-8", "surrogatepass"), "f.yaml")
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
        composable = True
    except (yaml.YAMLError, RecursionError):
        composable = False
    except Exception:  # PyYAML's own bugs are not ours to mirror
        return
    if composable and problems:
        assert problems[0].code in {
            "duplicate-key", "yaml-complex-key", "file-encoding", "yaml-recursive-alias",
            "yaml-alias-bomb", "yaml-too-deep",
        }, problems
