"""Rater agreement on pieces of work: shares of agreeing pairs, Cohen's kappa, Krippendorff's α.

Definitions (docs in README "Calibration"):

- A *pair* is two raters' ratings of the same piece; a piece rated by m raters gives
  m(m-1)/2 pairs. ``exact``: share of pairs with the same level; ``adjacent``: share within
  one level. Levels are counted along the target's scale (`Positions`): on a scale of 1-4
  one level is 1, on a scale of 0, 0.5, ... 4 it is 0.5.
- ``kappa_quadratic``: Cohen's kappa with quadratic weights (the squared distance in levels,
  the categories being the scale's levels), for each pair of raters that share at least two
  pieces; with more than two raters, the mean of the pairs' kappas. A pair whose kappa is
  undefined (both raters gave one and the same level throughout) is left out of the mean.
- ``alpha_*``: Krippendorff's α (the ``krippendorff`` package) on the raters × pieces matrix,
  missing ratings allowed; undefined (blank) when all ratings are one level.
- Pieces with one rating count as pieces and ratings, and enter no statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from mastery_cli.calibration.pieces import Piece

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval")

#: A rating's place along its scale, in levels (see `positions_for`).
Position = Callable[[float], float]


def positions_for(levels: Sequence[float]) -> Position:
    """Level index of a value on a scale with ``levels`` (interpolated between levels, so a
    2.5 between levels 2 and 3 is half a level from each)."""
    values = sorted(set(levels))
    if len(values) < 2:
        return lambda value: float(value)
    index = np.arange(len(values), dtype=float)
    return lambda value: float(np.interp(value, values, index, left=np.nan, right=np.nan))


@dataclass(frozen=True)
class Agreement:
    """One row of agreement.csv."""

    target: str
    pieces: int
    raters: int
    ratings: int
    exact: float | None
    adjacent: float | None
    kappa_quadratic: float | None
    alpha_nominal: float | None
    alpha_ordinal: float | None
    alpha_interval: float | None


@dataclass(frozen=True)
class RaterSummary:
    """One row of raters.csv."""

    rater: str
    ratings: int
    compared: int
    bias: float | None
    exact: float | None
    adjacent: float | None


def rated_pairs(piece: Piece) -> list[tuple[str, float, str, float]]:
    """Every pair of ratings of ``piece`` (raters in name order)."""
    ratings = sorted(piece.ratings.items())
    return [(a, x, b, y) for (a, x), (b, y) in combinations(ratings, 2)]


def quadratic_kappa(first: Sequence[float], second: Sequence[float],
                    position: Position) -> float | None:
    """Cohen's kappa, quadratic weights on the distance in levels; None when undefined."""
    categories = sorted(set(first) | set(second))
    if not first or len(first) != len(second):
        return None
    index = {value: i for i, value in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(first, second, strict=True):
        observed[index[x], index[y]] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    places = np.array([position(value) for value in categories])
    weights = (places[:, None] - places[None, :]) ** 2
    disagreement_expected = float((weights * expected).sum())
    if disagreement_expected == 0:
        return None
    return 1.0 - float((weights * observed).sum()) / disagreement_expected


def mean_pairwise_kappa(pieces: Sequence[Piece], position: Position) -> float | None:
    """The mean quadratic kappa over rater pairs sharing two pieces or more."""
    shared: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for piece in pieces:
        for a, x, b, y in rated_pairs(piece):
            first, second = shared.setdefault((a, b), ([], []))
            first.append(x)
            second.append(y)
    kappas = [quadratic_kappa(first, second, position)
              for first, second in (shared[pair] for pair in sorted(shared))
              if len(first) >= 2]
    defined = [k for k in kappas if k is not None]
    return sum(defined) / len(defined) if defined else None


def krippendorff_alpha(pieces: Sequence[Piece], level: AlphaLevel) -> float | None:
    """Krippendorff's α at ``level`` over the pieces with two ratings or more."""
    import krippendorff

    rated = [p for p in pieces if len(p.ratings) >= 2]
    raters = sorted({r for p in rated for r in p.ratings})
    if not rated:
        return None
    matrix = np.full((len(raters), len(rated)), np.nan)
    row = {rater: i for i, rater in enumerate(raters)}
    for column, piece in enumerate(rated):
        for rater, value in piece.ratings.items():
            matrix[row[rater], column] = value
    if len(np.unique(matrix[~np.isnan(matrix)])) < 2:
        return None  # one level throughout: no expected disagreement, α is 0/0
    value = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))
    return None if math.isnan(value) else value


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def agreement(target: str, pieces: Sequence[Piece], position_of: Callable[[Piece], Position]
              ) -> Agreement:
    """The agreement row for ``pieces`` (one target's, or all of them for ``ALL``)."""
    distances = [abs(position_of(p)(x) - position_of(p)(y))
                 for p in pieces for _, x, _, y in rated_pairs(p)]
    by_target: dict[str, list[Piece]] = {}
    for piece in pieces:
        by_target.setdefault(piece.target, []).append(piece)
    if len(by_target) == 1:
        kappa = mean_pairwise_kappa(pieces, position_of(pieces[0]))
    else:
        kappa = _pooled_kappa(pieces, position_of)
    alphas = [krippendorff_alpha(pieces, level) for level in ALPHA_LEVELS]
    return Agreement(
        target=target, pieces=len(pieces),
        raters=len({r for p in pieces for r in p.ratings}),
        ratings=sum(len(p.ratings) for p in pieces),
        exact=_share([d == 0 for d in distances]),
        adjacent=_share([d <= 1 + 1e-9 for d in distances]),
        kappa_quadratic=kappa, alpha_nominal=alphas[0], alpha_ordinal=alphas[1],
        alpha_interval=alphas[2],
    )


def _pooled_kappa(pieces: Sequence[Piece], position_of: Callable[[Piece], Position]
                  ) -> float | None:
    """Kappa over every target's pieces together: ratings as levels counted from the
    bottom of each target's scale, so that targets on different scales can be pooled."""
    as_levels = [Piece(p.target, p.student_id, p.student_name, p.assessment, p.date, p.work_id,
                       {r: position_of(p)(v) for r, v in p.ratings.items()}) for p in pieces]
    return mean_pairwise_kappa(as_levels, float)


def rater_summaries(pieces: Sequence[Piece], position_of: Callable[[Piece], Position]
                    ) -> list[RaterSummary]:
    """Per rater: ratings given, pairs compared, mean signed difference in levels from the
    other raters on the same pieces (bias: positive is more generous), agreement shares."""
    counts: dict[str, int] = {}
    differences: dict[str, list[float]] = {}
    for piece in pieces:
        position = position_of(piece)
        for rater, value in piece.ratings.items():
            counts[rater] = counts.get(rater, 0) + 1
            differences.setdefault(rater, [])
            for other, other_value in piece.ratings.items():
                if other != rater:
                    differences[rater].append(position(value) - position(other_value))
    rows = []
    for rater in sorted(counts):
        diffs = differences[rater]
        rows.append(RaterSummary(
            rater=rater, ratings=counts[rater], compared=len(diffs),
            bias=sum(diffs) / len(diffs) if diffs else None,
            exact=_share([d == 0 for d in diffs]),
            adjacent=_share([abs(d) <= 1 + 1e-9 for d in diffs]),
        ))
    return rows


def spread(piece: Piece, position: Position) -> float:
    """How many levels apart the highest and lowest ratings of ``piece`` are."""
    places = [position(v) for v in piece.ratings.values()]
    return max(places) - min(places) if places else 0.0
