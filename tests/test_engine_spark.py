"""``mastery grade --engine spark`` on a local session gives DuckDB's bytes: the example school
and a generated gradebook, through both readers, students cut into many batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.grading.engine import evidence
from mastery_cli.grading.engine.session import EngineOptions
from tests.engine_data import FRAMEWORK, POLICY, RESULT_FILES, SCHOOL, messy_gradebook
from tests.test_engine_run import files_of, graded


@pytest.mark.parametrize("files", ["school", "generated"])
def test_spark_gives_the_bytes_of_duckdb(files: str, spark: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = SCHOOL if files == "school" else [messy_gradebook(tmp_path / "gen.csv", 300)]
    duckdb = graded(inputs, tmp_path / "duckdb", EngineOptions())
    # mastery's reader hands Spark many whole-student batches, each coded on its own.
    monkeypatch.setattr(evidence, "BATCH_ROWS", 211)
    on_spark = graded(inputs, tmp_path / "spark", EngineOptions(engine="spark"))
    assert files_of(tmp_path / "spark") == files_of(tmp_path / "duckdb")
    assert on_spark.counts == duckdb.counts
    assert on_spark.tally == duckdb.tally
    # Through the engine's own reader too (a large file's way in).
    graded(inputs, tmp_path / "spark-reader", EngineOptions(engine="spark",
                                                           engine_reader_bytes=0))
    assert files_of(tmp_path / "spark-reader") == files_of(tmp_path / "duckdb")


def test_the_command_line_grades_on_spark(spark: Any, tmp_path: Path) -> None:
    common = [*map(str, SCHOOL), "--framework", str(FRAMEWORK), "--policy", str(POLICY), "-q"]
    runner = CliRunner()
    assert runner.invoke(app, ["grade", *common, "--out", str(tmp_path / "d")]).exit_code == 0
    done = runner.invoke(app, ["grade", *common, "--out", str(tmp_path / "s"),
                               "--engine", "spark", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert files_of(tmp_path / "s") == files_of(tmp_path / "d")
    assert (tmp_path / "s" / "grades.json").stat().st_size > 0
    assert set(RESULT_FILES) < {p.name for p in (tmp_path / "s").iterdir()}
