"""Pace against the plan: for each academic goal, what is mastered, what is left, and whether
the student is on pace, behind or ahead for the goal's date.

The rule, in plain words (``explain`` prints it with the numbers):

1. The goal's targets are the targets it names plus every target of the competencies it names.
2. A target counts as mastered when the grade results say so (``mastered`` in grades.json),
   on the date of the latest evidence that counted towards it (``last_evidence_date``: the
   result as it stands was reached that day). Targets mastered after the as-of date (the report
   date) do not count yet.
3. The plan is a straight line from the day the goal was set (``set_on``; else its first
   review) to its target date: by the as-of date, ``expected = targets × days gone ÷ days
   planned`` targets should be mastered (0 before the start, all of them from the target date).
4. Every target mastered: **met**. Otherwise, past the target date: **behind**. Otherwise
   mastered ≥ expected + 1: **ahead**; mastered ≤ expected − 1: **behind**; in between (within
   one target of the line): **on pace**. A goal without a start or a target date has no pace
   (**no dates**), and one without targets is not measured (**no targets**).

Arithmetic is exact (fractions); the expected count is shown rounded half up to one decimal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from mastery_cli.learner.model import Goal, goal_targets, parse_date

STATUSES = ("met", "ahead", "on-pace", "behind", "no-dates", "no-targets")


@dataclass(frozen=True)
class MasteredTarget:
    target: str
    on: date | None


@dataclass
class GoalPace:
    goal: Goal
    as_of: date
    targets: list[str] = field(default_factory=list)
    mastered: list[MasteredTarget] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    start: date | None = None
    expected: Fraction | None = None
    status: str = "no-targets"

    @property
    def expected_shown(self) -> str:
        """The expected count rounded half up to one decimal ('' when there is none)."""
        if self.expected is None:
            return ""
        exact = Decimal(self.expected.numerator) / Decimal(self.expected.denominator)
        return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    @property
    def share_done(self) -> Fraction:
        return Fraction(len(self.mastered), len(self.targets)) if self.targets else Fraction(0)


def _start(goal: Goal) -> date | None:
    if goal.set_on is not None:
        return goal.set_on
    dated = sorted(r.date for r in goal.reviews if r.date is not None)
    return dated[0] if dated else None


def goal_pace(goal: Goal, results: Mapping[str, Mapping[str, Any]],
              competencies: Mapping[str, list[str]], as_of: date) -> GoalPace:
    """The pace of one goal from a student's target results (grades.json ``targets`` by id)."""
    pace = GoalPace(goal, as_of, targets=goal_targets(goal, dict(competencies)),
                    start=_start(goal))
    for target in pace.targets:
        result = results.get(target) or {}
        on = parse_date(result.get("last_evidence_date"))
        if result.get("mastered") is True and (on is None or on <= as_of):
            pace.mastered.append(MasteredTarget(target, on))
        else:
            pace.left.append(target)
    if not pace.targets:
        return pace
    done, total = len(pace.mastered), len(pace.targets)
    if done == total:
        pace.status = "met"
        return pace
    end = goal.target_date
    if pace.start is None or end is None:
        pace.status = "no-dates"
        return pace
    planned = max((end - pace.start).days, 1)
    gone = min(max((as_of - pace.start).days, 0), planned)
    pace.expected = Fraction(total * gone, planned)
    if as_of > end:
        pace.status = "behind"
    elif done >= pace.expected + 1:
        pace.status = "ahead"
    elif done <= pace.expected - 1:
        pace.status = "behind"
    else:
        pace.status = "on-pace"
    return pace


def competency_targets(framework: Any) -> dict[str, list[str]]:
    """Competency id → its target ids, in framework order."""
    return {cid: [t.id for t in c.targets] for cid, c in framework.competencies.items()}


def student_paces(goals: Sequence[Goal], student: Mapping[str, Any] | None, framework: Any,
                  as_of: date) -> list[GoalPace]:
    """The pace of every academic goal of a student (``student`` is their grades.json entry;
    None when grade has no results for them: nothing is mastered yet)."""
    results = {str(r.get("target")): r for r in (student or {}).get("targets") or []
               if isinstance(r, Mapping)}
    competencies = competency_targets(framework)
    return [goal_pace(goal, results, competencies, as_of) for goal in goals if goal.academic]


def explain_pace(pace: GoalPace) -> str:
    """The rule applied to one goal, step by step, with its numbers (for ``mastery explain``)."""
    goal = pace.goal
    lines = [f"Goal '{goal.id}' ({goal.arena}), as of {pace.as_of.isoformat()}",
             f"  Targets ({len(pace.targets)}): " + (", ".join(pace.targets) or "none")]
    for item in pace.mastered:
        on = item.on.isoformat() if item.on else "undated"
        lines.append(f"    mastered  {item.target}  on {on} (latest evidence that counted)")
    for target in pace.left:
        lines.append(f"    left      {target}")
    if pace.status == "no-targets":
        lines.append("  Pace: not measured (the goal names no targets or competencies)")
        return "\n".join(lines)
    lines.append(f"  Mastered {len(pace.mastered)} of {len(pace.targets)}.")
    start = pace.start.isoformat() if pace.start else "no start date"
    end = goal.target_date.isoformat() if goal.target_date else "no target date"
    lines.append(f"  Plan: from {start} to {end}.")
    if pace.expected is not None and pace.start is not None and goal.target_date is not None:
        planned = max((goal.target_date - pace.start).days, 1)
        gone = min(max((pace.as_of - pace.start).days, 0), planned)
        lines.append(f"  Expected by now: {len(pace.targets)} × {gone} ÷ {planned} days = "
                     f"{pace.expected_shown} targets.")
    reasons = {
        "met": "every target is mastered",
        "ahead": "mastered ≥ expected + 1",
        "behind": ("the target date has passed" if goal.target_date and pace.as_of >
                   goal.target_date else "mastered ≤ expected − 1"),
        "on-pace": "within one target of the expected count",
        "no-dates": "the goal needs a start (set_on or a review) and a target date",
    }
    lines.append(f"  Pace: {pace.status} ({reasons[pace.status]})")
    return "\n".join(lines)
