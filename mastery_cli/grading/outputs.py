"""Writing grade results: CSV files and ``grades.json`` (built in `json_output`), deterministic
to the byte.

Rows are sorted by student id, then ids; numbers are plain decimals rounded half away from
zero to the policy's places (:func:`rounding.format_decimal` semantics); dates are ISO
(YYYY-MM-DD); text cells that a spreadsheet would run as a formula are neutralised; every file
is written atomically.

The CSV writer is on the path of every ``mastery grade``, so it uses numpy alone: no pandas
(slower to import than writing a million-row result) and no pyarrow.compute (its first call
costs as much). A column holds few distinct cells (a few hundred scores at two places, some
thousand student ids), so each distinct value is rendered once, to UTF-8 bytes in a row of a
matrix padded with 0xFF (a byte UTF-8 never uses). A block of rows is then made by gathering
each column's cells side by side into one byte matrix and dropping the padding in one pass;
blocks are written as they come.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from mastery_cli.framework.model import level_key
from mastery_cli.grading.rounding import half_up_units, round_half_up
from mastery_cli.grading.table import Coded, Column, Flags, Table, text_codes
from mastery_cli.output import _FORMULA_START as FORMULA_START
from mastery_cli.output import (
    OutputFolder,
    PendingFile,
    neutralize_formula,
    write_chunks_atomic,
)

if TYPE_CHECKING:
    import pandas as pd

    from mastery_cli.grading.json_output import (
        GRADES_VERSION,
        JSON_FILE,
        grades_document,
        grades_json,
        grades_json_bytes,
        grades_json_chunks,
    )
    from mastery_cli.grading.pipeline import FirstResults, GradeResult, UnusedRows

__all__ = [
    "CSV_FILES",
    "GRADES_VERSION",
    "JSON_FILE",
    "OutputWriter",
    "csv_bytes",
    "csv_text",
    "decimals",
    "grades_document",
    "grades_json",
    "grades_json_bytes",
    "grades_json_chunks",
    "result_file_names",
    "unused_rows",
    "unused_rows_of",
    "write_outputs",
]

CSV_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv", "progress.csv",
             "rejects.csv")

#: Names re-exported from `json_output`, which imports pandas: loaded on first use only.
_JSON_NAMES = frozenset({"GRADES_VERSION", "JSON_FILE", "grades_document", "grades_json",
                         "grades_json_bytes", "grades_json_chunks"})


def __getattr__(name: str) -> Any:
    if name in _JSON_NAMES:
        from mastery_cli.grading import json_output

        return getattr(json_output, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_NUMERIC = {"score", "credits"}
_LEVELS = {"level"}
_BOOLEANS = {"mastered", "ready_to_advance"}
_DATES = {"last_evidence_date"}
_INTEGERS = {"evidence_count", "targets_assessed", "targets_mastered", "targets_total", "row",
             "mastered_count", "units_assessed", "units_total"}

#: Fills a cell's row after its last byte; never part of UTF-8 text.
_PAD = 0xFF

_POWERS = 10 ** np.arange(20, dtype=np.uint64)

Ints = npt.NDArray[np.intp]
Bytes = npt.NDArray[np.uint8]


# --------------------------------------------------------------------------------------------
# Cells: distinct values as padded byte rows
# --------------------------------------------------------------------------------------------


class _Cells(NamedTuple):
    """A column as CSV cells: row ``i`` reads ``padded[codes[i], :lengths[codes[i]]]``, or for
    a code in ``long``, that cell's bytes (then the rest of its padded row: a separator)."""

    codes: Ints  # one per table row; -1 (missing) reads the last cell, an empty one
    padded: Bytes  # (distinct cells, width): UTF-8 bytes, then _PAD
    lengths: Ints  # bytes of each distinct cell
    long: dict[int, bytes] | None = None  # cells longer than _LONG_CELL, empty in ``padded``


def _repad(data: Bytes, lengths: Ints) -> Bytes:
    """Cells given end to end in ``data`` as rows of a padded matrix."""
    width = int(lengths.max()) if len(lengths) else 0
    padded = np.full((len(lengths), width), _PAD, dtype=np.uint8)
    padded[np.arange(width) < lengths[:, None]] = data
    return padded


def _padded(cells: Sequence[bytes]) -> tuple[Bytes, Ints]:
    lengths = np.fromiter(map(len, cells), dtype=np.intp, count=len(cells))
    return _repad(np.frombuffer(b"".join(cells), dtype=np.uint8), lengths), lengths


