"""The relational part of grading, run by an engine (DuckDB in-process, or Spark).

Engines hand mastery's kernels whole-student Arrow batches (:mod:`.batches`); the Spark runner is
in :mod:`.spark`, its session settings in :mod:`.spark_session`.
"""
