"""A whole-student Arrow batch of accepted evidence as the kernels' evidence table.

The batch holds integers only (`COLUMNS`); the texts they stand for are the run's
`Dictionaries`. Each batch's student ids and names are the part of the dictionaries its rows
use, so a batch's table is as small as its students.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading.table import Coded, Column, Table

if TYPE_CHECKING:
    import numpy.typing as npt
    import pyarrow as pa

    from mastery_cli.grading.engine.lookups import Dictionaries

#: Rows per batch the engine hands over (a batch then grows to the end of its last student).
BATCH_ROWS = 256_000
_STATUS_TEXTS = ["scored", "excused", "missing"]
#: Fields handed over as a code into their dictionary (the kernels' column: the code's column).
_CODED = {"score_cell": "score_code", "assessment": "assessment_code", "type": "type_code",
          "section": "section_code", "course": "course_code", "rater": "rater_code",
          "source": "source_code", "comment": "comment_code"}
#: The columns of ``checked`` a batch holds, and their Arrow types.
SCHEMA = {"student_rank": "int32", "name_code": "int32", "target_rank": "int32",
          "score_value": "float64", "outcome": "int8", "date_ns": "int64",
          **{code: "int32" for code in _CODED.values()},
          "file_index": "int32", "line": "int64", "seq": "int64"}
COLUMNS = tuple(SCHEMA)


def coded(column: pa.ChunkedArray | pa.Array) -> Coded:
    """A text column as codes into its distinct texts (the sink's rows not used)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    return Coded(np.asarray(encoded.indices, dtype=np.int32), encoded.dictionary.to_pylist())


def evidence_table(rows: pa.Table | pa.RecordBatch, target_ids: Sequence[str],
                   files: Sequence[str], dictionaries: Dictionaries) -> Table:
    """The accepted evidence of whole students, sorted by student, as the kernels read it
    (`ingest.EvidenceSet`'s table)."""
    date = np.asarray(rows.column("date_ns").fill_null(np.iinfo(np.int64).min), dtype=np.int64)
    status = np.minimum(np.asarray(rows.column("outcome"), dtype=np.int8), 2)
    columns: dict[str, Column] = {
        "student_id": _students(np.asarray(rows.column("student_rank")),
                                dictionaries.student_ids),
        "student_name": _used(np.asarray(rows.column("name_code")), dictionaries.student_names),
        "target": Coded(np.asarray(rows.column("target_rank"), dtype=np.int32), list(target_ids)),
        "score": np.asarray(rows.column("score_value").fill_null(np.nan), dtype=np.float64),
        "status": Coded(status, _STATUS_TEXTS),
        **{name: Coded(np.asarray(rows.column(code), dtype=np.int32),
                       dictionaries.texts[code.removesuffix("_code")])
           for name, code in _CODED.items()},
        "date": date.view("datetime64[ns]"),
        "file": Coded(np.asarray(rows.column("file_index"), dtype=np.int32), list(files)),
        "row": np.asarray(rows.column("line"), dtype=np.int64),
        "seq": np.asarray(rows.column("seq"), dtype=np.int64),
    }
    return Table(columns, rows.num_rows)


def _students(ranks: npt.NDArray[np.int32], ids: Sequence[str]) -> Coded:
    """Sorted ranks as codes into the ids from the first rank to the last."""
    if not len(ranks):
        return Coded(ranks.astype(np.int32), [])
    first = int(ranks[0])
    return Coded((ranks - first).astype(np.int32), ids[first:int(ranks[-1]) + 1])


def _used(codes: npt.NDArray[np.int32], texts: Sequence[str]) -> Coded:
    """Codes into the texts the rows use."""
    used, inverse = np.unique(codes, return_inverse=True)
    return Coded(inverse.astype(np.int32).reshape(-1), [texts[i] for i in used.tolist()])


def empty_table(target_ids: Sequence[str], files: Sequence[str],
                dictionaries: Dictionaries) -> Table:
    """`evidence_table` of no rows."""
    import pyarrow as pa

    rows = pa.table({name: pa.array([], kind) for name, kind in SCHEMA.items()})
    return evidence_table(rows, target_ids, files, dictionaries)
