"""A DuckDB connection set up for one grade run: memory limit, threads, spill folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class EngineOptions:
    """Where a run grades and how much of the machine it may take. ``memory_limit`` is
    DuckDB's (``"4GB"``; None: DuckDB's default, 80% of RAM), past which it spills to
    ``temp_directory``; ``threads``: None for every core."""

    #: duckdb (in this process) or spark (the kernels on Spark's workers).
    engine: str = "duckdb"
    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: Path | None = None
    #: Spark Connect address (sc://host:15002) or master URL (local[*], spark://...); None:
    #: SPARK_REMOTE, else local mode.
    spark_remote: str | None = None
    #: Inputs of at least this many bytes (long CSV) go to the engine's own reader.
    engine_reader_bytes: int = 128 << 20


def connect(options: EngineOptions) -> duckdb.DuckDBPyConnection:
    import duckdb

    config: dict[str, str | int | bool] = {
        # Order comes from ORDER BY alone; scans need not keep the files' order.
        "preserve_insertion_order": False,
    }
    if options.memory_limit:
        config["memory_limit"] = options.memory_limit
    if options.threads:
        config["threads"] = options.threads
    if options.temp_directory is not None:
        config["temp_directory"] = str(options.temp_directory)
    connection = duckdb.connect(":memory:", config=config)
    connection.execute("SET enable_progress_bar = false")
    return connection
