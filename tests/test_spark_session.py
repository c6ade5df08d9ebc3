"""spark_settings: what a run asks of Spark, from the command line and the environment
(no cluster needed: the settings are data)."""

from __future__ import annotations

import pytest

from mastery_cli.diagnostics import MasteryError
from mastery_cli.grading.engine.spark_session import spark_settings


def _code(excinfo: pytest.ExceptionInfo[MasteryError]) -> str:
    assert excinfo.value.usage, "a bad option is a usage error (exit 2)"
    return excinfo.value.diagnostics[0].code


def test_local_mode_by_default_without_ui_on_loopback_with_this_python() -> None:
    settings = spark_settings(threads=3, environ={}, python="/venv/bin/python")

    assert settings.local
    assert (settings.remote, settings.master) == (None, "local[3]")
    assert settings.conf["spark.ui.enabled"] == "false"
    assert settings.conf["spark.sql.shuffle.partitions"] == "3"
    assert settings.conf["spark.sql.session.timeZone"] == "UTC"
    assert settings.conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert settings.environment == {
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": "/venv/bin/python",
        "PYSPARK_DRIVER_PYTHON": "/venv/bin/python",
    }
    assert "spark.driver.memory" not in settings.conf


@pytest.mark.parametrize(
    ("limit", "memory"),
    [("4GB", "3815m"), ("4GiB", "4096m"), ("4g", "4096m"), ("512 MB", "488m"), ("1.5GiB", "1536m")],
)
def test_the_memory_limit_becomes_the_local_driver_memory(limit: str, memory: str) -> None:
    settings = spark_settings(memory_limit=limit, environ={})
    assert settings.conf["spark.driver.memory"] == memory


def test_a_memory_limit_that_is_not_a_size_is_a_usage_error() -> None:
    with pytest.raises(MasteryError) as excinfo:
        spark_settings(memory_limit="lots", environ={})
    assert _code(excinfo) == "bad-memory-limit"


def test_spark_remote_connects_and_sends_only_runtime_settings() -> None:
    settings = spark_settings(remote="sc://spark.school.example:15002", environ={})

    assert (settings.remote, settings.master) == ("sc://spark.school.example:15002", None)
    assert not settings.local
    assert settings.environment == {}
    # Spark Connect refuses static settings (the UI, the driver's address) from a client.
    assert set(settings.conf) == {"spark.sql.session.timeZone"}


def test_spark_remote_comes_from_the_environment_when_no_option_says_where() -> None:
    environ = {"SPARK_REMOTE": "sc://cluster:15002"}
    assert spark_settings(environ=environ).remote == "sc://cluster:15002"
    assert spark_settings(remote="sc://other:15002", environ=environ).remote == "sc://other:15002"
    by_master = spark_settings(master="spark://head:7077", environ=environ)
    assert (by_master.remote, by_master.master) == (None, "spark://head:7077")


def test_a_cluster_master_gets_no_local_environment() -> None:
    settings = spark_settings(master="yarn", threads=8, environ={})
    assert settings.master == "yarn"
    assert not settings.local
    assert settings.environment == {}
    assert "spark.ui.enabled" not in settings.conf
    assert settings.conf["spark.sql.shuffle.partitions"] == "8"
    assert "spark.sql.shuffle.partitions" not in spark_settings(master="yarn", environ={}).conf


def test_a_local_master_keeps_local_settings() -> None:
    settings = spark_settings(master="local[1]", environ={})
    assert settings.local
    assert settings.master == "local[1]"
    assert settings.environment["SPARK_LOCAL_IP"] == "127.0.0.1"


@pytest.mark.parametrize("remote", ["spark://head:7077", "sc://", "cluster:15002"])
def test_a_remote_that_is_not_spark_connect_is_a_usage_error(remote: str) -> None:
    with pytest.raises(MasteryError) as excinfo:
        spark_settings(remote=remote, environ={})
    assert _code(excinfo) == "bad-spark-remote"
    assert excinfo.value.diagnostics[0].hint


def test_a_bad_spark_remote_variable_names_the_variable() -> None:
    with pytest.raises(MasteryError) as excinfo:
        spark_settings(environ={"SPARK_REMOTE": "local"})
    assert _code(excinfo) == "bad-spark-remote"
    assert excinfo.value.diagnostics[0].path == "SPARK_REMOTE"


def test_remote_and_master_together_is_a_usage_error() -> None:
    with pytest.raises(MasteryError) as excinfo:
        spark_settings(remote="sc://h:15002", master="local[2]", environ={})
    assert _code(excinfo) == "spark-options-conflict"
