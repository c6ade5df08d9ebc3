"""Moodle's competency rules and the grading policy's competency roll-up, both ways.

A Moodle competency may carry a rule that rates it from its children: *all children
proficient* (``competency_rule_all``) or *points* (``competency_rule_points``, configured as
``{"base": {"points": N}, "competencies": [{"id": <exported id>, "points": p,
"required": 0|1}]}``, the ids being the children's "Exported id" column), with an outcome:
1 attach evidence, 2 send for review, 3 mark complete (0 does nothing).

Our roll-up lives in the grading policy (``competency_rollup``). They correspond when the
competency's children are exactly its targets and:

* all children proficient ↔ ``all_mastered`` (every target at mastery);
* points where every child is listed with the same points and none is required ↔
  ``n_of_m`` with n = ⌈base ÷ points⌉.

Anything else (required children, unequal points, children that are not targets, a rule that
does nothing) has no equivalent: the rule stays verbatim under ``case.moodle`` and goes back to
Moodle as it came. When every competency has the same corresponding rule, an import writes it
as the policy's ``competency_rollup``; otherwise each competency with a corresponding rule gets
its own ``overrides.<id>.rollup`` (the others keep the policy's default, the mean). An export
with a policy reads both back: a competency's override first, else the policy's roll-up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastery_cli.diagnostics import Diagnostic, MasteryError, Severity
from mastery_cli.jsonfile import JsonProblem, parse_json

if TYPE_CHECKING:
    from mastery_cli.grading.policy import CompetencyRollup

RULE_ALL = "core_competency\\competency_rule_all"
RULE_POINTS = "core_competency\\competency_rule_points"
OUTCOME_COMPLETE = "3"
RULE_NAMES = {RULE_ALL: "all children proficient", RULE_POINTS: "points"}


@dataclass(frozen=True)
class Rollup:
    """A competency roll-up of the policy that a Moodle rule can express."""

    method: str  # all_mastered or n_of_m
    n: int | None = None

    def describe(self) -> str:
        """The condition in words: "… is met when <this>"."""
        return "all its targets are at mastery" if self.method == "all_mastered" else (
            f"{self.n} of its targets are at mastery")

    def policy_data(self) -> dict[str, Any]:
        return {"method": self.method, **({"n": self.n} if self.n is not None else {})}


@dataclass(frozen=True)
class Child:
    """A child row of a Moodle competency: its exported id and whether it became a target."""

    exported_id: str
    is_target: bool


#: Points of a rule beyond this are not a count of children (and past float range, a crash).
_MOST_POINTS = 1_000_000


def rule_to_rollup(rule_type: str, outcome: str, config: str, children: Sequence[Child]
                   ) -> tuple[Rollup | None, str]:
    """The roll-up a rule stands for, or None and the reason there is none."""
    if outcome.strip() in ("", "0"):
        return None, "its outcome is 'do nothing'"
    if not children or not all(child.is_target for child in children):
        return None, "its children are not all learning targets"
    if rule_type == RULE_ALL:
        return Rollup("all_mastered"), ""
    if rule_type != RULE_POINTS:
        return None, f"'{rule_type}' is not a rule Moodle ships"
    try:
        data = parse_json(config)
    except json.JSONDecodeError:
        return None, "its configuration is not JSON"
    except JsonProblem as exc:
        return None, f"its configuration is refused: {exc.message} (at line {exc.line}, column " \
            f"{exc.column} of the cell)"
    base = (data.get("base") or {}).get("points") if isinstance(data, dict) else None
    listed = data.get("competencies") if isinstance(data, dict) else None
    if not isinstance(base, int | float) or not isinstance(listed, list):
        return None, "its configuration has no base points or no competencies"
    if not 0 <= base <= _MOST_POINTS:
        return None, f"its base points ({base:g}) are not between 0 and {_MOST_POINTS:,}"
    points = {str(e.get("id")): e for e in listed if isinstance(e, dict)}
    if len(points) != len(listed) or set(points) != {c.exported_id for c in children}:
        return None, "its points do not list exactly the competency's children"
    if any(str(e.get("required", 0)) not in ("0", "False", "false") for e in points.values()):
        return None, "it requires particular children"
    values = {e.get("points") for e in points.values()}
    value = values.pop() if len(values) == 1 else None
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None, "its children have different points"
    if value > _MOST_POINTS:
        return None, f"its children's points are more than {_MOST_POINTS:,}"
    n = math.ceil(base / value)
    if not 1 <= n <= len(children):
        return None, f"it needs {n} of {len(children)} children"
    return Rollup("n_of_m", n), ""


def rollup_to_rule(rollup: Rollup, target_ids: Sequence[str]) -> tuple[str, str] | None:
    """(rule type, rule config) for a competency with these targets' exported ids."""
    if rollup.method == "all_mastered":
        return RULE_ALL, "null"
    n = rollup.n or 1
    if rollup.method != "n_of_m" or not 1 <= n <= len(target_ids):
        return None
    config = {
        "base": {"points": n},
        "competencies": [{"id": int(i) if i.isascii() and i.isdigit() and len(i) <= 18 else i,
                          "points": 1, "required": 0}
                         for i in target_ids],
    }
    return RULE_POINTS, json.dumps(config, separators=(",", ":"))


