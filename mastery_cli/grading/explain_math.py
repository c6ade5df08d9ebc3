"""The arithmetic behind one result, in words and numbers, for a teacher or a family.

Teachers' most common complaint about mastery gradebooks is a number nobody can explain. This
module recomputes one group's result with plain Python, independently of the vectorised code in
:mod:`.methods` (the tests check that both agree), and records every step, e.g. for a decaying
average::

    d1 = 1.00
    d2 = 1.00 × 0.35 + 2.00 × 0.65 = 1.65
    ...

Numbers in the steps are shown as a calculator shows them (read to 12 significant digits, with
at least the policy's places: `rounding.format_unrounded`), so every step can be redone from the
numbers printed; only the result is rounded (half up at the policy's places, as the result
files hold it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from mastery_cli.grading.methods import (
    METHODS,
    STATUS_INSUFFICIENT,
    STATUS_LABELS,
    STATUS_NO_RESULT,
    STATUS_OK,
    MethodSpec,
    ParamValue,
    describe,
    validate_params,
)
from mastery_cli.grading.rounding import format_decimal, format_unrounded

OK = STATUS_LABELS[STATUS_OK]
INSUFFICIENT = STATUS_LABELS[STATUS_INSUFFICIENT]
NO_RESULT = STATUS_LABELS[STATUS_NO_RESULT]


@dataclass(frozen=True)
class Explanation:
    """One group's result with its working. ``value`` is NaN when ``status`` is not ``"ok"``."""

    value: float
    status: str
    steps: list[str] = field(default_factory=list)
    summary: str = ""


@dataclass(frozen=True)
class _Context:
    scores: list[float]
    weights: list[float] | None
    params: Mapping[str, ParamValue]
    scale_min: float
    scale_max: float
    threshold: float
    num: Callable[[float], str]  # a score or working value, unrounded (`format_unrounded`)


@dataclass
class _Work:
    value: float
    status: str = OK
    steps: list[str] = field(default_factory=list)
    reason: str = ""  # why there is no result, for the summary


def _share(x: float) -> str:
    """A weight such as 0.65 or 0.355, unrounded, with at least 2 places."""
    return format_unrounded(x, 2)


def _coef(x: float) -> str:
    """A logarithm or fitted coefficient, unrounded (12 significant digits)."""
    return format_unrounded(x, 0)


def _paren(x: float) -> str:
    """A fitted coefficient, bracketed when negative so "− -1.2" reads "− (-1.2)"."""
    return f"({_coef(x)})" if x < 0 else _coef(x)


def _plain(x: float) -> str:
    """A weight such as 1, 0.5 or 2.25, unrounded."""
    return format_unrounded(x, 0)


def _listed(c: _Context, values: Sequence[float]) -> str:
    return ", ".join(c.num(v) for v in values)


def _mean_step(c: _Context, values: Sequence[float], what: str) -> tuple[float, str]:
    total = math.fsum(values)
    mean = total / len(values)
    sums = " + ".join(c.num(v) for v in values)
    k = len(values)
    return mean, f"{what}: ({sums}) ÷ {k} = {c.num(total)} ÷ {k} = {c.num(mean)}"


def _highest(c: _Context) -> _Work:
    value = max(c.scores)
    return _Work(value, steps=[f"Highest score: {c.num(value)}"])


def _latest(c: _Context) -> _Work:
    value = c.scores[-1]
    return _Work(value, steps=[f"Most recent score (number {len(c.scores)}): {c.num(value)}"])


def _average(c: _Context) -> _Work:
    if c.weights is None:
        value, step = _mean_step(c, c.scores, "Average")
        return _Work(value, steps=[step])
    total_weight = math.fsum(c.weights)
    if total_weight <= 0:
        return _Work(
            math.nan, INSUFFICIENT, ["Every score has weight 0."], "every score has weight 0"
        )
    products = [s * w for s, w in zip(c.scores, c.weights, strict=True)]
    weighted = math.fsum(products)
    terms = " + ".join(
        f"{c.num(s)} × {_plain(w)}" for s, w in zip(c.scores, c.weights, strict=True)
    )
    value = weighted / total_weight
    return _Work(
        value,
        steps=[
            f"Each score times its weight: {terms} = {c.num(weighted)}",
            f"Total weight: {' + '.join(_plain(w) for w in c.weights)} = {_plain(total_weight)}",
            f"Weighted average: {c.num(weighted)} ÷ {_plain(total_weight)} = {c.num(value)}",
        ],
    )


