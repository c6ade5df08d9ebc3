"""Whole-student Arrow batches out of batches cut anywhere.

Engines stream sorted evidence in batches of a size of their own choosing (DuckDB's
``fetch_record_batch``, Spark's ``maxRecordsPerBatch``), so one student's rows may straddle two
batches. Every grade is about one student, so the kernels want each student whole: the rows of
the last student of a batch are held back and put in front of the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc


def whole_student_batches(
    batches: Iterable[pa.RecordBatch], student: str = "student_id"
) -> Iterator[pa.RecordBatch]:
    """The same rows in the same order, re-cut so that no student spans two batches.

    The input must hold each student's rows together (sorted or grouped by ``student``, which
    is never null). Empty batches are dropped; a student with more rows than a batch makes one
    larger batch.
    """
    pending: list[pa.RecordBatch] = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        keys = batch.column(student)
        # The last student's rows are the batch's tail, since a student's rows are together.
        tail_rows = pc.sum(pc.equal(keys, keys[batch.num_rows - 1])).as_py()
        cut = batch.num_rows - tail_rows
        if cut == 0:  # the whole batch is one student, who may go on in the next one
            pending.append(batch)
            continue
        yield _joined([*pending, batch.slice(0, cut)])
        pending = [batch.slice(cut)]
    if pending:
        yield _joined(pending)


def _joined(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]
