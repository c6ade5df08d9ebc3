"""A result table with every kind of column the CSV writer knows and the values that are
awkward for each: the input of the writer's golden files (tests/golden/csv_writer/)."""

from __future__ import annotations

import numpy as np

from mastery_cli.grading.table import Coded, Flags, Table

#: Text that matters to CSV (commas, quotes, line breaks), to spreadsheets (formula starts),
#: to UTF-8 (two-, three- and four-byte characters) and to cell widths (a long cell).
#: (A carriage return alone is left out: whether the csv module quotes it depends on the Python
#: version; `test_csv_writer` checks it against the module.)
TEXTS = ["plain", "Tanaka, Emma", 'Adams "AJ", Lena', "line\nbreak", "crlf\r\nend",
         "=1+1", "+1+2", "-3", "-x", "@SUM(A1)", "\tindented", "Zoë 𝄞 €", "",
         " spaced ", "'quoted already", '"', ",", "a" * 300, "=HYPERLINK(\"x\")," + "é" * 280,
         "semi;colon", "MATH.ALG.1;MATH.ALG.2", "-1.5", "0012"]

#: Scores where rounding or formatting could go wrong.
SCORES = [2.675, 2.665, 0.125, -0.125, 1.005, -2.5, 0.005, -0.005, -0.004, -0.0, 0.0, 1e16,
          -1e16, 4503599627370497.0, 450359962737.0495, 2.0**52 / 100 - 0.5, 1e300, -1e300,
          5e-324, np.inf, -np.inf, np.nan, 123456789.125, 3.14159]

LEVELS = [1.0, 2.0, 2.5, 3.0, 4.0, -1.0, 0.0, -0.0, np.nan, np.inf, 1.25, 1e20]

INTEGERS = [0, 1, -1, 7, 40, 2**63 - 1, -(2**63), 10**12, 3, 3, 2, 99]

#: Days as nanoseconds since 1970 with a time of day, before 1970 too; NaT.
DATES = ["2025-11-10T00:00", "2025-12-03T23:59:59", "NaT", "1969-12-31T18:00", "2000-02-29",
         "NaT", "1823-01-01T12:00", "2116-06-30", "2026-08-27", "2026-08-27T08:00", "NaT",
         "1970-01-01"]


def awkward_table() -> Table:
    """One row per awkward score (24), the other columns cycling through their values."""
    rows = len(SCORES)

    def cycled(values: list, dtype: object = object) -> np.ndarray:
        return np.array([values[i % len(values)] for i in range(rows)], dtype=dtype)

    texts = list(TEXTS)
    return Table({
        "student_id": Coded(np.array([i % 7 - 1 for i in range(rows)]),  # -1: missing
                            ["0041001", "=cmd", "0041002", "id, comma", "", "0041003"]),
        "student_name": Coded(np.arange(rows) % len(texts), texts),
        "target": cycled([*TEXTS[::-1], None, float("nan")]),  # object text, missing ones
        "score": np.array(SCORES),
        "level": cycled(LEVELS, np.float64),
        "label": Coded(np.array([i % 4 - 1 for i in range(rows)]),
                       ["Developing", "Proficient, plus", "=bad"]),
        "mastered": Flags(cycled([True, False, True], bool), cycled([True, True, False], bool)),
        "ready_to_advance": cycled([False, True], bool),
        "evidence_count": cycled(INTEGERS, np.int64),
        "row": np.arange(rows, dtype=np.int64) * 1_000_003 + 2,  # spread out: mostly distinct
        "last_evidence_date": cycled(DATES, "datetime64[ns]"),
        "credits": Coded(np.array([i % 3 - 1 for i in range(rows)]), ["1.5", "0.125"]),
        "status": Flags(cycled([True, False], bool), cycled([True, True, False], bool)),
    }, rows)


#: The columns written: every one, and one the table does not have (empty cells).
COLUMNS = [*awkward_table().columns, "missing"]
