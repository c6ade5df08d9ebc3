"""Run a kernel over student-partitioned evidence on Spark, through ``mapInArrow``.

The relational part (reading, typing, checks, filters) hands over a Spark DataFrame of
canonical evidence rows. Here it is repartitioned by student (a student's rows all land in one
partition), sorted within each partition by (student, target, date, file, row), cut into
whole-student Arrow batches and given to the kernel: mastery's own Python code, the same that
grades on DuckDB, so results are the same bytes on both engines. The result comes back to the
driver as Arrow batches in student order, whatever the partitioning and the cluster's timing.

The kernel runs in Spark's Python workers: on a cluster, they need mastery installed (the
same version as the driver).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from mastery_cli.grading.engine.batches import whole_student_batches
from mastery_cli.grading.engine.spark_session import PANDAS_NOTICE

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: A kernel takes whole-student batches in evidence order and yields result batches, each
#: student's results together and in the order of the input's students.
Kernel = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]

#: The evidence order every kernel relies on; file and row make it total (no ties), so every
#: engine and every partitioning gives a kernel the same sequence.
EVIDENCE_ORDER: tuple[str, ...] = ("student_id", "target", "date", "file", "row")


def run_kernel(
    evidence: DataFrame,
    kernel: Kernel,
    result_schema: pa.Schema,
    *,
    student: str = "student_id",
    order: Sequence[str | Column] = EVIDENCE_ORDER,
    partitions: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """The kernel's results over ``evidence``, sorted by ``student`` (stable: each student's
    results stay in the order the kernel gave them).

    ``order`` sorts each student's rows: a column name sorts ascending, nulls (undated
    evidence) last; a Column sorts as it says (``F.col("date").asc_nulls_first()``);
    ``partitions`` defaults to ``spark.sql.shuffle.partitions``. ``result_schema`` is what the
    kernel yields and what comes back (Spark's own types are cast back to it).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    count = partitions or int(evidence.sparkSession.conf.get("spark.sql.shuffle.partitions") or 1)
    # The student first whatever ``order`` says: the batches are cut at student boundaries.
    keys = [F.col(student).asc()] + [
        F.col(key).asc_nulls_last() if isinstance(key, str) else key
        for key in order
        if not (isinstance(key, str) and key == student)  # a Column's == is a Column
    ]
    arranged = evidence.repartition(count, F.col(student)).sortWithinPartitions(*keys)
    spark_schema = from_arrow_schema(result_schema)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", PANDAS_NOTICE, FutureWarning)
        results = arranged.mapInArrow(_whole_students(kernel, student), spark_schema)
        table = results.toArrow().cast(result_schema)
    # Partitions reach the driver in an order of Spark's choosing; one student's results are
    # in one partition, so a stable sort by student alone makes the order deterministic.
    ordered = table.take(pc.sort_indices(table, [(student, "ascending")]))
    return iter(ordered.combine_chunks().to_batches())


def _whole_students(kernel: Kernel, student: str) -> Kernel:
    """The kernel as a partition function: Spark cuts batches by size, the kernel wants each
    student whole. (A closure of module-level names: Spark pickles it to its workers.)"""

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return kernel(whole_student_batches(batches, student))

    return per_partition
