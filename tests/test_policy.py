"""The grading policy: schema, semantic checks with file:line:col, and --method/--param."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.diagnostics import MasteryError
from mastery_cli.grading.policy import apply_options, default_policy
from mastery_cli.validation import load_framework, validate_paths

REPO = Path(__file__).resolve().parents[1]
FRAMEWORK = REPO / "tests" / "golden" / "grade" / "inputs" / "framework.yaml"
SCHEMA = REPO / "schemas" / "policy.schema.json"

HEADER = "kind: policy\nschema_version: 1\nid: p\nframework: test-school\n"


def check(tmp_path: Path, body: str) -> list[str]:
    """`mastery validate` lines for a policy file validated with the test framework."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(HEADER + body, encoding="utf-8")
    result = validate_paths([policy, FRAMEWORK])
    return [f"{d.location()} [{d.code}] {d.message}".replace(f"{tmp_path}/", "")
            for d in result.diagnostics]


def test_schema_is_valid_and_documents_every_property() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://mastery-cli.org/schemas/policy.schema.json"

    def walk(node: dict, where: str) -> None:
        for name, prop in (node.get("properties") or {}).items():
            for key in ("title", "description", "examples"):
                assert key in prop, f"{where}/{name} has no {key}"
            walk(prop, f"{where}/{name}")
        for alternative in node.get("oneOf") or []:
            walk(alternative, where)
        if isinstance(node.get("items"), dict):
            walk(node["items"], where + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], where + "/*")

    walk(schema, "")


def test_the_example_policy_is_valid() -> None:
    result = validate_paths([REPO / "examples"])
    assert [d for d in result.diagnostics if "policy" in d.path] == []


def test_a_clean_policy_has_no_problems(tmp_path: Path) -> None:
    assert check(tmp_path, "method: {name: n_mastery, n: 3}\nmin_evidence: 2\n") == []


def test_unknown_method_has_did_you_mean_at_its_line(tmp_path: Path) -> None:
    lines = check(tmp_path, "method: decaying_averge\n")
    assert len(lines) == 1
    assert lines[0].startswith("policy.yaml:5:9 [unknown-method]")
    assert "did you mean 'decaying_average'?" in lines[0]


def test_out_of_range_weight_names_the_allowed_range(tmp_path: Path) -> None:
    lines = check(tmp_path, "method:\n  name: decaying_average\n  weight: 1.5\n")
    assert lines == ["policy.yaml:7:11 [policy-parameter] weight must be between 0.5 and 0.99 "
                     "(got 1.5)"]


def test_canvas_percentage_weight_is_caught(tmp_path: Path) -> None:
    lines = check(tmp_path, "method: {name: weighted_average, weight: 65}\n")
    assert "did you mean 0.65?" in lines[0]


def test_unknown_parameter_lands_on_its_key(tmp_path: Path) -> None:
    lines = check(tmp_path, "method:\n  name: n_mastery\n  weight: 0.5\n")
    # the schema allows 'weight' (another method's); the method check refuses it here
    assert lines and lines[0].startswith("policy.yaml:7:")
    assert "unknown parameter 'weight' for n_mastery" in lines[0]


def test_schema_errors_have_positions(tmp_path: Path) -> None:
    lines = check(tmp_path, "min_evidence: 0\norder_by: time\n")
    assert any(line.startswith("policy.yaml:5:") for line in lines)
    assert any(line.startswith("policy.yaml:6:11 [schema-enum]") for line in lines)


def test_override_ids_resolve_in_the_framework(tmp_path: Path) -> None:
    lines = check(tmp_path, "overrides:\n  T11: {method: highest}\n  C1: {min_evidence: 2}\n")
    assert lines == ["policy.yaml:6:3 [unresolved-reference] override id 'T11' is not defined "
                     "in the framework"]


def test_cut_points_must_increase(tmp_path: Path) -> None:
    lines = check(tmp_path, 'levels:\n  cut_points: {"2": 2.5, "3": 2.0}\n')
    assert len(lines) == 1 and "[cut-points-not-increasing]" in lines[0]


def test_cut_point_on_a_level_no_scale_has(tmp_path: Path) -> None:
    lines = check(tmp_path, 'levels:\n  cut_points: {"7": 6.5}\n')
    assert len(lines) == 1 and "[unknown-level]" in lines[0]


def test_rules_well_formed(tmp_path: Path) -> None:
    lines = check(tmp_path, "course_grade:\n  rules:\n    - grade: F\n    - grade: A\n"
                            "      at_least: {level: 4}\n")
    codes = " ".join(lines)
    assert "[unreachable-rule]" in codes
    assert "[policy-rule]" in codes  # at_least needs count or share


def test_rules_without_catch_all_warn(tmp_path: Path) -> None:
    lines = check(tmp_path, "course_grade:\n  rules:\n    - {grade: A, none_below: 3}\n")
    assert len(lines) == 1 and "[no-catch-all-rule]" in lines[0]


