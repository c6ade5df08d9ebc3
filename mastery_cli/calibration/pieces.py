"""From gradebook evidence to pieces of work and their ratings.

A piece of work is one student × target × assessment × date, or the ``work_id`` of the row
when the file has that column (then with the target: a lab report scored on four targets is
four pieces). Each rater counts once per piece: a second, different rating by the same rater
is reported (``rated-twice``) and left out; an exact copy of a row is already set aside by the
reader (``duplicate-row``). Excused and missing rows are no rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mastery_cli.diagnostics import Diagnostic, warning

if TYPE_CHECKING:
    import pandas as pd

#: Spellings of the work id column (normalised headers).
WORK_ID_NAMES = ("work_id", "piece_id", "work", "submission_id")


@dataclass
class Piece:
    """One piece of work on one target, with every rater's rating of it."""

    target: str
    student_id: str
    student_name: str
    assessment: str
    date: str
    work_id: str
    ratings: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        if self.work_id:
            return (self.target, self.work_id, "", "", "")
        return (self.target, "", self.student_id, self.assessment, self.date)

    @property
    def label(self) -> str:
        """How the piece is named in the reports."""
        if self.work_id:
            return self.work_id
        return " · ".join(p for p in (self.student_name or self.student_id, self.assessment,
                                       self.date) if p)


@dataclass
class Ratings:
    """The pieces (sorted by target, then as named) and the problems found collecting them."""

    pieces: list[Piece]
    diagnostics: list[Diagnostic]
    left_out: int = 0


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value)  # (NaN != NaN)


def collect_pieces(frame: pd.DataFrame,
                   work_ids: Mapping[tuple[str, int], str] | None = None) -> Ratings:
    """Group the evidence of ``frame`` (`EvidenceSet.frame`) into rated pieces of work.

    ``work_ids``: (file, row) -> the row's work id, for files that have one.
    """
    work_ids = work_ids or {}
    pieces: dict[tuple[str, str, str, str, str], Piece] = {}
    first_line: dict[tuple[tuple[str, str, str, str, str], str], tuple[str, int]] = {}
    problems: list[Diagnostic] = []
    left_out = 0
    ordered = frame.sort_values(["file", "row"], kind="stable")
    rows: list[dict[Any, Any]] = ordered.to_dict("records")
    for row in rows:
        file, line = _text(row["file"]), int(row["row"])
        if _text(row["status"]) != "scored":
            continue
        rater = _text(row["rater"]).strip()
        if not rater:
            problems.append(warning(
                "missing-rater", "this rating names no rater: left out of the calibration",
                file, line, hint="fill in the rater column (who scored this piece)",
            ))
            left_out += 1
            continue
        date = row["date"].strftime("%Y-%m-%d") if row["date"] == row["date"] else ""
        work_id = work_ids.get((file, line), "")
        piece = Piece(
            target=_text(row["target"]), student_id=_text(row["student_id"]),
            student_name=_text(row["student_name"]), assessment=_text(row["assessment"]),
            date=date, work_id=work_id,
        )
        piece = pieces.setdefault(piece.key, piece)
        value = float(row["score"])
        if rater in piece.ratings:
            first_file, first_row = first_line[(piece.key, rater)]
            same = piece.ratings[rater] == value
            problems.append(warning(
                "rated-twice",
                f"{rater} rated this piece ({piece.target}, {piece.label}) already on line "
                f"{first_row} of {first_file}"
                + (" with the same level" if same else
                   f" ({piece.ratings[rater]:g}, here {value:g})")
                + ": the first rating counts, this one is left out",
                file, line, hint="each rater scores a piece once; remove the extra row",
            ))
            left_out += 1
            continue
        piece.ratings[rater] = value
        first_line[(piece.key, rater)] = (file, line)
    ordered_pieces = sorted(pieces.values(), key=lambda p: p.key)
    return Ratings(ordered_pieces, problems, left_out)
