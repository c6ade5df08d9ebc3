"""Fixtures and settings shared by the test files.

Hypothesis: no time limits. Its deadline and "too slow" health check measure wall time, which
on a shared 2-core machine says more about the neighbours than about the code (a round-trip
property failed that way under load); speed is measured in benchmarks/, not in tests.

``spark``: one local SparkSession for the whole run, because starting the JVM is the slow part
(the figure is printed at the end of the run). Tests that use it are skipped, saying why,
where pyspark (the ``spark`` extra) or Java (``make system-deps``) is missing.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("mastery", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mastery")

_SPARK_STARTED: list[float] = []


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return (Path(home) / "bin" / "java").exists()
    return shutil.which("java") is not None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
    if not _java_available():
        pytest.skip("Java is not installed (make system-deps installs a JRE)")
    from mastery_cli.grading.engine.spark_session import spark_settings, start_session

    # Two threads and two shuffle partitions: enough to run partitions side by side and to
    # spread students over several, few enough to start quickly on a small machine.
    # Local whatever SPARK_REMOTE says: tests never run on someone's cluster.
    settings = spark_settings(threads=2, environ={})
    # The tests' data is tiny, so the JVM's optimising compiler and parallel GC only cost
    # start-up: without them the session starts on half the CPU (measured 7.6 s against 14.3 s).
    quick_jvm = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"
    settings = dataclasses.replace(
        settings, conf={**settings.conf, "spark.driver.extraJavaOptions": quick_jvm}
    )
    start = time.perf_counter()
    session = start_session(settings)
    _SPARK_STARTED.append(time.perf_counter() - start)
    yield session
    session.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SPARK_STARTED:
        terminalreporter.write_line(
            f"spark: the local session (JVM) started once, in {_SPARK_STARTED[0]:.1f} s"
        )
