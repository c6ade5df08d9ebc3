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
    DuckDB's (``"4GB"``; None: a quarter of this machine's memory), past which it spills to
    ``temp_directory``; ``threads``: None for every core."""

    #: duckdb (in this process) or spark (the kernels on Spark's workers).
    engine: str = "duckdb"
    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: Path | None = None
    #: Spark Connect address (sc://host:15002) or master URL (local[*], spark://...); None:
    #: SPARK_REMOTE, else local mode.
    spark_remote: str | None = None
    #: Inputs of at least this many bytes of CSV (all files together; a Parquet file counts
    #: as the CSV of its rows, `reader.csv_bytes`) go to the engine's own reader, out of core;
    #: smaller ones to mastery's reader, in memory. None: what fits the memory limit
    #: (`reader_bytes_for`).
    engine_reader_bytes: int | None = None

    @property
    def reader_bytes(self) -> int:
        """The input size from which the engine's own reader reads."""
        if self.engine_reader_bytes is not None:
            return self.engine_reader_bytes
        return reader_bytes_for(self.memory_limit)


#: mastery's reader grades a long CSV file in at most twice its size of memory (10 M rows,
#: 729 MB: 1.29 GB at peak, measured): it reads files up to half the memory limit.
_IN_MEMORY_SHARE = 2


#: The engine's share of this machine's memory when --memory-limit is not given. DuckDB's own
#: default (80%) fills that much with the evidence of a large file, on a machine others share.
DEFAULT_MEMORY_SHARE = 0.25


def memory_limit_bytes(memory_limit: str | None) -> int:
    """``memory_limit`` in bytes; None: `DEFAULT_MEMORY_SHARE` of this machine's memory."""
    if memory_limit is not None:
        from mastery_cli.grading.engine.spark_session import _mebibytes

        return _mebibytes(memory_limit) << 20
    return int(_physical_memory() * DEFAULT_MEMORY_SHARE)


def reader_bytes_for(memory_limit: str | None) -> int:
    """The input size from which the engine's own reader reads: half the memory limit."""
    return max(memory_limit_bytes(memory_limit) // _IN_MEMORY_SHARE, 1 << 20)


def _physical_memory() -> int:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 4 << 30


def connect(options: EngineOptions) -> duckdb.DuckDBPyConnection:
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        # Order comes from ORDER BY alone; scans need not keep the files' order.
        "preserve_insertion_order": False,
    }
    config["memory_limit"] = options.memory_limit or f"{memory_limit_bytes(None) >> 20}MiB"
    if options.threads:
        config["threads"] = options.threads
    if options.temp_directory is not None:
        config["temp_directory"] = str(options.temp_directory)
    connection = duckdb.connect(":memory:", config=config)
    connection.execute("SET enable_progress_bar = false")
    return connection
