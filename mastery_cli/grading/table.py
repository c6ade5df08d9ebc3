"""Light column tables for the grading engine: numpy arrays and coded text, no pandas.

`mastery grade` spends its time on a few whole-column operations; importing pandas alone
takes longer than parsing a million-row gradebook. So the engine passes `Table`s: a mapping
of column name to one of

- a numpy array (float64 scores, int64 counts, bool flags, ``datetime64[ns]`` dates with NaT,
  or an object array of ``str`` for small text columns such as messages);
- `Coded`: text as integer codes into a list of distinct texts (a million rows, a few
  thousand texts); code -1 is a missing value, read as "";
- `Flags`: a boolean column that is unknown where there is no result ("mastered" of a target
  with insufficient evidence).

`Table.to_pandas` gives the DataFrame the rest of the toolkit (reports, grades.json,
``mastery explain``) reads, with text as categoricals of the texts used in sorted order; it
imports pandas only then. `Table.from_pandas` goes the other way.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Coded", "Column", "Flags", "Table", "coded", "compact_text_codes",
           "first_in_group", "first_rows", "text_codes", "unique_in_order"]


@dataclass(frozen=True)
class Coded:
    """Text as ``texts[codes]``; a code of -1 is a missing value (read as "").

    ``texts`` need not be sorted nor all used; `text_codes` gives the sorted form the engine
    groups and orders by.
    """

    codes: npt.NDArray[np.integer[Any]]
    texts: Sequence[str]

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, indices: npt.NDArray[np.integer[Any]] | slice) -> Coded:
        return Coded(self.codes[indices], self.texts)

    def values(self) -> npt.NDArray[np.object_]:
        """The texts of the rows as an object array ("" for missing); for small tables."""
        lookup = np.array([*self.texts, ""], dtype=object)
        return lookup[np.where(self.codes < 0, len(self.texts), self.codes)]

    def equals_text(self, text: str) -> npt.NDArray[np.bool_]:
        """Rows whose text is ``text`` (one pass: code -1, a missing value read as "", picks
        the last entry of the lookup)."""
        hits = np.array([t == text for t in self.texts] + [text == ""], dtype=bool)
        return gather(hits, self.codes)


@dataclass(frozen=True)
class Flags:
    """A boolean column that is unknown (NA) where ``known`` is False."""

    values: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.values)

    def take(self, indices: npt.NDArray[np.integer[Any]] | slice) -> Flags:
        return Flags(self.values[indices], self.known[indices])

    def true(self) -> npt.NDArray[np.bool_]:
        """True where known and true (NA counts as False)."""
        return self.values & self.known


Column = Union[npt.NDArray[Any], Coded, Flags]  # noqa: UP007 (a runtime alias)


class Table:
    """Named columns of equal length, in order."""

    __slots__ = ("_columns", "_length")

    def __init__(self, columns: Mapping[str, Column], length: int | None = None) -> None:
        self._columns: dict[str, Column] = dict(columns)
        lengths = {len(c) for c in self._columns.values()}
        if length is None:
            if len(lengths) > 1:
                raise ValueError(f"columns of different lengths: {sorted(lengths)}")
            length = lengths.pop() if lengths else 0
        elif lengths - {length}:
            raise ValueError(f"columns of lengths {sorted(lengths)}, expected {length}")
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, name: str) -> Column:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def items(self) -> Iterable[tuple[str, Column]]:
        return self._columns.items()

    def array(self, name: str) -> npt.NDArray[Any]:
        """A numpy column (raises TypeError for coded text or flags)."""
        column = self._columns[name]
        if not isinstance(column, np.ndarray):
            raise TypeError(f"column {name!r} is {type(column).__name__}, not an array")
        return column

    def coded(self, name: str) -> Coded:
        """A text column as `Coded` (object arrays are coded on the fly)."""
        column = self._columns[name]
        if isinstance(column, Coded):
            return column
        if isinstance(column, np.ndarray):
            return _coded_objects(column)
        raise TypeError(f"column {name!r} is not text")

    def take(self, indices: npt.NDArray[np.integer[Any]]) -> Table:
        return Table({n: c.take(indices) if not isinstance(c, np.ndarray) else c[indices]
                      for n, c in self._columns.items()}, len(indices))

    def with_columns(self, **columns: Column) -> Table:
        """This table with columns added or replaced."""
        return Table({**self._columns, **columns}, self._length)

    def select(self, names: Sequence[str]) -> Table:
        return Table({n: self._columns[n] for n in names}, self._length)

    # ---------------------------------------------------------------------------- pandas

    def to_pandas(self) -> pd.DataFrame:
        """The DataFrame of this table: coded text as categoricals of the texts used, in
        sorted order; flags as nullable booleans; object text as ``str``."""
        import pandas as pd

        data: dict[str, Any] = {}
        for name, column in self._columns.items():
            if isinstance(column, Coded):
                codes, texts = text_codes(column)
                data[name] = _categorical(texts, codes)
            elif isinstance(column, Flags):
                array = pd.array(np.asarray(column.values, dtype=bool), dtype="boolean")
                array[~np.asarray(column.known, dtype=bool)] = pd.NA
                data[name] = array
            elif column.dtype == object:
                data[name] = pd.array(column, dtype="str")
            else:
                data[name] = column
        return pd.DataFrame(data, index=pd.RangeIndex(self._length))

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame) -> Table:
        """A table of ``frame``'s columns (categoricals become `Coded`, nullable booleans
        `Flags`, other text an object array)."""
        import pandas as pd

        columns: dict[str, Column] = {}
        for name in frame.columns:
            series = frame[name]
            dtype = series.dtype
            if isinstance(dtype, pd.CategoricalDtype):
                categories = series.cat.categories
                texts = [str(t) for t in categories.tolist()]
                columns[str(name)] = Coded(
                    np.asarray(series.cat.codes.to_numpy(), dtype=np.int64), texts)
            elif isinstance(dtype, pd.BooleanDtype):
                known = series.notna().to_numpy(dtype=bool)
                columns[str(name)] = Flags(series.fillna(False).to_numpy(dtype=bool), known)
            elif pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
                columns[str(name)] = np.asarray(
                    series.astype(object).where(series.notna(), "").to_numpy(), dtype=object)
            else:
                columns[str(name)] = series.to_numpy()
        return cls(columns, len(frame))


def _coded_objects(column: npt.NDArray[Any]) -> Coded:
    """An array of values as codes into their distinct texts (``str`` of each), sorted: each
    value hashed once (a sort of the texts themselves, as numpy's unique does, costs several
    times more on the rows not used of a large run)."""
    values = [v if type(v) is str else str(v) for v in column.tolist()]
    texts = sorted(dict.fromkeys(values))
    position = {text: code for code, text in enumerate(texts)}
    codes = np.fromiter(map(position.__getitem__, values), dtype=np.int64, count=len(values))
    return Coded(codes, texts)


def _categorical(texts: Sequence[str], codes: npt.NDArray[np.integer[Any]]) -> Any:
    """``texts[codes]`` as a categorical with only the texts used, in sorted order."""
    import pandas as pd

    used = np.bincount(codes, minlength=len(texts)) if len(codes) else np.zeros(0, np.int64)
    ordered = sorted({texts[c] for c in np.flatnonzero(used).tolist()})
    position = {text: i for i, text in enumerate(ordered)}
    remap = np.array([position.get(t, -1) for t in texts] or [-1], dtype=np.int32)
    return pd.Categorical.from_codes(
        remap[codes] if len(codes) else np.zeros(0, dtype=np.int32),
        categories=pd.Index(ordered, dtype="str"),
        validate=False,  # in range by construction
    )


# -------------------------------------------------------------------------------- helpers


def text_codes(column: Coded) -> tuple[npt.NDArray[np.int64], list[str]]:
    """(code per row, distinct texts in sorted order): code order is text order (Python
    string order), so sorting or grouping by codes is sorting or grouping by text. Missing
    values read as "".

    The answer is kept on the column: the engine asks for the same million-row column's
    sorted codes several times.
    """
    cached: tuple[npt.NDArray[np.int64], list[str]] | None = column.__dict__.get("_sorted")
    if cached is not None:
        return cached
    as_is = _sorted_as_is(column)
    if as_is is not None:
        answer = np.asarray(as_is[0], dtype=np.int64), as_is[1]
    else:
        texts = list(column.texts)
        codes = np.asarray(column.codes, dtype=np.int64)
        missing = bool(len(codes)) and int(codes.min()) < 0
        ordered = sorted(set(texts) | ({""} if missing else set()))
        position = {text: i for i, text in enumerate(ordered)}
        remap = np.array([position[t] for t in texts] + [position.get("", 0)], dtype=np.int64)
        # -1 picks the last entry of remap, which is ""'s code.
        answer = remap[codes], ordered
    object.__setattr__(column, "_sorted", answer)  # a cache, not a field: still frozen
    return answer


def compact_text_codes(column: Coded) -> tuple[npt.NDArray[np.integer[Any]], list[str]]:
    """`text_codes`, with the codes in the column's own integer type when they can stay as
    they are (sorted, unique texts and no missing value: the reader's usual columns, in int8
    or int16). An int64 copy of a million codes is 8 MB more to write and to read back; the
    caller widens the codes before any arithmetic that could overflow."""
    cached: tuple[npt.NDArray[np.int64], list[str]] | None = column.__dict__.get("_sorted")
    if cached is not None:
        return cached
    return _sorted_as_is(column) or text_codes(column)


def _sorted_as_is(column: Coded) -> tuple[npt.NDArray[np.integer[Any]], list[str]] | None:
    """(the codes, the texts) when they already are `text_codes`' answer: texts sorted and
    unique (one comparison per text, in C) and no missing value. None otherwise."""
    codes = np.asarray(column.codes)
    texts = list(column.texts)
    if len(codes) and int(codes.min()) < 0:
        return None
    if all(map(operator.lt, texts, islice(texts, 1, None))):
        return codes, texts
    return None


def gather(table: npt.NDArray[Any], codes: npt.NDArray[np.integer[Any]]) -> npt.NDArray[Any]:
    """``table[codes]`` (a code of -1 picks the last entry: the lookup for a missing value)."""
    return np.take(table, codes)


def gather_where(
    table: npt.NDArray[Any], codes: npt.NDArray[np.integer[Any]], mask: npt.NDArray[np.bool_]
) -> npt.NDArray[Any]:
    """``table[codes[mask]]``."""
    return np.take(table, codes[mask])


def coded(texts: Sequence[str], codes: npt.NDArray[np.integer[Any]]) -> Coded:
    """``texts[codes]`` as a `Coded` column (``texts`` may hold unused or repeated texts)."""
    return Coded(np.asarray(codes, dtype=np.int64), list(texts))


def first_in_group(keys: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.bool_]:
    """True at the first occurrence of each key (``~pandas.Series.duplicated()``)."""
    if not len(keys):
        return np.zeros(0, dtype=bool)
    _, first = np.unique(keys, return_index=True)
    mask = np.zeros(len(keys), dtype=bool)
    mask[first] = True
    return mask


def first_rows(codes: npt.NDArray[np.integer[Any]], n_codes: int) -> npt.NDArray[np.int64]:
    """Per code below ``n_codes``: the position of its first row in ``codes`` (-1 if none).

    Linear: positions are scattered from the last row to the first, and numpy keeps the last
    value written to a repeated index, which is the first row.
    """
    first = np.full(n_codes, -1, dtype=np.int64)
    if len(codes):
        # int32 positions when they fit: half the memory of the million-row arange.
        kind = np.int32 if len(codes) < 2**31 else np.int64
        first[np.asarray(codes)[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=kind)
    return first


def unique_in_order(keys: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
    """Distinct keys in order of first appearance (``pandas.unique``)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(keys, return_index=True)
    return np.asarray(keys, dtype=np.int64)[np.sort(first)]


def concat(parts: Sequence[Table]) -> Table:
    """The rows of ``parts`` one after the other (the same columns in each; coded text keeps
    its texts, flags their unknowns)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Table({}, 0)
    columns: dict[str, Column] = {}
    for name in parts[0].columns:
        pieces = [part[name] for part in parts]
        first = pieces[0]
        if isinstance(first, Coded):
            texts: list[str] = []
            codes = []
            for piece in pieces:
                assert isinstance(piece, Coded)
                piece_codes = np.asarray(piece.codes, dtype=np.int64)
                codes.append(np.where(piece_codes < 0, -1, piece_codes + len(texts)))
                texts.extend(piece.texts)
            columns[name] = Coded(np.concatenate(codes), texts)
        elif isinstance(first, Flags):
            columns[name] = Flags(np.concatenate([p.values for p in pieces]),  # type: ignore[union-attr]
                                  np.concatenate([p.known for p in pieces]))  # type: ignore[union-attr]
        else:
            columns[name] = np.concatenate(pieces)  # type: ignore[arg-type]
    return Table(columns, sum(len(p) for p in parts))
