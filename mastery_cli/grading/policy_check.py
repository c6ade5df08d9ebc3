"""Checks of grading policy files that a JSON Schema cannot do, for ``mastery validate``.

Importing this module registers :func:`validate_policy` for files of kind ``policy``. Besides
what :func:`~mastery_cli.grading.policy.build_policy` finds on its own (method names with a
did-you-mean, parameter ranges, increasing cut points, well-formed rules), every id the policy
names is looked up in its framework, when that framework was among the files checked, and
evidence types that nearly spell a known type or another of the policy's types are named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.documents import DocumentSet, MasteryDocument
from mastery_cli.framework.model import Framework, level_key
from mastery_cli.grading.policy import (
    KNOWN_EVIDENCE_TYPES,
    NamedType,
    Policy,
    build_policy,
    named_types,
)
from mastery_cli.validation import EXTRA_CHECKS
from mastery_cli.validation.rules import did_you_mean
from mastery_cli.yamlfile import Pointer


def _at(
    document: MasteryDocument,
    code: str,
    message: str,
    pointer: Pointer,
    hint: str | None = None,
    *,
    warning: bool = False,
    key: bool = False,
) -> Diagnostic:
    return document.yaml.diagnostic(
        code,
        message,
        pointer,
        hint=hint,
        key=key,
        severity=Severity.WARNING.value if warning else Severity.ERROR.value,
    )


def _framework_for(
    document: MasteryDocument, framework_id: str | None, frameworks: Mapping[str, Framework]
) -> tuple[Framework | None, list[Diagnostic]]:
    if framework_id is not None:
        if framework_id in frameworks:
            return frameworks[framework_id], []
        if frameworks:
            return None, [
                _at(
                    document,
                    "unresolved-reference",
                    f"framework '{framework_id}' is not defined",
                    ("framework",),
                    did_you_mean(framework_id, frameworks)
                    or "frameworks found: " + ", ".join(sorted(frameworks)),
                )
            ]
        return None, [
            _at(
                document,
                "framework-not-loaded",
                f"framework '{framework_id}' was not among the files checked, so the ids in "
                "this policy cannot be checked",
                ("framework",),
                "validate the policy together with its framework (e.g. 'mastery validate .')",
                warning=True,
            )
        ]
    if len(frameworks) == 1:
        return next(iter(frameworks.values())), []
    return None, []


def _ids(framework: Framework) -> dict[str, str]:
    known = {c: "competency" for c in framework.competencies}
    known.update({t: "target" for t in framework.targets})
    return known


def _check_ids(
    document: MasteryDocument,
    mapping: Mapping[str, Any],
    pointer: Pointer,
    known: Mapping[str, str],
    what: str,
) -> list[Diagnostic]:
    return [
        _at(
            document,
            "unresolved-reference",
            f"{what} '{key}' is not defined in the framework",
            (*pointer, key),
            did_you_mean(key, known) or "use a competency or target id",
            key=True,
        )
        for key in mapping
        if key not in known
    ]


def _check_levels(document: MasteryDocument, framework: Framework) -> list[Diagnostic]:
    problems = []
    every_value = {v for scale in framework.scales.values() for v in scale.values}
    shown = ", ".join(level_key(v) for v in sorted(every_value))
    raw = document.data.get("levels") or {}
    for key in raw.get("cut_points") or {}:
        if float(key) not in every_value:
            problems.append(
                _at(
                    document,
                    "unknown-level",
                    f"no scale of the framework has level {key}",
                    ("levels", "cut_points", key),
                    f"levels: {shown}",
                    key=True,
                )
            )
    for scale_id, table in (raw.get("scales") or {}).items():
        scale = framework.scales.get(scale_id)
        if scale is None:
            problems.append(
                _at(
                    document,
                    "unresolved-reference",
                    f"scale '{scale_id}' is not defined in the framework",
                    ("levels", "scales", scale_id),
                    did_you_mean(scale_id, framework.scales),
                    key=True,
                )
            )
            continue
        for key in table:
            if float(key) not in scale.values:
                problems.append(
                    _at(
                        document,
                        "unknown-level",
                        f"scale '{scale_id}' has no level {key}",
                        ("levels", "scales", scale_id, key),
                        "levels: " + ", ".join(level_key(v) for v in scale.values),
                        key=True,
                    )
                )
    return problems


def _check_outcome_map(
    document: MasteryDocument, outcome_map: Mapping[str, Any], known: Mapping[str, str]
) -> list[Diagnostic]:
    return [
        _at(
            document,
            "unresolved-reference",
            f"outcome '{outcome}' maps to '{target}', which is not defined in the framework",
            ("input", "outcome_map", outcome),
            did_you_mean(str(target), known),
        )
        for outcome, target in outcome_map.items()
        if str(target) not in known
    ]


def _check_rollup_overrides(
    document: MasteryDocument, overrides: Mapping[str, Any], framework: Framework
) -> list[Diagnostic]:
    """A roll-up override names a competency, its n fits that competency, weights its targets."""
    problems = []
    for key, value in overrides.items():
        rollup = value.get("rollup") if isinstance(value, Mapping) else None
        if not isinstance(rollup, Mapping):
            continue
        at = ("overrides", key, "rollup")
        competency = framework.competencies.get(key)
        if competency is None:
            if key in framework.targets:
                problems.append(_at(
                    document, "rollup-on-target",
                    f"'{key}' is a target: only a competency has a roll-up",
                    ("overrides", key), f"put it under the target's competency "
                    f"'{framework.targets[key].competency_id}'", key=True))
            continue  # an unknown id is reported by the id check
        target_ids = [t.id for t in competency.targets]
        targets = len(target_ids)
        n = rollup.get("n")
        if rollup.get("method") == "n_of_m" and isinstance(n, int) and not 1 <= n <= targets:
            problems.append(_at(
                document, "policy-rollup",
                f"n = {n}, but competency '{key}' has {targets} target"
                f"{'s' if targets != 1 else ''}",
                (*at, "n"), f"n is between 1 and {targets}"))
        for target_id in rollup.get("weights") or {}:
            if target_id not in target_ids:
                problems.append(_at(
                    document, "unresolved-reference",
                    f"target '{target_id}' is not a target of competency '{key}'",
                    (*at, "weights", target_id),
                    did_you_mean(target_id, target_ids)
                    or "targets: " + ", ".join(target_ids), key=True))
    return problems


def _check_course_grade(
    document: MasteryDocument, policy: Policy, framework: Framework | None
) -> list[Diagnostic]:
    problems = []
    grade = policy.course_grade
    if grade.rules and not grade.rules[-1].is_catch_all:
        problems.append(
            _at(
                document,
                "no-catch-all-rule",
                "the last course-grade rule has conditions: a student who meets no rule gets no "
                "course grade",
                ("course_grade", "rules", len(grade.rules) - 1),
                "end the rules with one that has only a grade (e.g. '- grade: F')",
                warning=True,
            )
        )
    if grade.conversion and framework is not None and framework.default_scale is not None:
        lowest = framework.default_scale.min_value
        if grade.conversion[-1].minimum > lowest:
            problems.append(
                _at(
                    document,
                    "conversion-gap",
                    f"scores below {grade.conversion[-1].minimum:g} get no course grade (the scale "
                    f"starts at {lowest:g})",
                    ("course_grade", "conversion", len(grade.conversion) - 1, "min"),
                    f"let the last row start at {lowest:g}",
                    warning=True,
                )
            )
    problems.extend(_check_gpa(document, policy, framework))
    return problems


def _check_gpa(
    document: MasteryDocument, policy: Policy, framework: Framework | None
) -> list[Diagnostic]:
    """GPA points for grades the policy never gives are a slip; a grade it gives without
    points leaves its courses out of the GPA (an F without points would raise it). Weights
    name courses of the framework."""
    grade = policy.course_grade
    if not grade.gpa:
        if grade.gpa_weights:
            return [_at(document, "gpa-weights-without-gpa",
                        "'gpa_weights' has no effect without a 'gpa' table of grade points",
                        ("course_grade", "gpa_weights"),
                        "add e.g. gpa: {A: 4, B: 3, C: 2, D: 1, F: 0}", warning=True,
                        key=True)]
        return []
    given = [r.grade for r in grade.rules] or [row.grade for row in grade.conversion]
    problems = []
    if given:
        for name in grade.gpa:
            if name not in given:
                problems.append(_at(
                    document, "gpa-unknown-grade",
                    f"grade '{name}' has GPA points but no course-grade rule or conversion row "
                    "gives it", ("course_grade", "gpa", name),
                    did_you_mean(name, given) or "grades given: " + ", ".join(given),
                    warning=True, key=True))
        missing = [g for g in dict.fromkeys(given) if g not in grade.gpa]
        if missing:
            problems.append(_at(
                document, "gpa-missing-grade",
                f"grade{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'have' if len(missing) > 1 else 'has'} no GPA points: courses graded so are "
                "left out of the GPA", ("course_grade", "gpa"),
                "give every grade points, e.g. " + ", ".join(f"{g}: 0" for g in missing),
                warning=True, key=True))
    if framework is not None:
        courses = {c: "course" for c in framework.courses}
        problems.extend(
            _at(document, "unresolved-reference",
                f"course '{key}' is not defined in the framework",
                ("course_grade", "gpa_weights", key),
                did_you_mean(key, courses) or "courses: " + ", ".join(courses), key=True)
            for key in grade.gpa_weights if key not in courses)
    return problems


def _check_raters(document: MasteryDocument, policy: Policy) -> list[Diagnostic]:
    """A moderator named for a rule that does not use one is probably a slip."""
    rule = policy.raters
    if rule.moderator is None or rule.resolve == "moderator":
        return []
    return [_at(
        document, "unused-moderator",
        f"moderator '{rule.moderator}' is not used: double-scored work is resolved by the "
        f"{rule.resolve}",
        ("raters", "moderator"),
        "write 'resolve: moderator' for the moderator's rating to count, or drop 'moderator'",
        warning=True,
    )]


def check_policy(
    document: MasteryDocument, frameworks: Mapping[str, Framework], sets: DocumentSet
) -> list[Diagnostic]:
    """Every problem of one policy file, on the line at fault."""
    policy, problems = build_policy(document)
    data = document.data
    if not document.schema_ok or not isinstance(data, Mapping):
        return problems
    framework_id = data.get("framework")
    framework, found = _framework_for(
        document, str(framework_id) if framework_id is not None else None, frameworks
    )
    if framework is None and framework_id is not None and sets.may_define(str(framework_id)):
        found = []  # the framework may be in a file with an error of its own
    problems.extend(found)
    if policy is not None:
        problems.extend(_check_course_grade(document, policy, framework))
        problems.extend(_check_raters(document, policy))
    if framework is None:
        return problems
    known = _ids(framework)
    named = {
        ("overrides",): ("override id", data.get("overrides")),
        ("competency_rollup", "weights"): (
            "target", (data.get("competency_rollup") or {}).get("weights")),
        ("course_grade", "weights"): ("competency", (data.get("course_grade") or {}).get(
            "weights")),
    }
    for pointer, (what, mapping) in named.items():
        problems.extend(_check_ids(document, mapping or {}, pointer, known, what))
    problems.extend(_check_rollup_overrides(document, data.get("overrides") or {}, framework))
    problems.extend(_check_levels(document, framework))
    outcome_map = (data.get("input") or {}).get("outcome_map") or {}
    problems.extend(_check_outcome_map(document, outcome_map, known))
    return problems


def check_evidence_types(document: MasteryDocument) -> list[Diagnostic]:
    """A warning for each evidence type in ``evidence`` that is not a known type, is named only
    once in the policy, and nearly spells a known type (``practise``: did you mean
    'practice'?) or a type named earlier in the policy (``projet`` after ``project``), at the
    value. A type nothing resembles is the school's own label and is fine.

    Only ``mastery validate`` asks: grading checks the policy's types against the rows'."""
    evidence = document.data.get("evidence")
    if not isinstance(evidence, Mapping):
        return []
    named = sorted(named_types(evidence, document, document.path),
                   key=lambda n: (n.line or 0, n.column or 0))
    times_named = Counter(n.type for n in named)
    earlier: dict[str, NamedType] = {}  # the policy's own labels so far, by type
    problems = []
    for item in named:
        if item.type in KNOWN_EVIDENCE_TYPES or times_named[item.type] > 1:
            continue
        suggestion = did_you_mean(item.type, KNOWN_EVIDENCE_TYPES)
        if suggestion is not None:
            message = (f"evidence type '{item.written}' is not a known type ("
                       f"{', '.join(KNOWN_EVIDENCE_TYPES)}) and is named nowhere else in the "
                       "policy")
        else:
            suggestion = did_you_mean(item.type, earlier)
            if suggestion is None:
                earlier[item.type] = item
                continue
            other = next(e for t, e in earlier.items() if f"'{t}'" in suggestion)
            message = (f"evidence type '{item.written}' nearly spells '{other.written}' (line "
                       f"{other.line}): a row matches one spelling or the other, not both")
        problems.append(Diagnostic(
            document.path, item.line, item.column, "unknown-evidence-type", message,
            Severity.WARNING, suggestion, item.pointer,
        ))
    return problems


def validate_policy(
    document: MasteryDocument, frameworks: Mapping[str, Framework], sets: DocumentSet
) -> list[Diagnostic]:
    """What ``mastery validate`` reports for a policy file: `check_policy`, and its evidence
    types (`check_evidence_types`)."""
    problems = check_policy(document, frameworks, sets)
    if document.schema_ok and isinstance(document.data, Mapping):
        problems.extend(check_evidence_types(document))
    return problems


EXTRA_CHECKS["policy"] = validate_policy


def load_policy(path: Path, framework: Framework) -> tuple[Policy, list[Diagnostic]]:
    """The checked policy in ``path`` for grading ``framework``, plus its warnings.

    Raises MasteryError with every error (schema, methods, ids) found in the file.
    """
    from mastery_cli.diagnostics import MasteryError
    from mastery_cli.grading.policy import load_policy_document

    document, read_problems = load_policy_document(path)
    sets = DocumentSet(documents=[document])
    problems = read_problems + check_policy(document, {framework.id: framework}, sets)
    errors = [d for d in problems if d.severity is Severity.ERROR]
    if errors:
        raise MasteryError(errors)
    policy, _ = build_policy(document)
    assert policy is not None  # no errors means it was built
    return policy, problems
