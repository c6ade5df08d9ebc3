"""`mastery grade` side by side with the peer query, whole processes, as a markdown table.

For each size a canonical long gradebook is generated once with ``gen_gradebook.py`` (CSV and
Parquet, kept in ``benchmarks/data/``, which git ignores). Then, for each method, ``--repeat``
rounds, each running one after the other (interleaved, so machine load hits both alike), each
a fresh process started from this stdlib-only script:

- ``peer``: ``peer_decaying_average.py``, a hand-written DuckDB query computing the decaying
  average per student × target with window functions (the yardstick of ISSUE 16);
- ``grade``: ``mastery grade FILE --framework examples/framework --method M --out DIR -q`` plus
  ``--engine``/``--memory-limit``/``--threads``/``--grade-arg`` when given, into a new folder
  each run.

Wall times include interpreter start-up and imports on both sides. Peak memory is the child's
``ru_maxrss`` from ``wait4`` (this parent imports only the standard library, so what a child
inherits at fork is a few MB); one more, untimed run of ``mastery grade`` samples the resident
memory of all its processes together every 5 ms (a Spark JVM, worker processes). After the
runs, the peer's results are checked against mastery's target_grades.csv (the peer rounds
binary doubles, so a few differ by 0.01; none should be missing).

Examples:
    .venv/bin/python benchmarks/grade_bench.py --rows 1000000 \\
        --methods decaying_average,power_law,mode --repeat 5
    .venv/bin/python benchmarks/grade_bench.py --rows 10000000 --methods decaying_average \\
        --repeat 1 --memory-limit 1GB
    .venv/bin/python benchmarks/grade_bench.py --rows 1000000 --engine spark --repeat 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = ROOT / "examples" / "framework"
PYTHON = sys.executable
PEER = ROOT / "benchmarks" / "peer_decaying_average.py"
GENERATOR = ROOT / "benchmarks" / "gen_gradebook.py"


def _mastery() -> str:
    installed = Path(PYTHON).with_name("mastery")
    return str(installed) if installed.exists() else "mastery"


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process; exits if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    # Read stderr while waiting: a chatty child must not block on a full pipe.
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors}")
    return seconds, usage.ru_maxrss / 1024


def _tree_peak(command: list[str]) -> float:
    """Peak resident memory (MB) of a command and all its processes together, sampled."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    page = os.sysconf("SC_PAGE_SIZE")
    peak = 0
    while process.poll() is None:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(parent, []).append(int(entry))
        total, pending = 0, [process.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/statm") as statm:
                    total += int(statm.read().split()[1]) * page
            except (OSError, ValueError, IndexError):
                pass
            pending += children.get(pid, [])
        peak = max(peak, total)
        time.sleep(0.005)
    return peak / 2**20


def gradebook(rows: int, workdir: Path, kind: str) -> Path:
    """The generated gradebook of this size (CSV or Parquet), made once."""
    csv = workdir / f"gradebook-{rows}.csv"
    wanted = csv if kind == "csv" else csv.with_suffix(".parquet")
    if not wanted.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        # Parquet wanted: write the CSV too unless it is there already.
        extra = [] if kind == "csv" else ["--parquet"] + (["--no-csv"] if csv.exists() else [])
        subprocess.run([PYTHON, str(GENERATOR), "--rows", str(rows), "--out", str(csv), *extra],
                       check=True, cwd=ROOT)
    return wanted


def _summary(runs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(median seconds, min seconds, max peak MB)."""
    times = [t for t, _ in runs]
    return statistics.median(times), min(times), max(m for _, m in runs)


def _compare(peer_out: Path, grade_out: Path) -> str:
    target_grades = grade_out / "target_grades.csv"
    if not target_grades.exists():
        return "n/a"
    check = subprocess.run(
        [PYTHON, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "from peer_decaying_average import compare; print(compare(*sys.argv[2:]))",
         str(PEER.parent), str(peer_out), str(target_grades)],
        check=True, capture_output=True, text=True, cwd=ROOT)
    return check.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--methods", default="decaying_average,power_law,mode",
                        help="comma-separated method names for mastery grade")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--input", choices=["csv", "parquet"], default="csv",
                        help="which generated file both sides read")
    parser.add_argument("--engine", help="passed to mastery grade as --engine")
    parser.add_argument("--memory-limit", help="passed to both (mastery grade and the peer)")
    parser.add_argument("--threads", type=int, help="passed to both")
    parser.add_argument("--grade-arg", action="append", default=[], metavar="ARG",
                        help="one more argument for mastery grade (repeatable), "
                             "e.g. --grade-arg=--spark-remote=sc://host:15002")
    parser.add_argument("--no-tree-peak", action="store_true",
                        help="skip the untimed run that samples all processes' memory")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    args = parser.parse_args(argv)

    shared: list[str] = []
    if args.memory_limit:
        shared += ["--memory-limit", args.memory_limit]
    if args.threads:
        shared += ["--threads", str(args.threads)]
    grade_extra = [*(["--engine", args.engine] if args.engine else []), *shared,
                   *args.grade_arg]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    engine = args.engine or "default"
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, input {args.input}, engine {engine}"
          f"{', ' + ' '.join(shared) if shared else ''}; {args.repeat} interleaved runs each "
          "(median / min)\n")
    print("| rows | method | peer (s) | mastery grade (s) | ratio (median / min) | rows/s "
          "| peak RSS peer (MB) | peak RSS grade (MB) | grade, all processes (MB) "
          "| peer vs mastery results |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rows in args.rows:
        file = gradebook(rows, args.workdir, args.input)
        labels = file.with_suffix(".labels.json")
        for method in methods:
            with tempfile.TemporaryDirectory(prefix="grade-bench-") as out:
                runs: dict[str, list[tuple[float, float]]] = {"peer": [], "grade": []}
                for repeat in range(args.repeat):
                    # New folders each run: replacing the files of the run before would time
                    # the file system freeing them too.
                    peer_out = Path(out) / f"peer-{repeat}.csv"
                    grade_out = Path(out) / f"grade-{repeat}"
                    commands = {
                        "peer": [PYTHON, str(PEER), str(file), "--labels", str(labels),
                                 "--out", str(peer_out), *shared],
                        "grade": [_mastery(), "grade", str(file), "--framework",
                                  str(FRAMEWORK), "--method", method, "--out", str(grade_out),
                                  "-q", *grade_extra],
                    }
                    for name, command in commands.items():
                        runs[name].append(_timed(command))
                    if repeat < args.repeat - 1:
                        peer_out.unlink()
                        shutil.rmtree(grade_out)
                agreement = (_compare(peer_out, grade_out) if method == "decaying_average"
                             else "(other method)")
                shutil.rmtree(grade_out)
                tree_mb = (float("nan") if args.no_tree_peak or not os.path.isdir("/proc")
                           else _tree_peak(commands["grade"]))
            peer_med, peer_min, peer_mb = _summary(runs["peer"])
            grade_med, grade_min, grade_mb = _summary(runs["grade"])
            print(f"| {rows:,} | {method} | {peer_med:.2f} / {peer_min:.2f} "
                  f"| {grade_med:.2f} / {grade_min:.2f} "
                  f"| **{grade_med / peer_med:.2f}** / {grade_min / peer_min:.2f} "
                  f"| {rows / grade_med:,.0f} | {peer_mb:,.0f} | {grade_mb:,.0f} "
                  f"| {tree_mb:,.0f} | {agreement} |", flush=True)


if __name__ == "__main__":
    main()
