"""Moodle competency framework CSV: import (14 and 12 columns), export, round trip."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.files import write_framework_files
from mastery_cli.interop.moodle import HEADER_14, export_moodle_csv, read_moodle_csv
from mastery_cli.validation import load_framework, validate_paths

DATA = Path(__file__).parent / "data" / "interop"
REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "moodle"
CORE_FIXTURE = REAL / "moodle-core_tool_lpimportcsv_tests_fixtures_example.csv"
OLD_FORMAT = REAL / "moodlehq_tool_lpimportcsv_example.csv"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata is absent")
runner = CliRunner()


def imported_id_numbers(folder: Path) -> list[str]:
    """Every Moodle id number present in the imported YAML, once per competency."""
    framework, _ = load_framework([folder])
    found = []
    for competency in framework.competencies.values():
        if not (competency.case or {}).get("synthetic"):
            found.append(competency.case["moodle"]["id_number"])  # type: ignore[index]
        found += [t.case["moodle"]["id_number"] for t in competency.targets]  # type: ignore[index]
    found += [g["moodle"]["id_number"] for g in (framework.case or {}).get("groups", [])]
    return found


def test_small_framework_scale_rules_and_text(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(result.files, tmp_path, source="small-moodle.csv")
    assert validate_paths([tmp_path]).errors == []
    framework, _ = load_framework([tmp_path])
    assert framework.id == "habits"
    scale = framework.default_scale
    assert scale is not None
    assert [framework.text(level.label) for level in scale.levels] == [
        "Not yet", "Approaching", "Meets", "Exceeds"]
    assert scale.mastery_value == 3  # the lowest proficient item
    assert framework.description == "How students work & learn."
    collab = framework.competencies["COLLAB"]
    assert collab.case is not None
    assert collab.case["moodle"]["rule_type"] == "core_competency\\competency_rule_all"
    assert collab.case["moodle"]["rule_outcome"] == "1"
    assert framework.targets["COLLAB.1"].case["moodle"]["cross_references"] == "SELF.1"  # type: ignore[index]
    self_direction = framework.competencies["SELF"].case
    assert self_direction is not None
    assert '"points":2' in self_direction["moodle"]["rule_config"]


def test_old_twelve_column_format(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "old-moodle.csv")
    write_framework_files(result.files, tmp_path, source="old-moodle.csv")
    assert validate_paths([tmp_path]).errors == []
    framework, _ = load_framework([tmp_path])
    assert set(framework.targets) == {"1.1", "1.2"}
    assert framework.default_scale is not None
    assert framework.default_scale.mastery_value == 2


def test_export_then_import_round_trip(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(result.files, tmp_path / "a", source="x")
    framework, _ = load_framework([tmp_path / "a"])
    text, _ = export_moodle_csv(framework)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER_14
    assert all(len(row) == 14 for row in rows)
    assert [row[12] for row in rows[1:]].count("1") == 1
    original = list(csv.reader(io.StringIO((DATA / "small-moodle.csv").read_text(), newline="")))
    # parents, id numbers, rules and cross references come back as they were
    columns = (0, 1, 2, 7, 8, 9, 10, 11)
    assert sorted(tuple(r[i] for i in columns) for r in rows[2:]) == sorted(
        tuple(r[i] for i in columns) for r in original[2:])
    (tmp_path / "out.csv").write_text(text, encoding="utf-8")
    again = read_moodle_csv(tmp_path / "out.csv")
    write_framework_files(again.files, tmp_path / "b", source="x")
    second, _ = load_framework([tmp_path / "b"])
    assert export_moodle_csv(second)[0] == text
    assert second.default_scale is not None and second.default_scale.mastery_value == 3


def test_not_a_moodle_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "moodle", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "moodle-header" in result.output


@needs_real
def test_moodle_core_fixture_imports_exactly_64_competencies(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(CORE_FIXTURE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 0
    ids = imported_id_numbers(tmp_path)
    assert len(ids) == 64 and len(set(ids)) == 64


@needs_real
def test_moodle_old_format_fixture(tmp_path: Path) -> None:
    result = read_moodle_csv(OLD_FORMAT)
    write_framework_files(result.files, tmp_path, source=OLD_FORMAT.name)
    assert validate_paths([tmp_path]).errors == []
    assert len(imported_id_numbers(tmp_path)) == 209


# -- rules <-> the policy's competency roll-up ------------------------------------------------

RULES = DATA / "rules-moodle.csv"


def test_rules_that_all_say_n_of_m_become_a_policy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(RULES), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "as the roll-up of policy.yaml" in result.output
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 0
    validation = validate_paths([tmp_path])
    assert validation.errors == []
    policy = yaml.safe_load((tmp_path / "policy.yaml").read_text(encoding="utf-8"))
    assert policy["kind"] == "policy" and policy["framework"] == "lab"
    # SAFE: 2 of 3 at one point each; MEAS: 4 points at two each, i.e. 2 of 3
    assert policy["competency_rollup"] == {"method": "n_of_m", "n": 2}
    from mastery_cli.grading.policy import build_policy

    document = validation.documents.of_kind("policy")[0]  # type: ignore[union-attr]
    built, problems = build_policy(document)
    assert problems == [] and built is not None
    assert (built.competency_rollup.method, built.competency_rollup.n) == ("n_of_m", 2)


def test_export_with_the_policy_gives_the_rules_back(tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "moodle", str(RULES), "--out",
                               str(tmp_path / "fw")]).exit_code == 0
    out = tmp_path / "lab.csv"
    result = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--policy",
                                 str(tmp_path / "fw" / "policy.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rules = [[*row[7:10], row[11]] for row in csv.reader(io.StringIO(
        out.read_text(encoding="utf-8"), newline=""))]
    original = [[*row[7:10], row[11]] for row in csv.reader(io.StringIO(
        RULES.read_text(encoding="utf-8"), newline=""))]
    assert rules[2:] == original[2:]


def test_rules_without_one_roll_up_are_kept_and_reported(tmp_path: Path) -> None:
    result = read_moodle_csv(DATA / "small-moodle.csv")
    assert [name for name, _ in result.files] == ["habits.yaml", "policy.yaml"]
    policy = dict(result.files)["policy.yaml"]
    # COLLAB (all children) is all_mastered, as its own override; SELF requires a child: no
    # equivalent, so it keeps the policy's default roll-up and its rule stays in case.moodle
    assert policy["overrides"] == {"COLLAB": {"rollup": {"method": "all_mastered"}}}
    assert "competency_rollup" not in policy
    notes = {d.code: d for d in result.diagnostics if d.code.startswith("moodle-rule")}
    assert "moodle-rule-per-competency" not in notes
    assert notes["moodle-rules-as-policy"].severity.value == "info"
    assert "1 of the 2 competencies" in notes["moodle-rules-as-policy"].message
    assert notes["moodle-rule-no-equivalent"].severity.value == "warning"
    assert notes["moodle-rule-no-equivalent"].line == 6
    assert "requires particular children" in notes["moodle-rule-no-equivalent"].message


def _policy(folder: Path, rollup: str) -> Path:
    path = folder / "policy.yaml"
    path.write_text(f"kind: policy\nschema_version: 1\nid: p\ncompetency_rollup: {rollup}\n",
                    encoding="utf-8")
    return path


def test_export_maps_a_policy_roll_up_onto_every_competency(tmp_path: Path) -> None:
    imported = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(imported.files, tmp_path / "fw", source="x")
    framework, _ = load_framework([tmp_path / "fw"])
    from mastery_cli.interop.moodle_rules import RULE_ALL, RULE_POINTS, Rollup

    text, problems = export_moodle_csv(framework, Rollup("all_mastered"))
    rows = {row[1]: row for row in csv.reader(io.StringIO(text, newline=""))}
    assert rows["COLLAB"][7:10] == [RULE_ALL, "1", "null"]  # stored, says the same: kept
    assert rows["SELF"][7:10] == [RULE_ALL, "2", "null"]  # replaced; its outcome kept
    assert [p.code for p in problems] == ["moodle-rule-replaced"]
    text, _ = export_moodle_csv(framework, Rollup("n_of_m", 2))
    rows = {row[1]: row for row in csv.reader(io.StringIO(text, newline=""))}
    assert rows["COLLAB"][7] == RULE_POINTS
    assert rows["COLLAB"][9] == ('{"base":{"points":2},"competencies":[{"id":2,"points":1,'
                                 '"required":0},{"id":3,"points":1,"required":0}]}')
    policy = _policy(tmp_path, "{method: mean}")
    result = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--policy",
                                 str(policy), "--out", str(tmp_path / "m.csv")])
    assert result.exit_code == 0 and "moodle-rollup-no-equivalent" in result.output
    assert (tmp_path / "m.csv").read_bytes().decode() == export_moodle_csv(framework)[0]


def test_points_rules_give_targets_exported_ids_and_import_back(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "framework"
    if not examples.is_dir():
        pytest.skip("examples/framework is absent")
    policy = _policy(tmp_path, "{method: n_of_m, n: 1}")
    out = tmp_path / "native.csv"
    result = runner.invoke(app, ["export", "moodle", str(examples), "--policy", str(policy),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    exported = [row[11] for row in rows[2:] if row[11]]
    assert len(exported) == len(set(exported)) > 0
    again = runner.invoke(app, ["import", "moodle", str(out), "--out", str(tmp_path / "fw")])
    assert again.exit_code == 0, again.output
    policy_back = yaml.safe_load((tmp_path / "fw" / "policy.yaml").read_text(encoding="utf-8"))
    assert policy_back["competency_rollup"] == {"method": "n_of_m", "n": 1}


@pytest.mark.parametrize(("rule", "outcome", "config", "expected"), [
    ("all", "1", "null", ("all_mastered", None)),
    ("points", "3", '{"base":{"points":3},"competencies":[{"id":1,"points":2,"required":0},'
     '{"id":2,"points":2,"required":0}]}', ("n_of_m", 2)),
    ("points", "3", '{"base":{"points":2},"competencies":[{"id":1,"points":1,"required":1},'
     '{"id":2,"points":1,"required":0}]}', None),
    ("points", "3", '{"base":{"points":2},"competencies":[{"id":1,"points":1,"required":0},'
     '{"id":2,"points":2,"required":0}]}', None),
    ("points", "3", '{"base":{"points":1},"competencies":[{"id":1,"points":1,"required":0}]}',
     None),  # child 2 is not listed
    ("all", "0", "null", None),  # outcome: do nothing
])
def test_rule_correspondence(rule: str, outcome: str, config: str,
                             expected: tuple[str, int | None] | None) -> None:
    from mastery_cli.interop.moodle_rules import RULE_ALL, RULE_POINTS, Child, rule_to_rollup

    rule_type = RULE_ALL if rule == "all" else RULE_POINTS
    rollup, reason = rule_to_rollup(rule_type, outcome, config,
                                    [Child("1", True), Child("2", True)])
    assert (None if rollup is None else (rollup.method, rollup.n)) == expected
    assert (reason == "") == (expected is not None)


def test_summary_names_the_moodle_competencies(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(DATA / "small-moodle.csv"), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0
    assert "imported 6 Moodle competencies as 2 competencies and 4 targets" in result.output


@needs_real
def test_core_fixture_summary_shows_the_64(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(CORE_FIXTURE), "--out", str(tmp_path)])
    assert "imported 64 Moodle competencies as 16 competencies, 44 targets and 4 groups" in (
        result.output)


MIXED = DATA / "rules-mixed-moodle.csv"


def _rule_columns(text: str) -> list[list[str]]:
    """Rule type, outcome, config and exported id of every row after the framework row."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [[row[1], *row[7:10], row[11]] for row in rows[2:]]


