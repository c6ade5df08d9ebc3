"""Calculation methods against published values (FIELD-NOTES §2, Canvas's own tests), plus
validation messages, rounding and the step-by-step explanations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from mastery_cli.grading.explain_math import explain
from mastery_cli.grading.methods import (
    METHODS,
    STATUS_INSUFFICIENT,
    STATUS_LABELS,
    STATUS_NO_RESULT,
    STATUS_OK,
    MethodSpec,
    compute,
    describe,
    from_canvas,
    validate_params,
)
from mastery_cli.grading.rounding import format_decimal, round_half_up

SCALE_0_4 = {"scale_min": 0.0, "scale_max": 4.0, "mastery_threshold": 3.0}
SCALE_0_5 = {"scale_min": 0.0, "scale_max": 5.0, "mastery_threshold": 3.0}


def spec_of(name: str, params: Mapping[str, object] | None = None) -> MethodSpec:
    spec, problems = validate_params(name, params or {})
    assert spec is not None, problems
    return spec


def one_group(spec: MethodSpec, scores: Sequence[float], **scale: float) -> tuple[float, str]:
    result = compute(spec, np.zeros(len(scores), dtype=np.int64), np.asarray(scores), **scale)
    assert len(result) == 1
    return float(result.value[0]), str(result.status_labels()[0])


# (scores, method, params, expected after rounding to 2 places half up, scale)
PUBLISHED = [
    # FIELD-NOTES §2 table, 0–4 scale, w = 0.65
    ([1, 2, 3, 4], "highest", {}, "4.00", SCALE_0_4),
    ([1, 2, 3, 4], "latest", {}, "4.00", SCALE_0_4),
    ([1, 2, 3, 4], "average", {}, "2.50", SCALE_0_4),
    ([1, 2, 3, 4], "weighted_average", {}, "3.30", SCALE_0_4),
    ([1, 2, 3, 4], "decaying_average", {}, "3.48", SCALE_0_4),
    ([1, 2, 3, 4], "power_law", {}, "4.00", SCALE_0_4),
    ([4, 3, 2, 1], "highest", {}, "4.00", SCALE_0_4),
    ([4, 3, 2, 1], "latest", {}, "1.00", SCALE_0_4),
    ([4, 3, 2, 1], "average", {}, "2.50", SCALE_0_4),
    ([4, 3, 2, 1], "weighted_average", {}, "1.70", SCALE_0_4),
    ([4, 3, 2, 1], "decaying_average", {}, "1.52", SCALE_0_4),
    ([4, 3, 2, 1], "power_law", {}, "1.28", SCALE_0_4),
    ([2, 3, 4], "highest", {}, "4.00", SCALE_0_4),
    ([2, 3, 4], "latest", {}, "4.00", SCALE_0_4),
    ([2, 3, 4], "average", {}, "3.00", SCALE_0_4),
    ([2, 3, 4], "weighted_average", {}, "3.48", SCALE_0_4),
    ([2, 3, 4], "decaying_average", {}, "3.53", SCALE_0_4),
    ([1, 3, 2, 4], "power_law", {}, "3.66", SCALE_0_4),
    ([2, 4, 1, 3], "power_law", {}, "2.16", SCALE_0_4),
    # Canvas's own specs
    ([2, 3], "weighted_average", {}, "2.65", SCALE_0_4),
    ([4, 5, 1, 3, 2, 3], "n_mastery", {"n": 3}, "3.75", SCALE_0_5),
    ([1, 2, 3, 4, 5], "weighted_average", {}, "4.13", SCALE_0_5),
    ([1, 2, 3, 4, 5], "decaying_average", {}, "4.47", SCALE_0_5),
    ([1, 2, 3, 4, 5], "n_mastery", {"n": 3}, "4.00", SCALE_0_5),
]


@pytest.mark.parametrize(
    ("scores", "method", "params", "expected", "scale"),
    PUBLISHED,
    ids=[f"{m}{p or ''}-{s}" for s, m, p, _, _ in PUBLISHED],
)
def test_published_values(
    scores: list[int],
    method: str,
    params: dict[str, object],
    expected: str,
    scale: dict[str, float],
) -> None:
    spec = spec_of(method, params)
    value, status = one_group(spec, scores, **scale)
    assert status == "ok"
    assert format_decimal(value, 2) == expected
    explained = explain(spec, scores, **scale)
    assert format_decimal(explained.value, 2) == expected


def test_published_values_all_in_one_call() -> None:
    """The same cases as one column each, groups interleaved and with gaps in the codes."""
    by_method: dict[tuple[str, tuple[tuple[str, object], ...], float], list[tuple[list[int], str]]]
    by_method = {}
    for scores, method, params, expected, scale in PUBLISHED:
        key = (method, tuple(sorted(params.items())), scale["scale_max"])
        by_method.setdefault(key, []).append((scores, expected))
    for (method, param_items, scale_max), cases in by_method.items():
        params = dict(param_items)
        codes = [1000 - 7 * i for i in range(len(cases))]  # descending, not contiguous
        rows = [
            (codes[i], pos, s)
            for i, (scores, _) in enumerate(cases)
            for pos, s in enumerate(scores)
        ]
        rows.sort(key=lambda r: (r[1], r[0]))  # interleave groups, keep order within a group
        result = compute(
            spec_of(method, params),
            np.array([r[0] for r in rows]),
            np.array([r[2] for r in rows], dtype=float),
            scale_min=0.0,
            scale_max=scale_max,
            mastery_threshold=3.0,
        )
        assert list(result.groups) == sorted(codes)
        got = dict(zip(result.groups.tolist(), result.value.tolist(), strict=True))
        for code, (_, expected) in zip(codes, cases, strict=True):
            assert format_decimal(got[code], 2) == expected, (method, code)


# --- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "scores", "status", "value"),
    [
        ("n_mastery", {"n": 3}, [4, 4], STATUS_INSUFFICIENT, None),  # fewer than N scores
        ("n_mastery", {"n": 3}, [4, 1, 2, 4, 2], STATUS_INSUFFICIENT, None),  # 2 of 3 mastered
        ("n_mastery", {"n": 1}, [1, 2, 3], STATUS_OK, 3.0),
        ("power_law", {}, [2, 3], STATUS_INSUFFICIENT, None),
        ("power_law", {"min_scores": 2}, [2, 3], STATUS_OK, 3.0),
        ("mode", {"tie": "none"}, [3, 4, 3, 4, 1], STATUS_NO_RESULT, None),
        ("mode", {"tie": "latest"}, [4, 3, 3, 4, 1], STATUS_OK, 4.0),
        ("mode", {"tie": "latest"}, [4, 3, 4, 3, 1], STATUS_OK, 3.0),
        ("mode", {"tie": "highest"}, [4, 3, 4, 3, 1], STATUS_OK, 4.0),
        ("mode", {"tie": "none"}, [4, 3, 4, 1], STATUS_OK, 4.0),
        ("mode", {}, [2], STATUS_OK, 2.0),
        ("median", {}, [3, 1, 4, 1, 5], STATUS_OK, 3.0),
        ("median", {}, [3, 1, 4, 1], STATUS_OK, 2.0),
        ("mean_last_n", {"n": 3}, [4, 2], STATUS_OK, 3.0),  # fewer than n: use what there is
        ("mean_last_n", {"n": 2}, [4, 2, 1, 3], STATUS_OK, 2.0),
        ("highest_last_n", {"n": 2}, [4, 2, 1, 3], STATUS_OK, 3.0),
        ("mean_top_n", {"n": 2}, [4, 2, 1, 3], STATUS_OK, 3.5),
        ("mean_top_n", {"n": 5}, [4, 2], STATUS_OK, 3.0),
        ("weighted_average", {}, [3], STATUS_OK, 3.0),
        ("decaying_average", {}, [3], STATUS_OK, 3.0),
    ],
)
def test_status_and_small_cases(
    method: str, params: dict[str, object], scores: list[int], status: int, value: float | None
) -> None:
    spec = spec_of(method, params)
    got, label = one_group(spec, scores, **SCALE_0_4)
    assert label == STATUS_LABELS[status]
    if value is None:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(value)
    explained = explain(spec, scores, **SCALE_0_4)
    assert explained.status == label
    assert math.isnan(explained.value) if value is None else explained.value == pytest.approx(got)


def test_power_law_variants() -> None:
    rising = [1.0, 2.0, 3.0, 4.0]  # exactly s = k, so the fit is a = 1, b = 1
    assert one_group(
        spec_of("power_law", {"predict": "next", "clamp": False}), rising, **SCALE_0_4
    )[0] == pytest.approx(5.0)
    assert one_group(spec_of("power_law", {"predict": "next"}), rising, **SCALE_0_4)[0] == 4.0
    # a zero is floored before the logarithm instead of giving -inf
    value, status = one_group(spec_of("power_law", {"zero_floor": 0.5}), [0, 1, 2], **SCALE_0_4)
    assert status == "ok"
    assert value == pytest.approx(one_group(spec_of("power_law"), [0.5, 1, 2], **SCALE_0_4)[0])
    # clamped below at the scale minimum as well
    value, _ = one_group(
        spec_of("power_law"), [4, 0.2, 0.1], scale_min=1, scale_max=4, mastery_threshold=3
    )
    assert value == 1.0


def test_weighted_average_of_evidence_weights() -> None:
    spec = spec_of("average")
    group = np.array([1, 1, 1, 2, 2])
    score = np.array([1.0, 2.0, 4.0, 3.0, 1.0])
    weight = np.array([1.0, 0.0, 3.0, 0.0, 0.0])
    result = compute(spec, group, score, weight, **SCALE_0_4)
    assert result.value[0] == pytest.approx(13 / 4)
    assert math.isnan(result.value[1])
    assert result.status.tolist() == [STATUS_OK, STATUS_INSUFFICIENT]
    assert result.count.tolist() == [3, 2]
    # methods that do not use weights ignore them
    latest = compute(spec_of("latest"), group, score, weight, **SCALE_0_4)
    assert latest.value.tolist() == [4.0, 1.0]


def test_unsorted_and_non_contiguous_groups_keep_evidence_order() -> None:
    group = np.array([7, 3, 7, 3, 7])
    score = np.array([1.0, 4.0, 2.0, 2.0, 3.0])
    result = compute(spec_of("latest"), group, score, **SCALE_0_4)
    assert result.groups.tolist() == [3, 7]
    assert result.value.tolist() == [2.0, 3.0]
    assert result.count.tolist() == [2, 3]
    frame = result.to_frame()
    assert frame["status"].astype(str).tolist() == ["ok", "ok"]


def test_empty_input() -> None:
    result = compute(spec_of("mode"), np.array([], dtype=np.int64), np.array([]), **SCALE_0_4)
    assert len(result) == 0
    assert result.value.dtype == np.float64


@pytest.mark.parametrize(
    ("group", "score", "weight", "error"),
    [
        ([1, 1], [1.0, float("nan")], None, ValueError),
        ([1, 1], [1.0, 2.0], [1.0, -1.0], ValueError),
        ([1.5, 1], [1.0, 2.0], None, TypeError),
        ([1, 1, 1], [1.0, 2.0], None, ValueError),
    ],
)
def test_bad_input_is_rejected(
    group: list[float], score: list[float], weight: list[float] | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        compute(spec_of("average"), np.array(group), np.array(score), weight, **SCALE_0_4)


def test_compute_rejects_a_hand_built_spec_with_bad_params() -> None:
    with pytest.raises(ValueError, match=r"weight must be between 0\.5 and 0\.99 \(got 0\.2\)"):
        compute(MethodSpec("decaying_average", {"weight": 0.2}), [1], [1.0], **SCALE_0_4)


# --- validation ----------------------------------------------------------------------------


def test_defaults_are_filled() -> None:
    assert dict(spec_of("power_law").params) == {
        "predict": "last",
        "min_scores": 3,
        "clamp": True,
        "zero_floor": 0.1,
    }
    assert dict(spec_of("Decaying-Average").params) == {"weight": 0.65}
    assert spec_of("n_mastery", {"n": "4"}).params["n"] == 4
    assert spec_of("power_law", {"clamp": "false"}).params["clamp"] is False


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("weighted_average", {"weight": 1.5}, "weight must be between 0.01 and 0.99 (got 1.5)"),
        ("decaying_average", {"weight": 0.3}, "weight must be between 0.5 and 0.99 (got 0.3)"),
        ("decaying_average", {"weight": 65}, "did you mean 0.65?"),
        ("n_mastery", {"n": 11}, "n must be a whole number between 1 and 10 (got 11)"),
        ("n_mastery", {"n": 2.5}, "n must be a whole number between 1 and 10 (got 2.5)"),
        ("n_mastery", {"n": True}, "n must be a whole number"),
        ("mean_last_n", {"n": 0}, "between 1 and 20 (got 0)"),
        ("power_law", {"min_scores": 1}, "min_scores must be a whole number between 2 and 20"),
        ("power_law", {"predict": "nxt"}, "one of: last, next (got 'nxt'); did you mean 'next'?"),
        ("power_law", {"clamp": "maybe"}, "clamp must be true or false (got 'maybe')"),
        ("mode", {"tie": "lowest"}, "tie must be one of: latest, highest, none"),
        (
            "weighted_average",
            {"wieght": 0.5},
            "unknown parameter 'wieght' for weighted_average; did you mean 'weight'?",
        ),
        ("highest", {"n": 3}, "highest takes no parameters"),
        ("decaying", {}, "unknown calculation method 'decaying'; did you mean 'decaying_average'?"),
        ("standard_decaying_average", {}, "here it is 'decaying_average'"),
    ],
)
def test_validation_messages(name: str, params: dict[str, object], message: str) -> None:
    spec, problems = validate_params(name, params)
    assert spec is None
    assert any(message in p for p in problems), problems


def test_unknown_method_lists_the_known_ones() -> None:
    _, problems = validate_params("avrage", {})
    assert "did you mean 'average'?" in problems[0]
    for name in METHODS:
        assert name in problems[0]


@pytest.mark.parametrize(
    ("canvas", "number", "name", "params"),
    [
        ("decaying_average", 75, "weighted_average", {"weight": 0.75}),  # Canvas's legacy name
        ("standard_decaying_average", None, "decaying_average", {"weight": 0.65}),
        ("n_mastery", 3, "n_mastery", {"n": 3}),
        ("highest", None, "highest", {}),
    ],
)
def test_from_canvas(canvas: str, number: int | None, name: str, params: dict[str, object]) -> None:
    spec, problems = from_canvas(canvas, number)
    assert spec is not None, problems
    assert spec.name == name
    assert dict(spec.params) == params


def test_every_method_is_documented() -> None:
    for name, info in METHODS.items():
        assert info.name == name and info.title and info.description
        sentence = describe(spec_of(name), mastery_threshold=3)
        assert "{" not in sentence and sentence
        for param in info.params:
            assert spec_of(name).params[param.name] == param.default
            assert param.allowed()


def test_describe_sentences() -> None:
    assert describe(spec_of("decaying_average")) == (
        "a decaying average: each new score counts 65% and all earlier scores together 35%, "
        "so recent work weighs most"
    )
    assert "counts 75% and the average of all earlier scores 25%" in describe(
        spec_of("weighted_average", {"weight": 0.75})
    )
    assert "teacher decides" in describe(spec_of("mode", {"tie": "none"}))
    assert "average of the 1 highest" not in describe(spec_of("mean_top_n", {"n": 1}))


# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "places", "expected"),
    [
        (2.675, 2, 2.68),
        (3.475, 2, 3.48),
        (1.005, 2, 1.01),
        (4.125, 2, 4.13),
        (0.285, 2, 0.29),
        (1.115, 2, 1.12),
        (-2.675, 2, -2.68),
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (3.4849999, 2, 3.48),
        (1e20, 2, 1e20),
        (0.1234565, 6, 0.123457),
    ],
)
def test_round_half_up(x: float, places: int, expected: float) -> None:
    assert round_half_up(x, places) == expected
    assert round_half_up(np.array([x]), places)[0] == expected


def test_round_half_up_array_keeps_shape_and_special_values() -> None:
    values = np.array([[2.675, np.nan], [np.inf, -np.inf]])
    out = round_half_up(values, 2)
    assert out.shape == (2, 2)
    assert out[0, 0] == 2.68 and np.isnan(out[0, 1]) and out[1, 0] == np.inf
    assert out[1, 1] == -np.inf
    with pytest.raises(ValueError):
        round_half_up(1.0, -1)


@pytest.mark.parametrize(
    ("x", "places", "text"),
    [
        (3.5, 2, "3.50"),
        (2.675, 2, "2.68"),
        (4, 0, "4"),
        (float("nan"), 2, ""),
        (-0.001, 2, "0.00"),
        (1e-7, 2, "0.00"),
        (1e16, 2, "10000000000000000.00"),
        (123456.785, 2, "123456.79"),
    ],
)
def test_format_decimal(x: float, places: int, text: str) -> None:
    assert format_decimal(x, places) == text


# --- explanations --------------------------------------------------------------------------


def test_explain_decaying_average_shows_each_step() -> None:
    result = explain(spec_of("decaying_average"), [1, 2, 3, 4], **SCALE_0_4)
    assert result.status == "ok"
    assert "d1 = 1.00" in result.steps
    assert "d2 = 1.00 × 0.35 + 2.00 × 0.65 = 1.65" in result.steps
    assert "d3 = 1.65 × 0.35 + 3.00 × 0.65 = 2.5275" in result.steps
    assert result.steps[-1] == "Result: d4 = 3.484625"
    assert result.summary == "Decaying average, from 4 scores: 3.48."


def test_explain_weighted_average_and_dates() -> None:
    result = explain(
        spec_of("weighted_average"),
        [1, 2, 3, 4],
        dates=["2025-09-01", "2025-09-08", "2025-09-15", "2025-09-22"],
        **SCALE_0_4,
    )
    assert "1.00 (2025-09-01)" in result.steps[1]
    assert result.steps[-1].endswith("4.00 × 0.65 + 2.00 × 0.35 = 3.30")


def test_explain_insufficient_evidence_says_why() -> None:
    result = explain(spec_of("n_mastery", {"n": 3}), [4, 1], **SCALE_0_4)
    assert result.status == "insufficient-evidence"
    assert math.isnan(result.value)
    assert result.summary == (
        "Insufficient evidence (2 scores): needs 3 scores at or above 3.00, has 1."
    )
    assert explain(spec_of("average"), [], **SCALE_0_4).status == "insufficient-evidence"


def test_explain_mode_tie_and_power_law() -> None:
    tie = explain(spec_of("mode", {"tie": "none"}), [3, 4, 3, 4, 1], **SCALE_0_4)
    assert tie.status == "no-result"
    assert "teacher decides" in tie.summary
    trend = explain(spec_of("power_law"), [1, 3, 2, 0], **SCALE_0_4)
    assert any("become 0.1" in step for step in trend.steps)
    assert trend.steps[-1].startswith("Curve at assessment 4")


def test_explain_weighted_average_of_evidence() -> None:
    result = explain(spec_of("average"), [1, 2, 3], weights=[1, 2, 0.5], **SCALE_0_4)
    assert result.value == pytest.approx(6.5 / 3.5)
    assert "1.00 × 1 + 2.00 × 2 + 3.00 × 0.5 = 6.50" in result.steps[2]
