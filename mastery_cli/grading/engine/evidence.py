"""A whole-student Arrow batch of accepted evidence as the kernels' evidence table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading.table import Coded, Table

if TYPE_CHECKING:
    import pyarrow as pa

#: Rows per batch the engine hands over (a batch then grows to the end of its last student).
BATCH_ROWS = 256_000
_STATUS_TEXTS = ["scored", "excused", "missing"]


def coded(column: pa.ChunkedArray | pa.Array) -> Coded:
    """A text column as codes into its distinct texts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    return Coded(np.asarray(encoded.indices, dtype=np.int32), encoded.dictionary.to_pylist())


def evidence_table(rows: pa.Table, target_ids: Sequence[str], files: Sequence[str],
                   dictionaries: Mapping[str, Sequence[str]]) -> Table:
    """The accepted evidence of whole students as the kernels read it (`ingest.EvidenceSet`'s
    table)."""
    date = np.asarray(rows.column("date_ns").fill_null(np.iinfo(np.int64).min), dtype=np.int64)
    status = np.minimum(np.asarray(rows.column("outcome"), dtype=np.int8), 2)
    columns = {
        "student_id": coded(rows.column("student_id")),
        "student_name": coded(rows.column("student_name")),
        "target": Coded(np.asarray(rows.column("target_rank"), dtype=np.int32), list(target_ids)),
        "score": np.asarray(rows.column("score_value").fill_null(np.nan), dtype=np.float64),
        "status": Coded(status, _STATUS_TEXTS),
        "score_cell": _codes(rows, "score", dictionaries),
        "date": date.view("datetime64[ns]"),
        "assessment": _codes(rows, "assessment", dictionaries),
        "type": _codes(rows, "type", dictionaries),
        "section": _codes(rows, "section", dictionaries),
        "course": _codes(rows, "course", dictionaries),
        "rater": _codes(rows, "rater", dictionaries),
        "source": _codes(rows, "source", dictionaries),
        "comment": _codes(rows, "comment", dictionaries),
        "file": Coded(np.asarray(rows.column("file_index"), dtype=np.int32), list(files)),
        "row": np.asarray(rows.column("line"), dtype=np.int64),
        "seq": np.asarray(rows.column("seq"), dtype=np.int64),
    }
    return Table(columns, rows.num_rows)


def _codes(rows: pa.Table, name: str, dictionaries: Mapping[str, Sequence[str]]) -> Coded:
    return Coded(np.asarray(rows.column(f"{name}_code"), dtype=np.int32), dictionaries[name])


def empty_table(target_ids: Sequence[str], files: Sequence[str],
                dictionaries: Mapping[str, Sequence[str]]) -> Table:
    """`evidence_table` of no rows."""
    import pyarrow as pa

    schema = {"student_id": pa.string(), "student_name": pa.string(),
              "target_rank": pa.int32(), "score_value": pa.float64(), "outcome": pa.int8(),
              "date_ns": pa.int64(), "file_index": pa.int32(), "line": pa.int64(),
              "seq": pa.int64(),
              **{f"{name}_code": pa.int32() for name in (
                  "score", "assessment", "type", "section", "course", "rater", "source",
                  "comment")}}
    rows = pa.table({name: pa.array([], kind) for name, kind in schema.items()})
    return evidence_table(rows, target_ids, files, dictionaries)
