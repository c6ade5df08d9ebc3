"""The Spark runner on a local session: a toy kernel (per student × target, the exact mean
with fractions, and the rows in the order the kernel saw them) against a plain-Python oracle."""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pyarrow as pa
import pytest

from mastery_cli.grading.engine.spark import run_kernel

RESULT = pa.schema(
    [
        ("student_id", pa.string()),
        ("target", pa.string()),
        ("n", pa.int64()),
        ("mean", pa.string()),
        ("rows", pa.string()),
    ]
)
EVIDENCE_DDL = (
    "student_id string, target string, score double, date date, type string, "
    "assessment string, file string, row long"
)


def mean_kernel(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Per batch and (student, target) in order of appearance: count, exact mean, rows seen.
    Stateless across batches, so a student cut in two would show as two results."""
    for batch in batches:
        groups: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for rec in batch.to_pylist():
            groups.setdefault((rec["student_id"], rec["target"]), []).append(
                (rec["score"], rec["row"])
            )
        yield pa.RecordBatch.from_pylist(
            [
                {
                    "student_id": student,
                    "target": target,
                    "n": len(items),
                    "mean": str(sum(Fraction(score) for score, _ in items) / len(items)),
                    "rows": ",".join(str(row) for _, row in items),
                }
                for (student, target), items in groups.items()
            ],
            schema=RESULT,
        )


def _evidence(seed: int, count: int = 240) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    rows = []
    for row in range(2, count + 2):
        date = None if rng.random() < 0.1 else dt.date(2026, 9, 1) + dt.timedelta(rng.randrange(30))
        rows.append(
            (
                f"{rng.randrange(1, 30):07d}",
                rng.choice(["ALG.1", "ALG.2", "GEO.1"]),
                rng.choice([1.0, 2.0, 2.5, 3.0, 3.5, 4.0]),
                date,
                "summative",
                f"Task {rng.randrange(5)}",
                rng.choice(["a.csv", "b.csv"]),
                row,
            )
        )
    rng.shuffle(rows)
    return rows


def _oracle(rows: list[tuple[Any, ...]], undated_first: bool = False) -> list[dict[str, Any]]:
    def order(r: tuple[Any, ...]) -> tuple[Any, ...]:  # by date (undated last), file, row
        return (r[0], r[1], (r[3] is None) != undated_first, r[3] or dt.date.min, r[6], r[7])

    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for r in sorted(rows, key=order):
        groups.setdefault((r[0], r[1]), []).append(r)
    return [
        {
            "student_id": student,
            "target": target,
            "n": len(items),
            "mean": str(sum(Fraction(r[2]) for r in items) / len(items)),
            "rows": ",".join(str(r[7]) for r in items),
        }
        for (student, target), items in groups.items()
    ]


@pytest.fixture(scope="module")
def small_batches(spark: Any) -> Iterator[Any]:
    """Spark cuts Arrow batches of 7 rows: most students straddle two."""
    from pyspark import cloudpickle

    # Spark's Python workers do not have tests/ on their path: send the kernel by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "7")
    yield spark
    spark.conf.set(key, before)
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_the_kernel_sees_each_student_whole_in_evidence_order(small_batches: Any) -> None:
    rows = _evidence(seed=1)
    evidence = small_batches.createDataFrame(rows, EVIDENCE_DDL)

    results = list(run_kernel(evidence, mean_kernel, RESULT, partitions=3))

    assert all(batch.schema == RESULT for batch in results)
    assert pa.Table.from_batches(results, schema=RESULT).to_pylist() == _oracle(rows)


def test_an_order_may_put_undated_evidence_first(small_batches: Any) -> None:
    from pyspark.sql import functions as F

    rows = _evidence(seed=4)
    evidence = small_batches.createDataFrame(rows, EVIDENCE_DDL)
    order = ("target", F.col("date").asc_nulls_first(), "file", "row")  # student goes first

    results = list(run_kernel(evidence, mean_kernel, RESULT, order=order, partitions=2))

    assert pa.Table.from_batches(results).to_pylist() == _oracle(rows, undated_first=True)


def test_results_are_the_same_for_any_partitioning_and_input_order(small_batches: Any) -> None:
    rows = _evidence(seed=2)
    one = small_batches.createDataFrame(rows, EVIDENCE_DDL)
    shuffled = small_batches.createDataFrame(random.Random(3).sample(rows, len(rows)), EVIDENCE_DDL)

    def table(frame: Any, partitions: int) -> pa.Table:
        return pa.Table.from_batches(
            list(run_kernel(frame, mean_kernel, RESULT, partitions=partitions)), schema=RESULT
        )

    assert table(one, 1).equals(table(shuffled, 5))


def test_no_evidence_gives_no_results(small_batches: Any) -> None:
    evidence = small_batches.createDataFrame([], EVIDENCE_DDL)
    results = pa.Table.from_batches(list(run_kernel(evidence, mean_kernel, RESULT)), schema=RESULT)
    assert results.num_rows == 0


def test_the_local_session_runs_as_its_settings_say(spark: Any) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.sparkContext.uiWebUrl is None  # no web UI, no port opened
    assert spark.sparkContext.master == "local[2]"


def test_a_local_session_is_not_diverted_by_spark_remote(
    spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastery_cli.grading.engine.spark_session import spark_settings, start_session

    monkeypatch.setenv("SPARK_REMOTE", "sc://nowhere.invalid:15002")
    settings = spark_settings(master="local[2]")  # --master outweighs the variable

    assert start_session(settings) is spark  # the running local session, not a connection
    assert "SPARK_REMOTE" not in os.environ