def _concat(parts: Sequence[tuple[Bytes, Ints]]) -> tuple[Bytes, Ints]:
    """Cell by cell concatenation of padded cells (of equal counts)."""
    joined = np.concatenate([padded for padded, _ in parts], axis=1)
    lengths = np.asarray(np.sum([length for _, length in parts], axis=0), dtype=np.intp)
    return _repad(joined[joined != _PAD], lengths), lengths


def _stack(parts: Sequence[tuple[Bytes, Ints]]) -> tuple[Bytes, Ints]:
    """The cells of ``parts`` one list after the other."""
    width = max(padded.shape[1] for padded, _ in parts)
    padded = np.full((sum(len(p) for p, _ in parts), width), _PAD, dtype=np.uint8)
    start = 0
    for part, _ in parts:
        padded[start : start + len(part), : part.shape[1]] = part
        start += len(part)
    return padded, np.concatenate([lengths for _, lengths in parts]).astype(np.intp)


def _cells(codes: npt.NDArray[Any], cells: Sequence[bytes]) -> _Cells:
    padded, lengths = _padded(cells)
    return _Cells(np.asarray(codes, dtype=np.intp), padded, lengths)


# --------------------------------------------------------------------------------------------
# Distinct values
# --------------------------------------------------------------------------------------------


def _factor(keys: npt.NDArray[np.int64]) -> tuple[Ints, npt.NDArray[np.int64]]:
    """(code per key, distinct keys): ``distinct[codes] == keys``. Keys within a small range
    are marked in a table (no sort); others go through ``np.unique``."""
    if not len(keys):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    low, high = int(keys.min()), int(keys.max())
    span = high - low + 1
    if span > max(4 * len(keys), 1 << 16):
        distinct, codes = np.unique(keys, return_inverse=True)
        return codes.reshape(-1).astype(np.intp, copy=False), distinct
    shifted = keys - low
    used = np.zeros(span, dtype=bool)
    used[shifted] = True
    present = np.flatnonzero(used)
    lookup = np.empty(span, dtype=np.intp)
    lookup[present] = np.arange(len(present))
    return lookup[shifted], present + low


def _float_factor(values: npt.NDArray[np.float64]) -> tuple[Ints, npt.NDArray[np.float64]]:
    """(code per value, distinct values) of floats; NaN gets code -1. Integral values (levels,
    counts) take the integer route."""
    missing = np.isnan(values)
    present = np.where(missing, 0.0, values)
    with np.errstate(invalid="ignore"):
        whole = present.astype(np.int64)
    if np.array_equal(whole, present):
        codes, keys = _factor(whole)
        distinct = keys.astype(np.float64)
    else:
        distinct, inverse = np.unique(present, return_inverse=True)
        codes = inverse.reshape(-1).astype(np.intp)
    codes[missing] = -1
    return codes, distinct


def _object_factor(values: npt.NDArray[Any]) -> tuple[Ints, list[str]]:
    """(code per value, distinct texts) of a column of Python objects: NA ("", None, NaN) reads
    as "", anything else as its ``str``, like the old writer's pyarrow conversion."""
    items = values.tolist()
    first = list(dict.fromkeys(items))
    if not all(type(v) is str for v in first):  # else items that are not str: text of each
        items = [_as_text(v) for v in items]
        first = list(dict.fromkeys(items))
    position = {text: i for i, text in enumerate(first)}
    codes = np.fromiter(map(position.__getitem__, items), dtype=np.intp, count=len(items))
    return codes, first