def test_conversion_rows_must_go_down(tmp_path: Path) -> None:
    lines = check(tmp_path, "course_grade:\n  conversion:\n    - {min: 2, grade: B}\n"
                            "    - {min: 3, grade: A}\n")
    assert any("[conversion-not-decreasing]" in line for line in lines)


def test_validate_cli_prints_file_line_col(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(HEADER + "method: highst\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(policy), str(FRAMEWORK)])
    assert result.exit_code == 1
    assert ":5:9: error [unknown-method] unknown calculation method 'highst'; did you mean " \
           "'highest'?" in result.output
    assert "Traceback" not in result.output


def test_policy_defaults() -> None:
    policy = default_policy()
    assert policy.method.name == "decaying_average"
    assert policy.method.params["weight"] == 0.65
    assert policy.min_evidence == 1 and policy.places == 2 and policy.order_by == "date"
    assert not policy.efficacy_in_course_grade


def test_method_and_params_from_options() -> None:
    policy = apply_options(None, "weighted_average", ["weight=0.75", "min_evidence=2"])
    assert policy.method.name == "weighted_average"
    assert policy.method.params["weight"] == 0.75
    assert policy.min_evidence == 2
    tuned = apply_options(policy, None, ["weight=0.5"])
    assert tuned.method.name == "weighted_average" and tuned.method.params["weight"] == 0.5


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("hihgest", [], "did you mean 'highest'?"),
        ("decaying_average", ["weight=1.5"], "weight must be between 0.5 and 0.99"),
        ("n_mastery", ["n=11"], "n must be a whole number between 1 and 10"),
        ("highest", ["min_evidence=0"], "min_evidence must be a whole number of 1 or more"),
    ],
)
def test_bad_options_raise_with_the_allowed_values(method: str, params: list[str],
                                                   expected: str) -> None:
    with pytest.raises(MasteryError) as caught:
        apply_options(None, method, params)
    assert not caught.value.usage  # exit 1: a problem in what the user asked for
    assert expected in str(caught.value)


def test_override_applies_to_target_before_competency(tmp_path: Path) -> None:
    from mastery_cli.grading.policy_check import load_policy

    framework, _ = load_framework(FRAMEWORK)
    file = tmp_path / "policy.yaml"
    file.write_text(HEADER + "method: average\noverrides:\n  C1: {method: highest}\n"
                    "  T2: {method: latest, min_evidence: 3}\n", encoding="utf-8")
    policy, warnings = load_policy(file, framework)
    assert warnings == []
    assert policy.spec_for("T1", "C1").name == "highest"
    assert policy.spec_for("T2", "C1").name == "latest"
    assert policy.spec_for("T4", "C2").name == "average"
    assert policy.min_evidence_for("T2", "C1") == 3
    assert policy.min_evidence_for("T1", "C1") == 1


def test_a_clean_rollup_override_has_no_problems(tmp_path: Path) -> None:
    body = ("overrides:\n  C1:\n    rollup: {method: n_of_m, n: 3}\n"
            "  C2: {rollup: {method: all_mastered}, method: highest}\n")
    assert check(tmp_path, body) == []


def test_rollup_override_method_has_did_you_mean_at_its_line(tmp_path: Path) -> None:
    lines = check(tmp_path, "overrides:\n  C1:\n    rollup: {method: n_of_n, n: 2}\n")
    assert lines == ["policy.yaml:7:22 [unknown-rollup] unknown roll-up method 'n_of_n'"]
    policy = tmp_path / "policy.yaml"
    diagnostics = validate_paths([policy, FRAMEWORK]).diagnostics
    assert diagnostics[0].hint == "did you mean 'n_of_m'?"


def test_rollup_override_n_must_fit_the_competency(tmp_path: Path) -> None:
    lines = check(tmp_path, "overrides:\n  C1:\n    rollup:\n      method: n_of_m\n      n: 4\n")
    assert lines == ["policy.yaml:9:10 [policy-rollup] n = 4, but competency 'C1' has 3 targets"]
    assert check(tmp_path, "overrides:\n  C1: {rollup: {method: n_of_m}}\n") == [
        "policy.yaml:6:25 [policy-rollup] method n_of_m needs 'n' (how many targets at mastery)"]


def test_rollup_override_ids_resolve(tmp_path: Path) -> None:
    lines = check(tmp_path, "overrides:\n  C9: {rollup: {method: mean}}\n"
                            "  T1: {rollup: {method: mean}}\n"
                            "  C2: {rollup: {method: weighted_mean, weights: {T1: 2}}}\n")
    assert lines == [
        "policy.yaml:6:3 [unresolved-reference] override id 'C9' is not defined in the framework",
        "policy.yaml:7:3 [rollup-on-target] 'T1' is a target: only a competency has a roll-up",
        "policy.yaml:8:50 [unresolved-reference] target 'T1' is not a target of competency 'C2'",
    ]
