"""`mastery grade` against a plain pyarrow parse of the same file, side by side.

For each size, a long gradebook is generated once with ``gen_gradebook.py`` (kept in
``benchmarks/data/``, which git ignores). Then, for each method, ``--repeat`` rounds, each round
running one after the other (interleaved, so machine load hits all of them alike), each in a
fresh process started from this stdlib-only script:

- ``parse (str)``: ``python -c`` reading the file with ``pyarrow.csv.read_csv``, every column
  as a string (the fastest plain parse here, so the strictest yardstick);
- ``parse (inferred)``: ``pyarrow.csv.read_csv(file)`` with pyarrow's defaults (type
  inference), the plainest parse;
- ``grade``: the whole ``mastery grade FILE --framework examples/framework --method M --out
  DIR -q`` command, as a user runs it, into a new folder each time (replacing the files of the
  run before would also time the file system freeing them: ~30 ms at a million rows).

Wall times include interpreter start-up and imports on both sides. Peak memory is the child's
``ru_maxrss`` from ``wait4`` (this parent imports only the standard library, so what a child
inherits at fork is a few MB): for ``mastery grade`` that is its largest process, since a large
file is graded in parts, one process per core (``grading/split_run.py``); one more, untimed run
samples the resident memory of all its processes together every 5 ms. One more run per method,
in-process, splits the grading time into read / compute / write (imports excluded; the library
call grades the file whole, in one process).

Example:
    .venv/bin/python benchmarks/grade_bench.py --rows 1000000 \\
        --methods decaying_average,power_law,mode --repeat 5
    .venv/bin/python benchmarks/grade_bench.py --rows 10000000 --methods decaying_average \\
        --repeat 1
"""

from __future__ import annotations

import argparse
import json
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


def _parse_code(file: Path, as_strings: bool) -> str:
    if not as_strings:
        return f"import pyarrow.csv as c; c.read_csv({str(file)!r})"
    return (
        "import pyarrow as pa, pyarrow.csv as c\n"
        f"names = open({str(file)!r}, encoding='utf-8').readline().rstrip('\\n').split(',')\n"
        f"c.read_csv({str(file)!r}, convert_options=c.ConvertOptions("
        "column_types={n: pa.string() for n in names}))"
    )


def _mastery() -> str:
    installed = Path(PYTHON).with_name("mastery")
    return str(installed) if installed.exists() else "mastery"


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors}")
    return seconds, usage.ru_maxrss / 1024


def _tree_peak(command: list[str]) -> float:
    """Peak resident memory (MB) of a command and all its processes together, sampled."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                parents.setdefault(parent, []).append(int(entry))
        total, pending = 0, [process.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/statm") as statm:
                    total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                pass
            pending += parents.get(pid, [])
        peak = max(peak, total)
        time.sleep(0.005)
    return peak / 2**20


def _stages(file: Path, method: str, out: Path) -> dict[str, float]:
    """Child side of the in-process run: read / compute / write seconds."""
    from mastery_cli.grading.outputs import write_outputs
    from mastery_cli.grading.pipeline import grade
    from mastery_cli.grading.policy import apply_options
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(FRAMEWORK)
    policy = apply_options(None, method, [])
    marks: dict[str, float] = {}
    start = time.perf_counter()
    result = grade([file], framework, policy, on_step=lambda name: marks.setdefault(
        name, time.perf_counter()))
    graded = time.perf_counter()
    write_outputs(result, out)
    end = time.perf_counter()
    return {"read": marks["grade"] - start, "compute": graded - marks["grade"],
            "write": end - graded, "rows": result.counts.rows_read}


def _gradebook(rows: int, workdir: Path) -> Path:
    file = workdir / f"gradebook-{rows}.csv"
    if not file.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run([PYTHON, str(ROOT / "benchmarks" / "gen_gradebook.py"), "--rows",
                        str(rows), "--framework", str(FRAMEWORK), "--out", str(file)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return file


def _summary(runs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(median seconds, min seconds, max peak MB)."""
    times = [t for t, _ in runs]
    return statistics.median(times), min(times), max(m for _, m in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--methods", default="decaying_average,power_law,mode",
                        help="comma-separated method names")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        file, method, out = args.child
        print(json.dumps(_stages(Path(file), method, Path(out))))
        return

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, {args.repeat} interleaved runs each (median / min)")
    print("| rows | method | parse str (s) | parse inferred (s) | mastery grade (s) "
          "| ratio to parse str (median / min) | ratio to parse inferred (median / min) "
          "| rows/s | read / compute / write (s) | peak RSS grade (MB) "
          "| peak RSS grade, all processes (MB) | peak RSS parse (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for rows in args.rows:
        file = _gradebook(rows, args.workdir)
        for method in methods:
            with tempfile.TemporaryDirectory(prefix="grade-bench-") as out:
                runs: dict[str, list[tuple[float, float]]] = {
                    "str": [], "inferred": [], "grade": []}
                for repeat in range(args.repeat):
                    # Each run writes into a folder of its own: replacing the files of the
                    # run before would time the file system freeing them too (~30 ms).
                    fresh = Path(out) / f"run-{repeat}"
                    commands = {
                        "str": [PYTHON, "-c", _parse_code(file, True)],
                        "inferred": [PYTHON, "-c", _parse_code(file, False)],
                        "grade": [_mastery(), "grade", str(file), "--framework",
                                  str(FRAMEWORK), "--method", method, "--out", str(fresh),
                                  "-q"],
                    }
                    for name, command in commands.items():
                        runs[name].append(_timed(command))
                    shutil.rmtree(fresh)
                tree_mb = (_tree_peak(commands["grade"])
                           if os.path.isdir("/proc") else float("nan"))
                shutil.rmtree(fresh, ignore_errors=True)
                staged = subprocess.run(
                    [PYTHON, __file__, "--child", str(file), method, out], check=True,
                    capture_output=True, text=True, cwd=ROOT)
                stages = json.loads(staged.stdout)
            parse_med, parse_min, parse_mb = _summary(runs["str"])
            inferred_med, inferred_min, _ = _summary(runs["inferred"])
            grade_med, grade_min, grade_mb = _summary(runs["grade"])
            print(f"| {rows:,} | {method} | {parse_med:.2f} / {parse_min:.2f} "
                  f"| {inferred_med:.2f} / {inferred_min:.2f} "
                  f"| {grade_med:.2f} / {grade_min:.2f} "
                  f"| {grade_med / parse_med:.2f} / {grade_min / parse_min:.2f} "
                  f"| {grade_med / inferred_med:.2f} / {grade_min / inferred_min:.2f} "
                  f"| {rows / grade_med:,.0f} "
                  f"| {stages['read']:.2f} / {stages['compute']:.2f} / {stages['write']:.2f} "
                  f"| {grade_mb:,.0f} | {tree_mb:,.0f} | {parse_mb:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
