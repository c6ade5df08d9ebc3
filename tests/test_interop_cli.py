"""Help texts and the deterministic YAML writer behind the importers."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.yamlwrite import dump_yaml
from mastery_cli.yamlfile import load_yaml_bytes

runner = CliRunner()


def test_every_interop_command_has_an_example() -> None:
    for command in (["import", "case"], ["import", "moodle"], ["export", "case"],
                    ["export", "moodle"], ["export", "canvas-outcomes"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, command


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
_scalars = st.one_of(_text, st.integers(), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300)
@given(st.dictionaries(_text, _values, max_size=6))
def test_yaml_writer_round_trips_through_both_readers(data: dict[str, object]) -> None:
    text = dump_yaml(data, schema="framework.schema.json")
    assert text.startswith("# yaml-language-server: $schema=framework.schema.json\n")
    document, problems = load_yaml_bytes(text.encode("utf-8"), "x.yaml")
    assert problems == [] and document is not None
    assert document.data == data
    assert yaml.safe_load(text) == data  # YAML 1.1 readers agree
    assert dump_yaml(data, schema="framework.schema.json") == text
    assert "&" not in text.split("\n", 1)[0]


def test_yaml_writer_quotes_what_yaml_would_misread() -> None:
    text = dump_yaml({"a": ["NO", "1.10", "2026-09-01", "on", "~", "x: y", "ünïcode"]})
    assert '"NO"' in text and '"1.10"' in text and '"2026-09-01"' in text and '"on"' in text
    assert "- ünïcode" in text
