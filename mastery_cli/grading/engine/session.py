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
    #: Long CSV inputs of at least this many bytes (all files together) go to the engine's own
    #: reader, out of core; smaller ones to mastery's reader, in memory. None: what fits the
    #: memory limit comfortably (`reader_bytes_for`).
    engine_reader_bytes: int | None = None

    @property
    def reader_bytes(self) -> int:
        """The input size from which the engine's own reader reads."""
        if self.engine_reader_bytes is not None:
            return self.engine_reader_bytes
        return reader_bytes_for(self.memory_limit)


#: mastery's reader holds a file in memory at about three times its size (the text, the
#: columns, the results): it reads files up to an eighth of the memory limit.
_IN_MEMORY_SHARE = 8


def reader_bytes_for(memory_limit: str | None) -> int:
    """The input size from which the engine's own reader reads: an eighth of ``memory_limit``
    (DuckDB's default when None: 80% of this machine's memory)."""
    if memory_limit is not None:
        from mastery_cli.grading.engine.spark_session import _mebibytes

        limit = _mebibytes(memory_limit) << 20
    else:
        limit = int(_physical_memory() * 0.8)
    return max(limit // _IN_MEMORY_SHARE, 1 << 20)


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
    if options.memory_limit:
        config["memory_limit"] = options.memory_limit
    if options.threads:
        config["threads"] = options.threads
    if options.temp_directory is not None:
        config["temp_directory"] = str(options.temp_directory)
    connection = duckdb.connect(":memory:", config=config)
    connection.execute("SET enable_progress_bar = false")
    return connection
