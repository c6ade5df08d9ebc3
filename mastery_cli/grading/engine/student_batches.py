"""mastery's reader's evidence (one table, in file order) cut into whole-student batches.

The kernels grade a batch of whole students at a time, whichever reader read the evidence:
memory then holds one batch's working arrays, not the whole file's, and the time per row stays
the same however large the file. Batches go in the order of the students' ids (the order of the
result files); within a batch the rows keep the file's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from mastery_cli.grading.table import Coded, Table

if TYPE_CHECKING:
    import numpy.typing as npt


def student_batches(table: Table, batch_rows: int) -> Iterator[Table]:
    """``table``'s rows as tables of whole students, each of about ``batch_rows`` rows or
    fewer (a student with more rows makes one larger batch), in student id order. A table of
    up to two batches is one batch, the table itself: cutting it would cost more time (a sort
    and a copy) than its working memory is worth."""
    if len(table) <= 2 * batch_rows:
        yield table
        return
    students = table.coded("student_id")
    rank = _ranks(students)[students.codes]
    rows_per_rank = np.bincount(rank, minlength=len(students.texts))
    # A student's batch: how many whole batches of rows the students before them fill.
    before = np.cumsum(rows_per_rank) - rows_per_rank
    # Numbered without gaps (a student of more rows than a batch skips numbers).
    _, batch_of_rank = np.unique(before // batch_rows, return_inverse=True)
    batches = int(batch_of_rank.max()) + 1
    # 16-bit batch numbers sort by radix, in one pass (a million rows in about 10 ms); the
    # sort is stable, so each batch keeps the file's order.
    kind = np.int16 if batches <= np.iinfo(np.int16).max else np.int32
    batch_of_row = batch_of_rank.reshape(-1).astype(kind)[rank]
    order = np.argsort(batch_of_row, kind="stable")
    bounds = np.cumsum(np.bincount(batch_of_row))
    start = 0
    for stop in bounds.tolist():
        yield _compacted(table.take(order[start:stop]))
        start = stop


def _ranks(students: Coded) -> npt.NDArray[np.int32]:
    """Each code's position among the ids in sorted order."""
    by_text = sorted(range(len(students.texts)), key=students.texts.__getitem__)
    rank = np.empty(len(students.texts), dtype=np.int32)
    rank[np.asarray(by_text, dtype=np.int64)] = np.arange(len(by_text), dtype=np.int32)
    return rank


def _compacted(batch: Table) -> Table:
    """The batch with its ids and names coded into the texts its own rows use (as a batch of
    the engine's reader is): what the kernels list is then the batch's own students."""
    columns = {}
    for name in ("student_id", "student_name"):
        if name in batch:
            column = batch.coded(name)
            used, codes = np.unique(column.codes, return_inverse=True)
            columns[name] = Coded(codes.reshape(-1).astype(np.int32),
                                  [column.texts[i] for i in used.tolist()])
    return batch.with_columns(**columns)
