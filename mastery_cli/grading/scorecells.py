"""What a score cell means, decided once per distinct (scale, text) pair and applied to all rows.

A gradebook has millions of cells but a few dozen distinct texts (``3``, ``3.5``, ``Proficient``,
``EX``, blank), so every text is interpreted once for each scale it is used with and the answer
is gathered back to the rows with numpy indexing: no Python loop over rows.

What a cell can be (checked in this order):
- blank, ``N/A``, ``NA`` or ``-``: no evidence; the row is set aside (reason ``no-score``), never
  read as zero.
- a level label of the target's scale in any language of the framework, or a level's ``short``
  label, any case (``Proficient``, ``competente``, ``P``): that level's value. The framework's
  labels win over the tokens below, so a scale whose short label is ``M`` keeps it.
- ``EX``/``excused``/``exempt``: status ``excused``, no score.
- ``M``/``MI``/``MSG``/``missing``: status ``missing``, no score; when the policy scores missing
  work as a number (``IngestConfig.missing``) it becomes a scored row with that number.
- a number (decimal comma when the file uses one): kept when it lies on the scale's range,
  after rescaling when the source says the outcome is scored out of other points (Canvas).
- anything else: rejected (``non-numeric-score``, with the closest labels as a suggestion);
  numbers outside the scale: rejected (``score-off-scale``, the message gives the range).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from mastery_cli.diagnostics import shortened
from mastery_cli.framework.model import Scale, level_key

EXCUSED_TOKENS = frozenset({"ex", "excused", "exempt", "exc"})
MISSING_TOKENS = frozenset({"m", "mi", "msg", "missing"})
NO_SCORE_TOKENS = frozenset({"", "n/a", "na", "-", "\u2013", "\u2014"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class CellKind(IntEnum):
    NUMBER = 0
    LABEL = 1
    EXCUSED = 2
    MISSING = 3
    BLANK = 4
    NOT_A_SCORE = 5


class Outcome(IntEnum):
    """What became of one cell, after rescaling and the range check."""

    SCORED = 0
    EXCUSED = 1
    MISSING = 2
    NO_SCORE = 3
    NON_NUMERIC = 4
    OFF_SCALE = 5


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class ScaleReader:
    """The labels of one scale, folded, with the value each stands for."""

    scale: Scale
    labels: dict[str, float]
    shown: list[str]
    primary: list[str]

    @classmethod
    def of(cls, scale: Scale) -> ScaleReader:
        labels: dict[str, float] = {}
        shown: list[str] = []
        primary: list[str] = []
        for level in scale.levels:
            names = [level.label] if isinstance(level.label, str) else list(level.label.values())
            primary.append(names[0])
            if level.short:
                names.append(level.short)
            for name in names:
                labels.setdefault(_fold(name), level.value)
                shown.append(name)
        return cls(scale, labels, list(dict.fromkeys(shown)), primary)

    @property
    def range_text(self) -> str:
        return f"{level_key(self.scale.min_value)}–{level_key(self.scale.max_value)}"

    def suggestion(self, text: str) -> str:
        choices = [*self.shown, "EX", "M"]
        folded = {_fold(c): c for c in choices}
        close = difflib.get_close_matches(_fold(text), list(folded), n=3, cutoff=0.6)
        if close:
            return "did you mean " + " or ".join(repr(folded[c]) for c in close) + "?"
        return (
            f"use a number from {self.range_text} or a level label "
            f"({', '.join(self.primary)}), EX or M"
        )


def parse_number(text: str, decimal: str) -> float | None:
    """A plain decimal number (``3``, ``2.5``, ``2,5`` when the decimal is a comma), else None."""
    candidate = text.replace(",", ".") if decimal == "," else text
    if not _NUMBER.match(candidate):
        return None
    return float(candidate)


def interpret(text: str, reader: ScaleReader, decimal: str) -> tuple[CellKind, float]:
    """The kind of one distinct cell text on one scale, and its value (NaN if none)."""
    folded = _fold(text)
    if folded in NO_SCORE_TOKENS:
        return CellKind.BLANK, math.nan
    if folded in reader.labels:
        return CellKind.LABEL, reader.labels[folded]
    if folded in EXCUSED_TOKENS:
        return CellKind.EXCUSED, math.nan
    if folded in MISSING_TOKENS:
        return CellKind.MISSING, math.nan
    number = parse_number(folded, decimal)
    if number is None:
        return CellKind.NOT_A_SCORE, math.nan
    return CellKind.NUMBER, number


@dataclass
class ScoreCells:
    """Per cell: the score (NaN when none) and its `Outcome`."""

    score: np.ndarray
    outcome: np.ndarray


def score_table(
    texts: Sequence[str], readers: Sequence[ScaleReader], decimal: str, missing: str | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kind, value, outcome) for every (scale + 1, text); row 0 is "no known scale".

    What `read_scores` gathers the cells from; a caller that knows each cell's scale from a
    small code (the target's) can gather from it directly."""
    shape = (len(readers) + 1, len(texts))
    kinds = np.full(shape, CellKind.NOT_A_SCORE, dtype=np.int8)
    values = np.full(shape, math.nan)
    outcomes = np.full(shape, Outcome.NON_NUMERIC, dtype=np.int8)
    for t, text in enumerate(texts):
        if _fold(text) in NO_SCORE_TOKENS:
            kinds[0, t], outcomes[0, t] = CellKind.BLANK, Outcome.NO_SCORE
    for s, reader in enumerate(readers, start=1):
        low, high = reader.scale.min_value - 1e-9, reader.scale.max_value + 1e-9
        for t, text in enumerate(texts):
            kind, value = interpret(text, reader, decimal)
            kinds[s, t], values[s, t] = kind, value
            if kind in (CellKind.NUMBER, CellKind.LABEL):
                outcomes[s, t] = Outcome.SCORED if low <= value <= high else Outcome.OFF_SCALE
            elif kind == CellKind.MISSING and missing != "ignore":
                outcomes[s, t], values[s, t] = Outcome.SCORED, float(missing)
            else:
                outcomes[s, t] = _KIND_OUTCOME[CellKind(kind)]
    values[outcomes != Outcome.SCORED] = math.nan
    return kinds, values, outcomes