def test_mixed_rules_become_per_competency_overrides(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "moodle", str(MIXED), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "as roll-up overrides in policy.yaml" in result.output
    policy = yaml.safe_load((tmp_path / "policy.yaml").read_text(encoding="utf-8"))
    # SAFE: 2 points to pass at one each; MEAS: all children; OBS: no rule; REC: a required
    # child, which no roll-up says (kept in case.moodle, reported)
    assert policy["overrides"] == {"SAFE": {"rollup": {"method": "n_of_m", "n": 2}},
                                   "MEAS": {"rollup": {"method": "all_mastered"}}}
    assert "competency_rollup" not in policy
    assert "moodle-rule-no-equivalent" in result.output and "'REC'" in result.output
    # the policy validates together with the framework (ids resolve, n fits SAFE's 3 targets)
    validated = runner.invoke(app, ["validate", str(tmp_path / "policy.yaml"),
                                    str(tmp_path / "lab.yaml")])
    assert validated.exit_code == 0, validated.output
    assert "0 errors" in validated.output
    framework, _ = load_framework([tmp_path / "lab.yaml"])
    from mastery_cli.grading.policy_check import load_policy

    built, _ = load_policy(tmp_path / "policy.yaml", framework)
    assert (built.rollup_for("SAFE").method, built.rollup_for("SAFE").n) == ("n_of_m", 2)
    assert built.rollup_for("MEAS").method == "all_mastered"
    assert built.rollup_for("OBS").method == "mean"


def test_mixed_rules_round_trip_through_the_policy(tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "moodle", str(MIXED), "--out",
                               str(tmp_path / "fw")]).exit_code == 0
    original = _rule_columns(MIXED.read_text(encoding="utf-8"))
    out = tmp_path / "lab.csv"
    result = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--policy",
                                 str(tmp_path / "fw" / "policy.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _rule_columns(out.read_text(encoding="utf-8")) == original
    # The rules now come from the policy: strip the stored SAFE and MEAS rules and export again.
    framework_file = tmp_path / "fw" / "lab.yaml"
    data = yaml.safe_load(framework_file.read_text(encoding="utf-8"))
    for competency in data["competencies"]:
        if competency["id"] in ("SAFE", "MEAS"):
            for key in ("rule_type", "rule_outcome", "rule_config"):
                competency["case"]["moodle"].pop(key, None)
    framework_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                              encoding="utf-8")
    stripped = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--out",
                                   str(tmp_path / "bare.csv")])
    assert stripped.exit_code == 0, stripped.output
    bare = {row[0]: row for row in _rule_columns((tmp_path / "bare.csv").read_text("utf-8"))}
    assert bare["SAFE"][1] == bare["MEAS"][1] == ""  # really gone without the policy
    again = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--policy",
                                str(tmp_path / "fw" / "policy.yaml"), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert _rule_columns(out.read_text(encoding="utf-8")) == original


