"""Property tests: the vectorised methods against a naive per-group reference written here in
plain Python, against the explanations, and against invariants any mastery result must keep."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mastery_cli.grading.explain_math import explain
from mastery_cli.grading.methods import (
    METHODS,
    STATUS_INSUFFICIENT,
    STATUS_LABELS,
    STATUS_NO_RESULT,
    STATUS_OK,
    MethodSpec,
    ParamValue,
    Result,
    compute,
    validate_params,
)
from mastery_cli.grading.rounding import round_half_up

SCALE_MIN, SCALE_MAX = 0.0, 4.0
Params = Mapping[str, ParamValue]

# --- strategies ----------------------------------------------------------------------------

# Rubric levels make ties (mode, median, n_mastery thresholds); other scores find the rest.
# Real scores carry a few decimals at most: a score like 1e-263 only makes the unclamped power
# law overflow in the reference arithmetic, which says nothing about grading.
LEVELS = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
scores_st = st.one_of(
    st.sampled_from(LEVELS),
    st.floats(SCALE_MIN, SCALE_MAX, allow_nan=False).map(lambda x: round(x, 3)),
)
groups_st = st.dictionaries(
    keys=st.integers(-(10**6), 10**6),
    values=st.lists(scores_st, min_size=1, max_size=12),
    min_size=1,
    max_size=8,
)
threshold_st = st.sampled_from([1.0, 2.5, 3.0, 3.5])


@st.composite
def spec_st(draw: st.DrawFn, names: Sequence[str] = tuple(METHODS)) -> MethodSpec:
    name = draw(st.sampled_from(list(names)))
    params: dict[str, object] = {}
    for p in METHODS[name].params:
        if p.kind == "float":
            assert p.minimum is not None and p.maximum is not None
            params[p.name] = draw(st.floats(p.minimum, p.maximum))
        elif p.kind == "int":
            assert p.minimum is not None and p.maximum is not None
            params[p.name] = draw(st.integers(int(p.minimum), int(p.maximum)))
        elif p.kind == "bool":
            params[p.name] = draw(st.booleans())
        else:
            params[p.name] = draw(st.sampled_from(p.choices))
    spec, problems = validate_params(name, params)
    assert spec is not None, problems
    return spec


@dataclass(frozen=True)
class Rows:
    group: np.ndarray
    score: np.ndarray
    weight: np.ndarray


def interleave(
    groups: Mapping[int, Sequence[float]],
    weights: Mapping[int, Sequence[float]],
    rnd: random.Random,
) -> Rows:
    """Rows of all groups mixed at random, each group's own rows still oldest first."""
    slots = [code for code, scores in groups.items() for _ in scores]
    rnd.shuffle(slots)
    taken = dict.fromkeys(groups, 0)
    group, score, weight = [], [], []
    for code in slots:
        k = taken[code]
        taken[code] += 1
        group.append(code)
        score.append(groups[code][k])
        weight.append(weights[code][k])
    return Rows(np.array(group, dtype=np.int64), np.array(score), np.array(weight))


@st.composite
def weights_for(draw: st.DrawFn, groups: Mapping[int, Sequence[float]]) -> dict[int, list[float]]:
    weight = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])
    return {
        code: draw(st.lists(weight, min_size=len(s), max_size=len(s))) for code, s in groups.items()
    }


def run(spec: MethodSpec, rows: Rows, threshold: float, with_weight: bool = False) -> Result:
    return compute(
        spec,
        rows.group,
        rows.score,
        rows.weight if with_weight else None,
        scale_min=SCALE_MIN,
        scale_max=SCALE_MAX,
        mastery_threshold=threshold,
    )


def by_group(result: Result) -> dict[int, tuple[float, str]]:
    labels = result.status_labels()
    return {
        int(g): (float(v), str(s))
        for g, v, s in zip(result.groups, result.value, labels, strict=True)
    }


# --- the naive reference: one group at a time, the formulas as written in FIELD-NOTES §2 ---

Ref = tuple[float, int]  # value, status code
NAN_INSUFFICIENT: Ref = (math.nan, STATUS_INSUFFICIENT)