_KIND_OUTCOME = {
    CellKind.EXCUSED: Outcome.EXCUSED,
    CellKind.MISSING: Outcome.MISSING,
    CellKind.BLANK: Outcome.NO_SCORE,
    CellKind.NOT_A_SCORE: Outcome.NON_NUMERIC,
}


def read_scores(
    texts: Sequence[str],
    codes: np.ndarray,
    scale_index: np.ndarray,
    readers: Sequence[ScaleReader],
    *,
    decimal: str,
    missing: str | float = "ignore",
    points_possible: np.ndarray | None = None,
) -> ScoreCells:
    """Interpret every cell: ``texts[codes[i]]`` on scale ``readers[scale_index[i]]``.

    ``scale_index`` is -1 for cells whose target is unknown (rejected for that reason
    elsewhere; only a blank text matters for them). ``points_possible`` (NaN where unknown)
    rescales numbers linearly from [0, points possible] to [0, scale max] when it is not the
    scale max: Canvas scores outcomes in points of the outcome's own rating scale.
    """
    kinds, values, outcomes = score_table(texts, readers, decimal, missing)
    row = scale_index + 1
    if not len(texts):
        empty = np.zeros(len(codes), dtype=np.int8)
        return ScoreCells(score=np.full(len(codes), math.nan), outcome=empty)
    outcome = outcomes[row, codes]
    score = values[row, codes]
    if points_possible is None:
        return ScoreCells(score=score, outcome=outcome)
    # Canvas: rescale numbers, then check the range again.
    parsed = [parse_number(_fold(text), decimal) for text in texts]
    number = np.array([math.nan if p is None else p for p in parsed])[codes]
    scale_max = np.array([math.nan] + [r.scale.max_value for r in readers])[row]
    scale_min = np.array([math.nan] + [r.scale.min_value for r in readers])[row]
    rescale = (kinds[row, codes] == CellKind.NUMBER) & (points_possible > 0)
    rescale &= points_possible != scale_max
    if rescale.any():
        scaled = number * scale_max / np.where(rescale, points_possible, 1.0)
        on_scale = (scaled >= scale_min - 1e-9) & (scaled <= scale_max + 1e-9)
        outcome = np.where(
            rescale, np.where(on_scale, Outcome.SCORED, Outcome.OFF_SCALE), outcome
        ).astype(np.int8)
        score = np.where(rescale, np.where(on_scale, scaled, math.nan), score)
    return ScoreCells(score=score, outcome=outcome)


def reject_message(
    outcome: Outcome, text: str, reader: ScaleReader | None, others: Sequence[ScaleReader] = ()
) -> str:
    """The message for a cell that is not used (for rejects.csv and the terminal); a hint
    follows the first "; " when there is one."""
    if outcome == Outcome.NO_SCORE:
        return "no score in this cell: no evidence (not counted as zero)"
    if reader is None:
        return f"score {shortened(text)!r} could not be read"
    scale_id = reader.scale.id
    if outcome == Outcome.OFF_SCALE:
        return f"score {shortened(text)} is outside scale '{scale_id}' ({reader.range_text})"
    elsewhere = [o.scale.id for o in others if o is not reader and _fold(text) in o.labels]
    if elsewhere:
        return (
            f"score {shortened(text)!r} is a level of scale '{elsewhere[0]}', but this target "
            f"uses scale '{scale_id}'; " + reader.suggestion(text)
        )
    return f"score {shortened(text)!r} is not a number or a level of scale '{scale_id}'; " + (
        reader.suggestion(text)
    )