def test_export_prefers_a_competency_override_to_the_policy_roll_up(tmp_path: Path) -> None:
    imported = read_moodle_csv(DATA / "small-moodle.csv")
    write_framework_files(imported.files, tmp_path / "fw", source="x")
    policy = tmp_path / "policy.yaml"
    policy.write_text("kind: policy\nschema_version: 1\nid: p\n"
                      "competency_rollup: {method: all_mastered}\n"
                      "overrides:\n  SELF: {rollup: {method: n_of_m, n: 1}}\n"
                      "  COLLAB: {rollup: {method: median}}\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["export", "moodle", str(tmp_path / "fw"), "--policy",
                                 str(policy), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "competency 'COLLAB': its roll-up 'median' has no Moodle rule" in result.output
    rows = {row[1]: row for row in csv.reader(io.StringIO(out.read_text("utf-8"), newline=""))}
    from mastery_cli.interop.moodle_rules import RULE_ALL, RULE_POINTS

    assert rows["COLLAB"][7:10] == [RULE_ALL, "1", "null"]  # stored rule kept as it was
    assert rows["SELF"][7] == RULE_POINTS
    assert rows["SELF"][9] == ('{"base":{"points":1},"competencies":[{"id":5,"points":1,'
                               '"required":0},{"id":6,"points":1,"required":0}]}')
