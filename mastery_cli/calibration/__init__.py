"""Calibration: agreement between teachers who scored the same student work.

`calibrate` reads double-scored gradebook rows (a ``rater`` column), groups them into pieces of
work (`pieces`), measures agreement per target (`statistics`, `analysis`) and writes
agreement.csv, raters.csv, disagreements.csv and calibration.html (`tables`, `html`).
"""

from mastery_cli.calibration.analysis import Calibration, analyse
from mastery_cli.calibration.pieces import Piece, collect_pieces
from mastery_cli.calibration.run import RESULT_FILES, CalibrationRun, calibrate, read_ratings

__all__ = [
    "RESULT_FILES",
    "Calibration",
    "CalibrationRun",
    "Piece",
    "analyse",
    "calibrate",
    "collect_pieces",
    "read_ratings",
]