def _objects(items: list[Any]) -> npt.NDArray[np.object_]:
    """A 1-d object array of ``items`` (np.array would nest sequences)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if type(value).__name__ == "NAType":  # pandas.NA, without importing pandas
        return ""
    return str(value)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _digit_texts(magnitude: npt.NDArray[np.uint64]) -> tuple[Bytes, Ints]:
    """Non-negative integers in decimal, all at once."""
    count = (np.searchsorted(_POWERS[1:], magnitude, side="right") + 1).astype(np.intp)
    width = int(count.max()) if len(count) else 0
    exponent = count[:, None] - 1 - np.arange(width)[None, :]
    valid = exponent >= 0
    digit = (magnitude[:, None] // _POWERS[np.where(valid, exponent, 0)]) % np.uint64(10)
    return np.where(valid, digit + np.uint64(48), _PAD).astype(np.uint8), count


def _sign_texts(negative: npt.NDArray[np.bool_]) -> tuple[Bytes, Ints]:
    return (np.where(negative, ord("-"), _PAD).astype(np.uint8)[:, None],
            negative.astype(np.intp))


def _int_texts(values: npt.NDArray[np.int64]) -> tuple[Bytes, Ints]:
    """Integers as ``str(int)`` writes them."""
    negative = values < 0
    unsigned = values.astype(np.uint64)
    if not negative.any():
        return _digit_texts(unsigned)
    magnitude = np.where(negative, np.uint64(0) - unsigned, unsigned)  # exact for int64 min
    return _concat([_sign_texts(negative), _digit_texts(magnitude)])


def _decimal_texts(keys: npt.NDArray[np.int64], places: int) -> tuple[Bytes, Ints]:
    """``keys / 10**places`` as plain decimals with ``places`` places ("-" for keys < 0)."""
    magnitude = np.abs(keys).astype(np.uint64)
    scale = np.uint64(10**places)
    parts = [_sign_texts(keys < 0), _digit_texts(magnitude // scale)]
    if places:
        fraction = magnitude % scale
        exponent = places - 1 - np.arange(places)
        digits = (fraction[:, None] // _POWERS[exponent][None, :]) % np.uint64(10)
        point = np.full((len(keys), 1), ord("."), dtype=np.uint8)
        parts.append((np.concatenate([point, (digits + np.uint64(48)).astype(np.uint8)], axis=1),
                      np.full(len(keys), places + 1, dtype=np.intp)))
    return _concat(parts)


def _decimal_cells(array: npt.NDArray[np.float64], places: int) -> _Cells:
    """Plain decimals, rounded half away from zero, "" for NaN; each distinct value rendered
    once.

    The digits are `rounding.half_up_units` (the rounding of `round_half_up`, stopped at the
    integer rather than divided back into a float only to be multiplied out again). The rare
    larger, infinite or NaN values go through `round_half_up` itself and are formatted one by
    one, the way `rounding.format_decimal` does.
    """
    units, fast = half_up_units(array, places)
    digits = units.astype(np.int64)
    codes, keys = _factor(np.where(array < 0, -digits, digits))  # -0 is 0: no "-0.00"
    parts = [_decimal_texts(keys, places)]
    if not fast.all():
        missing = np.isnan(array)
        odd = np.flatnonzero(~fast & ~missing)
        rounded = round_half_up(array[odd], places) + 0.0  # + 0.0: no "-0.00"
        distinct, inverse = np.unique(rounded, return_inverse=True)
        codes[odd] = len(keys) + inverse.reshape(-1)
        codes[missing] = -1
        parts.append(_padded([f"{v:.{places}f}".encode() for v in distinct.tolist()] + [b""]))
    padded, lengths = _stack(parts) if len(parts) > 1 else parts[0]
    return _Cells(codes, padded, lengths)


def _int_cells(values: npt.NDArray[np.int64]) -> _Cells:
    if len(values) and int(values.max()) - int(values.min()) > max(4 * len(values), 1 << 16):
        # Spread out (input row numbers): mostly distinct, so render each row's own.
        padded, lengths = _int_texts(values)
        return _Cells(np.arange(len(values), dtype=np.intp), padded, lengths)
    codes, distinct = _factor(values)
    padded, lengths = _int_texts(distinct)
    return _Cells(codes, padded, lengths)


def _level_cells(column: Column) -> _Cells:
    """Levels by `level_key` ("3", "2.5"); "" where there is none."""
    if isinstance(column, Coded):
        return _cells(column.codes, [level_key(float(t)).encode() for t in column.texts] + [b""])
    codes, distinct = _float_factor(_floats(column))
    return _cells(codes, [level_key(v).encode() for v in distinct.tolist()] + [b""])


def _bool_cells(column: Flags | npt.NDArray[np.bool_], true: bytes, false: bytes) -> _Cells:
    if isinstance(column, Flags):
        values = np.asarray(column.values, dtype=bool)
        codes = np.where(np.asarray(column.known, dtype=bool), values, -1)
        return _cells(codes, [false, true, b""])
    return _cells(np.asarray(column, dtype=bool), [false, true])


def _date_cells(column: Column) -> _Cells:
    """Dates as YYYY-MM-DD (the day of a timestamp), "" for NaT."""
    days = np.asarray(column, dtype="datetime64[ns]").astype("datetime64[D]").view(np.int64)
    missing = days == np.iinfo(np.int64).min  # NaT
    codes, distinct = _factor(np.where(missing, 0, days))
    texts = np.datetime_as_string(distinct.astype("datetime64[D]")).tolist()
    codes[missing] = -1
    return _cells(codes, [t.encode() for t in texts] + [b""])


def _text_cells(column: Column) -> _Cells:
    """Text cells, formula-safe and quoted where needed, each distinct text done once."""
    if isinstance(column, Coded):
        texts = list(column.texts)
        codes = np.asarray(column.codes, dtype=np.intp)
        if len(texts) > 2 * len(codes) + 64:  # a list shared with a bigger table
            codes, used = _factor(np.asarray(codes, dtype=np.int64))
            texts = [texts[i] if i >= 0 else "" for i in used.tolist()]
        remap, padded, lengths, long = _text_list_cells(tuple(texts))
        if remap is not None:
            codes = remap[codes]  # -1 stays last
        return _Cells(codes, padded, lengths, long)  # missing (-1) reads the last cell: ""
    if isinstance(column, Flags):  # not a known boolean column: written as Python would
        return _bool_cells(column, b"True", b"False")
    if column.dtype.kind in "mM":
        import pandas as pd  # as the old writer did: str() of pandas' Timestamps

        column = _objects(pd.Series(column).tolist())
    elif column.dtype != object:
        column = _objects(column.tolist())
    codes, texts = _object_factor(column)
    return _Cells(codes, *_safe_cells(texts))


@functools.lru_cache(maxsize=32)
def _text_list_cells(
    texts: tuple[str, ...],
) -> tuple[Ints | None, Bytes, Ints, dict[int, bytes] | None]:
    """(where each text's cell is among the distinct ones, or None when the texts are
    distinct; the padded cells, ""'s last; their lengths; the long cells) of a list of texts.

    Kept for the next file: every result file has the student ids and names, as lists of
    the same texts (10,000 students: ~1.5 ms a list). The arrays are shared, so read-only.
    """
    distinct = list(dict.fromkeys(texts))
    remap: Ints | None = None
    if len(distinct) < len(texts):  # a text per student, say, and few names: do each once
        position = {text: i for i, text in enumerate(distinct)}
        remap = np.append(np.fromiter(map(position.__getitem__, texts), dtype=np.intp,
                                      count=len(texts)), len(distinct))
        remap.flags.writeable = False
    padded, lengths, long = _safe_cells([*distinct, ""])
    padded.flags.writeable = False
    lengths.flags.writeable = False
    return remap, padded, lengths, long


#: Text cells longer than this many characters are kept out of the padded matrices, which are
#: as wide as their longest cell: one 200,000-character cell made every distinct cell of its
#: column 200 KB (550 MB for a gradebook) and every block of rows one row long. They are
#: written into their rows one by one (`_long_row`).
_LONG_CELL = 256


def _safe_cells(texts: Sequence[str]) -> tuple[Bytes, Ints, dict[int, bytes] | None]:
    """`_safe_texts`, with the texts longer than _LONG_CELL as an empty cell in the matrix and
    their CSV cells (formula-safe, quoted as the csv module does) by position."""
    if max(map(len, texts), default=0) <= _LONG_CELL:
        return (*_safe_texts(texts), None)
    long = {i: _quoted(neutralize_formula(text)).encode("utf-8")
            for i, text in enumerate(texts) if len(text) > _LONG_CELL}
    short = ["" if i in long else text for i, text in enumerate(texts)]
    return (*_safe_texts(short), long)


#: Bytes that make the csv module consider quoting a cell (it decides: see `_safe_texts`).
_QUOTE_BYTES = np.zeros(256, dtype=bool)
_QUOTE_BYTES[[ord(c) for c in ',"\r\n']] = True
#: Bytes for which we expect it to quote (Python 3.11 leaves a lone carriage return alone).
_GUESS_BYTES = np.zeros(256, dtype=bool)
_GUESS_BYTES[[ord(c) for c in ',"\n']] = True
#: First characters that make a spreadsheet run a cell (all ASCII: one byte each).
_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[[ord(c) for c in FORMULA_START]] = True
_QUOTE = ord('"')


def _utf8(texts: Sequence[str]) -> tuple[Bytes, Ints]:
    """The texts end to end in UTF-8, and the bytes of each (encoded at once: a text's bytes
    end where its last character's bytes end)."""
    joined = "".join(texts)
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.intp, count=len(texts)))
    if len(data) != len(joined):  # not all ASCII: find where each character starts
        firsts = np.flatnonzero((data & 0xC0) != 0x80)  # not a continuation byte
        ends = np.append(firsts, len(data))[ends]
    return data, np.diff(ends, prepend=0)


