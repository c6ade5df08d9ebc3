"""benchmarks/large_bench.py measures what it says: the whole process tree's memory and CPU,
the command as given with its placeholders filled, and output folders compared byte by byte."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("psutil")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


bench = _load("large_bench")

# A parent that holds little and starts a child that holds ~300 MB and burns CPU for a while:
# only a measurement of the whole tree sees both.
CHILD = ("import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]);"
         " end = time.process_time() + 0.6\nwhile time.process_time() < end: pass")
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}], check=True)"


def test_a_run_counts_the_memory_and_cpu_of_its_child_processes(tmp_path: Path) -> None:
    run = bench.measure([sys.executable, "-c", PARENT], "tree", 0, 0.02, None,
                        tmp_path / "stderr.txt")
    assert run.exit_code == 0
    assert run.processes >= 2
    assert run.tree_peak_mb >= 300, "the child's memory belongs to the run"
    assert run.cpu_s >= 0.6, "the child's CPU time belongs to the run"
    assert run.wall_s >= 0.6


def test_the_wall_time_ends_at_the_exit_not_at_the_next_sample(tmp_path: Path) -> None:
    run = bench.measure([sys.executable, "-c", "import time; time.sleep(0.3)"], "short", 0,
                        30.0, None, tmp_path / "stderr.txt")
    assert run.exit_code == 0
    assert 0.3 <= run.wall_s < 15, "a 30 s sampling interval must not stretch the run"


def test_a_failing_command_is_recorded_with_its_exit_code_and_stderr(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    run = bench.measure([sys.executable, "-c", "import sys; sys.exit('no such option')"],
                        "bad", 0, 0.02, None, log)
    assert run.exit_code == 1
    assert "no such option" in log.read_text()


def test_a_run_past_its_timeout_is_ended_with_its_children(tmp_path: Path) -> None:
    sleeper = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
               "'import time; time.sleep(60)'])")
    run = bench.measure([sys.executable, "-c", sleeper], "slow", 0, 0.02, 0.5,
                        tmp_path / "stderr.txt")
    assert run.exit_code != 0
    assert run.wall_s < 30


def test_placeholders_are_filled_and_other_braces_left_alone(tmp_path: Path) -> None:
    argv = bench.fill(["{mastery}", "grade", "{file}", "--out", "{out}", "--temp-dir={tmp}",
                       "--param", "n={n}"], Path("/d/g.csv"), tmp_path / "o", tmp_path / "t")
    assert argv[0].endswith("mastery")
    assert argv[1:] == ["grade", "/d/g.csv", "--out", str(tmp_path / "o"),
                        f"--temp-dir={tmp_path / 't'}", "--param", "n={n}"]


def test_run_folders_stay_inside_the_workdir(tmp_path: Path) -> None:
    assert bench.run_folder(tmp_path, "duckdb, --memory-limit 4GB", 2) == \
        tmp_path / "duckdb_--memory-limit_4GB-2"
    assert bench.run_folder(tmp_path, "../../etc", 0).parent == tmp_path
    assert bench.run_folder(tmp_path, "..", 0) == tmp_path / "command-0"


def test_rows_come_from_a_generated_files_name_unless_given() -> None:
    assert bench.rows_of(Path("gradebook-10000000.csv"), None) == 10_000_000
    assert bench.rows_of(Path("gradebook-10000000.parquet"), 5) == 5
    assert bench.rows_of(Path("export.csv"), None) is None


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_check_outputs_lists_differing_and_missing_files(tmp_path: Path) -> None:
    left = _folder(tmp_path / "duckdb", {"target_grades.csv": b"a,b\n1,2.50\n3,4\n",
                                         "rejects.csv": b"x\n", "sub/grades.json": b"{}",
                                         "only-left.csv": b""})
    right = _folder(tmp_path / "spark", {"target_grades.csv": b"a,b\n1,2.51\n3,4\n",
                                         "rejects.csv": b"x\n", "sub/grades.json": b"{}"})
    identical, report = bench.check_outputs(left, right)
    assert not identical
    assert f"- only in {left}: only-left.csv" in report
    # As cmp counts: the 10th byte, on the 2nd line.
    assert "- differ: target_grades.csv (byte 10, line 2)" in report
    assert "rejects.csv" not in report and "grades.json" not in report
    assert "2 of 4 files identical." in report

    same = _folder(tmp_path / "copy", {"target_grades.csv": b"a,b\n1,2.50\n3,4\n",
                                       "rejects.csv": b"x\n", "sub/grades.json": b"{}",
                                       "only-left.csv": b""})
    assert bench.check_outputs(left, same)[0]
    assert bench.main(["--check-outputs", str(left), str(same)]) == 0
    assert bench.main(["--check-outputs", str(left), str(right)]) == 1


def test_first_difference_past_the_first_chunk_and_at_the_end(tmp_path: Path) -> None:
    line = b"0123456789\n"
    body = line * (bench.MB // len(line) + 10)
    (tmp_path / "a").write_bytes(body + b"end\n")
    (tmp_path / "b").write_bytes(body + b"eNd\n")
    (tmp_path / "c").write_bytes(body)
    lines = body.count(b"\n")
    assert bench.first_difference(tmp_path / "a", tmp_path / "b") == \
        f"byte {len(body) + 2}, line {lines + 1}"
    assert bench.first_difference(tmp_path / "a", tmp_path / "c").startswith("EOF after")
    assert bench.first_difference(tmp_path / "a", tmp_path / "a") == "identical"


def test_kept_outputs_of_two_commands_are_compared(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    gradebook = tmp_path / "gradebook-1.csv"
    gradebook.write_text("student_id,target,score\n1,A,3\n")
    write = (f"{sys.executable} -c 'import os, sys; os.makedirs(sys.argv[1]); "
             "open(sys.argv[1] + \"/target_grades.csv\", \"w\").write(sys.argv[2])' {out} ")
    status = bench.main([
        str(gradebook), "--no-peer", "--repeat", "1", "--keep-outputs",
        "--workdir", str(tmp_path / "runs"),
        "--command", write + "1,2.50", "--name", "duckdb",
        "--command", write + "1,2.50", "--name", "duckdb-again",
        "--command", write + "1,2.51", "--name", "spark"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "- outputs of duckdb-again against duckdb: identical bytes" in printed
    assert "- outputs of spark against duckdb: DIFFERENT" in printed
    assert "- differ: target_grades.csv (byte 6, line 1)" in printed


def test_the_table_and_commands_from_a_whole_run(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    gradebook = tmp_path / "gradebook-3.csv"
    gradebook.write_text("student_id,target,score\n1,A,3\n1,A,4\n2,A,2\n")
    status = bench.main([
        str(gradebook), "--no-peer", "--repeat", "2", "--keep-outputs",
        "--workdir", str(tmp_path / "runs"), "--json", str(tmp_path / "runs.json"),
        "--command", f"{sys.executable} -c 'import os, sys; os.makedirs(sys.argv[1])' {{out}}",
        "--name", "quick",
        "--command", f"{sys.executable} -c 'import sys; sys.exit(3)' {{file}}",
        "--name", "broken"])
    printed = capsys.readouterr().out
    assert status == 1  # a command failed
    assert "| quick | 2 of 2 |" in printed
    assert "| broken | 0 of 2 | failed |" in printed
    assert "3 rows" in printed
    assert (tmp_path / "runs" / "quick-1" / "out").is_dir()  # the last round's output kept
    assert not (tmp_path / "runs" / "quick-0" / "out").exists()
    assert '"exit_code": 3' in (tmp_path / "runs.json").read_text()