def policy_file(framework_id: str, rollup: Rollup, rules: int) -> dict[str, Any]:
    """The ``kind: policy`` data an import writes when every competency has this roll-up."""
    return {
        "kind": "policy", "schema_version": 1, "id": f"{framework_id}-moodle",
        "title": "Grading policy from Moodle",
        "description": f"Written on import: the Moodle rules of all {rules} competencies say "
        f"that a competency is met when {rollup.describe()}. 'latest' is how Moodle rates: "
        "the latest rating counts.",
        "framework": framework_id,
        "method": "latest",
        "competency_rollup": rollup.policy_data(),
    }


def policy_file_per_competency(framework_id: str, rollups: Mapping[str, Rollup],
                               competencies: int) -> dict[str, Any]:
    """The ``kind: policy`` data an import writes when the rules differ between competencies:
    each competency's roll-up as its override, in the order of the file."""
    return {
        "kind": "policy", "schema_version": 1, "id": f"{framework_id}-moodle",
        "title": "Grading policy from Moodle",
        "description": f"Written on import: {len(rollups)} of the {competencies} competencies "
        "have a Moodle rule with an equivalent roll-up, written as that competency's override "
        "(the others use the mean of their targets). 'latest' is how Moodle rates: the latest "
        "rating counts.",
        "framework": framework_id,
        "method": "latest",
        "overrides": {competency_id: {"rollup": rollup.policy_data()}
                      for competency_id, rollup in rollups.items()},
    }


@dataclass(frozen=True)
class PolicyRollups:
    """What a policy says about competency roll-ups, as Moodle rules can express it.

    ``default`` is the policy's ``competency_rollup`` (None when no rule expresses it);
    ``by_competency`` holds every competency id with a roll-up override (None: no rule
    expresses that one, its stored rule is kept).
    """

    default: Rollup | None = None
    by_competency: Mapping[str, Rollup | None] = field(default_factory=dict)

    def for_competency(self, competency_id: str) -> Rollup | None:
        if competency_id in self.by_competency:
            return self.by_competency[competency_id]
        return self.default


def as_moodle_rollup(rollup: CompetencyRollup) -> Rollup | None:
    """The Moodle-expressible form of a policy roll-up, or None."""
    if rollup.method == "all_mastered":
        return Rollup("all_mastered")
    if rollup.method == "n_of_m" and rollup.n is not None:
        return Rollup("n_of_m", rollup.n)
    return None


def rollups_from_policy(path: Path, display: str | None = None
                        ) -> tuple[PolicyRollups, list[Diagnostic]]:
    """The policy's roll-ups (its default and each competency override) as Moodle rules, with
    a note for each that no rule can express.

    The policy is read and checked as ``mastery grade`` reads it; a broken policy raises
    MasteryError with its diagnostics.
    """
    from mastery_cli.grading.policy import build_policy, load_policy_document

    document, _ = load_policy_document(path)
    policy, problems = build_policy(document)
    if policy is None:
        raise MasteryError(problems)
    shown = display or str(path)
    hint = "Moodle rules express all_mastered (all children proficient) and n_of_m (points)"
    notes = []
    default = as_moodle_rollup(policy.competency_rollup)
    overrides = {key: o.rollup for key, o in policy.overrides.items() if o.rollup is not None}
    if default is None:
        whose = "competencies without a roll-up override" if overrides else "competencies"
        notes.append(Diagnostic(
            shown, None, None, "moodle-rollup-no-equivalent",
            f"the policy's competency roll-up '{policy.competency_rollup.method}' has no Moodle "
            f"rule; {whose} keep the rules stored under case.moodle (if any)", Severity.INFO,
            hint, "competency_rollup"))
    by_competency: dict[str, Rollup | None] = {}
    for competency_id, rollup in sorted(overrides.items()):
        by_competency[competency_id] = as_moodle_rollup(rollup)
        if by_competency[competency_id] is None:
            notes.append(Diagnostic(
                shown, None, None, "moodle-rollup-no-equivalent",
                f"competency '{competency_id}': its roll-up '{rollup.method}' has no Moodle rule; "
                "it keeps the rule stored under case.moodle (if any)", Severity.INFO, hint,
                f"overrides/{competency_id}/rollup"))
    return PolicyRollups(default, by_competency), notes
