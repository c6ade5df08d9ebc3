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
Moodle as it came. The policy format has one roll-up for every competency and no per-competency
roll-up, so an import writes a policy only when every competency has the same corresponding
rule; otherwise each rule is reported as kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, MasteryError, Severity

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
        data = json.loads(config)
    except json.JSONDecodeError:
        return None, "its configuration is not JSON"
    base = (data.get("base") or {}).get("points") if isinstance(data, dict) else None
    listed = data.get("competencies") if isinstance(data, dict) else None
    if not isinstance(base, int | float) or not isinstance(listed, list):
        return None, "its configuration has no base points or no competencies"
    points = {str(e.get("id")): e for e in listed if isinstance(e, dict)}
    if len(points) != len(listed) or set(points) != {c.exported_id for c in children}:
        return None, "its points do not list exactly the competency's children"
    if any(str(e.get("required", 0)) not in ("0", "False", "false") for e in points.values()):
        return None, "it requires particular children"
    values = {e.get("points") for e in points.values()}
    value = values.pop() if len(values) == 1 else None
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None, "its children have different points"
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
        "competencies": [{"id": int(i) if i.isdigit() else i, "points": 1, "required": 0}
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


def rollup_from_policy(path: Path, display: str | None = None
                       ) -> tuple[Rollup | None, list[Diagnostic]]:
    """The policy's roll-up when a Moodle rule can express it, else None and a note why.

    The policy is read and checked as ``mastery grade`` reads it; a broken policy raises
    MasteryError with its diagnostics.
    """
    from mastery_cli.grading.policy import build_policy, load_policy_document

    document, _ = load_policy_document(path)
    policy, problems = build_policy(document)
    if policy is None:
        raise MasteryError(problems)
    rollup = policy.competency_rollup
    if rollup.method == "all_mastered":
        return Rollup("all_mastered"), []
    if rollup.method == "n_of_m" and rollup.n is not None:
        return Rollup("n_of_m", rollup.n), []
    return None, [Diagnostic(
        display or str(path), None, None, "moodle-rollup-no-equivalent",
        f"the policy's competency roll-up '{rollup.method}' has no Moodle rule; competencies "
        "keep the rules stored under case.moodle (if any)", Severity.INFO,
        "Moodle rules express all_mastered (all children proficient) and n_of_m (points)",
        "competency_rollup")]
