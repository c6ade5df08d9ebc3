"""``mastery grade --engine spark``: the kernels on Spark's workers.

The evidence read and checked here (mastery's reader, or DuckDB's for large files) goes to
Spark as a DataFrame; Spark range-partitions it by student (each partition a run of students
in order), sorts each partition, and runs `run.Kernel`, the same object the DuckDB engine calls,
on whole-student batches through ``mapInArrow``. Each batch's results come back whole (pickled
with their counts and diagnostics) and go to the same `ResultSink`, in student order: the
result files are the same bytes as DuckDB's.

On a cluster (``--spark-remote sc://…`` or a master URL) the workers need mastery installed, in
the same version as here.
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from mastery_cli.diagnostics import MasteryError, error
from mastery_cli.grading.engine.arrow_tables import from_arrow, to_arrow
from mastery_cli.grading.engine.batches import whole_student_batches

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from mastery_cli.diagnostics import Diagnostic
    from mastery_cli.framework.model import Framework
    from mastery_cli.grading.engine.run import Batches, Kernel
    from mastery_cli.grading.engine.session import EngineOptions
    from mastery_cli.grading.engine.spark_session import SparkSettings
    from mastery_cli.grading.pipeline import GradeCounts, GradeTables
    from mastery_cli.grading.policy import Policy

#: What each worker sends back per batch: the batch's first student (to order batches) and
#: its results.
RESULT_SCHEMA = pa.schema([pa.field("first_student", pa.string()),
                           pa.field("results", pa.binary())])
#: Evidence order within a student, as the DuckDB engine streams it (seq makes it total).
_ORDER = ("target", "date", "seq")


def graded_on_spark(batches: Batches, framework: Framework, policy: Policy,
                    options: EngineOptions, *, with_evidence: bool = False
                    ) -> Iterator[tuple[GradeTables, GradeCounts, list[Diagnostic]]]:
    """Each batch's results in student order. ``with_evidence``: the results carry the graded
    evidence too (grades.json); else only what the result files need comes back."""
    from mastery_cli.grading.engine.run import Kernel
    from mastery_cli.grading.engine.session import memory_limit_bytes
    from mastery_cli.grading.engine.spark_session import (
        PANDAS_NOTICE,
        spark_settings,
        start_session,
    )

    remote = options.spark_remote
    # A local driver holds the evidence and the results: the run's memory limit is its heap
    # (Spark's own default, 1 GB, is too small for a million rows).
    memory = options.memory_limit or f"{memory_limit_bytes(None) >> 20}MiB"
    settings = spark_settings(
        remote=remote if remote and remote.startswith("sc://") else None,
        master=remote if remote and not remote.startswith("sc://") else None,
        threads=options.threads, memory_limit=memory)
    session = _started(settings, start_session)
    evidence = [to_arrow(table) for table in batches.tables]
    whole = pa.concat_tables(evidence) if evidence else None
    if whole is None or not whole.num_rows:
        # Nothing to distribute: the kernel's empty results, here.
        kernel = Kernel(framework, policy, batches.headers)
        for table in ([from_arrow(whole)] if whole is not None else []):
            result = kernel(table)
            yield result.tables, result.counts, result.diagnostics
        return
    from pyspark.sql import functions as F

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", PANDAS_NOTICE, FutureWarning)
        frame = session.createDataFrame(whole)
        partitions = int(session.conf.get("spark.sql.shuffle.partitions") or 1)
        arranged = frame.repartitionByRange(partitions, F.col("student_id")).sortWithinPartitions(
            "student_id", *[F.col(name).asc_nulls_last() for name in _ORDER if name in
                            whole.schema.names])
        from pyspark.sql.pandas.types import from_arrow_schema

        graded = arranged.mapInArrow(
            _graded_partition(Kernel(framework, policy, batches.headers), with_evidence),
            from_arrow_schema(RESULT_SCHEMA))
        results = graded.toArrow()
    order = results.column("first_student").to_pylist()
    payloads = results.column("results").to_pylist()
    for _, payload in sorted(zip(order, payloads, strict=True), key=lambda pair: pair[0]):
        yield pickle.loads(payload)


def _started(settings: SparkSettings, start: Callable[[SparkSettings], SparkSession]
             ) -> SparkSession:
    """A Spark session, or what to install or check when there is none (never a traceback)."""
    try:
        return start(settings)
    except ImportError:
        raise MasteryError([error(
            "spark-not-installed", "--engine spark needs pyspark, which is not installed",
            "--engine", hint="pip install 'mastery-cli[spark]' (and Java 17 or newer), or "
            "grade with the default engine")], usage=True) from None
    except Exception as problem:  # Java missing, a cluster that does not answer...
        lines = str(problem).strip().splitlines()
        where = settings.remote or settings.master or "local mode"
        raise MasteryError([error(
            "spark-unavailable", f"cannot start Spark ({where}): "
            f"{lines[0] if lines else type(problem).__name__}", "--engine",
            hint="local mode needs Java 17 or newer (make system-deps installs it); for a "
            "cluster check --spark-remote and that it is running")], usage=True) from None


def _graded_partition(kernel: Kernel, with_evidence: bool
                      ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function Spark runs on each partition (pickled to its workers)."""

    def graded(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in whole_student_batches(batches):
            result = kernel(from_arrow(batch))
            tables = result.tables
            if not with_evidence:  # the bulk of a batch, and no result file needs it
                tables = dataclasses.replace(tables, evidence=tables.evidence.take(
                    np.zeros(0, dtype=np.int64)))
            payload = pickle.dumps((tables, result.counts, result.diagnostics),
                                   protocol=pickle.HIGHEST_PROTOCOL)
            yield pa.RecordBatch.from_arrays(
                [pa.array([batch.column("student_id")[0].as_py()], pa.string()),
                 pa.array([payload], pa.binary())], schema=RESULT_SCHEMA)

    return graded
