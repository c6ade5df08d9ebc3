"""The benchmark tools stay honest: the generated gradebook is what it says, and the peer
query computes what `mastery grade` computes (up to the 0.01 its binary rounding costs)."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

duckdb = pytest.importorskip("duckdb")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FRAMEWORK = BENCHMARKS.parent / "examples" / "framework"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load("gen_gradebook")
peer = _load("peer_decaying_average")


def _generate(out: Path, rows: int, **options: bool) -> None:
    targets = gen.framework_targets(FRAMEWORK, 20)
    gen.write_gradebook(out, rows, targets, 5, 20250902, **options)


def test_the_gradebook_is_the_same_bytes_each_time_with_students_together(tmp_path: Path) -> None:
    _generate(tmp_path / "a.csv", 2000, parquet=True)
    _generate(tmp_path / "b.csv", 2000)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()

    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 2000
    assert list(records[0]) == ["student_id", "student_name", "target", "score", "date",
                                "assessment", "type", "section", "course"]
    students = [r["student_id"] for r in records]
    assert students[0] == "0000001" and len(set(students)) == 2000 // (20 * 5)
    assert students == sorted(students), "a student's rows are together, in id order"
    scores = {r["score"] for r in records}
    assert {"", "EX", "3", "Proficient"} <= scores
    # The Parquet file holds the same rows (a blank score is null there).
    with duckdb.connect() as con:
        parquet = con.execute(
            f"SELECT student_id, target, coalesce(score, ''), CAST(date AS VARCHAR) "
            f"FROM read_parquet('{tmp_path / 'a.parquet'}')").fetchall()
    assert parquet == [(r["student_id"], r["target"], r["score"], r["date"]) for r in records]


def test_the_peer_computes_what_mastery_grade_computes(tmp_path: Path) -> None:
    gradebook = tmp_path / "gradebook.csv"
    _generate(gradebook, 4000)
    graded = subprocess.run(
        [sys.executable, "-m", "mastery_cli", "grade", str(gradebook), "--framework",
         str(FRAMEWORK), "--method", "decaying_average", "--out", str(tmp_path / "out"), "-q"],
        capture_output=True, text=True)
    assert graded.returncode == 0, graded.stderr
    peer.run(gradebook, gradebook.with_suffix(".labels.json"), tmp_path / "peer.csv", 0.65,
             None, None)

    with (tmp_path / "out" / "target_grades.csv").open(encoding="utf-8") as handle:
        ours = {(r["student_id"], r["target"]): r["score"] for r in csv.DictReader(handle)}
    with (tmp_path / "peer.csv").open(encoding="utf-8") as handle:
        theirs = {(r["student_id"], r["target"]): float(r["score"])
                  for r in csv.DictReader(handle)}
    assert set(theirs) == {key for key, score in ours.items() if score}
    differences = [abs(float(ours[key]) - value) for key, value in theirs.items()]
    assert max(differences) < 0.01 + 1e-9  # the peer rounds binary doubles
    assert sum(d < 1e-9 for d in differences) >= 0.95 * len(differences)


def test_the_side_by_side_runner_prints_a_row_per_method(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "grade_bench.py"), "--rows", "2000", "--methods",
         "decaying_average,mode", "--repeat", "1", "--no-tree-peak", "--workdir",
         str(tmp_path)],
        capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = [line.split("|") for line in run.stdout.splitlines() if line.startswith("| 2,000 |")]
    assert [cells[2].strip() for cells in rows] == ["decaying_average", "mode"]
    assert rows[0][-2].strip().endswith(", 0 missing")  # the peer checked against mastery
    assert (tmp_path / "gradebook-2000.csv").exists()
