"""Grade point average: a policy's points per course grade, weighted per course.

The policy defines it (``course_grade.gpa: {A: 4.0, B: 3.0, ...}``, optionally
``course_grade.gpa_weights: {COURSE: weight}``); grades.json carries it in its policy header.
A course weighs its ``gpa_weights`` entry, else its credits, else 1. Only courses with a grade
that has points count (a course still without a grade, or graded "P" with no points, is left
out). Exact decimal arithmetic, rounded half up to 2 places, as every result of mastery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PLACES = Decimal("0.01")


@dataclass(frozen=True)
class GpaTable:
    points: Mapping[str, Decimal]
    weights: Mapping[str, Decimal]

    @classmethod
    def of(cls, policy: Mapping[str, Any] | None) -> GpaTable | None:
        """The table in a grades.json policy header, None when the policy defines no GPA."""
        table = (policy or {}).get("gpa")
        if not isinstance(table, Mapping) or not isinstance(table.get("points"), Mapping):
            return None
        points = {str(k): _decimal(v) for k, v in table["points"].items()}
        weights = {str(k): _decimal(v) for k, v in (table.get("weights") or {}).items()}
        if not points or any(v is None for v in (*points.values(), *weights.values())):
            return None
        return cls({k: v for k, v in points.items() if v is not None},
                   {k: v for k, v in weights.items() if v is not None})

    def entry(self, course_id: str, grade: object, credits: float | None
              ) -> tuple[Decimal, Decimal] | None:
        """(points, weight) of a course graded ``grade``; None when the grade has no points."""
        if grade is None:
            return None
        points = self.points.get(_grade_key(grade))
        if points is None:
            return None
        weight = self.weights.get(course_id)
        if weight is None:
            weight = _decimal(credits) if credits is not None else Decimal(1)
        return (points, weight) if weight is not None else None


def average(entries: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The weighted mean of (points, weight) pairs, rounded half up to 2 places; None when
    nothing weighs anything."""
    pairs = list(entries)
    total = sum((w for _, w in pairs), Decimal(0))
    if total == 0:
        return None
    mean = sum((p * w for p, w in pairs), Decimal(0)) / total
    return mean.quantize(PLACES, rounding=ROUND_HALF_UP)


def _grade_key(grade: object) -> str:
    """A grade as the table's keys spell it (a numeric grade 3.0 matches a key '3')."""
    if isinstance(grade, float) and grade.is_integer():
        return str(int(grade))
    return str(grade)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() and number >= 0 else None
