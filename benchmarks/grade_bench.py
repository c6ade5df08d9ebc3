"""Time `mastery grade` against a bare pyarrow parse of the same file, side by side.

For each size, a long gradebook is generated once with ``gen_gradebook.py`` (cached), then for
each method, ``--repeat`` times and interleaved: a pyarrow parse of the file (every column as
a string: the floor any CSV tool pays) and a whole grading run (read, check, grade, roll up,
write the five CSV files), each in a fresh process so peak memory is that run's alone. Times
exclude interpreter start-up and imports (reported separately); the ratio is best grade / best
parse.

Example:
    .venv/bin/python benchmarks/grade_bench.py --rows 1000000 10000000 \\
        --methods decaying_average power_law mode --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child_parse(file: Path) -> dict[str, float]:
    import pyarrow as pa
    from pyarrow import csv

    start = time.perf_counter()
    table = csv.read_csv(file, convert_options=csv.ConvertOptions(
        column_types={name: pa.string() for name in _header(file)}))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": table.num_rows}


def _header(file: Path) -> list[str]:
    with file.open(encoding="utf-8") as handle:
        return handle.readline().rstrip("\n").split(",")


def _child_grade(file: Path, method: str, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    from mastery_cli.grading.outputs import write_outputs
    from mastery_cli.grading.pipeline import grade
    from mastery_cli.grading.policy import apply_options
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(ROOT / "examples" / "framework")
    imports = time.perf_counter() - started
    policy = apply_options(None, method, [])
    steps: dict[str, float] = {}
    last = [time.perf_counter()]
    start = last[0]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = now
        last[0] = now

    result = grade([file], framework, policy, on_step=step)
    graded = time.perf_counter()
    write_outputs(result, out)
    end = time.perf_counter()
    return {
        "seconds": end - start, "read": steps["grade"] - start, "compute": graded - steps["grade"],
        "write": end - graded, "imports": imports, "rows": result.counts.rows_read,
        "groups": len(result.targets),
    }


def _run_child(*args: str) -> dict[str, float]:
    completed = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                               capture_output=True, text=True, cwd=ROOT)
    return json.loads(completed.stdout)  # type: ignore[no-any-return]


def _gradebook(rows: int, workdir: Path) -> Path:
    file = workdir / f"gradebook-{rows}.csv"
    if not file.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_gradebook.py"),
                        "--rows", str(rows), "--framework", str(ROOT / "examples" / "framework"),
                        "--out", str(file)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--methods", nargs="+",
                        default=["decaying_average", "power_law", "mode"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = (_child_parse(Path(rest[0])) if kind == "parse"
                  else _child_grade(Path(rest[0]), rest[1], Path(rest[2])))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    print("| rows | method | parse (s) | grade (s) | read / compute / write (s) | rows/s "
          "| ratio | peak RSS grade (MB) | peak RSS parse (MB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rows in args.rows:
        file = _gradebook(rows, args.workdir)
        for method in args.methods:
            parses, grades = [], []
            with tempfile.TemporaryDirectory() as out:
                for _ in range(args.repeat):
                    parses.append(_run_child("parse", str(file)))
                    grades.append(_run_child("grade", str(file), method, out))
            parse = min(parses, key=lambda r: r["seconds"])
            best = min(grades, key=lambda r: r["seconds"])
            print(f"| {rows:,} | {method} | {parse['seconds']:.2f} | {best['seconds']:.2f} | "
                  f"{best['read']:.2f} / {best['compute']:.2f} / {best['write']:.2f} | "
                  f"{rows / best['seconds']:,.0f} | {best['seconds'] / parse['seconds']:.1f} | "
                  f"{max(g['peak_rss_mb'] for g in grades):,.0f} | "
                  f"{max(p['peak_rss_mb'] for p in parses):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
