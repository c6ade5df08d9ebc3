"""The Spark runner prototype on a generated gradebook: local mode, timed by stage.

Until `mastery grade --engine spark` exists (``grade_bench.py --engine spark`` will time it as
a whole process), this times what it will do around the kernel: start a local session (the
JVM), read the generated Parquet file, type the scores (numbers on the 1–4 scale and the
mastery labels; blanks, EX, M dropped), then ``run_kernel``: repartition by student, sort
within partitions, mastery's decaying-average kernel (``methods.compute_segments``) and exact
rounding (``rounding.format_decimal``) in Spark's Python workers through ``mapInArrow``,
results back in student order. With ``--compare`` it checks the scores against
``mastery grade``'s target_grades.csv: they must be the same text, every one.

Example:
    .venv/bin/python benchmarks/spark_bench.py benchmarks/data/gradebook-1000000.parquet \\
        --compare /tmp/grades/target_grades.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

RESULT = pa.schema([("student_id", pa.string()), ("target", pa.string()),
                    ("score", pa.string()), ("evidence_count", pa.int64())])
ORDER = ("student_id", "target", "date", "assessment")


def decaying_average_kernel(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mastery's own decaying average and rounding over whole-student batches."""
    from mastery_cli.grading.methods import MethodSpec, compute_segments
    from mastery_cli.grading.rounding import format_decimal

    spec = MethodSpec("decaying_average", {"weight": 0.65})
    for batch in batches:
        student = batch.column("student_id").to_numpy(zero_copy_only=False)
        target = batch.column("target").to_numpy(zero_copy_only=False)
        score = batch.column("s").to_numpy()
        change = np.flatnonzero((student[1:] != student[:-1]) | (target[1:] != target[:-1]))
        starts = np.concatenate(([0], change + 1)).astype(np.int64)
        value, counts, _, _ = compute_segments(spec, starts, score, scale_min=1.0,
                                               scale_max=4.0, mastery_threshold=3.0)
        yield pa.record_batch(
            [pa.array(student[starts]), pa.array(target[starts]),
             pa.array([format_decimal(v, 2) for v in value]), pa.array(counts)],
            schema=RESULT)


def main(argv: list[str] | None = None) -> int:
    from pyspark.sql import functions as F

    from mastery_cli.grading.engine.spark import run_kernel
    from mastery_cli.grading.engine.spark_session import spark_settings, start_session

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gradebook", type=Path, help="a .parquet file from gen_gradebook.py")
    parser.add_argument("--labels", type=Path, help="default: GRADEBOOK.labels.json")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--memory-limit")
    parser.add_argument("--out", type=Path, help="write the results as CSV")
    parser.add_argument("--compare", type=Path, metavar="TARGET_GRADES_CSV")
    args = parser.parse_args(argv)
    labels = json.loads((args.labels or args.gradebook.with_suffix(".labels.json"))
                        .read_text(encoding="utf-8"))["labels"]
    marks = {"start": time.perf_counter()}
    spark = start_session(spark_settings(threads=args.threads, memory_limit=args.memory_limit))
    marks["session (JVM)"] = time.perf_counter()
    evidence = spark.read.parquet(str(args.gradebook.resolve()))
    label_value = F.lit(None).cast("double")
    for label, value in labels.items():
        label_value = F.when(F.col("score") == label, F.lit(value)).otherwise(label_value)
    typed = (evidence
             .withColumn("s", F.coalesce(F.col("score").try_cast("double"), label_value))
             .where(F.col("s").between(1.0, 4.0))
             .select("student_id", "target", "date", "assessment", "s"))
    table = pa.Table.from_batches(
        list(run_kernel(typed, decaying_average_kernel, RESULT, order=ORDER)), schema=RESULT)
    marks["read, sort, kernel, collect"] = time.perf_counter()
    spark.stop()
    marks["stop"] = time.perf_counter()
    steps = list(marks.items())
    for (_, before), (name, after) in itertools.pairwise(steps):
        print(f"{name}: {after - before:.2f} s")
    print(f"total: {steps[-1][1] - steps[0][1]:.2f} s for {table.num_rows:,} results")
    if args.out:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, args.out)
    if args.compare:
        with args.compare.open(encoding="utf-8") as handle:
            ours = {(r["student_id"], r["target"]): r["score"] for r in csv.DictReader(handle)
                    if r["score"]}
        spark_scores = dict(zip(zip(table.column("student_id").to_pylist(),
                                    table.column("target").to_pylist(), strict=True),
                                table.column("score").to_pylist(), strict=True))
        same = sum(spark_scores.get(key) == score for key, score in ours.items())
        print(f"compared with {args.compare}: {same:,} of {len(ours):,} scores the same text, "
              f"{len(spark_scores) - len(ours):+,} results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