def _median(c: _Context) -> _Work:
    ordered = sorted(c.scores)
    n = len(ordered)
    steps = [f"Scores from lowest to highest: {_listed(c, ordered)}"]
    low, high = ordered[(n - 1) // 2], ordered[n // 2]
    if n % 2:
        steps.append(f"Middle score (number {n // 2 + 1} of {n}): {c.num(low)}")
        return _Work(low, steps=steps)
    value = 0.5 * (low + high)
    steps.append(
        f"Two middle scores (numbers {n // 2} and {n // 2 + 1} of {n}): "
        f"({c.num(low)} + {c.num(high)}) ÷ 2 = {c.num(value)}"
    )
    return _Work(value, steps=steps)


def _weighted_average(c: _Context) -> _Work:
    w = float(c.params["weight"])
    latest = c.scores[-1]
    if len(c.scores) == 1:
        return _Work(latest, steps=[f"Only one score, so it is the result: {c.num(latest)}"])
    earlier, step = _mean_step(c, c.scores[:-1], "Average of the earlier scores")
    value = latest * w + earlier * (1 - w)
    return _Work(
        value,
        steps=[
            step,
            f"Most recent score × {_share(w)} + earlier average × {_share(1 - w)}: "
            f"{c.num(latest)} × {_share(w)} + {c.num(earlier)} × {_share(1 - w)} = {c.num(value)}",
        ],
    )


def _decaying_average(c: _Context) -> _Work:
    w = float(c.params["weight"])
    d = c.scores[0]
    steps = [f"d1 = {c.num(d)}"]
    for k, s in enumerate(c.scores[1:], start=2):
        new = d * (1 - w) + s * w
        steps.append(
            f"d{k} = {c.num(d)} × {_share(1 - w)} + {c.num(s)} × {_share(w)} = {c.num(new)}"
        )
        d = new
    steps.append(f"Result: d{len(c.scores)} = {c.num(d)}")
    return _Work(d, steps=steps)


def _n_mastery(c: _Context) -> _Work:
    n = int(c.params["n"])
    mastered = [s for s in c.scores if s >= c.threshold]
    steps = [
        f"Scores at or above the mastery level {c.num(c.threshold)}: "
        f"{_listed(c, mastered) or 'none'} ({len(mastered)} of {len(c.scores)}; {n} needed)"
    ]
    if len(mastered) < n:
        reason = f"needs {n} scores at or above {c.num(c.threshold)}, has {len(mastered)}"
        return _Work(math.nan, INSUFFICIENT, [*steps, f"No result yet: {reason}."], reason)
    value, step = _mean_step(c, mastered, "Average of those scores")
    return _Work(value, steps=[*steps, step])


def _power_law(c: _Context) -> _Work:
    n = len(c.scores)
    min_scores = int(c.params["min_scores"])
    if n < min_scores:
        reason = f"a learning trend needs at least {min_scores} scores, has {n}"
        return _Work(math.nan, INSUFFICIENT, [f"No result yet: {reason}."], reason)
    floor = float(c.params["zero_floor"])
    steps: list[str] = []
    used = [floor if s <= 0 else s for s in c.scores]
    if any(s <= 0 for s in c.scores):
        steps.append(
            f"Scores of 0 or less become {_plain(floor)} (a logarithm needs a positive number): "
            f"{_listed(c, used)}"
        )
    xs = [math.log(k) for k in range(1, n + 1)]
    ys = [math.log(s) for s in used]
    x_mean = math.fsum(xs) / n
    y_mean = math.fsum(ys) / n
    sxx = math.fsum((x - x_mean) ** 2 for x in xs)
    sxy = math.fsum((x - x_mean) * y for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx if sxx > 0 else 0.0
    log_a = y_mean - b * x_mean
    a = math.exp(log_a)
    at = n if c.params["predict"] == "last" else n + 1
    value = math.exp(log_a + b * math.log(at))
    steps += [
        "Fit the curve score = a × k^b through (k, score) for assessments k = 1.."
        f"{n} by least squares on logarithms: ln(score) = ln(a) + b × ln(k)",
        f"b = Σ(ln k − {_coef(x_mean)}) × ln(score) ÷ Σ(ln k − {_coef(x_mean)})² = "
        f"{_coef(sxy)} ÷ {_coef(sxx)} = {_coef(b)}",
        f"a = e^(mean ln(score) − b × mean ln(k)) = e^({_coef(y_mean)} − {_paren(b)} × "
        f"{_coef(x_mean)}) = {_coef(a)}",
        f"Curve at assessment {at}: {_coef(a)} × {at}^{_paren(b)} = {c.num(value)}",
    ]
    if c.params["clamp"] and not c.scale_min <= value <= c.scale_max:
        clamped = min(max(value, c.scale_min), c.scale_max)
        steps.append(
            f"Kept within the scale {c.num(c.scale_min)}–{c.num(c.scale_max)}: "
            f"{c.num(value)} → {c.num(clamped)}"
        )
        value = clamped
    return _Work(value, steps=steps)


def _mode(c: _Context) -> _Work:
    counts: dict[float, int] = {}
    last_seen: dict[float, int] = {}
    for k, s in enumerate(c.scores, start=1):
        counts[s] = counts.get(s, 0) + 1
        last_seen[s] = k
    tally = ", ".join(f"{c.num(s)} × {counts[s]}" for s in sorted(counts))
    steps = [f"How often each score occurs: {tally}"]
    top = max(counts.values())
    tied = sorted(s for s in counts if counts[s] == top)
    times = "once" if top == 1 else f"{top} times"
    if len(tied) == 1:
        steps.append(f"Most frequent: {c.num(tied[0])} ({times})")
        return _Work(tied[0], steps=steps)
    steps.append(f"Tie: {_listed(c, tied)} each occur {times}")
    tie = c.params["tie"]
    if tie == "latest":
        value = max(tied, key=lambda s: last_seen[s])
        steps.append(
            f"The most recent of them counts: {c.num(value)} (last seen as score number "
            f"{last_seen[value]})"
        )
        return _Work(value, steps=steps)
    if tie == "highest":
        steps.append(f"The highest of them counts: {c.num(tied[-1])}")
        return _Work(tied[-1], steps=steps)
    reason = f"scores {_listed(c, tied)} are equally frequent; the teacher decides"
    return _Work(math.nan, NO_RESULT, [*steps, f"No result: {reason}."], reason)


def _mean_last_n(c: _Context) -> _Work:
    n = int(c.params["n"])
    recent = c.scores[-n:]
    value, step = _mean_step(c, recent, f"Average of the last {len(recent)}")
    return _Work(value, steps=[step])


def _highest_last_n(c: _Context) -> _Work:
    n = int(c.params["n"])
    recent = c.scores[-n:]
    value = max(recent)
    return _Work(
        value, steps=[f"The last {len(recent)}: {_listed(c, recent)}; highest: {c.num(value)}"]
    )


def _mean_top_n(c: _Context) -> _Work:
    n = int(c.params["n"])
    top = sorted(c.scores, reverse=True)[:n]
    value, step = _mean_step(c, top, f"Average of the highest {len(top)}")
    return _Work(value, steps=[step])


_EXPLAINERS: dict[str, Callable[[_Context], _Work]] = {
    "highest": _highest,
    "latest": _latest,
    "average": _average,
    "median": _median,
    "weighted_average": _weighted_average,
    "decaying_average": _decaying_average,
    "n_mastery": _n_mastery,
    "power_law": _power_law,
    "mode": _mode,
    "mean_last_n": _mean_last_n,
    "highest_last_n": _highest_last_n,
    "mean_top_n": _mean_top_n,
}
assert set(_EXPLAINERS) == set(METHODS)


def explain(
    spec: MethodSpec,
    scores: Sequence[float],
    weights: Sequence[float] | None = None,
    *,
    dates: Sequence[str | date] | None = None,
    scale_min: float,
    scale_max: float,
    mastery_threshold: float,
    places: int = 2,
) -> Explanation:
    """Explain ``spec`` on one group's scores (oldest first), same rules as ``compute``.

    ``weights`` (per score; only ``average`` uses them) and ``dates`` (shown next to each score)
    are optional. Numbers in the steps are unrounded, with at least ``places`` decimals; the
    summary gives the result rounded half up to ``places``.
    """
    checked, problems = validate_params(spec.name, spec.params)
    if checked is None:
        raise ValueError("; ".join(problems))
    values = [float(s) for s in scores]
    if not all(math.isfinite(s) for s in values):
        raise ValueError("scores must be finite: drop blank and excused evidence first")
    for name, extra in (("weights", weights), ("dates", dates)):
        if extra is not None and len(extra) != len(values):
            raise ValueError(f"{name} must have one entry per score")
    info = METHODS[checked.name]
    uses_weights = weights is not None and info.uses_weights
    weight_list = [float(w) for w in weights] if weights is not None and uses_weights else None
    if weight_list is not None and not all(math.isfinite(w) and w >= 0 for w in weight_list):
        raise ValueError("weights must be finite and >= 0")

    def num(x: float) -> str:
        return format_unrounded(x, places)

    rule = f"Rule: {describe(checked, mastery_threshold=mastery_threshold)}."
    if not values:
        summary = "Insufficient evidence: there are no scores."
        return Explanation(math.nan, INSUFFICIENT, [rule, "No scores."], summary)

    shown = []
    for k, s in enumerate(values):
        notes = []
        if dates is not None:
            notes.append(str(dates[k]))
        if weight_list is not None:
            notes.append(f"weight {_plain(weight_list[k])}")
        shown.append(num(s) + (f" ({', '.join(notes)})" if notes else ""))
    steps = [rule, f"Scores, oldest first: {', '.join(shown)}"]

    context = _Context(
        values, weight_list, checked.params, scale_min, scale_max, mastery_threshold, num
    )
    work = _EXPLAINERS[checked.name](context)
    steps += work.steps
    count = "1 score" if len(values) == 1 else f"{len(values)} scores"
    if work.status == OK:
        summary = f"{info.title}, from {count}: {format_decimal(work.value, places)}."
    else:
        label = "Insufficient evidence" if work.status == INSUFFICIENT else "No result"
        summary = f"{label} ({count}): {work.reason}."
    return Explanation(work.value, work.status, steps, summary)
