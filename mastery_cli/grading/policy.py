"""The grading policy as typed objects, read from a policy file or from command-line options.

A policy says which evidence counts, in what order, which calculation method turns it into a
score (for the whole framework, a competency or a target), how scores become levels, and how
targets roll up into competencies and competencies into course grades. ``schemas/policy.schema
.json`` checks the shape; :func:`build_policy` checks what a schema cannot (method names and
parameter ranges, increasing cut points, well-formed rules) and places every problem on the
YAML line at fault. References into the framework are checked by :mod:`.policy_check`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from mastery_cli.diagnostics import Diagnostic, MasteryError, error, shortened
from mastery_cli.documents import MasteryDocument, load_documents
from mastery_cli.framework.model import localize
from mastery_cli.grading.methods import MethodSpec, validate_params
from mastery_cli.yamlfile import Pointer, pointer_text

ORDER_BY: Final = ("date", "input")
UNDATED: Final = ("last", "first")
ROLLUPS: Final = ("mean", "weighted_mean", "minimum", "median", "all_mastered", "n_of_m")
COMBINES: Final = ("mean", "weighted_mean")
#: How the ratings of one piece of work scored by several raters become its one score.
RATER_RULES: Final = ("mean", "median", "highest", "lowest", "moderator")
DEFAULT_PLACES: Final = 2
#: Evidence types the README names, and the ones the Canvas formats give rows; others are the
#: school's own labels.
KNOWN_EVIDENCE_TYPES: Final = (
    "diagnostic", "formative", "summative", "practice", "quiz", "assignment", "canvas-rollup",
)
#: The evidence settings that name types, in the words a warning uses for each.
TYPE_SETTINGS: Final = {
    "count_types": "counts only", "exclude_types": "excludes", "type_weights": "weighs",
}

@dataclass(frozen=True)
class Override:
    """A different method, minimum of evidence or (for a competency) roll-up for one id."""

    id: str
    method: MethodSpec | None = None
    min_evidence: int | None = None
    rollup: CompetencyRollup | None = None


@dataclass(frozen=True)
class NamedType:
    """An evidence type the policy names: in which setting, and where in the policy file."""

    type: str  # lower-cased, as the rows' types are
    written: str  # as the policy writes it
    setting: str  # a key of TYPE_SETTINGS
    path: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None


#: Sources of evidence from outside school (the gradebook's ``source`` column), by default.
OUTSIDE_SOURCES = ("internship", "online course", "community project", "prior school")
#: The reason code of outside evidence set aside for want of an approval.
OUTSIDE_UNAPPROVED = "outside-unapproved"


@dataclass(frozen=True)
class OutsideEvidence:
    """How learning outside school counts (``outside_evidence``; applied in `pipeline._prepare`).

    A row is outside evidence when its ``source`` is one of ``sources`` (case-insensitive).
    With ``requires_approval``, such a row counts only when ``approved_by`` is filled in and
    ``approved_on`` is a date; otherwise it is set aside with reason ``outside-unapproved``.
    Outside evidence is kept to its own window (``date_from``/``date_to``) instead of the
    evidence window, so a summer internship is not set aside as ``before-window``; without a
    window of its own, the evidence window applies to it too.
    """

    requires_approval: bool = True
    date_from: date | None = None
    date_to: date | None = None
    sources: tuple[str, ...] = OUTSIDE_SOURCES

    def is_outside(self, source: str) -> bool:
        return source.strip().lower() in self.sources


@dataclass(frozen=True)
class EvidenceRules:
    """Which evidence counts: types, a date window, and per-type weights."""

    count_types: tuple[str, ...] | None = None  # None: every type not excluded
    exclude_types: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    type_weights: Mapping[str, float] = field(default_factory=dict)
    #: Every type named above, with its place (for warnings about types no row has).
    named_types: tuple[NamedType, ...] = field(default=(), compare=False)

    def weight_of(self, evidence_type: str) -> float:
        return float(self.type_weights.get(evidence_type, 1.0))


@dataclass(frozen=True)
class RaterRule:
    """How a piece of work scored by several raters (the same student, target, assessment and
    date; different ``rater``) becomes one piece of evidence with one score.

    ``moderator`` takes the rating of the rater named ``moderator`` (compared without regard
    to case or surrounding spaces) when that rater rated the piece, otherwise the mean.
    """

    resolve: str = "mean"
    moderator: str | None = None
    # (line, column) of ``moderator`` in the policy file, for diagnostics about the data
    moderator_at: tuple[int | None, int | None] = field(default=(None, None), compare=False)

    def is_moderator(self, rater: str) -> bool:
        return self.moderator is not None and (
            rater.strip().casefold() == self.moderator.strip().casefold())

    def text(self) -> str:
        """In words, e.g. "the moderator's rating (Ms. Lee), else the mean"."""
        if self.resolve == "moderator":
            return f"the moderator's rating ({self.moderator}), else the mean"
        return f"the {self.resolve}"


@dataclass(frozen=True)
class CompetencyRollup:
    """How target results combine into a competency result."""

    method: str = "mean"
    n: int | None = None  # for n_of_m
    # target id -> weight, for weighted_mean
    weights: Mapping[str, float] = field(default_factory=dict)
    min_targets: int = 1

    def key(self) -> tuple[object, ...]:
        """What makes two roll-ups compute the same (for grouping competencies by roll-up)."""
        return (self.method, self.n, tuple(sorted(self.weights.items())), self.min_targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n": self.n,
            "weights": dict(sorted(self.weights.items())),
            "min_targets": self.min_targets,
        }

    def text(self) -> str:
        """In words, e.g. "n of m (n = 3); needs results on at least 2 targets"."""
        weights = ", ".join(f"{k} × {_num(v)}" for k, v in sorted(self.weights.items()))
        return (
            self.method.replace("_", " ")
            + (f" (n = {self.n})" if self.method == "n_of_m" else "")
            + (f" (weights: {weights}; others × 1)" if self.weights else "")
            + f"; needs results on at least {self.min_targets} target"
            + ("s" if self.min_targets != 1 else "")
        )


@dataclass(frozen=True)
class GradeRule:
    """One ordered course-grade rule: every condition given must hold (a conjunction).

    ``at_least``: at least ``count`` (or ``share``) of the course's competencies at ``level`` or
    above; ``none_below``: no competency below that level; ``min_score``: the combined score is
    at least this. A rule without conditions always matches (a catch-all).
    """

    grade: str
    at_least_level: float | None = None
    at_least_count: int | None = None
    at_least_share: float | None = None
    none_below: float | None = None
    min_score: float | None = None
    # Plain text or a per-language map, like every text families read.
    description: str | Mapping[str, str] | None = None

    @property
    def is_catch_all(self) -> bool:
        return self.at_least_level is None and self.none_below is None and self.min_score is None

    def text(self, language: str | None = None) -> str:
        """The rule in words, e.g. "A: at least 50% of competencies at 4 and none below 3".

        A per-language description is given in ``language`` (else its first language)."""
        if self.description:
            return f"{self.grade}: {localize(self.description, language or '', '')}"
        parts = []
        if self.at_least_level is not None:
            how_many = (
                f"{self.at_least_count}"
                if self.at_least_count is not None
                else f"{_percent(self.at_least_share or 0.0)}"
            )
            parts.append(
                f"at least {how_many} of competencies at {_num(self.at_least_level)} or above"
            )
        if self.none_below is not None:
            parts.append(f"none below {_num(self.none_below)}")
        if self.min_score is not None:
            parts.append(f"score at least {_num(self.min_score)}")
        return f"{self.grade}: " + (" and ".join(parts) if parts else "otherwise")


@dataclass(frozen=True)
class Conversion:
    """One row of a conversion table: a combined score of ``minimum`` or more gives ``grade``."""

    minimum: float
    grade: str

    def text(self) -> str:
        """The row in words, as the outputs show what decided a course grade."""
        return f"conversion: {_plain_number(self.minimum)} or more is {self.grade}"


@dataclass(frozen=True)
class CourseGradePolicy:
    """Course grade: combine competency scores, then a conversion table or ordered rules."""

    combine: str = "weighted_mean"
    # competency (or lone target) id -> weight
    weights: Mapping[str, float] = field(default_factory=dict)
    conversion: tuple[Conversion, ...] = ()
    rules: tuple[GradeRule, ...] = ()
    min_competencies: int = 1
    # GPA: grade -> grade points (none: no GPA), and course id -> weight in the GPA
    # (a course not named weighs its credits, or 1 without credits).
    gpa: Mapping[str, float] = field(default_factory=dict)
    gpa_weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class InputSettings:
    """How to read the gradebook files (the same settings as ``mastery grade``'s options)."""

    format: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    outcome_map: Mapping[str, str] = field(default_factory=dict)
    decimal: str | None = None


@dataclass(frozen=True)
class Policy:
    """A complete, checked grading policy; every default filled in."""

    method: MethodSpec
    id: str = "default"
    title: str | None = None
    framework_id: str | None = None
    overrides: Mapping[str, Override] = field(default_factory=dict)
    order_by: str = "date"
    undated: str = "last"
    evidence: EvidenceRules = field(default_factory=EvidenceRules)
    min_evidence: int = 1
    # level value -> lowest score, for every scale; then per scale id
    cut_points: Mapping[float, float] = field(default_factory=dict)
    scale_cut_points: Mapping[str, Mapping[float, float]] = field(default_factory=dict)
    places: int = DEFAULT_PLACES
    missing_score: float | None = None  # None: missing work is ignored (set aside)
    input: InputSettings = field(default_factory=InputSettings)
    competency_rollup: CompetencyRollup = field(default_factory=CompetencyRollup)
    course_grade: CourseGradePolicy = field(default_factory=CourseGradePolicy)
    efficacy_in_course_grade: bool = False
    ready_share: float = 1.0
    raters: RaterRule = field(default_factory=RaterRule)
    #: None: rows from outside school count like any other (no approval, the evidence window).
    outside_evidence: OutsideEvidence | None = None
    path: str | None = None

    def spec_for(self, target_id: str, competency_id: str) -> MethodSpec:
        """The method for a target: its own override, else its competency's, else the default."""
        for key in (target_id, competency_id):
            override = self.overrides.get(key)
            if override is not None and override.method is not None:
                return override.method
        return self.method

    def min_evidence_for(self, target_id: str, competency_id: str) -> int:
        for key in (target_id, competency_id):
            override = self.overrides.get(key)
            if override is not None and override.min_evidence is not None:
                return override.min_evidence
        return self.min_evidence

    def rollup_for(self, competency_id: str) -> CompetencyRollup:
        """The roll-up of a competency: its own override, else the policy's."""
        override = self.overrides.get(competency_id)
        if override is not None and override.rollup is not None:
            return override.rollup
        return self.competency_rollup

    def cut_points_for(self, scale_id: str) -> Mapping[float, float]:
        return self.scale_cut_points.get(scale_id, self.cut_points)

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data for grades.json (stable key order)."""
        from mastery_cli.grading.methods import describe

        return {
            "id": self.id,
            "title": self.title,
            "method": self.method.name,
            "params": dict(self.method.params),
            "description": describe(self.method),
            "overrides": {
                key: {
                    "method": o.method.name if o.method else None,
                    "params": dict(o.method.params) if o.method else {},
                    "min_evidence": o.min_evidence,
                    # only when set: grades.json of policies without one keeps its bytes
                    **({"rollup": o.rollup.to_dict()} if o.rollup is not None else {}),
                }
                for key, o in sorted(self.overrides.items())
            },
            "order_by": self.order_by,
            "min_evidence": self.min_evidence,
            "rounding": self.places,
            "efficacy_in_course_grade": self.efficacy_in_course_grade,
            # only when set: grades.json of policies without them keeps its bytes
            **self._course_grade_dict(),
            **self._gpa_dict(),
            **({"raters": {"resolve": self.raters.resolve, "moderator": self.raters.moderator,
                           "text": self.raters.text()}}
               if self.raters != RaterRule() else {}),
        }

    def _gpa_dict(self) -> dict[str, Any]:
        """The GPA table for reports (only when the policy defines one)."""
        course = self.course_grade
        if not course.gpa:
            return {}
        return {"gpa": {"points": dict(course.gpa), "weights": dict(course.gpa_weights)}}

    def _course_grade_dict(self) -> dict[str, Any]:
        """The course-grade rules or conversion rows, each with the exact text the outputs
        show for it, so reports can say it again in another language."""
        course = self.course_grade
        if course.rules:
            return {"course_rules": [
                {"grade": r.grade, "text": "rule " + r.text(), "description": r.description,
                 "at_least": None if r.at_least_level is None else {
                     "level": r.at_least_level, "count": r.at_least_count,
                     "share": r.at_least_share},
                 "none_below": r.none_below, "min_score": r.min_score}
                for r in course.rules
            ]}
        if course.conversion:
            return {"course_conversion": [
                {"grade": row.grade, "minimum": row.minimum, "text": row.text()}
                for row in course.conversion
            ]}
        return {}


def _rule_description(value: Any) -> str | Mapping[str, str] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _plain_number(value: float) -> str:
    """A conversion row's minimum as the outputs write it (2.5, 3)."""
    from mastery_cli.grading.rounding import format_decimal

    return format_decimal(value, 2).rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _percent(share: float) -> str:
    return f"{share * 100:g}%"


def method_label(spec: MethodSpec) -> str:
    """Compact text for output files: ``decaying_average(weight=0.65)``."""
    if not spec.params:
        return spec.name
    inner = ",".join(f"{k}={_param_text(v)}" for k, v in spec.params.items())
    return f"{spec.name}({inner})"


def _param_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _num(value)
    return str(value)


# --------------------------------------------------------------------------------------------
# Building from YAML data
# --------------------------------------------------------------------------------------------


class _Reader:
    """Collects diagnostics at the YAML position of each value while building the policy."""

    def __init__(self, document: MasteryDocument | None, origin: str):
        self.document = document
        self.origin = origin
        self.problems: list[Diagnostic] = []

    def problem(self, code: str, message: str, pointer: Pointer, hint: str | None = None) -> None:
        if self.document is not None:
            self.problems.append(self.document.yaml.diagnostic(code, message, pointer, hint=hint))
        else:
            self.problems.append(
                error(
                    code,
                    message,
                    self.origin,
                    hint=hint,
                    pointer="/".join(str(p) for p in pointer) or None,
                )
            )

    def method(self, value: Any, pointer: Pointer) -> MethodSpec | None:
        """A method written as a name or as {name: ..., param: value, ...}."""
        if isinstance(value, str):
            name, params, name_pointer = value, {}, pointer
        elif isinstance(value, Mapping) and isinstance(value.get("name"), str):
            name = value["name"]
            params = {k: v for k, v in value.items() if k != "name"}
            name_pointer = (*pointer, "name")
        else:
            self.problem(
                "policy-method",
                "a method is a name or a mapping with 'name'",
                pointer,
                "e.g. 'method: highest' or 'method: {name: decaying_average, weight: 0.65}'",
            )
            return None
        spec, problems = validate_params(name, params)
        for message in problems:
            where: Pointer = name_pointer
            for key in params:  # put a parameter problem on that parameter's line
                if message.startswith((f"{key} ", f"unknown parameter {key!r}")):
                    where = (*pointer, key)
            code = (
                "unknown-method"
                if message.startswith(("unknown calculation method", f"{name!r} is a Canvas"))
                else ("policy-parameter")
            )
            self.problem(code, message, where)
        return spec


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def _levels(mapping: Mapping[str, Any], reader: _Reader, pointer: Pointer) -> dict[float, float]:
    """A cut-point table ``{level: lowest score}``, checked to increase with the level."""
    cuts: dict[float, float] = {}
    for key, value in mapping.items():
        try:
            level = float(key)
        except ValueError:
            reader.problem("policy-cut-points", f"'{key}' is not a level value", (*pointer, key))
            continue
        cuts[level] = float(value)
    ordered = sorted(cuts.items())
    for (low_level, low_cut), (high_level, high_cut) in pairwise(ordered):
        if high_cut <= low_cut:
            key = next(k for k in mapping if float(k) == high_level)
            reader.problem(
                "cut-points-not-increasing",
                f"cut point of level {_num(high_level)} ({_num(high_cut)}) must be above the cut "
                f"point of level {_num(low_level)} ({_num(low_cut)})",
                (*pointer, key),
                "a higher level needs a higher score: cut points increase with the level",
            )
    return cuts


def _rules(items: Sequence[Any], reader: _Reader, pointer: Pointer) -> tuple[GradeRule, ...]:
    rules: list[GradeRule] = []
    for index, item in enumerate(items):
        at = (*pointer, index)
        at_least = item.get("at_least") or {}
        count = at_least.get("count")
        share = at_least.get("share")
        if at_least and (count is None) == (share is None):
            reader.problem(
                "policy-rule",
                "'at_least' needs exactly one of 'count' or 'share'",
                (*at, "at_least"),
                "e.g. at_least: {share: 0.5, level: 4}",
            )
        rule = GradeRule(
            grade=str(item["grade"]),
            at_least_level=float(at_least["level"]) if "level" in at_least else None,
            at_least_count=int(count) if count is not None else None,
            at_least_share=float(share) if share is not None else None,
            none_below=float(item["none_below"]) if "none_below" in item else None,
            min_score=float(item["min_score"]) if "min_score" in item else None,
            description=_rule_description(item.get("description")),
        )
        if rules and rules[-1].is_catch_all:
            reader.problem(
                "unreachable-rule",
                f"rule '{rule.grade}' can never apply: the rule before it has no "
                "conditions and always matches",
                at,
                "put the rule without conditions (the catch-all) last",
            )
        rules.append(rule)
    return tuple(rules)


def _conversion(items: Sequence[Any], reader: _Reader, pointer: Pointer) -> tuple[Conversion, ...]:
    rows = tuple(Conversion(float(i["min"]), str(i["grade"])) for i in items)
    for index in range(1, len(rows)):
        if rows[index].minimum >= rows[index - 1].minimum:
            reader.problem(
                "conversion-not-decreasing",
                f"conversion rows go from the highest score down: {_num(rows[index].minimum)} "
                f"must be below {_num(rows[index - 1].minimum)}",
                (*pointer, index, "min"),
            )
    return rows


def _rollup(data: Mapping[str, Any], reader: _Reader, pointer: Pointer) -> CompetencyRollup:
    """A roll-up (the policy's or one competency's), its method name checked."""
    rollup = CompetencyRollup(
        method=str(data.get("method", "mean")),
        n=data.get("n"),
        weights=MappingProxyType({k: float(v) for k, v in (data.get("weights") or {}).items()}),
        min_targets=int(data.get("min_targets", 1)),
    )
    if rollup.method not in ROLLUPS:
        from mastery_cli.validation.rules import did_you_mean

        reader.problem(
            "unknown-rollup",
            f"unknown roll-up method '{rollup.method}'",
            (*pointer, "method"),
            did_you_mean(rollup.method, ROLLUPS) or "roll-up methods: " + ", ".join(ROLLUPS),
        )
    elif rollup.method == "n_of_m" and rollup.n is None:
        reader.problem(
            "policy-rollup",
            "method n_of_m needs 'n' (how many targets at mastery)",
            (*pointer, "method"),
            "e.g. {method: n_of_m, n: 3}",
        )
    return rollup


def named_types(
    evidence_data: Mapping[str, Any], document: MasteryDocument | None, origin: str
) -> tuple[NamedType, ...]:
    """The types named in the policy's ``evidence`` settings, each at its value (a list item,
    or a key of ``type_weights``) when the policy came from a file."""
    named = []
    for setting in TYPE_SETTINGS:
        values = evidence_data.get(setting) or ()
        for index, value in enumerate(values):
            at: Pointer = ("evidence", setting, value if setting == "type_weights" else index)
            line, column = (
                document.yaml.position(at, key=setting == "type_weights")
                if document is not None
                else (None, None)
            )
            named.append(NamedType(str(value).lower(), str(value), setting, origin, line,
                                   column, pointer_text(at)))
    return tuple(named)


def _raters(data: Mapping[str, Any], reader: _Reader) -> RaterRule:
    """The rule for double-scored work; ``resolve: moderator`` needs the moderator's name."""
    moderator = str(data["moderator"]) if data.get("moderator") else None
    at = (reader.document.yaml.position(("raters", "moderator"))
          if moderator is not None and reader.document is not None else (None, None))
    rule = RaterRule(resolve=str(data.get("resolve", "mean")), moderator=moderator,
                     moderator_at=at)
    if rule.resolve not in RATER_RULES:  # (the schema says so too, for policies it checked)
        from mastery_cli.validation.rules import did_you_mean

        reader.problem(
            "policy-raters",
            f"unknown way to resolve double-scored work '{rule.resolve}'",
            ("raters", "resolve"),
            did_you_mean(rule.resolve, RATER_RULES) or "one of: " + ", ".join(RATER_RULES),
        )
    elif rule.resolve == "moderator" and rule.moderator is None:
        reader.problem(
            "policy-raters",
            "resolve: moderator needs 'moderator', the name of the rater whose rating counts",
            ("raters", "resolve"),
            "e.g. raters: {resolve: moderator, moderator: Ms. Lee} (as the rater column "
            "writes the name)",
        )
    return rule


def _outside(data: Any, reader: _Reader) -> OutsideEvidence | None:
    if not isinstance(data, Mapping):
        return None
    window_data = data.get("window") or {}
    window: dict[str, date | None] = {}
    for name in ("from", "to"):
        if name in window_data:
            window[name] = _date(window_data[name])
            if window[name] is None:
                reader.problem("policy-date", f"'{window_data[name]}' is not a date (YYYY-MM-DD)",
                               ("outside_evidence", "window", name))
    start, end = window.get("from"), window.get("to")
    if start is not None and end is not None and start > end:
        reader.problem("policy-date", "the outside evidence window ends before it starts",
                       ("outside_evidence", "window", "to"))
    sources = data.get("sources")
    return OutsideEvidence(
        requires_approval=bool(data.get("requires_approval", True)),
        date_from=start, date_to=end,
        sources=(tuple(str(s).strip().lower() for s in sources) if sources
                 else OUTSIDE_SOURCES),
    )


def policy_from_data(
    data: Mapping[str, Any], document: MasteryDocument | None = None, origin: str = "<policy>"
) -> tuple[Policy | None, list[Diagnostic]]:
    """Build a Policy from schema-valid data; diagnostics for what the schema cannot check."""
    reader = _Reader(document, document.path if document else origin)
    method = reader.method(data.get("method", "decaying_average"), ("method",))
    overrides: dict[str, Override] = {}
    for key, value in (data.get("overrides") or {}).items():
        spec = (
            reader.method(value["method"], ("overrides", key, "method"))
            if ("method" in value)
            else None
        )
        override_rollup = (
            _rollup(value["rollup"], reader, ("overrides", key, "rollup"))
            if "rollup" in value
            else None
        )
        overrides[key] = Override(key, spec, value.get("min_evidence"), override_rollup)
    evidence_data = data.get("evidence") or {}
    window = {}
    for name in ("from", "to"):
        if name in evidence_data:
            window[name] = _date(evidence_data[name])
            if window[name] is None:
                reader.problem(
                    "policy-date",
                    f"'{evidence_data[name]}' is not a date (YYYY-MM-DD)",
                    ("evidence", name),
                )
    if window.get("from") and window.get("to") and window["from"] > window["to"]:  # type: ignore[operator]
        reader.problem("policy-date", "the date window ends before it starts", ("evidence", "to"))
    count_types = evidence_data.get("count_types")
    evidence = EvidenceRules(
        count_types=tuple(t.lower() for t in count_types) if count_types is not None else None,
        exclude_types=tuple(t.lower() for t in evidence_data.get("exclude_types", ())),
        date_from=window.get("from"),
        date_to=window.get("to"),
        type_weights=MappingProxyType(
            {k.lower(): float(v) for k, v in (evidence_data.get("type_weights") or {}).items()}
        ),
        named_types=named_types(evidence_data, document, reader.origin),
    )
    levels_data = data.get("levels") or {}
    cut_points = _levels(levels_data.get("cut_points") or {}, reader, ("levels", "cut_points"))
    scale_cuts = {
        scale_id: MappingProxyType(_levels(table, reader, ("levels", "scales", scale_id)))
        for scale_id, table in (levels_data.get("scales") or {}).items()
    }
    missing = data.get("missing", "ignore")
    rollup = _rollup(data.get("competency_rollup") or {}, reader, ("competency_rollup",))
    course_data = data.get("course_grade") or {}
    course = CourseGradePolicy(
        combine=course_data.get("combine", "weighted_mean"),
        weights=MappingProxyType(
            {k: float(v) for k, v in (course_data.get("weights") or {}).items()}
        ),
        conversion=_conversion(
            course_data.get("conversion") or (), reader, ("course_grade", "conversion")
        ),
        rules=_rules(course_data.get("rules") or (), reader, ("course_grade", "rules")),
        min_competencies=int(course_data.get("min_competencies", 1)),
        gpa=MappingProxyType(
            {str(k): float(v) for k, v in (course_data.get("gpa") or {}).items()}
        ),
        gpa_weights=MappingProxyType(
            {str(k): float(v) for k, v in (course_data.get("gpa_weights") or {}).items()}
        ),
    )
    raters = _raters(data.get("raters") or {}, reader)
    outside = _outside(data.get("outside_evidence"), reader)
    input_data = data.get("input") or {}
    settings = InputSettings(
        format=input_data.get("format"),
        columns=MappingProxyType(dict(input_data.get("columns") or {})),
        date_format=input_data.get("date_format"),
        outcome_map=MappingProxyType(
            {str(k): str(v) for k, v in (input_data.get("outcome_map") or {}).items()}
        ),
        decimal=input_data.get("decimal"),
    )
    if reader.problems or method is None:
        return None, reader.problems
    policy = Policy(
        method=method,
        id=str(data.get("id", "policy")),
        title=data.get("title"),
        framework_id=data.get("framework"),
        overrides=MappingProxyType(overrides),
        order_by=data.get("order_by", "date"),
        undated=data.get("undated", "last"),
        evidence=evidence,
        min_evidence=int(data.get("min_evidence", 1)),
        cut_points=MappingProxyType(cut_points),
        scale_cut_points=MappingProxyType(scale_cuts),
        places=int((data.get("rounding") or {}).get("places", DEFAULT_PLACES)),
        missing_score=float(missing["score"]) if isinstance(missing, Mapping) else None,
        input=settings,
        competency_rollup=rollup,
        course_grade=course,
        efficacy_in_course_grade=bool(data.get("efficacy_in_course_grade", False)),
        ready_share=float((data.get("progression") or {}).get("ready_share", 1.0)),
        raters=raters,
        outside_evidence=outside,
        path=document.path if document else None,
    )
    return policy, []


def build_policy(document: MasteryDocument) -> tuple[Policy | None, list[Diagnostic]]:
    """The policy in a schema-checked document (None when the schema check failed)."""
    if not document.schema_ok or not isinstance(document.data, Mapping):
        return None, []
    return policy_from_data(document.data, document)


def load_policy_document(path: Path) -> tuple[MasteryDocument, list[Diagnostic]]:
    """Read one policy file; raises MasteryError when it cannot be read or fails its schema."""
    documents = load_documents([path], kinds=("policy",))
    problems = [d for d in documents.diagnostics if d.severity.value == "error"]
    policies = documents.of_kind("policy")
    if not policies and not problems:
        problems.append(
            error(
                "not-a-policy",
                f"{path} is not a grading policy",
                str(path),
                hint="a policy file starts with 'kind: policy' and 'schema_version: 1'",
            )
        )
    if problems:
        raise MasteryError(problems)
    return policies[0], documents.diagnostics


# --------------------------------------------------------------------------------------------
# Quick use: --method NAME --param KEY=VALUE
# --------------------------------------------------------------------------------------------

#: --param keys that set the policy rather than the method.
POLICY_PARAMS: Final = ("min_evidence", "places", "undated")


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """``["weight=0.75", "n=3"]`` -> ``{"weight": "0.75", "n": "3"}``; MasteryError if malformed."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise MasteryError(
                error(
                    "bad-param",
                    f"--param {pair!r} is not KEY=VALUE",
                    "--param",
                    hint="e.g. --param weight=0.75 or --param min_evidence=2",
                ),
                usage=True,
            )
        params[key.strip()] = value.strip()
    return params


def apply_options(policy: Policy | None, method: str | None, param_pairs: Sequence[str]) -> Policy:
    """``policy`` (or the default policy) with --method and --param applied on top.

    Raises MasteryError (exit 1) for an unknown method or a parameter out of range, naming what
    is allowed.
    """
    params = parse_params(param_pairs)
    policy_params = {k: params.pop(k) for k in POLICY_PARAMS if k in params}
    base = policy or Policy(method=_default_method())
    spec = base.method
    if method is not None or params:
        name = method if method is not None else base.method.name
        given: dict[str, object] = dict(params)
        if method is None:  # --param alone tunes the policy's own method
            given = {**base.method.params, **params}
        checked, problems = validate_params(name, given)
        if checked is None:
            code = (
                "unknown-method"
                if problems[0].startswith(("unknown calculation", f"{name!r} is a"))
                else ("policy-parameter")
            )
            raise MasteryError(
                [
                    error(code, p, "--method" if code == "unknown-method" else "--param")
                    for p in problems
                ]
            )
        spec = checked
    changes: dict[str, Any] = {"method": spec}
    for key, text in policy_params.items():
        if key == "undated":
            changes[key] = _choice(key, text, UNDATED)
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        low = 0 if key == "places" else 1
        if not number.is_integer() or not low <= number <= (15 if key == "places" else 10_000):
            allowed = (
                "a whole number between 0 and 15"
                if key == "places"
                else "a whole number of 1 or more"
            )
            raise MasteryError(
                error(
                    "policy-parameter",
                    f"{key} must be {allowed} (got {shortened(text)!r})",
                    "--param",
                )
            )
        changes[key] = int(number)
    from dataclasses import replace

    return replace(base, **changes)


def _choice(key: str, text: str, allowed: Sequence[str]) -> str:
    """``text`` if it is one of ``allowed`` (any case); MasteryError naming them otherwise."""
    if text.casefold() in allowed:
        return text.casefold()
    from mastery_cli.validation.rules import did_you_mean

    choices = " or ".join(repr(a) for a in allowed)
    raise MasteryError(
        error(
            "policy-parameter",
            f"{key} must be {choices} (got {shortened(text)!r})",
            "--param",
            hint=did_you_mean(text, allowed) or f"e.g. --param {key}={allowed[0]}",
        )
    )


def _default_method() -> MethodSpec:
    spec, _ = validate_params("decaying_average", {})
    assert spec is not None
    return spec


def default_policy() -> Policy:
    """Decaying average (weight 0.65), every piece of evidence counts, one score is enough."""
    return Policy(method=_default_method())
