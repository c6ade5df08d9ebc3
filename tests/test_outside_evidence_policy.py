"""The policy's outside_evidence settings (the filter itself belongs to the grading engine)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mastery_cli.grading.policy import OUTSIDE_SOURCES, OutsideEvidence, policy_from_data
from mastery_cli.validation import validate_paths

REPO = Path(__file__).resolve().parent.parent
HEADER = "kind: policy\nschema_version: 1\nid: p\nframework: riverside-hs\n"


def _policy(body: dict[str, object]) -> tuple[object, list[str]]:
    policy, problems = policy_from_data({"kind": "policy", "schema_version": 1, "id": "p",
                                         **body})
    return policy, [p.message for p in problems]


def test_without_the_setting_outside_rows_count_as_today() -> None:
    policy, problems = _policy({})
    assert problems == [] and policy.outside_evidence is None  # type: ignore[attr-defined]


def test_defaults_and_window() -> None:
    policy, problems = _policy({"outside_evidence": {
        "window": {"from": "2026-06-01", "to": "2027-01-29"}}})
    assert problems == []
    outside = policy.outside_evidence  # type: ignore[attr-defined]
    assert outside == OutsideEvidence(True, date(2026, 6, 1), date(2027, 1, 29), OUTSIDE_SOURCES)
    assert outside.is_outside(" Internship ") and not outside.is_outside("Lakeside Middle")
    policy, _ = _policy({"outside_evidence": {"requires_approval": False,
                                              "sources": ["Museum"]}})
    assert policy.outside_evidence == OutsideEvidence(False, None, None, ("museum",))  # type: ignore[attr-defined]


def test_a_reversed_window_is_an_error_at_its_place(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(HEADER + "outside_evidence:\n  window: {from: '2027-01-01', to: "
                    "'2026-01-01'}\n", encoding="utf-8")
    result = validate_paths([file, REPO / "examples" / "framework"])
    assert [(d.line, d.code, d.message) for d in result.diagnostics] == [
        (6, "policy-date", "the outside evidence window ends before it starts")]


def test_unknown_keys_are_schema_errors(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(HEADER + "outside_evidence:\n  requires_aproval: true\n", encoding="utf-8")
    result = validate_paths([file, REPO / "examples" / "framework"])
    assert [d.line for d in result.diagnostics] == [6]
    assert "requires_approval" in (result.diagnostics[0].hint or result.diagnostics[0].message)


def test_the_example_policy_lets_the_summer_internship_count() -> None:
    from mastery_cli.grading.policy_check import load_policy
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(REPO / "examples" / "framework")
    policy, _ = load_policy(REPO / "examples" / "policy.yaml", framework)
    outside = policy.outside_evidence
    assert outside is not None and outside.requires_approval
    rows = (REPO / "examples" / "outside" / "outside_learning.csv").read_text().splitlines()
    internship = [r for r in rows if ",internship," in r]
    assert internship and all(",2026-07-30," in r for r in internship)
    assert outside.date_from is not None and outside.date_from <= date(2026, 7, 30)
    assert policy.evidence.date_from is not None and policy.evidence.date_from > date(2026, 7, 30)
    assert any(r.endswith(",,") and ",community project," in r for r in rows)  # unapproved
