"""Small CSV result files: header plus rows, formulas neutralised, numbers written alike.

For the reports' tables (calibration, coverage), not the grade outputs (which stream
millions of rows with their own writer).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from mastery_cli.output import neutralize_formula

Cell = str | int | float | None


def decimal_text(value: float | None, places: int = 4) -> str:
    """``value`` rounded half up to ``places`` decimals (from its shortest repr); blank for
    None (undefined, not zero)."""
    if value is None:
        return ""
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return str(abs(rounded) if rounded == 0 else rounded)  # (never "-0.0000")


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return decimal_text(cell)
    return neutralize_formula(cell)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The CSV file (``\\n`` line ends, UTF-8 text) with every cell written by `cell_text`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell_text(cell) for cell in row] for row in rows)
    return buffer.getvalue()
