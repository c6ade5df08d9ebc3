"""agreement.csv, raters.csv and disagreements.csv from a `Calibration`."""

from __future__ import annotations

from mastery_cli.calibration.analysis import Calibration
from mastery_cli.csvout import csv_text
from mastery_cli.framework.model import level_key
from mastery_cli.rubrics.levels import exemplar_location, exemplars_by_level

AGREEMENT_COLUMNS = ("target", "pieces", "raters", "ratings", "exact", "adjacent",
                     "kappa_quadratic", "alpha_nominal", "alpha_ordinal", "alpha_interval")
RATER_COLUMNS = ("rater", "ratings", "compared", "bias", "exact", "adjacent")
DISAGREEMENT_COLUMNS = ("target", "work_id", "student_id", "student_name", "assessment", "date",
                        "spread", "ratings", "exemplars")


def agreement_csv(result: Calibration) -> str:
    return csv_text(AGREEMENT_COLUMNS, (
        (a.target, a.pieces, a.raters, a.ratings, a.exact, a.adjacent, a.kappa_quadratic,
         a.alpha_nominal, a.alpha_ordinal, a.alpha_interval) for a in result.agreement))


def raters_csv(result: Calibration) -> str:
    return csv_text(RATER_COLUMNS, (
        (r.rater, r.ratings, r.compared, r.bias, r.exact, r.adjacent) for r in result.raters))


def disagreements_csv(result: Calibration) -> str:
    """One row per disputed piece; ``ratings`` as ``rater=level`` by rater, ``exemplars`` the
    rubric's benchmarked work for the levels given (``level: location``, files as the rubric
    names them, joined to the rubric's folder)."""
    rows = []
    for piece, spread in result.disputed:
        levels = sorted(set(piece.ratings.values()))
        bank = exemplars_by_level(result.rubrics, piece.target)
        exemplars = [f"{level_key(level)}: {exemplar_location(rubric, exemplar)}"
                     for level in levels for rubric, exemplar in bank.get(level, [])]
        rows.append((
            piece.target, piece.work_id, piece.student_id, piece.student_name, piece.assessment,
            piece.date, level_key(spread),
            "; ".join(f"{rater}={level_key(value)}" for rater, value in
                      sorted(piece.ratings.items())),
            "; ".join(exemplars),
        ))
    return csv_text(DISAGREEMENT_COLUMNS, rows)
