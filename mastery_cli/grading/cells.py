"""Result columns as the texts of their CSV cells, before quoting.

Each kind of column has its text: scores as plain decimals rounded half away from zero to
the policy's places (`rounding.format_decimal`), levels by `level_key` ("3", "2.5"),
booleans as ``true``/``false``, dates as YYYY-MM-DD, counts as integers, and everything else
as text that a spreadsheet will not run as a formula (`output.neutralize_formula`). A missing
value is an empty cell.

A column holds few distinct values (a few hundred scores at two places, some thousand
student ids in a million rows), so each distinct value is formatted once and each row holds
a code into the distinct texts (`Cells`). Quoting is left to the csv module (`outputs`).
numpy only: no pandas (slower to import than writing a million-row result) and no
pyarrow.compute (its first call costs as much).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from mastery_cli.framework.model import level_key
from mastery_cli.grading.rounding import format_decimal, half_up_units
from mastery_cli.grading.table import Coded, Column, Flags
from mastery_cli.output import neutralize_formula

__all__ = ["KEPT_TEXTS", "Cells", "column_cells", "decimal_cells", "distinct_texts", "objects"]

#: Which columns hold what, by name (as in the result files and rejects.csv).
NUMERIC = frozenset({"score", "credits"})
LEVELS = frozenset({"level"})
BOOLEANS = frozenset({"mastered", "ready_to_advance"})
DATES = frozenset({"last_evidence_date"})
INTEGERS = frozenset({"evidence_count", "targets_assessed", "targets_mastered", "targets_total",
                      "row", "mastered_count", "units_assessed", "units_total"})

Codes = npt.NDArray[np.intp]


class Cells(NamedTuple):
    """A column as the texts of its cells: row ``i`` reads ``texts[codes[i]]``, and a code of
    -1 (a missing value) reads ""."""

    texts: Sequence[str]
    codes: Codes

    def values(self) -> npt.NDArray[np.object_]:
        """The text of each row."""
        return objects([*self.texts, ""])[self.codes]


def column_cells(column: Column, name: str, places: int) -> Cells:
    """The cells of one column, by the kind of column its name says (text if none)."""
    if name in NUMERIC:
        return decimal_cells(_floats(column), places)
    if name in LEVELS:
        return _level_cells(column)
    if name in BOOLEANS and (isinstance(column, Flags) or (
            isinstance(column, np.ndarray) and column.dtype == np.bool_)):
        return _flag_cells(column, "true", "false")
    if name in DATES:
        return _date_cells(column)
    if name in INTEGERS:
        return _by_distinct(np.asarray(column, dtype=np.int64),
                            lambda keys: [str(k) for k in keys.tolist()])
    return _text_cells(column)


def objects(items: Sequence[Any]) -> npt.NDArray[np.object_]:
    """A 1-d object array of ``items`` (np.array would nest sequences)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _by_distinct(keys: npt.NDArray[np.int64],
                 render: Callable[[npt.NDArray[np.int64]], list[str]]) -> Cells:
    """``render`` of each row's key, each distinct key rendered once. Keys within a small
    range (scores in units, days, counts) are found through a table indexed by key, without
    a sort."""
    if not len(keys):
        return Cells([], np.zeros(0, dtype=np.intp))
    low, high = int(keys.min()), int(keys.max())
    if high - low >= max(4 * len(keys), 1 << 16):
        distinct, codes = np.unique(keys, return_inverse=True)
        return Cells(render(distinct), codes.reshape(-1).astype(np.intp, copy=False))
    offsets = keys - low
    used = np.zeros(high - low + 1, dtype=bool)
    used[offsets] = True
    present = np.flatnonzero(used)
    code_of = np.zeros(len(used), dtype=np.intp)
    code_of[present] = np.arange(len(present))
    return Cells(render(present + low), code_of[offsets])


def _floats(column: Column) -> npt.NDArray[np.float64]:
    if isinstance(column, Flags):
        return np.where(column.known, np.asarray(column.values, dtype=np.float64), np.nan)
    if isinstance(column, Coded):
        texts = np.array([float(t) if t else np.nan for t in column.texts] + [np.nan])
        return texts[np.asarray(column.codes, dtype=np.intp)]
    return np.asarray(column, dtype=np.float64)


