"""Pace against the plan: the documented straight-line rule, checked against hand-worked cases
and an independent oracle, and `mastery explain` on a goal."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.learner.model import Goal, Review
from mastery_cli.learner.pace import explain_pace, goal_pace

REPO = Path(__file__).resolve().parent.parent
START, END = date(2026, 9, 1), date(2026, 12, 10)  # 100 days
TARGETS = ["T1", "T2", "T3", "T4"]


def _goal(**changes: object) -> Goal:
    fields: dict[str, object] = {"id": "g", "arena": "academic", "statement": "s",
                                 "targets": list(TARGETS), "set_on": START, "target_date": END}
    fields.update(changes)
    return Goal(**fields)  # type: ignore[arg-type]


def _results(mastered: dict[str, str]) -> dict[str, dict[str, object]]:
    return {t: {"target": t, "mastered": t in mastered, "last_evidence_date": mastered.get(t)}
            for t in TARGETS}


def test_hand_worked_cases() -> None:
    # 50 of 100 days gone: 4 x 50/100 = 2 targets expected.
    halfway = START + timedelta(days=50)
    cases = {
        (): "behind",                                   # 0 <= 2 - 1
        ("T1",): "behind",                              # 1 <= 1
        ("T1", "T2"): "on-pace",
        ("T1", "T2", "T3"): "ahead",                    # 3 >= 2 + 1
        ("T1", "T2", "T3", "T4"): "met",
    }
    for mastered, status in cases.items():
        pace = goal_pace(_goal(), _results(dict.fromkeys(mastered, "2026-10-01")), {}, halfway)
        assert pace.status == status, mastered
        assert pace.expected in (None, Fraction(2))
    # 60 of 100 days: 2.4 expected; 2 and 3 are within one target, 1 is not.
    day60 = START + timedelta(days=60)
    assert goal_pace(_goal(), _results({"T1": "2026-09-05"}), {}, day60).status == "behind"
    three = _results(dict.fromkeys(["T1", "T2", "T3"], "2026-09-05"))
    pace = goal_pace(_goal(), three, {}, day60)
    assert (pace.status, pace.expected_shown) == ("on-pace", "2.4")


def test_rounding_of_the_shown_expectation_is_half_up() -> None:
    # 5 targets x 1/2 = 2.5 exactly... and 3 x 15/200 days = 0.225 -> 0.2, 3 x 25/200 = 0.375 -> 0.4
    goal = _goal(targets=["T1", "T2", "T3"], target_date=START + timedelta(days=200))
    assert goal_pace(goal, {}, {}, START + timedelta(days=15)).expected_shown == "0.2"
    assert goal_pace(goal, {}, {}, START + timedelta(days=25)).expected_shown == "0.4"
    goal = _goal(targets=["T1"], target_date=START + timedelta(days=20))
    assert goal_pace(goal, {}, {}, START + timedelta(days=5)).expected_shown == "0.3"  # 0.25


def test_past_the_date_with_targets_left_is_behind_and_later_mastery_waits() -> None:
    late = goal_pace(_goal(), _results(dict.fromkeys(TARGETS[:3], "2026-10-01")), {},
                     END + timedelta(days=1))
    assert late.status == "behind"
    # Mastered after the as-of date: not counted yet.
    pace = goal_pace(_goal(), _results({"T1": "2026-11-20"}), {}, date(2026, 11, 1))
    assert [m.target for m in pace.mastered] == [] and pace.left == TARGETS


def test_competencies_expand_and_the_start_falls_back_to_the_first_review() -> None:
    goal = _goal(targets=["T1"], competencies=["C"], set_on=None,
                 reviews=[Review(date(2026, 10, 1), "A"), Review(START, "B")])
    pace = goal_pace(goal, {}, {"C": ["T1", "T2"]}, START)
    assert pace.targets == ["T1", "T2"] and pace.start == START
    assert goal_pace(_goal(set_on=None), {}, {}, START).status == "no-dates"
    assert goal_pace(_goal(targets=[]), {}, {}, START).status == "no-targets"


def _oracle(done: int, total: int, gone: int, planned: int, past: bool) -> str:
    """The rule from the module's documentation, in integers only (no fractions)."""
    if done == total:
        return "met"
    if past:
        return "behind"
    # expected = total*gone/planned; compare done*planned with total*gone +- planned
    if done * planned >= total * gone + planned:
        return "ahead"
    if done * planned <= total * gone - planned:
        return "behind"
    return "on-pace"


@given(st.integers(0, 4), st.integers(1, 400), st.integers(-30, 450))
def test_status_matches_an_integer_oracle(done: int, planned: int, offset: int) -> None:
    end = START + timedelta(days=planned)
    as_of = START + timedelta(days=offset)
    pace = goal_pace(_goal(target_date=end),
                     _results(dict.fromkeys(TARGETS[:done], "2026-01-01")), {}, as_of)
    gone = min(max(offset, 0), planned)
    assert pace.status == _oracle(done, 4, gone, planned, as_of > end)


def test_explanation_shows_the_numbers() -> None:
    pace = goal_pace(_goal(), _results({"T1": "2026-09-20"}), {}, START + timedelta(days=60))
    text = explain_pace(pace)
    assert "mastered  T1  on 2026-09-20" in text
    assert "Expected by now: 4 × 60 ÷ 100 days = 2.4 targets." in text
    assert text.endswith("Pace: behind (mastered ≤ expected − 1)")


def test_explain_cli_explains_a_goal_of_the_example_school() -> None:
    result = CliRunner().invoke(app, [
        "explain", "0041066", "catch-up", *map(str, sorted((REPO / "examples" / "gradebook")
                                                          .glob("*.csv"))),
        "--framework", str(REPO / "examples" / "framework"),
        "--policy", str(REPO / "examples" / "policy.yaml"),
        "--learners", str(REPO / "examples" / "learners"), "--date", "2027-01-29"])
    assert result.exit_code == 0, result.output
    assert "Goal 'catch-up' (academic), as of 2027-01-29" in result.stdout
    assert "Targets (4): MATH.ALG.1, MATH.ALG.2, MATH.ALG.3, MATH.ALG.4" in result.stdout
    assert "Pace: " in result.stdout