def _safe_texts(texts: Sequence[str]) -> tuple[Bytes, Ints]:
    """The texts as CSV cells, formula-safe and quoted where needed (see `_quoted`), worked on
    with numpy over all texts at once.

    The csv module writes a cell either as it is or in double quotes with its quotes doubled.
    We quote the texts holding a comma, a quote or a line feed, then check against the module
    writing all the texts that hold any of its special characters as one row. If a guess
    were wrong, the first wrong one would show: a quoted cell starts with '"', and a text
    starting with '"' is quoted by both. So equal rows mean every guess is right; otherwise
    those texts are asked one by one.
    """
    texts = list(texts)
    data, lengths = _utf8(texts)
    starts = np.cumsum(lengths) - lengths
    filled = np.flatnonzero(lengths)
    formulas = filled[_FORMULA_BYTES[data[starts[filled]]]].tolist()
    if formulas:  # a handful at most
        for i in formulas:
            texts[i] = neutralize_formula(texts[i])
        data, lengths = _utf8(texts)
    owner = np.repeat(np.arange(len(texts)), lengths)  # the text of each byte
    special = np.zeros(len(texts), dtype=bool)
    special[owner[_QUOTE_BYTES[data]]] = True
    if not special.any():
        return _repad(data, lengths), lengths
    quoted = np.zeros(len(texts), dtype=bool)
    quoted[owner[_GUESS_BYTES[data]]] = True
    quotes = data == _QUOTE  # only in quoted texts, where they are doubled
    body = np.repeat(data, 1 + quotes)
    body_lengths = lengths + np.bincount(owner[quotes], minlength=len(texts))
    mark = (np.where(quoted, _QUOTE, _PAD).astype(np.uint8)[:, None], quoted.astype(np.intp))
    padded, lengths = _concat([mark, (_repad(body, body_lengths), body_lengths), mark])
    checked = np.flatnonzero(special)
    _QUOTE_BUFFER.seek(0)
    _QUOTE_BUFFER.truncate()
    _QUOTE_WRITER.writerow([texts[i] for i in checked.tolist()])
    comma = (np.full((len(checked), 1), ord(","), dtype=np.uint8),
             np.ones(len(checked), dtype=np.intp))
    row, _ = _concat([(padded[checked], lengths[checked]), comma])
    row = row[row != _PAD]
    row[-1] = ord("\n")
    if _QUOTE_BUFFER.getvalue().encode("utf-8") != row.tobytes():
        cells = [_quoted(t).encode("utf-8") if check else t.encode("utf-8")
                 for t, check in zip(texts, special.tolist(), strict=True)]
        return _padded(cells)
    return padded, lengths