def ref_average(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    if w is None:
        return sum(s) / len(s), STATUS_OK
    if sum(w) == 0:
        return NAN_INSUFFICIENT
    return sum(a * b for a, b in zip(s, w, strict=True)) / sum(w), STATUS_OK


def ref_weighted(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    if len(s) == 1:
        return s[0], STATUS_OK
    weight = float(p["weight"])
    return s[-1] * weight + (sum(s[:-1]) / (len(s) - 1)) * (1 - weight), STATUS_OK


def ref_decaying(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    weight = float(p["weight"])
    d = s[0]
    for x in s[1:]:
        d = d * (1 - weight) + x * weight
    return d, STATUS_OK


def ref_n_mastery(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    hits = [x for x in s if x >= thr]
    if len(s) < int(p["n"]) or len(hits) < int(p["n"]):
        return NAN_INSUFFICIENT
    return sum(hits) / len(hits), STATUS_OK


def ref_power_law(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    n = len(s)
    if n < int(p["min_scores"]):
        return NAN_INSUFFICIENT
    xs = [math.log(k) for k in range(1, n + 1)]
    ys = [math.log(float(p["zero_floor"]) if x <= 0 else x) for x in s]
    # the textbook (uncentred) normal equations, deliberately not the engine's formula
    sx, sy = sum(xs), sum(ys)
    sxx = sum(x * x for x in xs)
    sxy = sum(x * y for x, y in zip(xs, ys, strict=True))
    b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    a = math.exp((sy - b * sx) / n)
    at = n if p["predict"] == "last" else n + 1
    value = a * at**b
    if p["clamp"]:
        value = min(max(value, SCALE_MIN), SCALE_MAX)
    return value, STATUS_OK


def ref_mode(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
    counts = {x: s.count(x) for x in s}
    top = max(counts.values())
    tied = [x for x in counts if counts[x] == top]
    if len(tied) == 1:
        return tied[0], STATUS_OK
    if p["tie"] == "highest":
        return max(tied), STATUS_OK
    if p["tie"] == "latest":
        return max(tied, key=lambda x: len(s) - 1 - s[::-1].index(x)), STATUS_OK
    return math.nan, STATUS_NO_RESULT


def simple(fn: Callable[[list[float], int], float]) -> Callable[..., Ref]:
    def method(s: list[float], w: list[float] | None, p: Params, thr: float) -> Ref:
        return fn(s, int(p.get("n", 0))), STATUS_OK

    return method


REFERENCE: dict[str, Callable[[list[float], list[float] | None, Params, float], Ref]] = {
    "highest": simple(lambda s, n: max(s)),
    "latest": simple(lambda s, n: s[-1]),
    "average": ref_average,
    "median": simple(lambda s, n: statistics.median(s)),
    "weighted_average": ref_weighted,
    "decaying_average": ref_decaying,
    "n_mastery": ref_n_mastery,
    "power_law": ref_power_law,
    "mode": ref_mode,
    "mean_last_n": simple(lambda s, n: statistics.fmean(s[-n:])),
    "highest_last_n": simple(lambda s, n: max(s[-n:])),
    "mean_top_n": simple(lambda s, n: statistics.fmean(sorted(s)[-n:])),
}


def test_reference_covers_every_method() -> None:
    assert set(REFERENCE) == set(METHODS)


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    spec=spec_st(),
    groups=groups_st,
    thr=threshold_st,
    rnd=st.randoms(use_true_random=False),
    data=st.data(),
)
def test_vectorised_equals_naive_reference(
    spec: MethodSpec,
    groups: dict[int, list[float]],
    thr: float,
    rnd: random.Random,
    data: st.DataObject,
) -> None:
    weights = data.draw(weights_for(groups))
    with_weight = data.draw(st.booleans())
    rows = interleave(groups, weights, rnd)
    result = by_group(run(spec, rows, thr, with_weight))
    assert sorted(result) == sorted(groups)
    for code, scores in groups.items():
        w = weights[code] if with_weight else None
        expected, status = REFERENCE[spec.name](scores, w, spec.params, thr)
        got, label = result[code]
        assert label == STATUS_LABELS[status], (code, scores)
        assert close(got, expected), (code, scores, got, expected)


@settings(max_examples=200, deadline=None)
@given(spec=spec_st(), scores=st.lists(scores_st, min_size=1, max_size=12), thr=threshold_st)
def test_explanation_agrees_with_compute(spec: MethodSpec, scores: list[float], thr: float) -> None:
    kw = {"scale_min": SCALE_MIN, "scale_max": SCALE_MAX, "mastery_threshold": thr}
    result = compute(spec, np.zeros(len(scores), dtype=np.int64), np.array(scores), **kw)
    explained = explain(spec, scores, **kw)
    assert explained.status == str(result.status_labels()[0])
    value = float(result.value[0])
    if math.isnan(value):
        assert math.isnan(explained.value)
    else:
        # equal to 6 places; a value a hair from a half-way point may round either way, and an
        # unclamped trend through a near-zero score can be huge, so tiny relative differences
        # are accepted too
        same = round_half_up(value, 6) == round_half_up(explained.value, 6)
        assert same or close(value, explained.value), (value, explained.value)
    assert explained.steps and explained.summary


BOUNDED = [
    "highest",
    "latest",
    "average",
    "median",
    "weighted_average",
    "decaying_average",
    "mode",
    "mean_last_n",
    "highest_last_n",
    "mean_top_n",
    "n_mastery",  # a mean of some of the scores
]


@settings(max_examples=200, deadline=None)
@given(
    spec=spec_st(BOUNDED),
    groups=groups_st,
    thr=threshold_st,
    rnd=st.randoms(use_true_random=False),
    data=st.data(),
)
def test_result_within_the_groups_scores(
    spec: MethodSpec,
    groups: dict[int, list[float]],
    thr: float,
    rnd: random.Random,
    data: st.DataObject,
) -> None:
    rows = interleave(groups, data.draw(weights_for(groups)), rnd)
    for code, (value, _) in by_group(run(spec, rows, thr, with_weight=True)).items():
        if math.isnan(value):
            continue
        lo, hi = min(groups[code]), max(groups[code])
        slack = 1e-12 * max(1.0, abs(hi))  # a float mean of equal values may be 1 ulp off
        assert lo - slack <= value <= hi + slack


@settings(max_examples=100, deadline=None)
@given(spec=spec_st(["power_law"]), groups=groups_st, rnd=st.randoms(use_true_random=False))
def test_clamped_power_law_stays_on_the_scale(
    spec: MethodSpec, groups: dict[int, list[float]], rnd: random.Random
) -> None:
    assume(spec.params["clamp"])
    rows = interleave(groups, {c: [1.0] * len(s) for c, s in groups.items()}, rnd)
    values = run(spec, rows, 3.0).value
    ok = values[~np.isnan(values)]
    assert ((ok >= SCALE_MIN) & (ok <= SCALE_MAX)).all()


@settings(max_examples=200, deadline=None)
@given(
    spec=spec_st(),
    groups=groups_st,
    rnd=st.randoms(use_true_random=False),
    data=st.data(),
)
def test_order_of_groups_does_not_matter(
    spec: MethodSpec, groups: dict[int, list[float]], rnd: random.Random, data: st.DataObject
) -> None:
    weights = data.draw(weights_for(groups))
    first = run(spec, interleave(groups, weights, rnd), 3.0, with_weight=True)
    # same groups, new interleaving and a shuffled order of groups
    shuffled = dict(rnd.sample(list(groups.items()), len(groups)))
    second = run(spec, interleave(shuffled, weights, rnd), 3.0, with_weight=True)
    assert np.array_equal(first.groups, second.groups)
    assert np.array_equal(first.value, second.value, equal_nan=True)
    assert np.array_equal(first.status, second.status)
    assert np.array_equal(first.count, second.count)


@settings(max_examples=200, deadline=None)
@given(groups=groups_st, n=st.integers(1, 20), rnd=st.randoms(use_true_random=False))
def test_methods_are_ordered_sensibly(
    groups: dict[int, list[float]], n: int, rnd: random.Random
) -> None:
    rows = interleave(groups, {c: [1.0] * len(s) for c, s in groups.items()}, rnd)

    def values(name: str, **params: object) -> np.ndarray:
        spec, _ = validate_params(name, params)
        assert spec is not None
        return run(spec, rows, 3.0).value

    tol = 1e-9
    highest, average, latest = values("highest"), values("average"), values("latest")
    top_n, last_n = values("mean_top_n", n=n), values("mean_last_n", n=n)
    highest_last = values("highest_last_n", n=n)
    lowest = np.array([min(groups[int(g)]) for g in sorted(groups)])
    assert (highest + tol >= top_n).all() and (top_n + tol >= average).all()
    assert (average + tol >= lowest).all()
    assert (highest >= highest_last).all() and (highest_last >= latest).all()
    assert (highest_last + tol >= last_n).all()
    median = values("median")
    assert (highest >= median).all() and (median >= lowest).all()


MONOTONE = ["highest", "average", "decaying_average", "weighted_average"]


@settings(max_examples=200, deadline=None)
@given(
    spec=spec_st(MONOTONE),
    groups=groups_st,
    rnd=st.randoms(use_true_random=False),
    data=st.data(),
)
def test_raising_a_score_never_lowers_the_result(
    spec: MethodSpec, groups: dict[int, list[float]], rnd: random.Random, data: st.DataObject
) -> None:
    weights = data.draw(weights_for(groups))
    rows = interleave(groups, weights, rnd)
    row = data.draw(st.integers(0, rows.score.size - 1))
    raised = rows.score.copy()
    raised[row] = data.draw(st.floats(raised[row], SCALE_MAX))
    before = run(spec, rows, 3.0, with_weight=True).value
    after = run(spec, Rows(rows.group, raised, rows.weight), 3.0, with_weight=True).value
    ok = ~np.isnan(before)
    assert (after[ok] >= before[ok]).all()


# --- rounding ------------------------------------------------------------------------------


def decimal_round(x: float, places: int) -> float:
    """The definition: the shortest decimal that reads back as x, read to 12 significant
    digits (but at least 3 decimals beyond ``places``), rounded half up."""
    if not math.isfinite(x) or x == 0:
        return x
    with localcontext() as ctx:
        ctx.prec = 400
        typed = Decimal(repr(x))
        read = typed.quantize(Decimal(1).scaleb(min(typed.adjusted() - 11, -(places + 3))),
                              ROUND_HALF_EVEN)
        return float(read.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=500)
@given(values=st.lists(st.floats(width=64), max_size=50), places=st.integers(0, 8))
def test_round_half_up_array_matches_decimal(values: list[float], places: int) -> None:
    out = round_half_up(np.array(values, dtype=np.float64), places)
    for x, got in zip(values, out.tolist(), strict=True):
        assert same_float(got, decimal_round(x, places)), (x, places, got)
        assert same_float(round_half_up(x, places), decimal_round(x, places))


@settings(max_examples=500)
@given(
    m=st.integers(-(10**12), 10**12),
    places=st.integers(0, 6),
    step=st.sampled_from([-2, -1, 0, 1, 2]),
)
def test_round_half_up_at_and_beside_half_way_points(m: int, places: int, step: int) -> None:
    """Values typed as exact halves (2.675) and the doubles next to them (float noise of a
    result that is exactly half-way: they round up too)."""
    x = float(Decimal(10 * m + 5).scaleb(-(places + 1)))
    for _ in range(abs(step)):
        x = float(np.nextafter(x, math.copysign(math.inf, step)))
    got = round_half_up(np.array([x]), places)[0]
    assert got == decimal_round(x, places) == round_half_up(x, places), (x, places)


@pytest.mark.parametrize("places", [0, 1, 2, 3])
def test_round_half_up_on_typical_averages(places: int) -> None:
    # means of small integer scores land on halves all the time: check them all
    values = np.array([k / d for d in range(1, 41) for k in range(0, 4 * d + 1)])
    expected = [decimal_round(float(v), places) for v in values]
    assert round_half_up(values, places).tolist() == expected


# --- value order -----------------------------------------------------------------------------


def test_the_step_of_real_scores() -> None:
    from mastery_cli.grading.methods import _Columns, _step_of

    assert _step_of(np.array([1.0, 2.0, 3.0, 4.0])) == 1.0
    assert _step_of(np.array([0.5, 1.0, 2.5])) == 2.0
    assert _step_of(np.array([2.54, 3.1])) == 100.0
    assert _step_of(np.array([1 / 3, 1.0])) is None  # no whole step

    def key(scores: list[float]) -> list[int] | None:
        columns, _ = _Columns.of_groups(np.zeros(len(scores), dtype=np.int64),
                                        np.array(scores), None)
        found = columns._key_in_steps()
        return None if found is None else found.tolist()

    assert key([3.0, 2.5, 4.0]) == [1, 0, 3]
    # A score the sample did not show, off the step: the general route ranks them.
    assert key([0.5] * 5000 + [0.1 + 0.2]) is None
    assert key([0.0, 1e9]) is None  # too many steps between them
    assert key([1.0, np.inf]) is None


def _grouped_scores(groups: int, scores: st.SearchStrategy[float], most: int
                    ) -> st.SearchStrategy[list[tuple[int, float]]]:
    """Evidence rows as (group, score), up to ``most`` of them."""
    return st.lists(st.tuples(st.integers(0, groups), scores), min_size=1, max_size=most)


def _group_and_score(rows: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """The rows grouped (a stable sort: evidence order kept), as group and score columns."""
    rows = sorted(rows, key=lambda row: row[0])
    return (np.array([g for g, _ in rows], dtype=np.int64),
            np.array([s for _, s in rows], dtype=np.float64))


@settings(max_examples=200, deadline=None)
@given(_grouped_scores(6, st.one_of(st.sampled_from(LEVELS),
                                    st.integers(-400, 400).map(lambda k: k / 100),
                                    st.floats(-5, 5, allow_nan=False)), most=80))
def test_value_order_is_group_then_score_then_evidence_order(
    rows: list[tuple[int, float]]
) -> None:
    # Whatever route ranks the scores (whole steps, a binary search, a sort), the rows come
    # in the order of a stable sort by (group, score).
    from mastery_cli.grading.methods import _Columns

    group, score = _group_and_score(rows)
    columns, _ = _Columns.of_groups(group, score, None)
    expected = np.lexsort((score, group))
    assert columns.by_value.tolist() == expected.tolist()


@settings(max_examples=300, deadline=None)
@given(
    _grouped_scores(8, st.one_of(st.sampled_from(LEVELS),
                                 st.sampled_from([0.0, 0.5, 1.5, 2.5, 3.5]),
                                 st.integers(0, 400).map(lambda k: k / 100)), most=60),
    st.sampled_from(["latest", "highest", "none"]),
)
def test_the_mode_by_tally_is_the_mode_by_sort(rows: list[tuple[int, float]], tie: str) -> None:
    # Scores in whole steps are tallied per group; any other scores are sorted. Both routes
    # must give the same value and status for every tie rule, ties included.
    from mastery_cli.grading.methods import _Columns, _mode_by_sort, _mode_by_tally

    group, score = _group_and_score(rows)
    tallied = _mode_by_tally(_Columns.of_groups(group, score, None)[0], tie)
    if tallied is None:
        # Only hundredths that are not exactly k / 100 in binary (0.07 * 100 != 7) are sorted.
        assert not all(2 * s == round(2 * s) for s in score.tolist())
        return
    sorted_ = _mode_by_sort(_Columns.of_groups(group, score, None)[0], {"tie": tie})
    assert np.array_equal(tallied[0], sorted_[0], equal_nan=True)
    assert tallied[1].tolist() == sorted_[1].tolist()


def test_the_mode_sorts_scores_not_in_steps_or_spread_far() -> None:
    from mastery_cli.grading.methods import _Columns, _mode_by_tally

    def tallied(scores: list[float]) -> bool:
        columns, _ = _Columns.of_groups(np.zeros(len(scores), dtype=np.int64),
                                        np.array(scores), None)
        return _mode_by_tally(columns, "latest") is not None

    assert tallied([3.0, 2.5, 3.0])
    assert not tallied([1 / 3, 1.0, 1 / 3])  # not in steps
    assert not tallied([0.0] * 10 + [100_000.0])  # in steps, but a table of 100,001 cells
