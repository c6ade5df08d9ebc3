"""A calibration session analysed: agreement per target and overall, raters, disputed pieces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mastery_cli.calibration.pieces import Piece
from mastery_cli.calibration.statistics import (
    Agreement,
    Position,
    RaterSummary,
    agreement,
    positions_for,
    rater_summaries,
    spread,
)
from mastery_cli.framework.model import Framework, Rubric

#: A piece is disputed when its ratings are this many levels apart or more.
DISPUTED_SPREAD = 2.0


@dataclass
class Calibration:
    """What `analyse` found; the result files are written from this alone."""

    framework: Framework
    rubrics: list[Rubric]
    pieces: list[Piece]
    targets: list[str]
    agreement: list[Agreement]
    raters: list[RaterSummary]
    disputed: list[tuple[Piece, float]]
    single_rated: int
    positions: dict[str, Position] = field(default_factory=dict)

    def pieces_of(self, target: str) -> list[Piece]:
        return [p for p in self.pieces if p.target == target]


def _framework_order(framework: Framework, targets: set[str]) -> list[str]:
    order = {ident: i for i, ident in enumerate(framework.targets)}
    return sorted(targets, key=lambda t: (order.get(t, len(order)), t))


def analyse(pieces: Sequence[Piece], framework: Framework,
            rubrics: Sequence[Rubric] = ()) -> Calibration:
    positions: dict[str, Position] = {}
    for target in {p.target for p in pieces}:
        framework_target = framework.targets.get(target)
        scale = framework.target_scale(framework_target) if framework_target else None
        positions[target] = positions_for(scale.values if scale else [])

    def position_of(piece: Piece) -> Position:
        return positions[piece.target]

    targets = _framework_order(framework, {p.target for p in pieces})
    rows = [agreement(t, [p for p in pieces if p.target == t], position_of) for t in targets]
    rows.append(agreement("ALL", list(pieces), position_of))  # (zeros and blanks when none)
    disputed = [(p, spread(p, position_of(p))) for p in pieces]
    disputed = [(p, s) for p, s in disputed if s >= DISPUTED_SPREAD - 1e-9]
    order = {t: i for i, t in enumerate(targets)}
    disputed.sort(key=lambda item: (-item[1], order[item[0].target], item[0].key))
    return Calibration(
        framework=framework, rubrics=list(rubrics), pieces=list(pieces), targets=targets,
        agreement=rows, raters=rater_summaries(pieces, position_of), disputed=disputed,
        single_rated=sum(1 for p in pieces if len(p.ratings) == 1), positions=positions,
    )