def _quoted(text: str) -> str:
    """One CSV cell of a row of several, exactly as Python's csv module writes it (quotes only
    when needed; which characters need them is the csv module's call, so ask it)."""
    if text and not any(c in text for c in ',"\r\n'):
        return text  # nothing the csv module would quote
    if not text:
        return text
    _QUOTE_BUFFER.seek(0)
    _QUOTE_BUFFER.truncate()
    _QUOTE_WRITER.writerow([text])
    return _QUOTE_BUFFER.getvalue()[:-1]


_QUOTE_BUFFER = io.StringIO()
_QUOTE_WRITER = csv.writer(_QUOTE_BUFFER, lineterminator="\n")


def _floats(column: Column) -> npt.NDArray[np.float64]:
    if isinstance(column, Flags):
        return np.where(column.known, np.asarray(column.values, dtype=np.float64), np.nan)
    if isinstance(column, Coded):
        texts = np.array([float(t) if t else np.nan for t in column.texts] + [np.nan])
        return texts[np.where(column.codes < 0, len(column.texts), column.codes)]
    return np.asarray(column, dtype=np.float64)


def _column_cells(column: Column, name: str, places: int) -> _Cells:
    """One column as CSV cells (quoted where needed)."""
    if name in _NUMERIC:
        return _decimal_cells(_floats(column), places)
    if name in _LEVELS:
        return _level_cells(column)
    if name in _BOOLEANS and (isinstance(column, Flags) or (
            isinstance(column, np.ndarray) and column.dtype == np.bool_)):
        return _bool_cells(column, b"true", b"false")
    if name in _DATES:
        return _date_cells(column)
    if name in _INTEGERS:
        return _int_cells(np.asarray(column, dtype=np.int64))
    return _text_cells(column)


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def _with_separator(cells: _Cells, separator: int) -> _Cells:
    """Each cell followed by ``separator`` (',' or the line end)."""
    count, width = cells.padded.shape
    padded = np.full((count, width + 1), _PAD, dtype=np.uint8)
    padded[:, :width] = cells.padded
    padded[np.arange(count), cells.lengths] = separator
    return cells._replace(padded=padded, lengths=cells.lengths + 1)