def decimal_cells(values: npt.NDArray[np.float64], places: int) -> Cells:
    """Plain decimals with ``places`` places, rounded half away from zero; "" for NaN; never
    "-0.00": `rounding.format_decimal` of each value.

    The column is rounded at once (`rounding.half_up_units`: a count of units of
    ``10**-places``), and each distinct count is written once. The rare values too large for
    that (and infinities) go through `format_decimal` one by one.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    units, exact = half_up_units(values, places)
    keys = units.astype(np.int64)
    keys = np.where(values < 0, -keys, keys)  # a negative rounded to 0 is 0: no "-0.00"
    scale = 10**places

    def render(distinct: npt.NDArray[np.int64]) -> list[str]:
        texts = []
        for key in distinct.tolist():
            whole, fraction = divmod(abs(key), scale)
            sign = "-" if key < 0 else ""
            texts.append(f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}")
        return texts

    cells = _by_distinct(keys, render)
    if exact.all():
        return cells
    codes = cells.codes
    codes[np.isnan(values)] = -1
    odd = np.flatnonzero(~exact & ~np.isnan(values))
    codes[odd] = len(cells.texts) + np.arange(len(odd))  # a handful at most
    return Cells([*cells.texts, *(format_decimal(v, places) for v in values[odd].tolist())],
                 codes)


def _level_cells(column: Column) -> Cells:
    """Levels by `level_key` ("3", "2.5"); "" where there is none."""
    if isinstance(column, Coded):
        return Cells([level_key(float(t)) for t in column.texts],
                     np.asarray(column.codes, dtype=np.intp))
    values = _floats(column)
    missing = np.isnan(values)
    present = np.where(missing, 0.0, values)
    with np.errstate(invalid="ignore"):
        whole = present.astype(np.int64)
    if np.array_equal(whole, present):  # whole levels (the usual): no sort
        cells = _by_distinct(whole, lambda keys: [level_key(k) for k in keys.tolist()])
        return cells._replace(codes=np.where(missing, -1, cells.codes))
    distinct, codes = np.unique(present, return_inverse=True)
    return Cells([level_key(v) for v in distinct.tolist()],
                 np.where(missing, -1, codes.reshape(-1)))


def _flag_cells(column: Flags | npt.NDArray[np.bool_], true: str, false: str) -> Cells:
    """Booleans; "" where a `Flags` column is unknown."""
    if isinstance(column, Flags):
        values = np.asarray(column.values, dtype=np.intp)
        return Cells([false, true], np.where(np.asarray(column.known, dtype=bool), values, -1))
    return Cells([false, true], np.asarray(column, dtype=np.intp))


def _date_cells(column: Column) -> Cells:
    """Dates as YYYY-MM-DD (the day of a timestamp), "" for NaT."""
    days = np.asarray(column, dtype="datetime64[ns]").astype("datetime64[D]")
    missing = np.isnat(days)
    cells = _by_distinct(np.where(missing, 0, days.view(np.int64)),
                         lambda keys: np.datetime_as_string(keys.astype("datetime64[D]")).tolist())
    return cells._replace(codes=np.where(missing, -1, cells.codes))


def _text_cells(column: Column) -> Cells:
    """Text, formula-safe; each distinct text made safe once."""
    if isinstance(column, Coded):
        codes = np.asarray(column.codes, dtype=np.intp)
        texts = column.texts
        if len(texts) > 2 * len(codes) + 64:  # a list shared with a bigger table: the used ones
            used, codes = np.unique(codes, return_inverse=True)
            texts = [texts[i] if i >= 0 else "" for i in used.tolist()]
            codes = codes.reshape(-1)
        return Cells(_formula_safe(tuple(texts)), codes)
    if isinstance(column, Flags):  # not a known boolean column: written as Python would
        return _flag_cells(column, "True", "False")
    if column.dtype.kind in "mM":
        import pandas as pd  # the text of pandas' Timestamps, as the writer always wrote

        column = objects(pd.Series(column).tolist())
    codes, texts = distinct_texts(column.tolist())
    return Cells(_formula_safe(tuple(texts)), codes)


#: Lists of texts of these lengths are kept for the next result file: the student ids and names
#: of every file. Shorter ones cost little to make again; longer ones (a large run's batches)
#: are not met again.
KEPT_TEXTS = range(1 << 10, (1 << 15) + 1)


def _formula_safe(texts: tuple[str, ...]) -> tuple[str, ...]:
    if len(texts) in KEPT_TEXTS:
        return _kept_formula_safe(texts)
    return _made_formula_safe(texts)


def _made_formula_safe(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(neutralize_formula(text) for text in texts)


_kept_formula_safe = functools.lru_cache(maxsize=8)(_made_formula_safe)


def distinct_texts(items: list[Any]) -> tuple[Codes, list[str]]:
    """(code per item, distinct texts in order of first appearance): an item reads as its
    ``str``, or "" when missing (None, NaN, pandas.NA)."""
    first = list(dict.fromkeys(items))
    if not all(type(v) is str for v in first):
        items = [_as_text(v) for v in items]
        first = list(dict.fromkeys(items))
    position = {text: i for i, text in enumerate(first)}
    codes = np.fromiter(map(position.__getitem__, items), dtype=np.intp, count=len(items))
    return codes, first


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if type(value).__name__ == "NAType":  # pandas.NA, without importing pandas
        return ""
    return str(value)
