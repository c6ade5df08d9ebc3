"""whole_student_batches: the same rows in the same order, no student in two batches."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mastery_cli.grading.engine.batches import whole_student_batches


def _cut(table: pa.Table, sizes: list[int]) -> list[pa.RecordBatch]:
    """The table's rows as batches of the given sizes (the last takes the rest)."""
    batches, start = [], 0
    for size in sizes:
        batches.append(table.slice(start, size).combine_chunks().to_batches(max_chunksize=None))
        start += size
    batches.append(table.slice(start).combine_chunks().to_batches())
    return [b for group in batches for b in group]


@settings(deadline=None)  # the first pyarrow.compute call loads its kernels (seconds)
@given(
    counts=st.lists(st.integers(min_value=1, max_value=6), max_size=12),
    sizes=st.lists(st.integers(min_value=0, max_value=9), max_size=15),
)
def test_every_student_is_whole_and_nothing_moves(counts: list[int], sizes: list[int]) -> None:
    students = [f"{i:07d}" for i, n in enumerate(counts) for _ in range(n)]
    table = pa.table({"student_id": students, "row": list(range(len(students)))},
                     schema=pa.schema([("student_id", pa.string()), ("row", pa.int64())]))
    out = list(whole_student_batches(_cut(table, sizes)))

    assert all(batch.num_rows > 0 for batch in out)
    assert pa.Table.from_batches(out, schema=table.schema).to_pylist() == table.to_pylist()
    seen: set[str] = set()
    for batch in out:
        here = set(batch.column("student_id").to_pylist())
        assert not here & seen, "a student's rows are in two batches"
        seen |= here


def test_a_student_longer_than_a_batch_makes_one_larger_batch() -> None:
    batches = [pa.record_batch({"student_id": ["a", "b", "b"]}),
               pa.record_batch({"student_id": ["b", "b"]}),
               pa.record_batch({"student_id": ["b", "c"]})]
    out = [b.column("student_id").to_pylist() for b in whole_student_batches(batches)]
    assert out == [["a"], ["b", "b", "b", "b", "b"], ["c"]]


def test_no_batches_and_empty_batches_give_nothing() -> None:
    empty = pa.record_batch({"student_id": pa.array([], pa.string())})
    assert list(whole_student_batches([])) == []
    assert list(whole_student_batches([empty, empty])) == []