def _lone_cells(cells: _Cells) -> _Cells:
    """The only cell of a row is never empty: the csv module writes "" (else the row would
    read as a blank line)."""
    empty = cells.lengths == 0
    if cells.long:
        empty[list(cells.long)] = False
    if not empty.any():
        return cells
    padded = np.full((len(empty), max(cells.padded.shape[1], 2)), _PAD, dtype=np.uint8)
    padded[:, : cells.padded.shape[1]] = cells.padded
    padded[empty, :2] = ord('"')
    return cells._replace(padded=padded, lengths=np.where(empty, 2, cells.lengths))


#: Bytes of row matrix made and compacted at a time: small enough to stay in cache.
_BLOCK_BYTES = 1 << 18


def _row_blocks(columns: Sequence[_Cells], rows: int) -> Iterator[Bytes]:
    """The rows as UTF-8, a block at a time: the cells of each row side by side in a byte
    matrix, then every padding byte dropped. (Blocks rather than one buffer: they stay in
    cache, and a file can be written as they come, without a buffer of the whole file.)"""
    pieces = _pieces(columns, rows)
    width = sum(cells.shape[1] for _, cells in pieces)
    step = max(_BLOCK_BYTES // max(width, 1), 1)
    start = 0
    for row in [*_rows_with_long_cells(columns, rows), rows]:
        for first in range(start, row, step):
            last = min(first + step, row)
            matrix = np.empty((last - first, width), dtype=np.uint8)
            at = 0
            for codes, cells in pieces:
                # take along axis 0 copies whole cells (a much faster path than fancy indexing).
                matrix[:, at : at + cells.shape[1]] = np.take(cells, codes[first:last], axis=0)
                at += cells.shape[1]
            flat = matrix.reshape(-1)
            yield flat[flat != _PAD]
        if row < rows:
            yield _long_row(columns, row)
        start = row + 1


def _rows_with_long_cells(columns: Sequence[_Cells], rows: int) -> list[int]:
    """The rows that have a cell in a column's ``long`` cells, in order."""
    marked = np.zeros(rows, dtype=bool)
    for column in columns:
        if column.long:
            marked |= np.isin(column.codes, list(column.long))
    return np.flatnonzero(marked).tolist()


def _long_row(columns: Sequence[_Cells], row: int) -> Bytes:
    """One row with a long cell, cell by cell (each cell's separator is in its padded row)."""
    parts = []
    for column in columns:
        code = int(column.codes[row])
        code = code if code >= 0 else len(column.padded) + code
        if column.long and code in column.long:
            parts.append(column.long[code])
        parts.append(column.padded[code, : column.lengths[code]].tobytes())
    return np.frombuffer(b"".join(parts), dtype=np.uint8)


def _pieces(columns: Sequence[_Cells], rows: int) -> list[tuple[Ints, Bytes]]:
    """(codes, padded cells) to gather the rows from: adjacent columns with few cells are
    taken as one, by all pairs of their cells (copying cells costs per row and cell; the
    codes of pairs cost a little arithmetic per row). Measured: 10% faster in all."""
    limit = max(rows // 8, 1 << 12)  # pairs of cells at most
    pieces: list[tuple[Ints, Bytes]] = []
    for column in columns:
        cells, codes = column.padded, column.codes
        if len(codes) and codes.min() < 0:
            codes = np.where(codes < 0, codes + len(cells), codes)  # -1: the last cell
        if pieces and len(pieces[-1][1]) * len(cells) <= limit:
            before, before_cells = pieces.pop()
            codes = before * len(cells) + codes
            cells = np.concatenate([np.repeat(before_cells, len(cells), axis=0),
                                    np.tile(cells, (len(before_cells), 1))], axis=1)
        pieces.append((codes, cells))
    return pieces


def _table(table: Table | pd.DataFrame) -> Table:
    if isinstance(table, Table):
        return table
    return Table.from_pandas(table)


def csv_bytes(table: Table | pd.DataFrame, columns: list[str], places: int) -> bytes:
    """The table as UTF-8 CSV with plain, safe cells, in ``columns`` order (missing columns
    empty): the same bytes Python's csv writer gives (``\\n`` line ends, quotes only where
    needed). A DataFrame is read as `Table.from_pandas` reads it."""
    return b"".join(_csv_chunks(_table(table), columns, places))


def _csv_chunks(table: Table, columns: list[str], places: int) -> Iterator[bytes | memoryview]:
    """`csv_bytes` in pieces: the header, then blocks of rows."""
    header = ",".join(_quoted(name) for name in columns) + "\n"
    if len(columns) == 1 and columns[0] == "":
        header = '""\n'  # the csv module quotes a lone empty field
    yield header.encode("utf-8")
    rows = len(table)
    if not rows or not columns:
        yield b"\n" * rows * (not columns)  # what the csv module writes for empty rows
        return
    cells = [
        _column_cells(table[name], name, places) if name in table
        else _Cells(np.zeros(rows, dtype=np.intp), np.zeros((1, 0), dtype=np.uint8),
                    np.zeros(1, dtype=np.intp))
        for name in columns
    ]
    if len(cells) == 1:
        cells[0] = _lone_cells(cells[0])
    separated = [_with_separator(c, ord(",")) for c in cells[:-1]]
    separated.append(_with_separator(cells[-1], ord("\n")))
    for block in _row_blocks(separated, rows):
        yield block.data


def csv_text(table: Table | pd.DataFrame, columns: list[str], places: int) -> str:
    """The table as CSV text with plain, safe cells, in ``columns`` order."""
    return csv_bytes(table, columns, places).decode("utf-8")


def decimals(values: npt.ArrayLike, places: int) -> npt.NDArray[np.object_]:
    """Plain decimal text for a column: half away from zero, fixed places, "" for NaN."""
    cells = _decimal_cells(np.asarray(values, dtype=np.float64).reshape(-1), places)
    texts = [cells.padded[i, :length].tobytes().decode("utf-8")
             for i, length in enumerate(cells.lengths.tolist())]
    return _objects(texts)[cells.codes]


# --------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------


def _coded(column: Column) -> Coded:
    """A text column as `Coded` (NA and missing read as "")."""
    if isinstance(column, Coded):
        return column
    if isinstance(column, Flags):
        return Coded(np.where(column.known, column.values, 2).astype(np.int64),
                     ["False", "True", ""])
    values = column if column.dtype == object else _objects(column.tolist())
    codes, texts = _object_factor(values)
    return Coded(codes.astype(np.int64), texts)


def _concat_coded(parts: Sequence[Coded]) -> Coded:
    texts: list[str] = []
    codes = []
    for part in parts:
        part_codes = np.asarray(part.codes, dtype=np.int64)
        codes.append(np.where(part_codes < 0, -1, part_codes + len(texts)))
        texts.extend(part.texts)
    return Coded(np.concatenate(codes), texts)


def unused_rows(result: GradeResult) -> Table:
    """Every input row not used: rejected by the reader or set aside by the policy, sorted by
    file, row, column, reason and value (stable: ties keep reader rows first)."""
    return unused_rows_of(result.tables.rejects, result.tables.set_aside)


#: rejects.csv: where each row was, whose it was (the student id; "" when the row names none,
#: or the part of the run that set it aside does not say) and why it was not used.
REJECTS_CSV_COLUMNS = ["file", "row", "student_id", "column", "value", "reason", "message"]


def unused_rows_of(rejects: Table, set_aside: Table) -> Table:
    """`unused_rows` of the reader's ``rejects`` and the policy's ``set_aside`` rows."""
    parts = [rejects, set_aside]
    texts = {
        name: _concat_coded([
            _coded(part[name]) if name in part
            else Coded(np.full(len(part), -1, dtype=np.int64), [])  # read as ""
            for part in parts])
        for name in REJECTS_CSV_COLUMNS if name != "row"
    }
    row = np.concatenate([np.asarray(part["row"], dtype=np.int64) for part in parts])
    table = Table({name: row if name == "row" else texts[name]
                   for name in REJECTS_CSV_COLUMNS}, len(row))
    key = {name: text_codes(column)[0] for name, column in texts.items()}  # in text order
    # lexsort sorts by its last key first, and stably: ties keep the reader's rows first.
    order = np.lexsort([key["value"], key["reason"], key["column"], row, key["file"]])
    return table.take(order)


def result_file_names(*, json_too: bool = False) -> list[str]:
    """The names of the files a grade run writes into its output folder."""
    # grades.json by name: importing json_output imports pandas, which a CSV run never needs.
    return [*CSV_FILES, *(["grades.json"] if json_too else [])]


def write_outputs(result: GradeResult, out: Path, *, json_too: bool = False) -> list[Path]:
    """Write the CSV files (and grades.json) into ``out``, all together (`OutputFolder`);
    returns the paths written."""
    with OutputFolder(out, names=result_file_names(json_too=json_too)) as folder:
        with OutputWriter(folder.staging, json_too=json_too) as writer:
            writer.finish(result)
        return folder.commit()


class OutputWriter:
    """Writes a grade run's files into ``out``: those that are final early (rejects.csv once
    the policy has said which rows count, target_grades.csv before the roll-ups: most of the
    bytes) as soon as they exist, the others when the whole result does; all of them are put
    in place together, at the end. A run gives it an `OutputFolder`'s staging folder, which
    then puts the files into --out together.

    `unused_rows_ready` and `first_results_ready` (the ``on_unused_rows`` and
    ``on_first_results`` callbacks of `pipeline.grade`) start the early files on a second
    thread, which writes rejects.csv while this one computes the target results (measured at
    a million rows: 6-11 ms less in all), then target_grades.csv while this one rolls up and
    writes the rest. numpy's small operations hold the GIL, so the two overlap only in part
    (the byte compaction and the file writes): measured at a million evidence rows, the
    roll-ups and the five files take 0.13 s this way against 0.16 s one after the other. A
    forked writer did no better: its copy-on-write page faults slowed both processes down by
    as much as the second core gained. If the run fails before `finish`, the ``with`` block
    removes whatever was written, and ``out`` is left as it was.
    """

    def __init__(self, out: Path, *, json_too: bool = False) -> None:
        self.out = out
        self.json_too = json_too
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mastery-write")
        self._early: dict[str, Future[PendingFile]] = {}
        self._pending: list[PendingFile] = []

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
        if exc[0] is None:
            return
        for future in self._early.values():
            if future.exception() is None:
                future.result().discard()
        for file in self._pending:
            file.discard()  # those put in place already are not touched

    def unused_rows_ready(self, unused: UnusedRows, places: int) -> None:
        """Start writing rejects.csv (on the second thread), while the results are computed."""
        self._early["rejects.csv"] = self._pool.submit(
            _written, self.out / "rejects.csv",
            lambda: unused_rows_of(unused.rejects, unused.set_aside), REJECTS_CSV_COLUMNS,
            places)

    def first_results_ready(self, first: FirstResults, places: int) -> None:
        """Start writing target_grades.csv, and rejects.csv unless `unused_rows_ready` did (on
        the second thread)."""
        from mastery_cli.grading.pipeline import TARGET_COLUMNS, UnusedRows

        self._early["target_grades.csv"] = self._pool.submit(
            _written, self.out / "target_grades.csv", lambda: first.targets,
            TARGET_COLUMNS, places)
        if "rejects.csv" not in self._early:
            self.unused_rows_ready(UnusedRows(first.rejects, first.set_aside), places)

    def finish(self, result: GradeResult) -> list[Path]:
        """Write every file not written yet, then put all of them in place; the paths."""
        written = [file.commit() for file in self.pending(result).values()]
        if self.json_too:
            from mastery_cli.grading.json_output import JSON_FILE, grades_json_chunks

            path = self.out / JSON_FILE
            write_chunks_atomic(path, grades_json_chunks(result))
            written.append(path)
        return written

    def pending(self, result: GradeResult) -> dict[str, PendingFile]:
        """Write every CSV file not written yet; all of them, written and not yet in place,
        by name (in `CSV_FILES` order). Putting them in place (or not) is the caller's."""
        from mastery_cli.grading.pipeline import TARGET_COLUMNS
        from mastery_cli.grading.progress import PROGRESS_COLUMNS
        from mastery_cli.grading.rollup import COMPETENCY_COLUMNS, COURSE_COLUMNS

        places = result.policy.places
        tables = result.tables
        files: dict[str, tuple[Callable[[], Table], list[str]]] = {
            "target_grades.csv": (lambda: tables.targets, TARGET_COLUMNS),
            "competency_grades.csv": (lambda: tables.competencies, COMPETENCY_COLUMNS),
            "course_grades.csv": (lambda: tables.courses, COURSE_COLUMNS),
            "progress.csv": (lambda: tables.progress, PROGRESS_COLUMNS),
            "rejects.csv": (lambda: unused_rows(result), REJECTS_CSV_COLUMNS),
        }
        for name, (table, columns) in files.items():
            if name not in self._early:
                self._pending.append(
                    _written(self.out / name, table, columns, places))
        # An early file the second thread has not begun yet is written here instead: this
        # thread would otherwise only wait for it.
        for name, future in list(self._early.items()):
            if future.cancel():
                del self._early[name]
                table, columns = files[name]
                self._pending.append(
                    _written(self.out / name, table, columns, places))
        ready = {file.path.name: file for file in self._pending}
        ready |= {name: future.result() for name, future in self._early.items()}
        return {name: ready[name] for name in files}


def _written(path: Path, table: Callable[[], Table], columns: list[str], places: int
             ) -> PendingFile:
    """``table()`` written as CSV under a temporary name, ready to be put in place."""
    file = PendingFile(path)
    file.write(_csv_chunks(table(), columns, places))
    return file

#: The CSV writer per batch (header first): the name the engine calls.
csv_chunks = _csv_chunks
