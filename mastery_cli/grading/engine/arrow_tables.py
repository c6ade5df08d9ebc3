"""The kernels' `Table` as plain Arrow columns and back, for engines that move data between
processes (Spark's Python workers): coded text as strings, dates as timestamps, flags as
booleans with nulls. A round trip gives the same texts, numbers and dates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mastery_cli.grading.table import Coded, Column, Flags, Table

if TYPE_CHECKING:
    import pyarrow as pa


def to_arrow(table: Table) -> pa.Table:
    import pyarrow as pa

    return pa.table({name: _array(column) for name, column in table.items()})


def _array(column: Column) -> pa.Array:
    import pyarrow as pa

    if isinstance(column, Coded):
        return pa.array(column.values(), pa.string())
    if isinstance(column, Flags):
        return pa.array(np.asarray(column.values, dtype=bool),
                        mask=~np.asarray(column.known, dtype=bool))
    if column.dtype.kind == "M":
        nanoseconds = column.astype("datetime64[ns]")
        return pa.array(nanoseconds.view(np.int64), mask=np.isnat(nanoseconds)).cast(
            pa.timestamp("ns"))
    if column.dtype == object:
        return pa.array(["" if v is None else str(v) for v in column.tolist()], pa.string())
    return pa.array(column)


def from_arrow(rows: pa.Table | pa.RecordBatch) -> Table:
    import pyarrow as pa

    columns: dict[str, Column] = {}
    for name, array in zip(rows.schema.names, rows.columns, strict=True):
        kind = array.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            columns[name] = _coded(array)
        elif pa.types.is_timestamp(kind):
            values = array.cast(pa.timestamp("ns")).cast(pa.int64())
            ints = np.asarray(values.fill_null(np.iinfo(np.int64).min), dtype=np.int64)
            columns[name] = ints.view("datetime64[ns]")
        elif pa.types.is_boolean(kind) and array.null_count:
            columns[name] = Flags(np.asarray(array.fill_null(False), dtype=bool),
                                  np.asarray(array.is_valid(), dtype=bool))
        else:
            columns[name] = np.asarray(array)
    return Table(columns, rows.num_rows)


def _coded(array: Any) -> Coded:
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    return Coded(np.asarray(encoded.indices.fill_null(-1), dtype=np.int64),
                 encoded.dictionary.to_pylist())
