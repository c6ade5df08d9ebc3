"""The CSV writer as it was before it dropped pandas and pyarrow.compute: the reference the
numpy writer (`mastery_cli.grading.outputs.csv_bytes`) must match byte for byte.

A verbatim copy of ``csv_bytes`` (DataFrame in, bytes out, built column by column in
pyarrow.compute) and ``unused_rows`` (the pandas concatenation and sort) with the helpers they
used, kept self-contained except for the shared formatting rules (``round_half_up``,
``level_key``, ``neutralize_formula``), so that later changes to the writer cannot change the
reference.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mastery_cli.framework.model import level_key
from mastery_cli.grading.rounding import round_half_up
from mastery_cli.output import _FORMULA_START as FORMULA_START
from mastery_cli.output import neutralize_formula

REJECT_COLUMNS = ["file", "row", "column", "value", "reason", "message"]

_NUMERIC = {"score", "credits"}
_LEVELS = {"level"}
_BOOLEANS = {"mastered", "ready_to_advance"}
_DATES = {"last_evidence_date"}
_INTEGERS = {"evidence_count", "targets_assessed", "targets_mastered", "targets_total", "row",
             "mastered_count", "units_assessed", "units_total"}


def decimals(values: npt.ArrayLike, places: int) -> npt.NDArray[np.object_]:
    """Plain decimal text for a column: half away from zero, fixed places, "" for NaN."""
    array = np.asarray(values, dtype=np.float64)
    return np.asarray(_decimal_cells(array, places).to_pylist(), dtype=object)


def _decimal_cells(array: npt.NDArray[np.float64], places: int) -> pa.Array:
    rounded = round_half_up(array, places) + 0.0  # + 0.0: no "-0.00"
    scale = 10**places
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(rounded) * scale
        exact = scaled < _EXACT_DIGITS
    digits = np.rint(np.where(exact, scaled, 0.0)).astype(np.int64)
    whole = pc.cast(pa.array(digits // scale), pa.large_string())
    text = whole
    if places:
        fraction = pc.utf8_lpad(pc.cast(pa.array(digits % scale), pa.large_string()), places, "0")
        text = _join(whole, fraction, separator=".")
    negative = pa.array((rounded < 0) & exact)
    text = pc.if_else(negative, _join(_text("-"), text), text)
    odd = np.flatnonzero(~exact & ~np.isnan(array))
    if len(odd):  # huge or infinite: a handful at most
        cells = np.asarray(text.to_pylist(), dtype=object)
        cells[odd] = [f"{v:.{places}f}" for v in rounded[odd].tolist()]
        text = pa.array(cells, type=pa.large_string())
    return pc.if_else(pa.array(np.isnan(array)), "", text)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _join(*parts: pa.Array | pa.Scalar, separator: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, _text(separator))


_EXACT_DIGITS = 2.0**52 / 10.0


def _quoted(text: str) -> str:
    if text and not any(c in text for c in ',"\r\n'):
        return text
    if not text:
        return text
    _QUOTE_BUFFER.seek(0)
    _QUOTE_BUFFER.truncate()
    _QUOTE_WRITER.writerow([text])
    return _QUOTE_BUFFER.getvalue()[:-1]


_QUOTE_BUFFER = io.StringIO()
_QUOTE_WRITER = csv.writer(_QUOTE_BUFFER, lineterminator="\n")


def _distinct_cells(values: pd.Series, render: Callable[[Any], str]) -> pa.Array:
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        distinct: list[Any] = values.cat.categories.tolist()
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        distinct = uniques.tolist()
    texts = pa.array([_quoted(render(v)) for v in distinct] + [""], type=pa.large_string())
    indices = np.where(codes < 0, len(distinct), codes)
    return texts.take(pa.array(indices))


def _text_cells(values: pd.Series) -> pa.Array:
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        distinct = pa.array(values.cat.categories.astype(object).tolist(), pa.large_string())
    else:
        encoded = pc.dictionary_encode(_arrow_text(values))
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
        codes = np.where(pc.is_null(encoded.indices).to_numpy(zero_copy_only=False), -1, codes)
        distinct = encoded.dictionary.cast(pa.large_string())
    special = pc.or_(
        pc.is_in(pc.utf8_slice_codeunits(distinct, 0, 1), value_set=_FORMULA_FIRST),
        pc.match_substring_regex(distinct, '[,"\r\n]'),
    )
    texts = distinct
    odd = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    if len(odd):
        fixed = np.asarray(distinct.to_pylist(), dtype=object)
        fixed[odd] = [_quoted(neutralize_formula(str(v))) for v in fixed[odd].tolist()]
        texts = pa.array(fixed.tolist(), pa.large_string())
    texts = pa.concat_arrays([texts, pa.array([""], pa.large_string())])
    indices = np.where(codes < 0, len(distinct), codes)
    return texts.take(pa.array(indices))


def _arrow_text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    if pd.api.types.is_string_dtype(values) and values.dtype != object:
        return pa.array(values)
    return pa.array(
        [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
         for v in values.tolist()],
        pa.large_string(),
    )


_FORMULA_FIRST = pa.array(list(FORMULA_START), pa.large_string())


def _level_text(value: Any) -> str:
    return level_key(float(value))


def _bool_text(value: Any) -> str:
    return "true" if value else "false"


def _date_text(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _column_cells(column: pd.Series, name: str, places: int) -> pa.Array:
    if name in _NUMERIC:
        return _decimal_cells(column.to_numpy(dtype=np.float64, na_value=np.nan), places)
    if name in _LEVELS:
        return _distinct_cells(column, _level_text)
    if name in _BOOLEANS and pd.api.types.is_bool_dtype(column):
        return _distinct_cells(column, _bool_text)
    if name in _DATES:
        dates = column.to_numpy(dtype="datetime64[ns]")
        return _distinct_cells(pd.Series(dates), _date_text)
    if name in _INTEGERS:
        return pc.cast(pa.array(column.to_numpy(dtype=np.int64)), pa.large_string())
    return _text_cells(column)


def csv_bytes(table: pd.DataFrame, columns: list[str], places: int) -> bytes:
    header = ",".join(_quoted(name) for name in columns) + "\n"
    if len(columns) == 1 and columns[0] == "":
        header = '""\n'
    if not len(table):
        return header.encode("utf-8")
    cells = [
        _column_cells(table[name], name, places)
        if name in table
        else pa.repeat(pa.scalar("", pa.large_string()), len(table))
        for name in columns
    ]
    if len(cells) == 1:
        cells[0] = pc.if_else(pc.equal(cells[0], ""), '""', cells[0])
    lines = _join(_join(*cells, separator=","), _text(""), separator="\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = lines.buffers()[2]
    body = data[int(offsets[0]) : int(offsets[-1])].to_pybytes() if data is not None else b""
    return header.encode("utf-8") + body


def unused_rows(rejects: pd.DataFrame, set_aside: pd.DataFrame) -> pd.DataFrame:
    """``unused_rows(result)`` of before, given ``result.rejects`` and ``result.set_aside``."""
    table = pd.concat([rejects.loc[:, REJECT_COLUMNS], set_aside], ignore_index=True)
    table = table.astype({"file": "str", "row": "int64", "column": "str", "reason": "str"})
    table["value"] = table["value"].fillna("").astype("str")
    table["message"] = table["message"].fillna("").astype("str")
    return table.sort_values(["file", "row", "column", "reason", "value"],
                             kind="stable").reset_index(drop=True)
