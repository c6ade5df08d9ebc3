"""Which Spark to grade on, and how to start it: settings first, a session from them after.

``spark_settings`` is a pure function of the command line and the environment, so what a run
will ask of Spark is tested without a cluster; ``start_session`` is the only place that
imports pyspark and starts (or connects to) it.

- ``--spark-remote sc://host:15002``, or ``SPARK_REMOTE`` in the environment: Spark Connect, a
  thin client; the cluster does the work. Only runtime settings can be sent to it.
- ``--master URL`` (``spark://…``, ``yarn``, ``k8s://…``): a classic driver in this process.
- Neither: local mode, ``local[N]`` on this machine's cores, without the web UI, bound to
  127.0.0.1, its Python workers running this interpreter (which has mastery and pyarrow).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mastery_cli.diagnostics import MasteryError, error

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Settings every session gets (runtime SQL settings, so Spark Connect accepts them too).
#: Dates are calendar dates: a time zone must never move one across midnight.
COMMON_CONF: Mapping[str, str] = {
    "spark.sql.session.timeZone": "UTC",
}
#: pyspark warns about every pandas newer than those it was tested with; mapInArrow uses no
#: pandas, so the notice says nothing about grading.
PANDAS_NOTICE = "PySpark does not yet fully support pandas"
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\s*$", re.I)
_POWER = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4}


@dataclass(frozen=True)
class SparkSettings:
    """What to hand SparkSession.builder: where Spark is, its settings, and, for a driver in
    this process, the environment it must start with."""

    remote: str | None = None
    master: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    app_name: str = "mastery"

    @property
    def local(self) -> bool:
        return self.remote is None and (self.master is None or self.master.startswith("local"))


def spark_settings(
    *,
    remote: str | None = None,
    master: str | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    environ: Mapping[str, str] | None = None,
    python: str | None = None,
) -> SparkSettings:
    """Settings for the command line's ``--spark-remote``/``--master``/``--threads``/
    ``--memory-limit`` in ``environ`` (``os.environ`` by default).

    ``--memory-limit`` becomes the driver JVM's memory (local mode: all of Spark's; Python
    workers come on top); with Spark Connect the cluster's own settings decide, and it is not
    sent.

    Raises MasteryError (usage) for a remote that is not ``sc://…``, for both
    ``--spark-remote`` and ``--master``, and for a memory limit that is not a size.
    """
    environ = os.environ if environ is None else environ
    if remote is not None and master is not None:
        raise _usage(
            "spark-options-conflict",
            "--spark-remote and --master both say where Spark is",
            "--spark-remote",
            "give one: --spark-remote sc://HOST:15002 for Spark Connect, --master for a driver "
            "here",
        )
    if remote is None and master is None and environ.get("SPARK_REMOTE"):
        remote = environ["SPARK_REMOTE"]
        if not remote.startswith("sc://"):
            raise _usage(
                "bad-spark-remote",
                f"SPARK_REMOTE is {remote!r}, not a Spark Connect address",
                "SPARK_REMOTE",
                "set it to sc://HOST:15002, or unset it to grade in local mode",
            )
    if remote is not None:
        if not remote.startswith("sc://") or len(remote) <= len("sc://"):
            raise _usage(
                "bad-spark-remote",
                f"--spark-remote {remote!r} is not a Spark Connect address",
                "--spark-remote",
                "write it as sc://HOST:15002",
            )
        return SparkSettings(remote=remote, conf=dict(COMMON_CONF))

    conf = dict(COMMON_CONF)
    if memory_limit is not None:
        conf["spark.driver.memory"] = f"{_mebibytes(memory_limit)}m"
    if master is not None and not master.startswith("local"):
        # A cluster's partitions are its own business unless --threads says otherwise.
        if threads:
            conf["spark.sql.shuffle.partitions"] = str(threads)
        return SparkSettings(master=master, conf=conf)
    # Local mode: one partition per core; Spark's default (200) would make 200 tiny tasks.
    cores = threads or os.cpu_count() or 1
    conf["spark.sql.shuffle.partitions"] = str(cores)
    conf.update(
        {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.log.level": "WARN",
        }
    )
    interpreter = python or sys.executable
    environment = {
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": interpreter,
        "PYSPARK_DRIVER_PYTHON": interpreter,
    }
    return SparkSettings(
        master=master or f"local[{cores}]", conf=conf, environment=environment
    )


def start_session(settings: SparkSettings) -> SparkSession:
    """A SparkSession as the settings say (the one already running in this process, if any).

    The environment is set only where the user has not set it: their SPARK_LOCAL_IP wins.
    A SPARK_REMOTE the settings did not take (``--master`` given) is removed from it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", PANDAS_NOTICE, FutureWarning)
        from pyspark.sql import SparkSession

        for name, value in settings.environment.items():
            os.environ.setdefault(name, value)
        if settings.remote is None:
            # pyspark would connect to SPARK_REMOTE whatever the builder says; the settings
            # have already weighed it against --master.
            os.environ.pop("SPARK_REMOTE", None)
        builder = SparkSession.builder.appName(settings.app_name)
        if settings.remote is not None:
            builder = builder.remote(settings.remote)
        elif settings.master is not None:
            builder = builder.master(settings.master)
        for key, value in settings.conf.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()


def _mebibytes(text: str) -> int:
    match = _MEMORY.match(text)
    if match is None:
        raise _usage(
            "bad-memory-limit",
            f"--memory-limit {text!r} is not a size",
            "--memory-limit",
            "write it like 4GB or 512MB",
        )
    number, unit = float(match.group(1)), match.group(2).lower()
    # As DuckDB reads --memory-limit: GB is 1000**3, GiB 1024**3; Java's bare g is 1024**3.
    base = 1000 if unit.endswith("b") and len(unit) == 2 else 1024
    size = number * base ** _POWER[unit[:1]]
    return max(1, round(size / 2**20))


def _usage(code: str, message: str, where: str, hint: str) -> MasteryError:
    return MasteryError(error(code, message, where, hint=hint), usage=True)
